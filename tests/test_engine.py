"""The engine end to end: card → member → notes through the pty → credit in the sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hardware.id003.sim.process import SimulatorProcess
from kiosk.core.events import CreditOutcome, Notice
from kiosk.core.session import State
from kiosk.engine.delivery import DeliveryPolicy
from tests.support.common import wait_until
from tests.support.engine import EngineHarness
from tests.support.wallet import Sandbox


@pytest.fixture
def kiosk(tmp_path: Path, sim: SimulatorProcess, wallet: Sandbox) -> Iterator[EngineHarness]:
    harness = EngineHarness(tmp_path, sim, wallet, idle_finish_s=2.0)
    yield harness
    harness.stop()


def _card(
    wallet: Sandbox, balances: dict[str, int | None], status: str = "active"
) -> tuple[str, str]:
    user = wallet.member(balances, status)
    return user, wallet.card_of(user)


def test_charge_two_notes_and_finish(
    kiosk: EngineHarness, wallet: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    user, card = _card(wallet, {"base": 1000, "cafeteria": 200})
    kiosk.touch(card)
    account = kiosk.wait_state(State.ACCOUNT)
    assert account.member_name == "テスト 会員"
    assert {b.bucket: b.balance for b in account.buckets}["cafeteria"] == 200
    kiosk.call(lambda e: e.charge())
    kiosk.wait_state(State.CHOOSE_MONEY)
    kiosk.call(lambda e: e.choose_money("cafeteria"))
    view = kiosk.wait_state(State.ACCEPTING)
    assert view.largest_note == 10000
    assert kiosk.sim.wait_for(lambda d: not d.inhibited, 3)
    kiosk.feed(5000)
    kiosk.wait_view(lambda v: v.inserted == 5000, what="5,000 in")
    kiosk.feed(1000)
    kiosk.wait_view(lambda v: v.inserted == 6000, what="6,000 in")
    kiosk.call(lambda e: e.finish())
    done = kiosk.wait_state(State.DONE)
    assert (done.outcome, done.credited, done.new_balance) == ("confirmed", 6000, 6200)
    assert wallet.balance(user, "cafeteria") == 6200
    credit = kiosk.journal.db.one("SELECT id FROM credits WHERE amount = 6000")
    assert credit is not None
    assert done.reference == f"K01-C{credit['id']:06d}"  # the receipt number staff look up
    assert kiosk.sim.device.inhibited
    assert kiosk.sim.stacked == [5000, 1000] == kiosk.journal.notes.stacked_values()
    kiosk.call(lambda e: e.acknowledge())
    kiosk.wait_state(State.IDLE)
    assert "wallet POST /transactions/topup" in caplog.text  # debug logging was on
    assert card not in caplog.text and wallet.info["client_secret"] not in caplog.text


def test_inactivity_finishes_and_credits(kiosk: EngineHarness, wallet: Sandbox) -> None:
    user, card = _card(wallet, {})
    kiosk.start_charging(card)
    kiosk.feed(2000)
    done = kiosk.wait_state(State.DONE, timeout=15)
    assert done.outcome == "confirmed" and wallet.balance(user, "base") == 2000


def test_only_notes_under_the_cap_are_taken(kiosk: EngineHarness, wallet: Sandbox) -> None:
    user, card = _card(wallet, {"base": 48_500})
    assert kiosk.start_charging(card).largest_note == 1000
    kiosk.feed(5000)  # refused by the unit: only ¥1,000 is enabled
    kiosk.wait_view(
        lambda v: v.notice in (Notice.NOTE_REJECTED, Notice.NOTE_RETURNED), what="handed back"
    )
    kiosk.feed(1000)
    kiosk.wait_view(lambda v: v.inserted == 1000, what="1,000 in")
    assert kiosk.sim.wait_for(lambda d: d.inhibited, 3)  # ¥500 left: nothing fits
    kiosk.call(lambda e: e.finish())
    assert kiosk.wait_state(State.DONE).new_balance == 49_500
    assert wallet.balance(user, "base") == 49_500
    assert kiosk.sim.stacked == [1000]


def test_suspended_or_unknown_card_takes_no_cash(kiosk: EngineHarness, wallet: Sandbox) -> None:
    _, card = _card(wallet, {}, status="suspended")
    kiosk.touch(card)
    kiosk.wait_state(State.ACCOUNT_SUSPENDED)
    kiosk.sim.insert(1000)
    assert kiosk.sim.wait_for(lambda d: d.counters.returned == 1, 5)
    kiosk.touch(wallet.info["unregistered_cards"][0])
    kiosk.wait_state(State.UNKNOWN_CARD)
    assert kiosk.sim.stacked == [] and kiosk.journal.sessions.recent() == []


def test_wallet_down_at_lookup_takes_no_cash(kiosk: EngineHarness, wallet: Sandbox) -> None:
    _, card = _card(wallet, {})
    wallet.faults(refuse=True)
    kiosk.touch(card)
    kiosk.wait_state(State.WALLET_UNAVAILABLE, timeout=20)
    assert kiosk.sim.device.inhibited and kiosk.sim.stacked == []


def test_wallet_down_at_credit_is_delivered_later_and_shown_as_being_credited(
    tmp_path: Path, sim: SimulatorProcess, wallet: Sandbox
) -> None:
    kiosk = EngineHarness(tmp_path, sim, wallet, DeliveryPolicy(first_retry_s=4.0))
    try:
        _wallet_down_at_credit(kiosk, wallet)
    finally:
        kiosk.stop()


def _wallet_down_at_credit(kiosk: EngineHarness, wallet: Sandbox) -> None:
    user, card = _card(wallet, {"base": 100})
    kiosk.start_charging(card)
    kiosk.feed(10000)
    kiosk.wait_view(lambda v: v.inserted == 10000, what="10,000 in")
    wallet.faults(rate_503=1.0)
    kiosk.call(lambda e: e.finish())
    being = kiosk.wait_state(State.DONE)
    assert being.outcome == "being_credited" and being.reference
    assert being.reference.startswith("K01-C")  # a receipt while the credit is on its way
    assert wallet.balance(user, "base") == 100
    kiosk.call(lambda e: e.acknowledge())
    kiosk.wait_state(State.IDLE)
    wallet.faults(rate_503=0.0)  # back, but the next delivery attempt is seconds away
    kiosk.touch(card)
    assert kiosk.wait_state(State.ACCOUNT).being_credited == 10000
    wait_until(lambda: not kiosk.journal.credits.open_credits(), 15, "late delivery")
    assert wallet.balance(user, "base") == 10100


def test_account_suspended_between_touch_and_credit_opens_a_case(
    kiosk: EngineHarness, wallet: Sandbox
) -> None:
    user, card = _card(wallet, {})
    kiosk.start_charging(card)
    kiosk.feed(2000)
    kiosk.wait_view(lambda v: v.inserted == 2000, what="2,000 in")
    wallet.store.set_user_status(user, "suspended")
    kiosk.call(lambda e: e.finish())
    done = kiosk.wait_state(State.DONE)
    assert done.outcome == "refused" and done.reference and done.reference.startswith("K01-")
    [case] = kiosk.journal.cases.list()
    assert (case.reference, case.amount, case.kind) == (done.reference, 2000, "refused_credit")
    assert wallet.balance(user, "base") == 0 and kiosk.sim.stacked == [2000]


def test_history_newest_first_and_back(kiosk: EngineHarness, wallet: Sandbox) -> None:
    _, card = _card(wallet, {})
    for value in (1000, 2000):  # two charges make two top-ups in the member's history
        kiosk.start_charging(card)
        kiosk.feed(value)
        kiosk.wait_view(lambda v, value=value: v.inserted == value, what=f"{value} in")
        kiosk.call(lambda e: e.finish())
        kiosk.wait_state(State.DONE)
        kiosk.call(lambda e: e.acknowledge())
        kiosk.wait_state(State.IDLE)
    kiosk.touch(card)
    kiosk.wait_state(State.ACCOUNT)
    kiosk.call(lambda e: e.show_history("base"))
    view = kiosk.wait_view(
        lambda v: v.history is not None and not v.history.loading, what="history loaded"
    )
    assert view.state is State.HISTORY and view.history is not None
    assert [(e.kind, e.amount) for e in view.history.entries][:2] == [
        ("topup", 2000),
        ("topup", 1000),
    ]
    kiosk.call(lambda e: e.back())
    assert kiosk.wait_state(State.ACCOUNT).member_name == "テスト 会員"


def test_a_history_the_wallet_cannot_give_keeps_the_session(
    kiosk: EngineHarness, wallet: Sandbox
) -> None:
    _, card = _card(wallet, {"base": 500})
    kiosk.touch(card)
    kiosk.wait_state(State.ACCOUNT)
    wallet.faults(refuse=True)
    kiosk.call(lambda e: e.show_history())
    view = kiosk.wait_view(lambda v: v.notice is Notice.HISTORY_UNAVAILABLE, 20, "load failed")
    assert view.state is State.HISTORY and view.member_name == "テスト 会員"
    wallet.faults(refuse=False)
    kiosk.call(lambda e: e.charge())  # the member goes on to charge
    kiosk.wait_state(State.CHOOSE_MONEY)


def test_a_touch_on_the_screen_restarts_its_time_out(kiosk: EngineHarness, wallet: Sandbox) -> None:
    _, card = _card(wallet, {})
    kiosk.touch(card)
    first = kiosk.wait_state(State.ACCOUNT).deadline
    assert first is not None
    kiosk.call(lambda e: e.activity())  # e.g. the member switched the language
    later = kiosk.wait_view(lambda v: (v.deadline or 0) > first, what="a later deadline")
    assert later.state is State.ACCOUNT


def test_a_note_jammed_inside_is_never_told_as_nothing_taken(
    tmp_path: Path, sim: SimulatorProcess, wallet: Sandbox
) -> None:
    kiosk = EngineHarness(tmp_path, sim, wallet, idle_finish_s=30.0, note_settle_s=1.0)
    try:
        _, card = _card(wallet, {"base": 1000})
        kiosk.start_charging(card)
        sim.control(lambda d, now: setattr(d, "jam_next", "before_vend"))
        kiosk.feed(10000)  # jams before VEND VALID: the fault ends the session, staff away
        done = kiosk.wait_state(State.DONE, timeout=15)
        assert [n.state.value for n in kiosk.journal.notes.all()] == ["stack_sent"]
        assert (done.outcome, done.held, done.credited) == (CreditOutcome.NOTE_HELD, 10000, 0)
    finally:
        kiosk.stop()


def test_a_note_reserved_before_its_escrow_event_keeps_the_session(
    tmp_path: Path, sim: SimulatorProcess, wallet: Sandbox
) -> None:
    kiosk = EngineHarness(tmp_path, sim, wallet, idle_finish_s=30.0, note_settle_s=1.0)
    try:
        _, card = _card(wallet, {})
        kiosk.start_charging(card)
        # What the acceptor thread does at ESCROW, before its event reaches the engine's loop:
        assert kiosk.journal.notes.escrow(0x61, 1000) is not None
        kiosk.call(lambda e: e.cancel())  # refused: a note is on its way in
        kiosk.call(lambda e: e.finish())  # waits for it instead of "nothing inserted"
        done = kiosk.wait_state(State.DONE, timeout=15)
        assert (done.outcome, done.held) == (CreditOutcome.NOTE_HELD, 1000)
        assert [s.outcome for s in kiosk.journal.sessions.recent()] != ["nothing_inserted"]
    finally:
        kiosk.stop()


def test_history_pages_by_money_one_screen_at_a_time(kiosk: EngineHarness, wallet: Sandbox) -> None:
    import uuid

    from kiosk.core.view import SessionView
    from kiosk.engine.history import PAGE_SIZE
    from kiosk.wallet.client import WalletClient
    from tests.support.wallet import with_client

    user, card = _card(wallet, {"cafeteria": 300})

    async def charge(client: WalletClient) -> None:
        for amount in range(100, 100 * (PAGE_SIZE + 3), 100):  # more than a page, oldest first
            await client.topup(
                request_id=str(uuid.uuid4()),
                customer_id=user,
                private_money_id=wallet.moneys["base"],
                money_amount=amount,
            )

    with_client(wallet.settings(), charge)
    amounts = list(range(100 * (PAGE_SIZE + 2), 0, -100))  # newest first

    def page(number: int, bucket: str = "base") -> SessionView:
        view = kiosk.wait_view(
            lambda v: v.history is not None and not v.history.loading
            and (v.history.bucket, v.history.pages) == (bucket, number),
            what=f"{bucket} page {number}",
        )  # fmt: skip
        assert view.history is not None
        return view

    kiosk.touch(card)
    kiosk.wait_state(State.ACCOUNT)
    kiosk.call(lambda e: e.show_history("base"))
    first = page(1).history
    assert first is not None and first.next_cursor
    assert [e.amount for e in first.entries] == amounts[:PAGE_SIZE]
    kiosk.call(lambda e: e.more_history())
    second = page(2).history
    assert second is not None and [e.amount for e in second.entries] == amounts[PAGE_SIZE:]
    kiosk.call(lambda e: e.show_history("cafeteria"))  # another money: its newest page
    other = page(1, "cafeteria")
    assert other.state is State.HISTORY and other.history is not None
    kiosk.call(lambda e: e.show_history("base"))  # back to the newest page
    again = page(1).history
    assert again is not None and [e.amount for e in again.entries] == amounts[:PAGE_SIZE]
