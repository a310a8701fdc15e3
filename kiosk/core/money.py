"""Money rules shared by the session and the acceptor thread: yen amounts and the headroom gate."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from kiosk.wallet.models import Account

# The notes a Japanese kiosk takes (the acceptor's yen currency table): the cash box counts and
# the staff menus know these; a count of anything else is a mistake by whoever typed it.
DENOMINATIONS = (1_000, 2_000, 5_000, 10_000)


def yen(amount: int) -> str:
    return f"¥{amount:,}"


class AcceptanceGate:
    """What the acceptor may take right now: the accepting session and the headroom left.

    The acceptor thread reserves a note's value at ESCROW; a note that is not stacked gives its
    value back. Thread-safe: the engine loop opens and closes it, the acceptor thread reserves.
    From the reservation until the note is stacked or handed back the gate knows the note is in
    flight — before the acceptor's ESCROW event reaches the engine's loop.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._session_id: int | None = None
        self._remaining = 0
        self._in_flight: int | None = None  # a reserved note not yet stacked or handed back

    def open(self, session_id: int, headroom: int) -> None:
        with self._lock:
            self._session_id, self._remaining = session_id, max(0, headroom)

    def close(self) -> None:
        with self._lock:
            self._session_id, self._remaining = None, 0

    @property
    def session_id(self) -> int | None:
        return self._session_id

    @property
    def remaining(self) -> int:
        return self._remaining

    def reserve(self, value: int) -> int | None:
        """Take ``value`` out of the headroom; the session it counts for, or None (return it)."""
        with self._lock:
            if self._session_id is None or value > self._remaining:
                return None
            self._remaining -= value
            self._in_flight = value
            return self._session_id

    def release(self, session_id: int | None, value: int) -> None:
        """A reserved note went back: its value fits again (if that session still accepts)."""
        with self._lock:
            self._in_flight = None
            if session_id is not None and session_id == self._session_id:
                self._remaining += value

    def landed(self) -> None:
        """The reserved note was stacked."""
        with self._lock:
            self._in_flight = None

    @property
    def in_flight(self) -> int | None:
        """The value of a reserved note not yet stacked or handed back."""
        return self._in_flight


def notes_that_fit(denominations: list[int], remaining: int) -> set[int]:
    """The note values to enable: those not larger than what still fits."""
    return {value for value in denominations if value <= remaining}


def room(wallet: Account, on_its_way: int = 0) -> int | None:
    """What still fits a wallet (None: no limit): its headroom (cap and per-transfer limits)
    less what the kiosk has already sent its way and the wallet has not confirmed (a credit or
    a move of the member still being processed lands first: each member's go in order)."""
    headroom = wallet.headroom
    return None if headroom is None else max(0, headroom - on_its_way)


def chargeable(wallet: Account, denominations: Iterable[int], on_its_way: int = 0) -> bool:
    """The one chargeability rule, for the screens and the session alike: an active wallet with
    room for at least the smallest note the acceptor takes (nothing while the notes are not
    known yet)."""
    notes = list(denominations)
    if not wallet.active or not notes:
        return False
    fits = room(wallet, on_its_way)
    return fits is None or fits >= min(notes)


MOVE_STEPS = (100, 500, 1000, 5000)  # the amount buttons of マネー移動


def movable(source: Account, target: Account, on_its_way: int = 0) -> int:
    """How much マネー移動 can move from ``source`` to ``target``: the source's money balance,
    bounded by the target's room (the same rule as a cash charge: :func:`room`)."""
    if not source.active or not target.active:
        return 0
    fits = room(target, on_its_way)
    balance = max(0, source.money_balance)
    return balance if fits is None else min(balance, fits)
