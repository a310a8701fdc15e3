"""Credit delivery against the sandbox: one member's trouble never holds up another's; a step
of the wall clock neither holds a retry back nor hurries it."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import pytest

from kiosk.engine.delivery import Delivery, DeliveryPolicy
from kiosk.journal import Journal
from kiosk.wallet.client import WalletClient
from tests.support.engine import FAST_DELIVERY
from tests.support.wallet import FAST_RETRY, Sandbox, stacked_credit


def test_one_members_backlog_does_not_block_others(tmp_path: Path, wallet: Sandbox) -> None:
    journal = Journal(tmp_path / "journal.sqlite3", "K01")
    stuck, fine = wallet.member(), wallet.member()
    first = stacked_credit(journal, wallet, stuck, 1000)
    second = stacked_credit(journal, wallet, stuck, 2000)
    other = stacked_credit(journal, wallet, fine, 5000)
    wallet.faults(unavailable_for=stuck)

    async def go() -> None:
        async with WalletClient(wallet.settings(), FAST_RETRY) as client:
            delivery = Delivery(journal, client, FAST_DELIVERY)
            await delivery.drain_once()
            states = {c.id: journal.credits.get(c.id).state for c in (first, second, other)}
            # the other member is served; the stuck member's first credit waits with an unknown
            # outcome, and their second is not sent ahead of it
            assert states == {first.id: "sent", second.id: "pending", other.id: "confirmed"}
            wallet.faults(unavailable_for="")
            deadline = time.monotonic() + 10
            while journal.credits.open_credits() and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
                await delivery.drain_once()

    asyncio.run(go())
    assert journal.credits.open_credits() == []
    assert wallet.balance(stuck, "base") == 3000 and wallet.balance(fine, "base") == 5000
    done = [journal.credits.get(c.id).transaction_id for c in (first, second)]
    order = [
        wallet.store.one("SELECT seq FROM transactions WHERE id = ?", (t,))["seq"] for t in done
    ]
    assert order == sorted(order)  # the stuck member's credits went in order
    journal.close()


@pytest.mark.parametrize("step_s", [-400.0, 400.0])
def test_a_wall_clock_step_neither_holds_back_nor_hurries_a_retry(
    tmp_path: Path, wallet: Sandbox, monkeypatch: pytest.MonkeyPatch, step_s: float
) -> None:
    """A credit waits for its retry (1.5–2.5 s); meanwhile the wall clock is set back (or
    forward) by 400 s, as NTP does to a clock that was wrong. Only ``time.time`` moves, for the
    whole process; the monotonic clock and the wallet's timestamps are untouched."""
    journal = Journal(tmp_path / "journal.sqlite3", "K01")
    member = wallet.member()
    credit = stacked_credit(journal, wallet, member, 1000)
    wallet.faults(unavailable_for=member)
    policy = DeliveryPolicy(first_retry_s=2.0, max_retry_s=2.0)
    wall_clock = time.time

    async def go() -> float:
        async with WalletClient(wallet.settings(), FAST_RETRY) as client:
            delivery = Delivery(journal, client, policy)
            await delivery.drain_once()  # 503s: retry in 1.5–2.5 s
            failed_at = time.monotonic()
            assert journal.credits.get(credit.id).state == "sent"
            monkeypatch.setattr(time, "time", lambda: wall_clock() + step_s)
            wallet.faults(unavailable_for="")
            worker = asyncio.create_task(delivery.run())
            try:
                while journal.credits.get(credit.id).state != "confirmed":
                    assert time.monotonic() - failed_at < 10, "the retry is held back"
                    await asyncio.sleep(0.02)
            finally:
                worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker
            return time.monotonic() - failed_at

    waited = asyncio.run(go())
    monkeypatch.undo()
    assert 1.4 <= waited < 5, f"retried after {waited:.2f} s, its backoff was 1.5–2.5 s"
    assert wallet.balance(member, "base") == 1000
    journal.close()


def test_a_restarted_worker_tries_every_open_credit_at_once(
    tmp_path: Path, wallet: Sandbox
) -> None:
    """The journal's next_attempt_at is information only: a credit it puts an hour ahead (say,
    written while the clock was an hour fast) is delivered by the next worker's first round."""
    journal = Journal(tmp_path / "journal.sqlite3", "K01")
    member = wallet.member()
    credit = stacked_credit(journal, wallet, member, 2000)
    journal.credits.retry_later(credit.id, "earlier trouble", time.time() + 3600)

    async def go() -> int:
        async with WalletClient(wallet.settings(), FAST_RETRY) as client:
            return await Delivery(journal, client, FAST_DELIVERY).drain_once()

    assert asyncio.run(go()) == 1
    assert journal.credits.get(credit.id).state == "confirmed"
    assert wallet.balance(member, "base") == 2000
    journal.close()


def test_a_credit_written_by_another_process_goes_out_without_waiting_for_the_round(
    tmp_path: Path, wallet: Sandbox
) -> None:
    """A waiting worker's next round is up to 60 s away; a credit put back by a staff command
    (another connection to the journal file) goes out within the worker's watch period."""
    path = tmp_path / "journal.sqlite3"
    journal, staff_side = Journal(path, "K01"), Journal(path, "K01")
    member = wallet.member()
    policy = DeliveryPolicy(watch_s=0.2)

    async def go() -> float:
        async with WalletClient(wallet.settings(), FAST_RETRY) as client:
            delivery = Delivery(journal, client, policy)
            worker = asyncio.create_task(delivery.run())
            try:
                await asyncio.sleep(0.5)  # the worker has drained an empty journal and waits
                credit = stacked_credit(staff_side, wallet, member, 2000)
                written = time.monotonic()
                while journal.credits.get(credit.id).state != "confirmed":
                    assert time.monotonic() - written < 10, "the credit waits for the round"
                    await asyncio.sleep(0.02)
                return time.monotonic() - written
            finally:
                worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker

    waited = asyncio.run(go())
    assert waited < 2, f"credited {waited:.2f} s after another process wrote it"
    assert wallet.balance(member, "base") == 2000
    journal.close()
    staff_side.close()
