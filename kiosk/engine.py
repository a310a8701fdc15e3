"""The engine: one asyncio loop wiring the acceptor, the card reader, the journal, the wallet
and the session. Hardware threads hand their events over with ``call_soon_threadsafe``.

It never imports Kivy: it runs the same under the UI, with ``--no-ui`` and under tests.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hardware.acceptor import AcceptorEvent, BillAcceptor, EventKind
from hardware.card import mask_card_id
from kiosk.delivery import Delivery
from kiosk.events import (
    AcceptorFault,
    AcceptorRecovered,
    Acknowledged,
    BackPressed,
    CancelPressed,
    CardTouched,
    CardUnreadable,
    ChargeRequested,
    CreditOutcome,
    CreditSettled,
    Effect,
    EndWithoutMoney,
    Event,
    FinishAndCredit,
    FinishPressed,
    HandBack,
    HistoryRequested,
    LoadHistory,
    LookUp,
    MoneyChosen,
    MoreHistoryRequested,
    NoteHandedBack,
    NoteStacked,
    StartAccepting,
    Timeout,
)
from kiosk.history import load_history
from kiosk.journal import Journal, JournalUnwritable
from kiosk.journal.records import CreditState
from kiosk.lookup import look_up_member
from kiosk.money import notes_that_fit
from kiosk.session import Session, SessionError, State
from kiosk.view import SessionView, snapshot
from kiosk.wallet.client import WalletClient

log = logging.getLogger("paykiosk.engine")

_FAULTS = {
    EventKind.JAM,
    EventKind.STACKER_FULL,
    EventKind.STACKER_OPEN,
    EventKind.FAILURE,
    EventKind.OFFLINE,
}
_ACTIVITY = {EventKind.ACCEPTING, EventKind.ESCROW}
_SCREEN_STATES = {
    State.ACCOUNT,
    State.HISTORY,
    State.CHOOSE_MONEY,
    State.UNKNOWN_CARD,
    State.ACCOUNT_SUSPENDED,
    State.WALLET_UNAVAILABLE,
}
STARTING = "starting"  # the acceptor's fault until it first reports online


@dataclass(frozen=True)
class _TimerFired:
    generation: int


@dataclass(frozen=True)
class _DeviceFault:
    source: str
    detail: str | None


@dataclass(frozen=True)
class _Activity:
    """The member touched the screen: the screen's time-out starts again."""


@dataclass(frozen=True)
class EngineSettings:
    kiosk_id: str
    moneys: dict[str, str]  # bucket → private money id
    lookup_bucket: str = "base"
    idle_finish_s: float = 30.0
    screen_timeout_s: float = 60.0
    done_s: float = 15.0  # how long the result stays up
    settle_wait_s: float = 8.0  # how long the member waits for the wallet's confirmation
    note_settle_s: float = 30.0  # longest wait for a note in flight when finishing
    auto_money: str | None = None  # --no-ui: charge this bucket without asking


class Engine:
    """Owns the session. Every public method is safe to call from any thread, before or after
    :meth:`run` has started: what arrives before the loop runs is queued, never dropped."""

    def __init__(
        self,
        settings: EngineSettings,
        journal: Journal,
        acceptor: BillAcceptor,
        wallet: WalletClient,
        delivery: Delivery,
    ) -> None:
        self.settings = settings
        self.journal = journal
        self.acceptor = acceptor
        self.wallet = wallet
        self.delivery = delivery
        # Out of service until the acceptor has reported online (its notes are known then).
        self.session = Session(state=State.OUT_OF_SERVICE, fault=f"acceptor {STARTING}")
        self.listeners: list[Callable[[SessionView], None]] = []
        self.healthy = True
        self._loop: asyncio.AbstractEventLoop | None = None
        self._early: list[Any] = []  # posted before run() set the loop, in order
        self._post_lock = threading.Lock()
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_generation = 0
        self._deadline: float | None = None
        self._session_id: int | None = None
        self._card: str = ""
        self._credited = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._faults: dict[str, str] = {"acceptor": STARTING}  # source → what is wrong

    # ---- devices (any thread) ----------------------------------------------------------
    def card_touched(self, card_id: str) -> None:
        self._post(CardTouched(card_id))

    def card_unreadable(self) -> None:
        """A card was touched but its member number could not be read."""
        self._post(CardUnreadable())

    def acceptor_event(self, event: AcceptorEvent) -> None:
        self._post(event)

    def device_fault(self, source: str, detail: str | None) -> None:
        """A device outside the acceptor is at fault (``detail``) or fine (None), e.g. the
        cash-box door open, the service key turned."""
        self._post(_DeviceFault(source, detail))

    # ---- member intents (any thread: the screens call them from their callbacks) --------
    def charge(self) -> None:
        self._post(ChargeRequested())

    def choose_money(self, bucket: str) -> None:
        self._post(MoneyChosen(bucket))

    def show_history(self, bucket: str | None = None) -> None:
        """The history of one money (None: the member's first money), newest first."""
        self._post(HistoryRequested(bucket))

    def more_history(self) -> None:
        """The next (older) page of the history on screen."""
        self._post(MoreHistoryRequested())

    def back(self) -> None:
        """From the history or the money choice back to the account."""
        self._post(BackPressed())

    def finish(self) -> None:
        self._post(FinishPressed())

    def cancel(self) -> None:
        self._post(CancelPressed())

    def acknowledge(self) -> None:
        self._post(Acknowledged())

    def activity(self) -> None:
        """The member touched the screen (e.g. switched the language): restart its time-out.
        The language itself is presentation only; the engine does not hold it."""
        self._post(_Activity())

    def _post(self, item: Any) -> None:
        with self._post_lock:
            loop = self._loop
            if loop is None:
                self._early.append(item)
                return
        try:
            loop.call_soon_threadsafe(self._queue.put_nowait, item)
        except RuntimeError:  # the loop has closed: the kiosk is stopping
            log.info("engine stopped; dropped %s", type(item).__name__)

    # ---- running -----------------------------------------------------------------------
    async def run(self, ready: Callable[[], object] = lambda: None) -> None:
        """Recover, start the acceptor and delivery, then handle events until cancelled."""
        with self._post_lock:
            self._loop = asyncio.get_running_loop()
            for item in self._early:
                self._queue.put_nowait(item)
            self._early.clear()
        recovered = self.journal.sessions.close_open()
        for credit in recovered:
            log.info("restart: session %s closed into credit %s", credit.session_id, credit.id)
        self.acceptor.add_listener(self.acceptor_event)
        self.acceptor.inhibit()
        self.acceptor.start()
        self._spawn(self.delivery.run())
        self._publish()
        ready()
        try:
            while True:
                await self._apply(await self._queue.get())
        finally:
            for task in self._tasks:
                task.cancel()
            self.acceptor.stop()

    async def _apply(
        self, item: Event | _TimerFired | _Activity | AcceptorEvent | _DeviceFault
    ) -> None:
        event: Event | None
        if isinstance(item, _TimerFired):
            if item.generation != self._timer_generation:
                return  # the state moved on before this timer's event was handled
            event = Timeout()
        elif isinstance(item, _Activity):
            if self._timer is not None:
                self._schedule_timeout()
                self._publish()  # the new deadline
            return
        elif isinstance(item, AcceptorEvent):
            event = self._from_acceptor(item)
        elif isinstance(item, _DeviceFault):
            event = self._fault_change(item.source, item.detail)
        else:
            event = item
        if event is None:
            return
        try:
            effects = self.session.handle(event)
        except SessionError as error:
            log.info("ignored: %s", error)
            return
        try:
            for effect in effects:
                await self._do(effect)
        except JournalUnwritable as error:
            log.critical("journal unwritable: %s", error)
            self.healthy = False
            self.acceptor.inhibit()
            self._queue.put_nowait(_DeviceFault("journal", "unwritable"))
        self._schedule_timeout()
        self._publish()
        if self.settings.auto_money and self.session.state is State.ACCOUNT:
            self._queue.put_nowait(MoneyChosen(self.settings.auto_money))

    def _from_acceptor(self, event: AcceptorEvent) -> Event | None:
        """Acceptor events → session events (or bookkeeping only)."""
        self._journal_log("acceptor", str(event))
        kind, state = event.kind, self.session.state
        live = state in (State.ACCEPTING, State.CREDITING)
        if kind is EventKind.STACKED:
            if live and event.value is not None:
                self._enable_what_fits()
                return NoteStacked(event.value)
            self.delivery.wake()  # a note for a finished session: credited as an orphan
        elif kind in (EventKind.RETURNED, EventKind.REJECTED):
            if state is State.ACCEPTING:
                self._enable_what_fits()
                return NoteHandedBack(event.value, HandBack(kind.value))
        elif kind in _ACTIVITY:
            self._schedule_timeout()
        elif kind in _FAULTS:
            return self._fault_change("acceptor", f"{kind.value} {event.detail}".strip())
        elif kind in (EventKind.CLEARED, EventKind.ONLINE):
            self.session.denominations = tuple(self.acceptor.denominations)
            if state is State.ACCEPTING:
                self._enable_what_fits()  # the denominations are known (again)
            return self._fault_change("acceptor", None)
        elif kind in (EventKind.UNCREDITED_NOTE, EventKind.UNRESOLVED_NOTE):
            kind_name = kind.value
            reference = self.journal.cases.open(kind_name, amount=event.value, detail=event.detail)
            log.error("acceptor %s: staff case %s", kind_name, reference)
        return None

    def _fault_change(self, source: str, detail: str | None) -> Event | None:
        """Out of service while any source is at fault (the member sees the latest one that
        still holds); back in service when the last one clears."""
        if detail is not None:
            self._faults[source] = detail
            self.acceptor.inhibit()
            self._journal_log("fault", f"{source}: {detail}")
            return AcceptorFault(_fault_text(source, detail))
        if self._faults.pop(source, None) is not None:
            self._journal_log("fault", f"{source}: cleared")
        if self._faults:
            latest = next(reversed(self._faults))
            return AcceptorFault(_fault_text(latest, self._faults[latest]))
        return AcceptorRecovered()

    async def _do(self, effect: Effect) -> None:
        if isinstance(effect, LookUp):
            self._card = effect.card_id
            self._spawn(self._look_up(effect.card_id))
        elif isinstance(effect, LoadHistory):
            self._spawn(self._load_history(effect))
        elif isinstance(effect, StartAccepting):
            self._start_accepting(effect)
        elif isinstance(effect, FinishAndCredit):
            self._stop_accepting()
            self._spawn(self._finish_and_credit())
        elif isinstance(effect, EndWithoutMoney):
            self._stop_accepting()
            if self._session_id is not None:
                session_id, self._session_id = self._session_id, None
                self.journal.sessions.finish(session_id, "nothing_inserted")

    async def _look_up(self, card_id: str) -> None:
        settings = self.settings
        result = await look_up_member(
            self.wallet, self.journal, settings.moneys, settings.lookup_bucket, card_id
        )
        await self._queue.put(result)

    async def _load_history(self, load: LoadHistory) -> None:
        await self._queue.put(await load_history(self.wallet, self.settings.moneys, load))

    def _start_accepting(self, effect: StartAccepting) -> None:
        member = self.session.member
        assert member is not None
        try:
            self._session_id = self.journal.sessions.open(
                mask_card_id(self._card),
                member.user_id,
                member.name,
                effect.bucket,
                self.settings.moneys[effect.bucket],
            )
        except JournalUnwritable as error:
            self._queue.put_nowait(_DeviceFault("journal", f"unwritable: {error}"))
            return
        self._credited = 0
        self.journal.gate.open(self._session_id, effect.headroom)
        self._enable_what_fits()

    def _enable_what_fits(self) -> None:
        fitting = notes_that_fit(self.acceptor.denominations, self.journal.gate.remaining)
        if fitting and self.journal.gate.session_id is not None:
            self.acceptor.enable(fitting)
        else:
            self.acceptor.inhibit()

    def _stop_accepting(self) -> None:
        self.acceptor.inhibit()
        self.journal.gate.close()

    async def _finish_and_credit(self) -> None:
        session_id, self._session_id = self._session_id, None
        assert session_id is not None
        deadline = time.monotonic() + self.settings.note_settle_s
        while any(n.state.is_open for n in self.journal.notes.of_session(session_id)):
            if time.monotonic() > deadline:
                log.error(
                    "session %s: a note did not settle; crediting what is counted", session_id
                )
                break
            await asyncio.sleep(0.05)
        credit = self.journal.sessions.finish(session_id, "finished")
        if credit is None:
            await self._queue.put(CreditSettled(CreditOutcome.CONFIRMED, new_balance=None))
            return
        self._credited = credit.amount
        settled = await self.delivery.settle(credit.id, self.settings.settle_wait_s)
        member = self.session.member
        wallet = member.wallets.get(credit.bucket) if member else None
        if settled.state is CreditState.CONFIRMED:
            balance = wallet.money_balance + credit.amount if wallet else None
            await self._queue.put(CreditSettled(CreditOutcome.CONFIRMED, new_balance=balance))
        elif settled.state is CreditState.REFUSED:
            await self._queue.put(
                CreditSettled(CreditOutcome.REFUSED, reference=settled.reference)
            )
        else:
            await self._queue.put(CreditSettled(CreditOutcome.BEING_CREDITED))

    # ---- timers, views -----------------------------------------------------------------
    def _schedule_timeout(self) -> None:
        self._timer_generation += 1
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._deadline = None
        state, settings = self.session.state, self.settings
        delay = {State.ACCEPTING: settings.idle_finish_s, State.DONE: settings.done_s}.get(
            state, settings.screen_timeout_s if state in _SCREEN_STATES else None
        )
        if delay is not None and self._loop is not None:
            fired = _TimerFired(self._timer_generation)
            self._timer = self._loop.call_later(delay, self._queue.put_nowait, fired)
            self._deadline = time.monotonic() + delay

    def _publish(self) -> None:
        view = snapshot(self.session, self._credited, self._deadline)
        for listener in self.listeners:
            try:
                listener(view)
            except Exception:
                log.exception("view listener failed")

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("engine task failed", exc_info=task.exception())
            self.healthy = False

    def _journal_log(self, kind: str, detail: str) -> None:
        try:
            self.journal.log(kind, detail)
        except JournalUnwritable:
            self.healthy = False


def _fault_text(source: str, detail: str) -> str:
    return detail if source == "acceptor" else f"{source}: {detail}"
