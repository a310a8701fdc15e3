"""Moves (マネー移動) in the credit delivery against the sandbox: the same request-id rules
as cash (an unknown outcome is looked up before anything is sent again), the member's order
kept behind an earlier cash credit, and a refusal that moved nothing opens no staff case."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest

from kiosk.engine.delivery import Delivered, Delivery
from kiosk.journal import Journal
from kiosk.journal.cases import CaseRefused
from kiosk.journal.records import Credit, CreditKind
from kiosk.wallet.client import WalletClient
from tests.support.engine import FAST_DELIVERY
from tests.support.wallet import FAST_RETRY, Sandbox, stacked_credit


def _move(journal: Journal, wallet: Sandbox, user: str, amount: int) -> Credit:
    moneys = wallet.moneys
    return journal.moves.open(
        user, ("base", moneys["base"]), ("cafeteria", moneys["cafeteria"]), amount
    )


def _moves_at_the_wallet(wallet: Sandbox, user: str) -> int:
    row = wallet.store.one(
        "SELECT COUNT(*) AS n FROM transactions t JOIN accounts a ON a.id = t.sender_account"
        " WHERE t.type = 'exchange' AND a.user_id = ?",
        (user,),
    )
    assert row is not None
    return int(row["n"])


def _drain(journal: Journal, wallet: Sandbox, rounds: int = 1) -> None:
    async def go() -> None:
        async with WalletClient(wallet.settings(timeout_s=2.0), FAST_RETRY) as client:
            delivery = Delivery(journal, client, FAST_DELIVERY)
            for _ in range(rounds):
                await delivery.drain_once()

    asyncio.run(go())


def test_an_answer_lost_after_the_commit_is_looked_up_not_sent_again(
    tmp_path: Path, wallet: Sandbox
) -> None:
    journal = Journal(tmp_path / "journal.sqlite3", "K01")
    user = wallet.member({"base": 3000})
    move = _move(journal, wallet, user, 1200)
    assert journal.credits.get(move.id).state == "pending"  # durable before any attempt
    wallet.faults(drop_after_commit=1)

    async def first() -> None:  # one attempt: the outcome stays unknown until looked up
        async with WalletClient(wallet.settings(), replace(FAST_RETRY, attempts=1)) as client:
            outcome = await Delivery(journal, client, FAST_DELIVERY).deliver(move)
            assert outcome.state is Delivered.RETRY

    asyncio.run(first())
    assert journal.credits.get(move.id).state == "sent"
    assert _moves_at_the_wallet(wallet, user) == 1
    wallet.clear_faults()
    _drain(journal, wallet)
    settled = journal.credits.get(move.id)
    assert settled.state == "confirmed" and settled.transaction_id
    assert _moves_at_the_wallet(wallet, user) == 1
    assert (wallet.balance(user, "base"), wallet.balance(user, "cafeteria")) == (1800, 1200)
    journal.close()


def test_a_move_waits_behind_the_members_earlier_cash_credit(
    tmp_path: Path, wallet: Sandbox
) -> None:
    """Cash charged to base money, then moved on: the move must not go first (it would find
    the base money short)."""
    journal = Journal(tmp_path / "journal.sqlite3", "K01")
    user = wallet.member({"base": 0})
    cash = stacked_credit(journal, wallet, user, 5000)
    move = _move(journal, wallet, user, 5000)
    _drain(journal, wallet)
    assert journal.credits.get(cash.id).state == "confirmed"
    assert journal.credits.get(move.id).state == "confirmed"
    assert (wallet.balance(user, "base"), wallet.balance(user, "cafeteria")) == (0, 5000)
    journal.close()


def test_a_refused_move_moves_nothing_and_opens_no_case(tmp_path: Path, wallet: Sandbox) -> None:
    journal = Journal(tmp_path / "journal.sqlite3", "K01")
    user = wallet.member({"base": 300})
    move = _move(journal, wallet, user, 1000)
    _drain(journal, wallet)
    refused = journal.credits.get(move.id)
    assert refused.state == "refused" and refused.last_error == "account_balance_not_enough"
    assert refused.reference is None and journal.cases.list() == []
    assert not refused.told  # the member is told at their next touch
    assert journal.credits.counts() == {}  # not cash
    assert journal.moves.counts() == {"refused": 1}
    assert wallet.balance(user, "base") == 300 and _moves_at_the_wallet(wallet, user) == 0
    journal.close()


def test_the_journal_keeps_cash_and_moves_apart(tmp_path: Path, wallet: Sandbox) -> None:
    journal = Journal(tmp_path / "journal.sqlite3", "K01")
    user = wallet.member({"base": 3000})
    cash = stacked_credit(journal, wallet, user, 1000)
    move = _move(journal, wallet, user, 500)
    assert (cash.kind, move.kind) == (CreditKind.CASH, CreditKind.MOVE)
    assert [c.id for c in journal.credits.open_credits(user, CreditKind.CASH)] == [cash.id]
    assert [c.id for c in journal.moves.of_member(user)] == [move.id]
    assert move.source_bucket == "base" and move.bucket == "cafeteria"
    journal.moves.told([move.id])  # still open: not marked, it is shown until it settles
    assert [c.id for c in journal.moves.of_member(user)] == [move.id]
    journal.close()


def test_a_move_with_a_conflicting_request_id_is_a_case_that_cannot_be_refunded(
    tmp_path: Path, wallet: Sandbox
) -> None:
    journal = Journal(tmp_path / "journal.sqlite3", "K01")
    other, user = wallet.member(), wallet.member({"base": 3000})
    elsewhere = Journal(tmp_path / "other-kiosk.sqlite3", "K02")
    cash = stacked_credit(elsewhere, wallet, other, 1000)
    _drain(elsewhere, wallet)
    elsewhere.close()
    move = _move(journal, wallet, user, 500)
    with journal.db.write() as tx:  # a bug's request id: another member's top-up's
        tx.execute("UPDATE credits SET request_id = ? WHERE id = ?", (cash.request_id, move.id))
    _drain(journal, wallet)
    [case] = journal.cases.list()
    assert (case.kind, case.credit_id, case.amount) == ("refused_move", move.id, 500)
    with pytest.raises(CaseRefused, match="no cash was taken"):
        journal.cases.resolve(case.reference, "refunded", "staff-1")
    journal.cases.resolve(case.reference, "no_money_involved", "staff-1", "checked the wallet")
    assert wallet.balance(user, "base") == 3000 and _moves_at_the_wallet(wallet, user) == 0
    journal.close()
