"""The engine's inbox: thread-safe entry points for the devices and the member's intents.

Everything is queued for the engine's loop, in order; what arrives before the loop runs waits
in a list until it does, so a device's first report (the cash-box door open at boot) is never
lost. The screens call the intents from their own callbacks, on any thread. The engine owns
one inbox (``engine.inbox``) and reads it with :meth:`Inbox.get`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass

from hardware.acceptor import AcceptorEvent
from kiosk.core.events import (
    Acknowledged,
    BackPressed,
    CancelPressed,
    CardTouched,
    CardUnreadable,
    ChargeRequested,
    Event,
    FinishPressed,
    HistoryRequested,
    MoneyChosen,
    MoreHistoryRequested,
    MoveAmountAdded,
    MoveAmountAll,
    MoveAmountCleared,
    MoveConfirmed,
    MoveRequested,
    MoveReviewPressed,
    MoveRouteChosen,
)
from kiosk.core.faults import FaultSource

log = logging.getLogger("paykiosk.engine")


@dataclass(frozen=True)
class TimerFired:
    generation: int  # only the latest timer counts


@dataclass(frozen=True)
class DeviceFault:
    source: FaultSource
    detail: str | None  # None: fine again


@dataclass(frozen=True)
class Activity:
    """The member touched the screen: the screen's time-out starts again."""


@dataclass(frozen=True)
class Answer:
    """A lookup's result; only the answer to the latest lookup counts."""

    token: int
    event: Event


@dataclass(frozen=True)
class Stop:
    """Stop taking notes, close the session into its credit, then end the engine's run."""


Item = Event | TimerFired | Activity | Answer | Stop | AcceptorEvent | DeviceFault


class Inbox:
    """The engine's queue and the methods that fill it (any thread)."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._early: list[Item] = []  # posted before the loop runs, in order
        self._post_lock = threading.Lock()
        self._queue: asyncio.Queue[Item] = asyncio.Queue()

    # ---- devices -------------------------------------------------------------------------
    def card_touched(self, card_id: str) -> None:
        self.post(CardTouched(card_id))

    def card_unreadable(self) -> None:
        """A card was touched but its member number could not be read."""
        self.post(CardUnreadable())

    def acceptor_event(self, event: AcceptorEvent) -> None:
        self.post(event)

    def device_fault(self, source: FaultSource, detail: str | None) -> None:
        """A device outside the acceptor is at fault (``detail``) or fine (None), e.g. the
        cash-box door open, the service key turned."""
        self.post(DeviceFault(source, detail))

    def stop(self) -> None:
        """Stop taking notes, close a session into its credit (bounded), then let the engine's
        run return. For SIGTERM."""
        self.post(Stop())

    # ---- member intents ------------------------------------------------------------------
    def charge(self) -> None:
        self.post(ChargeRequested())

    def choose_money(self, bucket: str) -> None:
        self.post(MoneyChosen(bucket))

    def show_history(self, bucket: str | None = None) -> None:
        """The history of one money (None: the member's first money), newest first."""
        self.post(HistoryRequested(bucket))

    def more_history(self) -> None:
        """The next (older) page of the history on screen."""
        self.post(MoreHistoryRequested())

    def back(self) -> None:
        """From the history or the money choice back to the account."""
        self.post(BackPressed())

    def finish(self) -> None:
        self.post(FinishPressed())

    def cancel(self) -> None:
        self.post(CancelPressed())

    def acknowledge(self) -> None:
        self.post(Acknowledged())

    # マネー移動: account → route → amount → confirmation (back() goes one step back; cancel()
    # returns to the account; nothing moves before move_confirm())
    def move_money(self) -> None:
        self.post(MoveRequested())

    def move_route(self, source: str, target: str) -> None:
        self.post(MoveRouteChosen(source, target))

    def move_add(self, amount: int) -> None:
        self.post(MoveAmountAdded(amount))

    def move_all(self) -> None:
        self.post(MoveAmountAll())

    def move_clear(self) -> None:
        self.post(MoveAmountCleared())

    def move_review(self) -> None:
        self.post(MoveReviewPressed())

    def move_confirm(self) -> None:
        self.post(MoveConfirmed())

    def activity(self) -> None:
        """The member touched the screen (e.g. switched the language): restart its time-out.
        The language itself is presentation only; the engine does not hold it."""
        self.post(Activity())

    # ---- the engine's side ---------------------------------------------------------------
    def post(self, item: Item) -> None:
        """Queue ``item`` for the engine, from any thread."""
        with self._post_lock:
            loop = self._loop
            if loop is None:
                self._early.append(item)
                return
        try:
            loop.call_soon_threadsafe(self._queue.put_nowait, item)
        except RuntimeError:  # the loop has closed: the kiosk is stopping
            log.info("engine stopped; dropped %s", type(item).__name__)

    def open(self) -> None:
        """On the loop, when it starts: what came early goes first, in order."""
        with self._post_lock:
            self._loop = asyncio.get_running_loop()
            for item in self._early:
                self._queue.put_nowait(item)
            self._early.clear()

    def put(self, item: Item) -> None:
        """Queue ``item`` from the engine's own loop (after what is queued already)."""
        self._queue.put_nowait(item)

    async def get(self) -> Item:
        """The next item, in order."""
        return await self._queue.get()
