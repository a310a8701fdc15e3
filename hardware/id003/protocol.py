"""ID-003 host protocol as a state machine without I/O.

The serial shell feeds it decoded frames and the time, asks it what to write next, and drains
its events. Strictly one request is outstanding at a time. Start-up: power-up status → version →
currency table → RESET → settings while INITIALIZE → inhibited and ready. The note rules live
in :mod:`.notes`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import Enum

from hardware.acceptor import AcceptorEvent, EventKind, NoteLedger
from hardware.id003.codes import (
    ERROR_STATUSES,
    POWER_UP_STATUSES,
    SETTING_COMMANDS,
    Command,
    CurrencyTable,
    Status,
    enum_name,
)
from hardware.id003.frames import Frame
from hardware.id003.notes import ERROR_EVENTS, NoteTracker


@dataclass(frozen=True)
class ProtocolConfig:
    poll_interval: float = 0.15
    response_timeout: float = 0.1
    start_response_timeout: float = 0.5  # start-up and initialisation are slower
    attempts: int = 4  # per request, before the unit counts as not answering
    init_timeout: float = 15.0  # longest INITIALIZE we wait for
    settle_timeout: float = 20.0  # at start, longest wait for a note in flight to settle
    stack_command: Command = Command.STACK_2
    security: bytes = b"\x00\x00"


class Phase(Enum):
    START = "start"  # first statuses after (re)connect: settle any note in flight
    VERSION = "version"
    CURRENCY = "currency"
    RESET = "reset"
    INITIALIZING = "initializing"  # settings sent, waiting for INITIALIZE to end
    READY = "ready"
    OFFLINE = "offline"


@dataclass
class _Request:
    frame: Frame
    sent_at: float = 0.0
    attempts: int = 0


_POLLING = (Phase.START, Phase.INITIALIZING, Phase.READY)
_SETTLING = {Status.ACCEPTING, Status.STACKING, Status.PAUSE}
_GONE_BACK = {Status.REJECTING, Status.RETURNING, Status.IDLING, Status.DISABLED}
_OPERATIONS = {Command.RESET, Command.STACK_1, Command.STACK_2, Command.RETURN, Command.HOLD}
_BAR_INHIBIT_TICKETS = b"\xfe"  # bit0 0 = take notes, bit1 1 = refuse tickets


class HostProtocol:
    """One acceptor's host side: start-up, polling, settings and the accept sequence."""

    def __init__(self, ledger: NoteLedger, config: ProtocolConfig | None = None) -> None:
        self.config = config or ProtocolConfig()
        self.phase = Phase.OFFLINE
        self.currency: CurrencyTable | None = None
        self.version = ""
        self.wants_reconnect = False
        self._events: list[AcceptorEvent] = []
        self.notes = NoteTracker(ledger, self._events)
        self._queue: deque[_Request] = deque()
        self._outstanding: _Request | None = None
        self._next_poll = 0.0
        self._phase_since = 0.0
        self._online = False
        self._offline_reported = False
        self._last_status: Frame | None = None
        self._want_accept = False
        self._want_values: set[int] | None = None
        self._hand_back = False  # the test mode: every escrowed note goes back, uncounted
        self._applied: dict[int, bytes] = {}

    # ---- lifecycle -------------------------------------------------------------------
    def start(self, now: float) -> None:
        """(Re)connect: forget the wire state, keep the wanted settings, begin start-up."""
        self._queue.clear()
        self._outstanding = None
        self._applied.clear()
        self._last_status = None
        self.wants_reconnect = False
        self.notes.reload()
        self._enter(Phase.START, now)

    def lost(self, now: float, why: str) -> None:
        """The port failed or vanished."""
        self._go_offline(now, why)

    @property
    def online(self) -> bool:
        return self.phase is Phase.READY

    @property
    def settings_pending(self) -> bool:
        """A setting (e.g. the inhibit of a clean stop) waits to go out."""
        return any(r.frame.code in SETTING_COMMANDS for r in self._queue)

    # ---- engine requests ---------------------------------------------------------------
    def enable(self, values: set[int] | None = None, hand_back: bool = False) -> None:
        """Take notes (all, or these values); ``hand_back``: validate each and return it
        without asking the ledger (the staff's test mode)."""
        self._want_accept = True
        self._hand_back = hand_back
        self._want_values = set(values) if values is not None else None
        self._apply_wanted()

    def inhibit(self) -> None:
        self._want_accept = False
        self._hand_back = False
        self._apply_wanted()

    def reset(self, now: float) -> None:
        """Staff's reset: RESET and the settings again, as at start-up. The start phase settles
        a note inside first; a pending ACK still goes out, other requests are dropped."""
        if self.phase is Phase.OFFLINE:
            return
        self._queue = deque(r for r in self._queue if r.frame.code == Command.ACK)
        self._online = False
        self._last_status = None
        self._emit(now, EventKind.RESETTING, detail="asked by staff")
        self._enter(Phase.START, now)

    def _apply_wanted(self) -> None:
        if self.phase is not Phase.READY or self.currency is None:
            return
        if self._want_accept:
            self._set(Command.SET_DENOMINATION, self.currency.disabled_mask(self._want_values))
        self._set(Command.SET_INHIBIT, b"\x00" if self._want_accept else b"\x01")

    def _set(self, command: Command, data: bytes) -> None:
        queued = [r for r in self._queue if r.frame.code == command]
        if queued:
            queued[-1].frame = Frame(command, data)
            return
        sent = self._outstanding.frame if self._outstanding is not None else None
        if sent is not None and sent.code == command:
            current: bytes | None = sent.data  # waiting for its echo: what the unit will have
        else:
            current = self._applied.get(command)
        if current != data:
            self._queue.append(_Request(Frame(command, data)))

    # ---- I/O side ----------------------------------------------------------------------
    def take_events(self) -> list[AcceptorEvent]:
        events = list(self._events)
        self._events.clear()
        return events

    def next_deadline(self) -> float:
        """Monotonic time at which :meth:`tick` next has something to do."""
        if self._outstanding is not None:
            return self._outstanding.sent_at + self._timeout()
        if self._queue:
            return 0.0
        return self._next_poll if self.phase in _POLLING else float("inf")

    def tick(self, now: float) -> bytes | None:
        """The bytes to write now, if any. Handles response timeouts and retries."""
        request = self._outstanding
        if request is not None:
            if now - request.sent_at < self._timeout():
                return None
            if request.attempts >= self.config.attempts:
                self._go_offline(now, f"no reply to {enum_name(Command, request.frame.code)}")
                return None
            return self._send(request, now)
        if self.phase in (Phase.START, Phase.INITIALIZING):
            self._check_phase_time(now)
        if self._queue:
            return self._send(self._queue.popleft(), now)
        if self.phase in _POLLING and now >= self._next_poll:
            self._next_poll = now + self.config.poll_interval
            return self._send(_Request(Frame(Command.STATUS_REQUEST)), now)
        return None

    def _send(self, request: _Request, now: float) -> bytes:
        request.attempts += 1
        request.sent_at = now
        self._outstanding = None if request.frame.code == Command.ACK else request
        return request.frame.encode()

    def _timeout(self) -> float:
        if self.phase is Phase.READY:
            return self.config.response_timeout
        return self.config.start_response_timeout

    def receive(self, frame: Frame, now: float) -> None:
        """A frame from the acceptor. Anything but the reply to the outstanding request is
        ignored; a wrong reply is left to time out and be retried."""
        request = self._outstanding
        if request is None or frame.code == Status.ENQ:
            return  # ENQ: a unit left in interrupt mode by another host; we poll anyway
        sent = request.frame
        if sent.code == Command.STATUS_REQUEST:
            if frame.code in (Status.INVALID_COMMAND, Status.ACK):
                return
            self._outstanding = None
            self._on_status(frame, now)
        elif sent.code in _OPERATIONS:
            if frame.code == Status.INVALID_COMMAND:
                self._outstanding = None  # the note moved on (e.g. RETURN after a time-out)
            elif frame.code == Status.ACK:
                self._outstanding = None
                if sent.code == Command.RESET:
                    self._after_reset(now)
                elif sent.code == Command.RETURN:
                    self.notes.return_accepted(now)
        elif sent.code in SETTING_COMMANDS:
            if frame == sent:  # the echo must repeat code and data
                self._outstanding = None
                self._applied[sent.code] = sent.data
        elif frame.code == sent.code:
            self._outstanding = None
            self._on_info(frame, now)

    # ---- start-up ----------------------------------------------------------------------
    def _enter(self, phase: Phase, now: float) -> None:
        self.phase = phase
        self._phase_since = now
        self._next_poll = now

    def _check_phase_time(self, now: float) -> None:
        config = self.config
        limit = config.settle_timeout if self.phase is Phase.START else config.init_timeout
        if now - self._phase_since > limit:
            self._emit(now, EventKind.FAILURE, detail=f"acceptor stuck in {self.phase.value}")
            self._identify(now)

    def _identify(self, now: float) -> None:
        self._enter(Phase.VERSION, now)
        self._queue.append(_Request(Frame(Command.VERSION_REQUEST)))

    def _on_info(self, frame: Frame, now: float) -> None:
        if frame.code == Command.VERSION_REQUEST:
            self.version = frame.data.decode("ascii", "replace").strip()
            self._enter(Phase.CURRENCY, now)
            self._queue.append(_Request(Frame(Command.CURRENCY_ASSIGN_REQUEST)))
        elif frame.code == Command.CURRENCY_ASSIGN_REQUEST:
            try:
                self.currency = CurrencyTable.parse(frame.data)
            except ValueError as error:
                self._emit(now, EventKind.FAILURE, detail=f"currency table: {error}")
                self._go_offline(now, "unusable currency table")
                return
            self._enter(Phase.RESET, now)
            self._queue.append(_Request(Frame(Command.RESET)))

    def _after_reset(self, now: float) -> None:
        assert self.currency is not None
        self._applied.clear()
        self._enter(Phase.INITIALIZING, now)
        for command, data in (
            (Command.SET_COMMUNICATION_MODE, b"\x00"),
            (Command.SET_DENOMINATION, self.currency.disabled_mask(self._want_values)),
            (Command.SET_SECURITY, self.config.security),
            (Command.SET_BAR_INHIBIT, _BAR_INHIBIT_TICKETS),
            (Command.SET_INHIBIT, b"\x01"),
        ):
            self._queue.append(_Request(Frame(command, data)))

    def _start_status(self, frame: Frame, changed: bool, now: float) -> None:
        status = frame.code
        if status == Status.VEND_VALID:
            self._vend_valid(now)
        elif status in (Status.ESCROW, Status.HOLDING):
            if changed:  # no session owns this note now: hand it back
                self._queue.appendleft(_Request(Frame(Command.RETURN)))
        elif status in (Status.REJECTING, Status.RETURNING):
            if changed:
                self.notes.gone_back(frame, now)
        elif status in _SETTLING:
            pass  # poll until the note settles
        elif status in POWER_UP_STATUSES:
            self.notes.resolve_power_up(status, now)
            self._identify(now)
        else:
            self.notes.settled_at_start(status, now)
            self._identify(now)

    # ---- running -----------------------------------------------------------------------
    def _on_status(self, frame: Frame, now: float) -> None:
        status = frame.code
        previous = self._last_status
        changed = previous != frame
        self._last_status = frame
        self.notes.status_seen(status)
        if self.phase is Phase.START:
            self._start_status(frame, changed, now)
        elif self.phase is Phase.INITIALIZING:
            if status != Status.INITIALIZE and not self._queue:
                self._ready(now)
        elif status in POWER_UP_STATUSES:
            self.notes.resolve_power_up(status, now)
            self._identify(now)
        elif status == Status.INITIALIZE:
            self._enter(Phase.START, now)  # the unit reset itself: identify and set up again
        elif status == Status.ESCROW:
            self._escrow(frame, now)
        elif status == Status.VEND_VALID:
            self._vend_valid(now)
        elif status == Status.STACKED:
            self.notes.on_stacked()
        elif status in _GONE_BACK and changed:
            self.notes.gone_back(frame, now)
            if previous is not None and previous.code in ERROR_STATUSES:
                self._emit(now, EventKind.CLEARED, detail=enum_name(Status, previous.code))
        elif status == Status.ACCEPTING and changed:
            self.notes.gone_back(frame, now)  # the note before, if its end went unseen
            self._emit(now, EventKind.ACCEPTING)
        elif status in ERROR_EVENTS and changed:
            self.notes.on_error(frame, now)

    def _ready(self, now: float) -> None:
        self._enter(Phase.READY, now)
        self._last_status = None  # so an error the unit is already in gets reported
        self._apply_wanted()
        if not self._online:
            self._online = True
            self._offline_reported = False
            self._emit(now, EventKind.ONLINE, detail=self.version)

    def _escrow(self, frame: Frame, now: float) -> None:
        assert self.currency is not None
        code = frame.data[0] if frame.data else -1
        taking = self._want_accept and not self._hand_back
        stack = self.notes.on_escrow(code, self.currency.value_of(code), taking, now)
        if stack is not None:
            command = self.config.stack_command if stack else Command.RETURN
            self._queue.appendleft(_Request(Frame(command)))

    def _vend_valid(self, now: float) -> None:
        if self.notes.on_vend_valid(now):  # the ledger write happened before this ACK
            self._queue.appendleft(_Request(Frame(Command.ACK)))

    def _go_offline(self, now: float, why: str) -> None:
        self._outstanding = None
        self._queue.clear()
        self.wants_reconnect = True
        self.phase = Phase.OFFLINE
        if self._online or not self._offline_reported:
            self._emit(now, EventKind.OFFLINE, detail=why)
        self._online = False
        self._offline_reported = True

    def _emit(self, now: float, kind: EventKind, **fields: object) -> None:
        self._events.append(AcceptorEvent(kind, now, **fields))  # type: ignore[arg-type]
