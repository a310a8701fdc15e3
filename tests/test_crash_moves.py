"""Crash and fault tests of マネー移動 in the real ``paykiosk --no-ui`` process.

The kiosk runs with ``[no_ui] move_to = "cafeteria"``: at a member's touch it moves
``MOVE`` from base to cafeteria (a move journaled with its request id, carried by the
delivery). It is SIGKILLed at the move's checkpoints or while the wallet holds the answer of
a committed move, restarted and left to settle — the card is never touched again after the
restart (each touch is a new move, by design). Every test ends with exactly one move at the
wallet, the balances moved once, the journal's move confirmed, no staff case and nothing
open.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kiosk.core.crashpoints import MOVE_POINTS
from kiosk.journal.records import Credit, CreditState
from kiosk.sim.sandbox import faults as fault_settings
from tests.support.common import wait_until
from tests.support.rig import CRASH_TIMING, Rig, make_rig
from tests.support.wallet import ROOT, Sandbox

pytestmark = pytest.mark.slow

MOVE = 1000
BASE = 5000


@pytest.fixture
def rig(tmp_path: Path, wallet: Sandbox) -> Iterator[Rig]:
    with make_rig(tmp_path, wallet, CRASH_TIMING, no_ui_move=("cafeteria", MOVE)) as running:
        yield running


def _journal_says(rig: Rig, what: Callable[[Credit], bool], timeout: float, about: str) -> None:
    """Wait until the move is as ``what`` says (the journal is opened 10 times a second)."""

    def looked() -> bool:
        time.sleep(0.1)
        found = rig.kiosk.moves()
        return bool(found) and what(found[-1])

    wait_until(looked, timeout, about)


def _the_move(rig: Rig) -> Credit:
    [move] = rig.kiosk.moves()
    return move


def _moved_once(rig: Rig, user: str) -> Credit:
    """One move at the wallet (the journal's request id), the balances moved once, the
    journal's move confirmed with that transaction, no case, nothing open."""
    wallet = rig.wallet
    rows = wallet.store.query(
        "SELECT t.* FROM transactions t JOIN accounts a ON a.id = t.sender_account"
        " WHERE t.type = 'exchange' AND a.user_id = ?",
        (user,),
    )
    assert len(rows) == 1, (rows, rig.kiosk.output[-30:])
    assert wallet.balance(user, "base") == BASE - MOVE
    assert wallet.balance(user, "cafeteria") == MOVE
    move = _the_move(rig)
    assert move.state is CreditState.CONFIRMED, move
    assert (move.user_id, move.amount) == (user, MOVE)
    assert (move.source_bucket, move.bucket) == ("base", "cafeteria")
    assert move.transaction_id == rows[0]["id"]
    assert move.request_id == rows[0]["request_id"]
    assert move.reference is None  # a move opens no case
    journal = rig.kiosk.journal()
    try:
        assert journal.cases.list() == []
        assert journal.credits.open_credits() == []
        assert journal.credits.counts() == {}  # no cash credit: a move is not cash
        assert journal.moves.counts() == {"confirmed": 1}
    finally:
        journal.close()
    return move


def _held_back(rig: Rig, user: str) -> int:
    """Touch with the wallet answering 503 to this member's moves (the lookup gets through:
    it names no user): wait until the move was journaled and tried; its attempts."""
    rig.wallet.faults(unavailable_for=user)
    rig.kiosk.start()
    rig.touch_to_move(rig.wallet.card_of(user))
    _journal_says(
        rig, lambda e: e.attempts >= 1 and e.last_error is not None, 30, "an attempt answered 503"
    )
    assert rig.wallet.balance(user, "base") == BASE
    return _the_move(rig).attempts


def test_every_move_checkpoint_is_in_the_code_once() -> None:
    source = "\n".join(p.read_text() for p in (ROOT / "kiosk").rglob("*.py"))
    for point in MOVE_POINTS:
        assert source.count(f'checkpoint("{point}")') == 1, point


def test_killed_before_the_move_is_sent(rig: Rig) -> None:
    """Journaled with its request id, nothing sent: the restarted kiosk sends it, once."""
    user, card = rig.member({"base": BASE})
    rig.kiosk.start(freeze_at="move_before_send")
    rig.touch_to_move(card)
    rig.kiosk.wait_frozen()
    frozen = _the_move(rig)
    assert (frozen.state, frozen.attempts) == (CreditState.PENDING, 0)
    assert rig.wallet.balance(user, "base") == BASE  # nothing went out
    rig.restart_and_settle()
    assert _moved_once(rig, user).attempts == 1


def test_killed_while_the_wallet_holds_the_answer_of_a_committed_move(rig: Rig) -> None:
    """The wallet carried the move out and holds its answer: SIGKILL. The restarted kiosk looks
    it up by request id and does not send it again."""
    user, _ = rig.member({"base": BASE})
    _held_back(rig, user)
    rig.wallet.faults(unavailable_for="", hold_after_commit_ms=30_000)
    wait_until(lambda: rig.wallet.balance(user, "base") == BASE - MOVE, 20, "the commit")
    killed = _the_move(rig)
    assert killed.state is CreditState.SENT  # the answer never came
    rig.restart_and_settle()
    assert _moved_once(rig, user).attempts == killed.attempts  # looked up, not sent


def test_killed_after_the_answer_came_before_it_was_journaled(rig: Rig) -> None:
    """The wallet answered; the kiosk died before the journal knew: looked up, once."""
    user, card = rig.member({"base": BASE})
    rig.kiosk.start(freeze_at="move_after_response")
    rig.touch_to_move(card)
    rig.kiosk.wait_frozen()
    frozen = _the_move(rig)
    assert (frozen.state, frozen.attempts) == (CreditState.SENT, 1)
    assert rig.wallet.balance(user, "cafeteria") == MOVE  # carried out at the wallet
    rig.restart_and_settle()
    assert _moved_once(rig, user).attempts == 1  # looked up, not sent again


def test_the_answer_dropped_after_the_commit_without_a_crash(rig: Rig) -> None:
    """The wallet carries the move out and hangs up: the running kiosk looks it up, once."""
    user, _ = rig.member({"base": BASE})
    _held_back(rig, user)
    rig.wallet.faults(unavailable_for="", drop_after_commit=1)
    wait_until(lambda: rig.wallet.balance(user, "base") == BASE - MOVE, 20, "the commit")
    rig.kiosk.wait_settled(timeout=40)
    assert fault_settings.load(rig.wallet.store).drop_after_commit == 0  # the answer was lost
    move = _moved_once(rig, user)
    assert move.last_error is None
    assert rig.kiosk.process is not None and rig.kiosk.process.poll() is None  # no crash
