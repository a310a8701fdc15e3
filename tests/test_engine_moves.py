"""マネー移動 through the real engine: card → account → route → amount → 確定 → the sandbox,
with the same exactly-once rules as cash (request id journaled first, unknown outcomes looked
up, the member told at once or at their next touch)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hardware.id003.sim.process import SimulatorProcess
from kiosk.core.events import MoveOutcome, MoveRefusal, Notice
from kiosk.core.session import State
from tests.support.common import wait_until
from tests.support.engine import EngineHarness
from tests.support.wallet import Sandbox


@pytest.fixture
def kiosk(tmp_path: Path, sim: SimulatorProcess, wallet: Sandbox) -> Iterator[EngineHarness]:
    harness = EngineHarness(tmp_path, sim, wallet, settle_wait_s=2.0)
    yield harness
    harness.stop()


def _to_amount(kiosk: EngineHarness, wallet: Sandbox, balances: dict[str, int | None]) -> str:
    user = wallet.member(balances)
    kiosk.touch(wallet.card_of(user))
    account = kiosk.wait_state(State.ACCOUNT)
    assert account.move_routes, "a member with base money is offered a move"
    kiosk.call(lambda e: e.move_money())
    kiosk.wait_state(State.MOVE_ROUTE)
    kiosk.call(lambda e: e.move_route("base", "cafeteria"))
    kiosk.wait_state(State.MOVE_AMOUNT)
    return user


def _moves(kiosk: EngineHarness) -> list[dict[str, object]]:
    rows = kiosk.journal.db.query("SELECT * FROM credits WHERE kind = 'exchange' ORDER BY id")
    return [dict(r) for r in rows]


def test_a_move_lands_once_with_both_new_balances_and_a_receipt(
    kiosk: EngineHarness, wallet: Sandbox
) -> None:
    user = _to_amount(kiosk, wallet, {"base": 3800, "cafeteria": 200})
    kiosk.call(lambda e: e.move_add(1000))
    kiosk.call(lambda e: e.move_add(500))
    view = kiosk.wait_view(lambda v: v.move is not None and v.move.amount == 1500, what="1,500")
    assert view.move is not None and view.move.limit == 3800
    kiosk.call(lambda e: e.move_review())
    confirm = kiosk.wait_state(State.MOVE_CONFIRM)
    assert confirm.move is not None
    assert (confirm.move.source_before, confirm.move.source_after) == (3800, 2300)
    assert (confirm.move.target_before, confirm.move.target_after) == (200, 1700)
    assert wallet.balance(user, "base") == 3800, "nothing moves before 確定"
    kiosk.call(lambda e: e.move_confirm())
    moved = kiosk.wait_state(State.MOVED)
    result = moved.move_result
    assert result is not None and result.outcome is MoveOutcome.MOVED
    assert (result.source_balance, result.target_balance) == (2300, 1700)
    assert (wallet.balance(user, "base"), wallet.balance(user, "cafeteria")) == (2300, 1700)
    [row] = _moves(kiosk)
    assert row["state"] == "confirmed" and row["told"] == 1
    assert result.reference == f"K01-M{row['id']:06d}"
    assert kiosk.journal.cases.list() == []


def test_the_amount_stops_at_what_the_target_can_take(
    kiosk: EngineHarness, wallet: Sandbox
) -> None:
    # cafeteria money's cap leaves room for 1,200 only; base has more
    cap = wallet.store.one("SELECT max_balance FROM moneys WHERE bucket = 'cafeteria'")
    assert cap is not None
    _to_amount(kiosk, wallet, {"base": 20_000, "cafeteria": cap["max_balance"] - 1200})
    kiosk.call(lambda e: e.move_add(5000))
    view = kiosk.wait_view(lambda v: v.notice is Notice.MOVE_AT_LIMIT, what="at the limit")
    assert view.move is not None and view.move.amount == 1200 == view.move.limit
    kiosk.call(lambda e: e.move_clear())
    kiosk.wait_view(lambda v: v.move is not None and v.move.amount == 0, what="cleared")
    kiosk.call(lambda e: e.move_all())
    kiosk.wait_view(lambda v: v.move is not None and v.move.amount == 1200, what="all")


def test_cancel_at_the_confirmation_moves_nothing(kiosk: EngineHarness, wallet: Sandbox) -> None:
    user = _to_amount(kiosk, wallet, {"base": 3000})
    kiosk.call(lambda e: e.move_all())
    kiosk.wait_view(lambda v: v.move is not None and v.move.amount == 3000, what="all")
    kiosk.call(lambda e: e.move_review())
    kiosk.wait_state(State.MOVE_CONFIRM)
    kiosk.call(lambda e: e.cancel())
    kiosk.wait_state(State.ACCOUNT)
    assert _moves(kiosk) == [] and wallet.balance(user, "base") == 3000


def test_a_refused_move_says_why_and_moves_nothing(kiosk: EngineHarness, wallet: Sandbox) -> None:
    user = _to_amount(kiosk, wallet, {"base": 3000})
    kiosk.call(lambda e: e.move_all())
    kiosk.wait_view(lambda v: v.move is not None and v.move.amount == 3000, what="all")
    kiosk.call(lambda e: e.move_review())
    kiosk.wait_state(State.MOVE_CONFIRM)
    # the member spends at the cafeteria register meanwhile
    base = wallet.store.one(
        "SELECT a.id FROM accounts a JOIN moneys m ON m.id = a.money_id"
        " WHERE a.user_id = ? AND m.bucket = 'base'",
        (user,),
    )
    assert base is not None
    wallet.store.record_payment(base["id"], base["id"], 2500, "lunch")
    kiosk.call(lambda e: e.move_confirm())
    result = kiosk.wait_state(State.MOVED).move_result
    assert result is not None and result.outcome is MoveOutcome.REFUSED
    assert result.refusal is MoveRefusal.NOT_ENOUGH
    assert (wallet.balance(user, "base"), wallet.balance(user, "cafeteria")) == (500, 0)
    [row] = _moves(kiosk)
    assert row["state"] == "refused" and row["reference"] is None  # no staff case
    assert kiosk.journal.cases.list() == []


def test_a_move_the_wallet_does_not_answer_is_being_processed_then_shown_at_the_next_touch(
    kiosk: EngineHarness, wallet: Sandbox
) -> None:
    user = _to_amount(kiosk, wallet, {"base": 3000})
    kiosk.call(lambda e: e.move_add(1000))
    kiosk.wait_view(lambda v: v.move is not None and v.move.amount == 1000, what="1,000")
    kiosk.call(lambda e: e.move_review())
    kiosk.wait_state(State.MOVE_CONFIRM)
    wallet.faults(refuse=True)
    kiosk.call(lambda e: e.move_confirm())
    result = kiosk.wait_state(State.MOVED, timeout=15).move_result
    assert result is not None and result.outcome is MoveOutcome.BEING_PROCESSED
    [row] = _moves(kiosk)
    assert row["state"] in ("pending", "sent") and row["told"] == 0
    kiosk.call(lambda e: e.acknowledge())
    kiosk.wait_state(State.IDLE)
    kiosk.touch(wallet.card_of(user))  # still down: the lookup fails, nothing is told
    kiosk.wait_state(State.WALLET_UNAVAILABLE, timeout=20)
    wallet.clear_faults()
    wait_until(lambda: _moves(kiosk)[0]["state"] == "confirmed", 20, "delivered")
    assert (wallet.balance(user, "base"), wallet.balance(user, "cafeteria")) == (2000, 1000)
    kiosk.call(lambda e: e.acknowledge())
    kiosk.wait_state(State.IDLE)
    kiosk.touch(wallet.card_of(user))
    account = kiosk.wait_state(State.ACCOUNT)
    [news] = account.moves
    assert (news.outcome, news.amount, news.target) == (MoveOutcome.MOVED, 1000, "cafeteria")
    assert _moves(kiosk)[0]["told"] == 1
    kiosk.call(lambda e: e.cancel())
    kiosk.wait_state(State.IDLE)
    kiosk.touch(wallet.card_of(user))  # told once
    assert kiosk.wait_state(State.ACCOUNT).moves == ()


def test_no_move_is_offered_while_one_is_being_processed(
    kiosk: EngineHarness, wallet: Sandbox
) -> None:
    user = wallet.member({"base": 3000})
    kiosk.journal.moves.open(
        user, ("base", wallet.moneys["base"]), ("cafeteria", wallet.moneys["cafeteria"]), 500
    )
    wallet.faults(unavailable_for=user)  # that member's calls answer 503
    kiosk.touch(wallet.card_of(user))
    account = kiosk.wait_state(State.ACCOUNT)
    assert account.move_routes == ()
    [news] = account.moves
    assert news.outcome is MoveOutcome.BEING_PROCESSED and news.amount == 500


def test_a_move_on_its_way_into_a_money_is_not_offered_again_as_room_for_cash(
    kiosk: EngineHarness, wallet: Sandbox
) -> None:
    """Cafeteria money has ¥3,000 of room; a ¥2,500 move into it is still being processed (it
    lands before anything else of the member's): a ¥1,000 note would not fit any more."""
    cap = wallet.store.one("SELECT max_balance FROM moneys WHERE bucket = 'cafeteria'")
    assert cap is not None
    user = wallet.member({"base": 5000, "cafeteria": cap["max_balance"] - 3000})
    kiosk.journal.moves.open(
        user, ("base", wallet.moneys["base"]), ("cafeteria", wallet.moneys["cafeteria"]), 2500
    )
    wallet.faults(unavailable_for=user)
    kiosk.touch(wallet.card_of(user))
    account = kiosk.wait_state(State.ACCOUNT)
    cafeteria = {b.bucket: b for b in account.buckets}["cafeteria"]
    assert (cafeteria.room, cafeteria.chargeable) == (500, False)
    kiosk.call(lambda e: e.choose_money("cafeteria"))
    view = kiosk.wait_view(lambda v: v.notice is Notice.MONEY_NOT_CHARGEABLE, what="refused")
    assert view.state is State.CHOOSE_MONEY


def test_a_result_the_member_never_saw_is_shown_at_the_next_touch(
    tmp_path: Path, sim: SimulatorProcess, wallet: Sandbox
) -> None:
    """A settled move is marked told only once the account is on screen: a lookup that timed
    out (its answer came too late and was dropped) does not use the result up."""
    kiosk = EngineHarness(tmp_path, sim, wallet, lookup_timeout_s=1.0)
    try:
        user = wallet.member({"base": 3000})
        move = kiosk.journal.moves.open(
            user, ("base", wallet.moneys["base"]), ("cafeteria", wallet.moneys["cafeteria"]), 700
        )
        assert kiosk.loop is not None and kiosk.engine is not None
        kiosk.loop.call_soon_threadsafe(kiosk.engine.delivery.wake)
        wait_until(lambda: _moves(kiosk)[0]["state"] == "confirmed", 15, "delivered")
        wallet.faults(latency_ms=1500)  # the lookup's answer comes after the time-out
        kiosk.touch(wallet.card_of(user))
        kiosk.wait_state(State.WALLET_UNAVAILABLE, timeout=15)
        time.sleep(3.5)  # the late answer arrives and is dropped
        assert kiosk.journal.credits.get(move.id).told is False
        wallet.clear_faults()
        kiosk.call(lambda e: e.acknowledge())
        kiosk.wait_state(State.IDLE)
        time.sleep(1.5)  # the same card again: away from the reader a moment
        kiosk.touch(wallet.card_of(user))
        [news] = kiosk.wait_state(State.ACCOUNT).moves
        assert (news.outcome, news.amount) == (MoveOutcome.MOVED, 700)
        assert kiosk.journal.credits.get(move.id).told is True
    finally:
        kiosk.stop()
