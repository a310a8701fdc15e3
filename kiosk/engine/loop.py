"""The engine: one asyncio loop wiring the acceptor, the card reader, the journal, the wallet
and the session. Hardware threads hand their events over with ``call_soon_threadsafe``.

It never imports Kivy: it runs the same under the UI, with ``--no-ui`` and under tests.

When its own machine misbehaves it goes out of service with the reason and comes back by
itself: a journal write that fails (full disk, broken file) inhibits the acceptor until a
probe write lands again; below the free-space reserve no session starts. A task that dies of
an unexpected error ends :meth:`Engine.run` with :class:`EngineFailed`, so the process exits
and systemd restarts it; the restart replays the journal.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import Any

from hardware.acceptor import AcceptorEvent, BillAcceptor, EventKind
from hardware.card import mask_card_id
from kiosk.core.events import (
    AcceptorFault,
    AcceptorRecovered,
    Effect,
    EndWithoutMoney,
    Event,
    FinishAndCredit,
    HandBack,
    LoadHistory,
    LookUp,
    MemberFound,
    MoveMoney,
    NoteEscrowed,
    NoteHandedBack,
    NoteStacked,
    StartAccepting,
    Timeout,
)
from kiosk.core.faults import STARTING, Fault, Faults, FaultSource, cleared_text
from kiosk.core.money import notes_that_fit
from kiosk.core.session import TOUCH_RESTARTS, Session, SessionError, State
from kiosk.core.view import SessionView, snapshot
from kiosk.engine.closing import close_session
from kiosk.engine.delivery import Delivery
from kiosk.engine.health import Health
from kiosk.engine.history import load_history
from kiosk.engine.inbox import Activity, Answer, DeviceFault, Inbox, Item, Stop, TimerFired
from kiosk.engine.journal_guard import JournalGuard
from kiosk.engine.lookup import look_up_member
from kiosk.engine.moving import move_money, told
from kiosk.engine.settings import EngineSettings
from kiosk.journal import Journal, JournalUnwritable
from kiosk.journal.records import SessionOutcome
from kiosk.wallet.client import WalletClient

log = logging.getLogger("paykiosk.engine")

_FAULTS = {
    EventKind.JAM,
    EventKind.STACKER_FULL,
    EventKind.STACKER_OPEN,
    EventKind.FAILURE,
    EventKind.OFFLINE,
    EventKind.RESETTING,
}
_ACTIVITY = {EventKind.ACCEPTING, EventKind.PAUSED}


def _note_event(event: AcceptorEvent) -> Event | None:
    """The session event a note's report stands for (whether the session hears it now is the
    session's rule)."""
    if event.kind is EventKind.ESCROW and event.value is not None:
        return NoteEscrowed(event.value)
    if event.kind is EventKind.STACKED and event.value is not None:
        return NoteStacked(event.value)
    if event.kind in (EventKind.RETURNED, EventKind.REJECTED):
        return NoteHandedBack(event.value, HandBack(event.kind.value))
    return None


class EngineFailed(RuntimeError):
    """An engine task died of an unexpected error: the process should exit and restart."""


async def _watched(coroutine: Coroutine[Any, Any, None]) -> None:
    """An engine task: an unexpected error is logged and fails the run."""
    try:
        await coroutine
    except Exception as error:
        log.critical("engine task failed", exc_info=True)
        raise EngineFailed(f"an engine task failed: {error!r}") from error


class Engine:
    """Owns the session. Its entry points (devices, member intents) are its :attr:`inbox`'s,
    safe to call from any thread, before or after :meth:`run` has started."""

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
        self.faults = Faults(STARTING)
        self.session = Session(state=State.OUT_OF_SERVICE, fault=self.faults.latest())
        self.session.routes = settings.move_routes
        self.inbox = Inbox()
        self.health = Health(journal, settings.min_free_bytes, self.inbox.device_fault, wallet)
        self.guard = JournalGuard(journal, acceptor, delivery, self.health, self.inbox.put)
        self.listeners: list[Callable[[SessionView], None]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._timer_generation = 0
        self._deadline: float | None = None
        self._lookup_token = 0
        self._session_id: int | None = None  # the journal's accepting session
        self._closing: asyncio.Task[None] | None = None  # closing a session into its credit
        self._card: str = ""
        self._credited = 0
        self._group: asyncio.TaskGroup | None = None  # the tasks of the run (see _spawn)
        self._running: set[asyncio.Task[None]] = set()
        self._stopping = False
        self._done = False

    # ---- running -----------------------------------------------------------------------
    async def run(self, ready: Callable[[], object] = lambda: None) -> None:
        """Recover, start the acceptor and delivery, then handle events until stopped
        (``inbox.stop()``) or cancelled. Raises :class:`EngineFailed` if a task died.

        Every task of the run (delivery, health, lookups, closes, moves) is in one task group:
        however the run ends, what still runs is cancelled and awaited before it returns."""
        self.inbox.open()
        self.guard.recover()
        self.health.check_disk()  # before the first member: below the reserve, no session
        self.health.check_clock()  # a clock the wallet refuses: no session either
        self.acceptor.add_listener(self.inbox.acceptor_event)
        self.acceptor.inhibit()
        self.acceptor.start()
        failed: BaseException | None = None
        try:
            async with asyncio.TaskGroup() as self._group:
                self._spawn(self.delivery.run())
                self._spawn(self.health.run())
                self._publish()
                ready()
                while not self._done:
                    await self._apply(await self.inbox.get())
                for task in self._running:  # stopped: what is left ends with the run
                    task.cancel()
        except BaseExceptionGroup as errors:  # a task failed, or the loop itself
            failed = errors.exceptions[0]  # the first; the others were cancelled or logged
        finally:
            self._group = None
            if self._timer is not None:
                self._timer.cancel()
            self.acceptor.stop()
        if failed is not None:
            raise failed

    async def _apply(self, item: Item) -> None:
        try:
            event = self._event_of(item)
            if event is None:
                return
            try:
                effects = self.session.handle(event, reserved=self.journal.gate.in_flight)
            except SessionError as error:
                log.info("ignored: %s", error)
                return
            for effect in effects:
                await self._do(effect)
        except JournalUnwritable as error:
            self.guard.failed(error)
        self._schedule_timeout()
        self._publish()
        for step in self.settings.auto_steps(self.session):
            self.inbox.put(step)

    def _event_of(self, item: Item) -> Event | None:
        """Engine bookkeeping; the session event an item stands for, if any."""
        if isinstance(item, TimerFired):
            return Timeout() if item.generation == self._timer_generation else None
        if isinstance(item, Activity):
            if self._timer is not None and self.session.state in TOUCH_RESTARTS:
                self._schedule_timeout()
                self._publish()  # the new deadline
            return None
        if isinstance(item, Answer):
            if item.token == self._lookup_token and self.session.hears(item.event):
                if isinstance(item.event, MemberFound):
                    told(self.journal, item.event.member.moves)  # on screen now: shown once
                return item.event
            log.info("a late lookup answer was ignored")
            return None
        if isinstance(item, Stop):
            return self._begin_stop()
        if isinstance(item, AcceptorEvent):
            return self._from_acceptor(item)
        if isinstance(item, DeviceFault):
            return self._fault_change(item.source, item.detail)
        return item

    def _from_acceptor(self, event: AcceptorEvent) -> Event | None:
        """Acceptor events → session events, where the session hears them (or bookkeeping)."""
        self.guard.log("acceptor", str(event))
        kind = event.kind
        note = _note_event(event)
        if note is not None and self.session.hears(note):
            if not isinstance(note, NoteEscrowed):
                self._enable_what_fits()  # a note less (or more room) on the way in
            return note
        if kind is EventKind.STACKED:
            self.delivery.wake()  # a note for a finished session: credited as an orphan
        elif kind in _ACTIVITY:
            self._schedule_timeout()
        elif kind is EventKind.LEDGER_FAILED:  # the journal's own error says what kind
            raise self.journal.db.last_failure or JournalUnwritable(event.detail)
        elif kind in _FAULTS:
            detail = f"{kind.value} {event.detail}".strip()
            return self._fault_change(FaultSource.ACCEPTOR, detail, kind)
        elif kind in (EventKind.CLEARED, EventKind.ONLINE):
            self._refresh_notes()
            if self.journal.gate.session_id is not None:  # a session takes notes
                self._enable_what_fits()  # the denominations are known (again)
            return self._fault_change(FaultSource.ACCEPTOR, None)
        elif kind in (EventKind.UNCREDITED_NOTE, EventKind.UNRESOLVED_NOTE):
            log.error("acceptor %s: %s (a staff case)", kind.value, event)
            self.guard.open_case(event)
        return None

    def _fault_change(
        self, source: FaultSource, detail: str | None, kind: EventKind | None = None
    ) -> Event | None:
        """Out of service while any source is at fault (the member sees the latest one that
        still holds); back in service when the last one clears."""
        if detail is not None:
            fault = Fault(source, detail, kind)
            self.acceptor.inhibit()
            self.guard.log("fault", str(fault))
            self.faults.set(fault)
            return AcceptorFault(fault)
        if source is FaultSource.JOURNAL:
            if self.health.journal_failed:
                return None  # it failed again after the probe: the newer failure holds
            if self._closing is None and self._session_id is None:
                # what could not be closed while the journal failed
                self.guard.recover(SessionOutcome.CLOSED_AFTER_JOURNAL_FAILURE)
                if self.health.journal_failed:
                    return None
        if not self.faults.clear(source):
            return None
        self.guard.log("fault", cleared_text(source))
        latest = self.faults.latest()
        return AcceptorRecovered() if latest is None else AcceptorFault(latest)

    # ---- effects -----------------------------------------------------------------------
    async def _do(self, effect: Effect) -> None:
        if isinstance(effect, LookUp):
            self._refresh_notes()  # staff may have switched a note off since
            self._card = effect.card_id
            self._lookup_token += 1
            self._spawn(self._look_up(effect.card_id, self._lookup_token))
        elif isinstance(effect, LoadHistory):
            self._spawn(self._load_history(effect))
        elif isinstance(effect, StartAccepting):
            self._start_accepting(effect)
        elif isinstance(effect, MoveMoney):
            self._spawn(self._move(effect))
        elif isinstance(effect, FinishAndCredit):
            self._stop_accepting()
            self._closing = self._spawn(self._close_session())
        elif isinstance(effect, EndWithoutMoney):
            self._stop_accepting()
            if self.journal.gate.in_flight is not None and self._session_id is not None:
                log.warning("a note was reserved as the session ended: closing it into its credit")
                self._closing = self._spawn(self._close_session())
            elif self._session_id is not None:
                session_id, self._session_id = self._session_id, None
                self.journal.sessions.finish(session_id, SessionOutcome.NOTHING_INSERTED)

    async def _look_up(self, card_id: str, token: int) -> None:
        settings = self.settings
        result = await look_up_member(
            self.wallet, self.journal, settings.moneys, settings.lookup_money, card_id
        )
        self.inbox.put(Answer(token, result))

    async def _load_history(self, load: LoadHistory) -> None:
        self.inbox.put(await load_history(self.wallet, self.settings.moneys, load))

    def _start_accepting(self, effect: StartAccepting) -> None:
        member = self.session.member
        assert member is not None
        self._session_id = self.journal.sessions.open(
            mask_card_id(self._card),
            member.user_id,
            member.name,
            effect.bucket,
            self.settings.moneys[effect.bucket],
        )
        self._credited = 0
        self.journal.gate.open(self._session_id, effect.headroom)
        self._enable_what_fits()

    def _refresh_notes(self) -> None:
        """The notes a member may feed: the acceptor's, less those staff switched off."""
        known = self.acceptor.denominations
        taken = self.journal.note_choice.taken(known)
        self.session.denominations = tuple(taken)
        self.session.notes_off = tuple(v for v in known if v not in taken)

    def _enable_what_fits(self) -> None:
        online = [v for v in self.acceptor.denominations if v in self.session.denominations]
        fitting = notes_that_fit(online, self.journal.gate.remaining)
        healthy = not self.faults and not self.health.journal_failed
        if fitting and self.journal.gate.session_id is not None and healthy:
            self.acceptor.enable(fitting)
        else:
            self.acceptor.inhibit()

    def _stop_accepting(self) -> None:
        self.acceptor.inhibit()
        self.journal.gate.close()

    async def _close_session(self) -> None:
        session_id, self._session_id = self._session_id, None
        assert session_id is not None
        settings = self.settings
        try:
            closed = await close_session(
                self.journal,
                self.delivery,
                session_id,
                self.session.member,
                settings.note_settle_s,
                settings.settle_wait_s,
                self._journal_down,
            )
        finally:
            self._closing = None
        if closed.journal_error is not None:
            self.guard.failed(JournalUnwritable(closed.journal_error))
        self._credited = closed.taken
        self.inbox.put(replace(closed.settled, at=time.time()))  # the receipt's time

    def _journal_down(self) -> bool:
        """The journal cannot record money facts now (a failed write, a lost file, damage)."""
        return self.health.journal_failed or FaultSource.JOURNAL_CHECK in self.faults

    async def _move(self, move: MoveMoney) -> None:
        journal, member, failed = self.journal, self.session.member, self.guard.failed
        settled = await move_money(journal, self.delivery, member, move, self.settings, failed)
        self.inbox.put(replace(settled, at=time.time()))  # the receipt's time

    # ---- stopping ----------------------------------------------------------------------
    def _begin_stop(self) -> Event | None:
        """Stopping is a fault like the others: no new session, and one that is accepting is
        closed into its credit (a note in flight settles first)."""
        if self._stopping:
            return None
        self._stopping = True
        log.info("stopping: no more notes; closing the session into its credit")
        self._spawn(self._stop_when_closed())
        return self._fault_change(FaultSource.STOPPING, "stopping")

    async def _stop_when_closed(self) -> None:
        deadline = time.monotonic() + self.settings.stop_s
        await asyncio.sleep(0)  # the finish above is handled first
        while (self._closing is not None or self._session_id is not None) and (
            time.monotonic() < deadline
        ):
            await asyncio.sleep(0.05)
        if self._session_id is not None or self._closing is not None:
            log.error("stopping with a session still open: it is credited at the next start")
        self._done = True
        self.inbox.put(Activity())  # wake the loop to notice

    # ---- timers, views -----------------------------------------------------------------
    def _schedule_timeout(self) -> None:
        self._timer_generation += 1
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._deadline = None
        delay = self.settings.timeout_for(self.session.state)
        if delay is not None:
            fired = TimerFired(self._timer_generation)
            self._timer = asyncio.get_running_loop().call_later(delay, self.inbox.put, fired)
            self._deadline = time.monotonic() + delay

    def _publish(self) -> None:
        view = snapshot(self.session, self._credited, self._deadline)
        for listener in self.listeners:
            try:
                listener(view)
            except Exception:
                log.exception("view listener failed")

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """A task of the run: it ends with the run; if it dies, the run ends too."""
        assert self._group is not None, "a task outside the run"
        task = self._group.create_task(_watched(coroutine))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return task
