"""A readable console view of the session (``--no-ui`` and the console demo)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from kiosk.money import yen
from kiosk.session import State
from kiosk.view import SessionView


class ConsoleView:
    """Prints one line whenever what a member would see changes."""

    def __init__(self, out: TextIO = sys.stdout) -> None:
        self.out = out
        self._last = ""
        self._started = time.monotonic()

    def __call__(self, view: SessionView) -> None:
        line = describe(view)
        if line != self._last:
            self._last = line
            print(f"[{time.monotonic() - self._started:8.2f}s] {line}", file=self.out, flush=True)


def describe(view: SessionView) -> str:
    state = view.state
    if state is State.IDLE:
        return "ready: touch your card"
    if state is State.LOOKING_UP:
        return "looking up the card…"
    if state in (State.ACCOUNT, State.CHOOSE_MONEY):
        balances = ", ".join(f"{b.bucket} {yen(b.balance)}" for b in view.buckets)
        pending = f" (being credited: {yen(view.being_credited)})" if view.being_credited else ""
        return f"{view.member_name}: {balances}{pending}"
    if state is State.ACCEPTING:
        largest = yen(view.largest_note) if view.largest_note else "none"
        notice = f" — {view.notice}" if view.notice else ""
        return (
            f"insert notes into {view.bucket}: in {yen(view.inserted)}, "
            f"largest note taken {largest}{notice}"
        )
    if state is State.CREDITING:
        return f"crediting {yen(view.inserted)} to {view.bucket}…"
    if state is State.DONE:
        if view.outcome == "confirmed":
            balance = f", new balance {yen(view.new_balance)}" if view.new_balance else ""
            return f"done: {yen(view.credited)} credited to {view.bucket}{balance}"
        if view.outcome == "refused":
            return (
                f"{yen(view.credited)} taken but the wallet refused it: staff will settle it,"
                f" reference {view.reference}"
            )
        return f"{yen(view.credited)} taken: being credited (the wallet is slow; nothing is lost)"
    if state is State.UNKNOWN_CARD:
        if view.notice == "card_unreadable":
            return "this card could not be read: touch it again, or ask at the co-op store"
        return "this card is not linked to a member: ask at the co-op store"
    if state is State.ACCOUNT_SUSPENDED:
        return "this account is stopped: ask at the co-op store"
    if state is State.WALLET_UNAVAILABLE:
        return "the e-money service cannot be reached: no cash was taken; try again later"
    return f"out of service ({view.fault})"
