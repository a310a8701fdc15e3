"""A readable console view of the session (``--no-ui`` and the console demo)."""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

from kiosk.core.events import CreditOutcome, MoveNews, MoveOutcome, MoveRefusal, Notice
from kiosk.core.money import yen
from kiosk.core.session import State
from kiosk.core.view import SessionView


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
            say(f"[{time.monotonic() - self._started:8.2f}s] {line}", self.out)


_console = threading.Lock()


def say(line: str, out: TextIO | None = None) -> None:
    """Print one whole line: the devices' threads and the engine's loop print at the same time,
    and ``print`` writes the text and its newline separately (a reader of the output saw
    "…(check NTP))card reader online")."""
    stream = sys.stdout if out is None else out
    with _console:
        stream.write(line + "\n")
        stream.flush()


def describe(view: SessionView) -> str:
    state = view.state
    if state is State.IDLE:
        return "ready: touch your card"
    if state is State.LOOKING_UP:
        return "looking up the card…"
    if state in (State.ACCOUNT, State.CHOOSE_MONEY):
        balances = ", ".join(
            f"{b.bucket} {yen(b.balance)}{'' if b.chargeable else ' (full)'}" for b in view.buckets
        )
        pending = f" (being credited: {yen(view.being_credited)})" if view.being_credited else ""
        refused = (
            " — that money cannot take a note now"
            if view.notice is Notice.MONEY_NOT_CHARGEABLE
            else ""
        )
        moves = "".join(f"; {_earlier_move(m)}" for m in view.moves)
        return f"{view.member_name}: {balances}, points {view.points}{pending}{refused}{moves}"
    if state is State.HISTORY:
        history = view.history
        if history is None or (history.loading and not history.entries):
            return "loading the history…"
        if view.notice is Notice.HISTORY_UNAVAILABLE:
            return f"history of {history.bucket}: could not be loaded now"
        lines = [f"  {e.done_at[:16]} {e.kind} {yen(e.amount)}" for e in history.entries]
        more = " (more: m)" if history.next_cursor else ""
        return "\n".join([f"history of {history.bucket}{more}:", *lines])
    if state is State.ACCEPTING:
        largest = yen(view.largest_note) if view.largest_note else "none"
        notice = ""
        if view.notice in (Notice.NOTE_RETURNED, Notice.NOTE_REJECTED):
            what = yen(view.notice_amount) if view.notice_amount else "a"
            why = "not accepted" if view.notice is Notice.NOTE_REJECTED else "handed back"
            notice = f" — {what} note {why}"
        return (
            f"insert notes into {view.bucket}: in {yen(view.inserted)}, "
            f"largest note taken {largest}{notice}"
        )
    if state is State.CREDITING:
        if not view.inserted:
            return "finishing: waiting for the note in the acceptor…"
        return f"crediting {yen(view.inserted)} to {view.bucket}…"
    if state is State.DONE:
        held = (
            f"; a {yen(view.held)} note is still inside the machine: ask staff, nothing is lost"
            if view.held
            else ""
        )
        return _outcome(view) + held
    if state in _MOVE_STATES:
        return _move(view)
    if state is State.UNKNOWN_CARD:
        if view.notice is Notice.CARD_UNREADABLE:
            return "this card could not be read: touch it again, or ask at the co-op store"
        return "this card is not linked to a member: ask at the co-op store"
    if state is State.ACCOUNT_SUSPENDED:
        return "this account is stopped: ask at the co-op store"
    if state is State.WALLET_UNAVAILABLE:
        why = f" ({view.detail})" if view.detail else ""
        return f"the e-money service cannot be reached: no cash was taken; try again later{why}"
    return f"out of service ({view.fault})"


_MOVE_STATES = (State.MOVE_ROUTE, State.MOVE_AMOUNT, State.MOVE_CONFIRM, State.MOVING, State.MOVED)
_REFUSALS = {
    MoveRefusal.NOT_ENOUGH: "not enough money to move",
    MoveRefusal.OVER_CAP: "the target money cannot take that much",
    MoveRefusal.ACCOUNT_STOPPED: "the account is stopped: ask at the co-op store",
    MoveRefusal.NOT_ALLOWED: "the move is not possible: ask at the co-op store",
}


def _move(view: SessionView) -> str:
    move, result = view.move, view.move_result
    if view.state is State.MOVE_ROUTE:
        routes = ", ".join(
            f"{r.source} → {r.target} (up to {yen(r.limit)})" for r in view.move_routes
        )
        return f"move money: {routes}"
    if view.state is State.MOVED and result is not None:
        what = f"{yen(move.amount)} {move.source} → {move.target}" if move else "the move"
        receipt = f", receipt {result.reference}" if result.reference else ""
        if result.outcome is MoveOutcome.MOVED:
            return (
                f"moved {what}: {move.source if move else ''} {yen(result.source_balance or 0)},"
                f" {move.target if move else ''} {yen(result.target_balance or 0)}{receipt}"
            )
        if result.outcome is MoveOutcome.REFUSED:
            why = _REFUSALS[result.refusal or MoveRefusal.NOT_ALLOWED]
            return f"{what} was not moved: {why}; nothing moved"
        if result.outcome is MoveOutcome.NOT_STARTED:
            return f"{what} could not be started: nothing moved; try again later"
        return f"{what} is being processed: the result shows at your next touch{receipt}"
    if move is None:
        return "moving money…"
    if view.state is State.MOVE_AMOUNT:
        limit = " (that is the most)" if view.notice is Notice.MOVE_AT_LIMIT else ""
        return (
            f"move {move.source} → {move.target}: {yen(move.amount)} of up to"
            f" {yen(move.limit)}{limit}"
        )
    balances = (
        f"{move.source} {yen(move.source_before)} → {yen(move.source_after)},"
        f" {move.target} {yen(move.target_before)} → {yen(move.target_after)}"
    )
    if view.state is State.MOVE_CONFIRM:
        return f"confirm moving {yen(move.amount)}: {balances}"
    return f"moving {yen(move.amount)} from {move.source} to {move.target}…"


def _earlier_move(news: MoveNews) -> str:
    what = f"the move of {yen(news.amount)} {news.source} → {news.target}"
    if news.outcome is MoveOutcome.MOVED:
        return f"{what} is done ({news.reference})"
    if news.outcome is MoveOutcome.REFUSED:
        why = _REFUSALS[news.refusal or MoveRefusal.NOT_ALLOWED]
        return f"{what} was not made: {why}"
    return f"{what} is being processed ({news.reference})"


def _outcome(view: SessionView) -> str:
    if view.outcome is CreditOutcome.CONFIRMED:
        balance = f", new balance {yen(view.new_balance)}" if view.new_balance else ""
        receipt = f", receipt {view.reference}" if view.reference else ""
        return f"done: {yen(view.credited)} credited to {view.bucket}{balance}{receipt}"
    if view.outcome is CreditOutcome.NOTHING_TAKEN:
        return "no money was taken: the note came back"
    if view.outcome is CreditOutcome.NOTE_HELD:
        return "nothing credited yet"
    if view.outcome is CreditOutcome.REFUSED:
        return (
            f"{yen(view.credited)} taken but the wallet refused it: staff will settle it,"
            f" reference {view.reference}"
        )
    if view.outcome is CreditOutcome.KIOSK_FAULT:
        return (
            f"{yen(view.credited)} taken: this kiosk cannot record it just now; it is credited"
            " once the kiosk is repaired (nothing is lost)"
        )
    receipt = f", receipt {view.reference}" if view.reference else ""
    return (
        f"{yen(view.credited)} taken: being credited (the wallet has not confirmed it yet;"
        f" nothing is lost){receipt}"
    )
