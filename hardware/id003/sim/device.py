"""A JCM-like ID-003 acceptor as a pure model: frames and time in, reply frames out.

The pty shell in :mod:`.simulator` moves its bytes; tests and the demo steer it (insert notes,
jam, open the stacker, cut the power).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace

from hardware.id003.codes import (
    SETTING_SIZES,
    Command,
    CommunicationMode,
    CurrencyTable,
    RejectReason,
    Status,
)
from hardware.id003.frames import Frame

# ASSUMED: no public source gives a JPY unit's 0x8A reply. By analogy with the USD/EUR tables
# (docs/id003.md, escrow codes): 0x61 ¥1000, 0x62 ¥2000, 0x63 ¥5000, 0x64 ¥10000, country 0x0A.
YEN_CURRENCY_TABLE = bytes.fromhex("610A0103620A0203630A0503640A0104")
DEFAULT_VERSION = "i(JPN)100-SS ID003-05V000-00 01JAN26 SIM "

_NOTE_IN_ACCEPTOR = {
    Status.ACCEPTING,
    Status.ESCROW,
    Status.HOLDING,
    Status.RETURNING,
    Status.REJECTING,
}
_INHIBITED = bytes((RejectReason.INHIBITED,))
_NOTE_IN_STACKER = {Status.STACKING, Status.PAUSE, Status.VEND_VALID}
# Every setting has a value from power-on, of the setting's size, so 80..87 read back whole.
POWER_ON_SETTINGS: dict[int, bytes] = {
    Command.SET_DENOMINATION: b"\x00\x00",  # every note enabled
    Command.SET_SECURITY: b"\x00\x00",  # normal security for every note
    Command.SET_COMMUNICATION_MODE: bytes((CommunicationMode.POLLING,)),
    Command.SET_INHIBIT: b"\x01",  # refuses notes until the host enables it
    Command.SET_DIRECTION: b"\x00",  # every insertion direction taken
    Command.SET_OPTIONAL_FUNCTION: b"\x00\x00",
    Command.SET_BARCODE_FUNCTION: b"\x00\x00",  # no barcode tickets
    Command.SET_BAR_INHIBIT: b"\xfc",  # bits 0/1 clear: notes and tickets not refused
}
_MODES = {mode.value for mode in CommunicationMode}


@dataclass
class Timing:
    """Seconds each transient state lasts."""

    accepting: float = 0.3
    stack_1: float = 0.2  # STACK-1: VEND VALID once the note passes the lever
    stack_2: float = 0.5  # STACK-2: VEND VALID only when the note is fully stacked
    stacked: float = 0.2
    returning: float = 0.4
    rejecting: float = 0.4
    initialize: float = 0.4
    cheated: float = 1.0
    pause: float = 1.0  # PAUSE, by default, before the second note is pulled back
    escrow_timeout: float = 10.0  # undecided escrow is rejected (0x79) after this


@dataclass
class DeviceCounters:
    stacked: list[int] = field(default_factory=list)  # values in the cash box, in order
    returned: int = 0  # notes handed back to the member (returned or rejected)
    removed_by_staff: int = 0  # jammed notes pulled out before VEND VALID


class SimulatedDevice:
    """The acceptor's behaviour. Not thread-safe: the shell serialises access."""

    def __init__(
        self,
        currency: bytes = YEN_CURRENCY_TABLE,
        timing: Timing | None = None,
        capacity: int = 1000,
        version: str = DEFAULT_VERSION,
    ) -> None:
        self.currency_data = currency
        self.currency = CurrencyTable.parse(currency)
        self.timing = replace(timing) if timing else Timing()  # its own: tests change it
        self.capacity = capacity
        self.version = version
        self.counters = DeviceCounters()
        self.powered = True
        self.stacker_open = False
        self.failure_code: int | None = None
        self.jam_next: str | None = None  # "before_vend" | "after_vend": for the next note
        self.cheat_next = False
        self.pause_next: float | None = None  # seconds of PAUSE while the next note stacks
        self.settings: dict[int, bytes] = dict(POWER_ON_SETTINGS)
        self._state = Status.POWER_UP
        # every state entered, oldest first: a test checks the order of states too short-lived
        # to be seen by looking (STACKING for 50 ms between PAUSE and VEND VALID)
        self.states: deque[Status] = deque([self._state], maxlen=1000)
        self._data = b""
        self._until: float | None = None
        self._note: int | None = None  # escrow code of the note inside
        self._counted = False  # the note inside is already in counters.stacked
        self._jam_after_ack = False
        self._stack_left = 0.0  # stacking still to do when a PAUSE ends
        self._told: Frame | None = None  # the status in the last STATUS REQUEST reply
        self._enq_unanswered = False  # an ENQ went out; no STATUS REQUEST since

    # ---- what the host sees ----------------------------------------------------------
    @property
    def status(self) -> Frame:
        state = self._state
        if state in (Status.IDLING, Status.DISABLED):
            if self.failure_code is not None:
                return Frame(Status.FAILURE, bytes((self.failure_code,)))
            if self.stacker_open:
                return Frame(Status.STACKER_OPEN)
            if len(self.counters.stacked) >= self.capacity:
                return Frame(Status.STACKER_FULL)
            state = Status.DISABLED if self.inhibited else Status.IDLING
        return Frame(state, self._data)

    @property
    def inhibited(self) -> bool:
        return self.settings.get(Command.SET_INHIBIT, b"\x01") != b"\x00"

    @property
    def interrupt_mode(self) -> bool:
        """C2 01 / C2 02: the unit sends ENQ when its status changes (the host still may poll)."""
        return self.settings[Command.SET_COMMUNICATION_MODE] != b"\x00"

    def unsolicited(self, now: float) -> Frame | None:
        """ENQ, in an interrupt mode, if the status differs from the last one the host asked for.

        One ENQ, then none until the host sends STATUS REQUEST: its reply brings the host up
        to date, whatever changed meanwhile; a change after that reply gets the next ENQ. An
        ENQ the host ignores is not repeated.
        """
        self.advance(now)
        if not self.powered or not self.interrupt_mode or self._enq_unanswered:
            return None
        if self.status == self._told:
            return None
        self._enq_unanswered = True
        return Frame(Status.ENQ)

    @property
    def busy(self) -> bool:
        return self._state not in (Status.IDLING, Status.DISABLED)

    def handle(self, frame: Frame, now: float) -> Frame | None:
        """A command from the host; returns the reply (None: no reply, as after ACK)."""
        self.advance(now)
        if not self.powered:
            return None
        code = frame.code
        if code == Command.STATUS_REQUEST:
            self._told, self._enq_unanswered = self.status, False
            return self._told
        if code == Command.ACK:
            self._on_ack(now)
            return None
        if code in SETTING_SIZES:
            if not _valid_setting(code, frame.data):
                return Frame(Status.INVALID_COMMAND)
            self.settings[code] = frame.data
            if code == Command.SET_COMMUNICATION_MODE:
                self._enq_unanswered = False
            return frame
        if code + 0x40 in SETTING_SIZES:  # 80..87 read C0..C7 back
            return Frame(code, self.settings[code + 0x40])
        if code == Command.VERSION_REQUEST:
            return Frame(code, self.version.encode("ascii"))
        if code == Command.BOOT_VERSION_REQUEST:
            return Frame(code, b"B05 ")
        if code == Command.CURRENCY_ASSIGN_REQUEST:
            return Frame(code, self.currency_data)
        if code == Command.RESET:
            self._reset(now)
            return Frame(Status.ACK)
        if code in (Command.STACK_1, Command.STACK_2) and self._state in (
            Status.ESCROW,
            Status.HOLDING,
        ):
            stack_time = self.timing.stack_1 if code == Command.STACK_1 else self.timing.stack_2
            self._stack_left = stack_time / 2 if self.pause_next is not None else 0.0
            self._go(Status.STACKING, now + stack_time - self._stack_left)
            return Frame(Status.ACK)
        if code == Command.RETURN and self._state in (Status.ESCROW, Status.HOLDING):
            self._go(Status.RETURNING, now + self.timing.returning)
            return Frame(Status.ACK)
        if code == Command.HOLD and self._state in (Status.ESCROW, Status.HOLDING):
            self._go(Status.HOLDING, now + self.timing.escrow_timeout, self._data)
            return Frame(Status.ACK)
        if code == Command.WAIT:
            return Frame(Status.ACK)
        return Frame(Status.INVALID_COMMAND)

    # ---- the physical world ----------------------------------------------------------
    def insert(self, escrow_code: int | None, now: float) -> bool:
        """Feed a note (None: a note the unit cannot recognise). False if the unit is busy."""
        self.advance(now)
        if (
            not self.powered
            or self.busy
            or self.status.code not in (Status.IDLING, Status.DISABLED)
        ):
            return False
        self._note, self._counted = escrow_code, False
        if self.inhibited:
            self._go(Status.REJECTING, now + self.timing.rejecting, _INHIBITED)
        else:
            self._go(Status.ACCEPTING, now + self.timing.accepting)
        return True

    def pause(self, now: float, seconds: float | None = None) -> bool:
        """A second note is pushed in while one is stacking: PAUSE for ``seconds`` (default
        ``timing.pause``), then stacking resumes and goes on to VEND VALID. False (nothing
        happens) unless a note is stacking now; ``pause_next`` arms it for the next note."""
        self.advance(now)
        if not self.powered or self._state != Status.STACKING or self._until is None:
            return False
        self._stack_left = max(self._until - now, 0.0)
        self._go(Status.PAUSE, now + (self.timing.pause if seconds is None else seconds))
        return True

    def code_of(self, value: int) -> int:
        for denomination in self.currency:
            if denomination.value == value:
                return denomination.escrow_code
        raise ValueError(f"the currency table has no {value} note")

    def clear_jam(self, now: float) -> None:
        """Staff open the unit and clear a jam; a note not yet counted is taken out."""
        if self._state in (Status.ACCEPTOR_JAM, Status.STACKER_JAM):
            if not self._counted:
                self.counters.removed_by_staff += 1
            self._idle()

    def power_cut(self) -> None:
        """Power lost: the unit remembers only where a note was (ID-003 power-up statuses)."""
        self.powered = False
        if self._state in _NOTE_IN_STACKER or (self._state == Status.STACKED and not self._counted):
            self._go(Status.POWER_UP_BILL_IN_STACKER, None)
        elif self._state in _NOTE_IN_ACCEPTOR:
            self._go(Status.POWER_UP_BILL_IN_ACCEPTOR, None)
        else:
            self._go(Status.POWER_UP, None)
            self._note = None

    def power_on(self) -> None:
        self.powered = True
        self.settings = dict(POWER_ON_SETTINGS)

    def collect(self) -> list[int]:
        """Staff empty the cash box."""
        box, self.counters.stacked = self.counters.stacked, []
        return box

    # ---- internals -------------------------------------------------------------------
    def advance(self, now: float) -> None:
        """Run the clock: end transient states whose time is up."""
        while self._until is not None and now >= self._until:
            self._timer_done(self._until)

    def _timer_done(self, at: float) -> None:
        state, timing = self._state, self.timing
        if state == Status.ACCEPTING:
            self._after_validation(at)
        elif state in (Status.ESCROW, Status.HOLDING):
            self._go(Status.REJECTING, at + timing.rejecting, _INHIBITED)
        elif state == Status.STACKING and self.pause_next is not None:
            seconds, self.pause_next = self.pause_next, None
            self._go(Status.PAUSE, at + seconds)  # half the stacking is left (see STACK)
        elif state == Status.PAUSE:
            self._go(Status.STACKING, at + self._stack_left)  # the second note was pulled back
        elif state == Status.STACKING:
            if self.jam_next == "before_vend":
                self.jam_next = None
                self._go(Status.STACKER_JAM, None)
            else:
                self._count_note()
                self._jam_after_ack = self.jam_next == "after_vend"
                self.jam_next = None if self._jam_after_ack else self.jam_next
                self._go(Status.VEND_VALID, None)
        elif state in (Status.RETURNING, Status.REJECTING):
            self.counters.returned += 1
            self._idle()
        else:  # STACKED, INITIALIZE, CHEATED
            self._idle()

    def _after_validation(self, at: float) -> None:
        code = self._note
        enabled = self.currency.enabled_codes(self.settings.get(Command.SET_DENOMINATION, b"\0\0"))
        if self.cheat_next:
            self.cheat_next = False
            self._go(Status.CHEATED, at + self.timing.cheated)
        elif code is None or self.currency.value_of(code) is None:
            self._go(
                Status.REJECTING, at + self.timing.rejecting, bytes((RejectReason.DENOMINATION,))
            )
        elif code not in enabled:
            self._go(Status.REJECTING, at + self.timing.rejecting, _INHIBITED)
        else:
            self._go(Status.ESCROW, at + self.timing.escrow_timeout, bytes((code,)))

    def _on_ack(self, now: float) -> None:
        if self._state != Status.VEND_VALID:
            return
        if self._jam_after_ack:
            self._jam_after_ack = False
            self._go(Status.STACKER_JAM, None)
        else:
            self._go(Status.STACKED, now + self.timing.stacked)

    def _reset(self, now: float) -> None:
        if self._state in _NOTE_IN_STACKER or self._state == Status.POWER_UP_BILL_IN_STACKER:
            self._count_note()  # RESET finishes stacking a note already in the stacker
        elif self._note is not None and self._state != Status.POWER_UP:
            self.counters.returned += 1  # RESET hands back a note still in the acceptor
        self.failure_code = None
        self._note = None
        self._go(Status.INITIALIZE, now + self.timing.initialize)

    def _count_note(self) -> None:
        if self._note is not None and not self._counted:
            value = self.currency.value_of(self._note)
            if value is not None:
                self.counters.stacked.append(value)
            self._counted = True

    def _go(self, state: Status, until: float | None, data: bytes = b"") -> None:
        self._state, self._until, self._data = state, until, data
        self.states.append(state)

    def _idle(self) -> None:
        self._note, self._counted = None, False
        self._go(Status.IDLING, None)


def _valid_setting(code: int, data: bytes) -> bool:
    """A setting of the wrong size, or an unknown communication mode, is refused (4B)."""
    if len(data) != SETTING_SIZES[code]:
        return False
    return code != Command.SET_COMMUNICATION_MODE or data[0] in _MODES
