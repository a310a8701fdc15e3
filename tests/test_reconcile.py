"""Reconciliation with the wallet's own ledger (``paykiosk --config F staff reconcile``), run as
the real ``python -m kiosk`` process against a real sandbox of its own (the session's sandbox
holds other tests' top-ups under the same shop): credits really delivered by the delivery
worker, discrepancies planted with the real ``sandbox-admin`` process."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from kiosk.engine.delivery import Delivery
from kiosk.journal import Journal
from kiosk.journal.reconciliations import Run
from kiosk.ops.reconcile import TYPES, DailyReconciliation, JournalCredit, compare
from kiosk.sim.config import write_sandbox_config
from kiosk.wallet.models import Transaction
from tests.support.common import wait_until
from tests.support.engine import FAST_DELIVERY
from tests.support.kiosk_process import ROOT, run_kiosk
from tests.support.metrics import journal_collector
from tests.support.rig import make_rig
from tests.support.wallet import Sandbox, stacked_credit, start_sandbox, stop_sandbox
from tests.support.wallet import with_client as with_wallet


@pytest.fixture
def own(tmp_path: Path) -> Iterator[Sandbox]:
    """A sandbox for this test alone: a shop's day holds only this test's transactions."""
    running = start_sandbox(tmp_path / "sandbox")
    yield running
    stop_sandbox(running)


def today() -> str:
    return datetime.now(ZoneInfo("Asia/Tokyo")).date().isoformat()


def config_for(tmp_path: Path, wallet: Sandbox) -> Path:
    return write_sandbox_config(tmp_path, wallet.info, str(tmp_path / "acc"), "udp:127.0.0.1:9")


def journal_of(config: Path) -> Journal:
    return Journal(config.parent / "data" / "journal.sqlite3", "T01")


def deliver(journal: Journal, wallet: Sandbox) -> None:
    """The delivery worker takes every pending credit and move to the wallet."""
    with_wallet(
        wallet.settings(), lambda client: Delivery(journal, client, FAST_DELIVERY).drain_once()
    )


def a_day(journal: Journal, wallet: Sandbox) -> list[str]:
    """Three cash credits and one マネー移動 move, delivered: their request ids."""
    member = wallet.member({"base": 0})
    credits = [stacked_credit(journal, wallet, member, amount) for amount in (1000, 2000, 5000)]
    move = journal.moves.open(
        member, ("base", wallet.moneys["base"]), ("cafeteria", wallet.moneys["cafeteria"]), 700
    )
    deliver(journal, wallet)
    assert journal.credits.open_credits() == []
    return [c.request_id for c in credits] + [move.request_id]


def admin(wallet: Sandbox, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "kiosk", "sandbox-admin", "--data-dir", str(wallet.data_dir), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return done.stdout.strip()


def wallet_cases(journal: Journal) -> list[tuple[str, int | None, str]]:
    return [
        (c.reference, c.amount, c.detail)
        for c in journal.cases.list()
        if c.kind == "wallet_mismatch"
    ]


def test_a_clean_day_agrees_and_the_close_says_so(tmp_path: Path, own: Sandbox) -> None:
    config = config_for(tmp_path, own)
    journal = journal_of(config)
    a_day(journal, own)
    journal.close()
    day = today()

    checked = run_kiosk(config, "staff", "reconcile", "--day", day)
    assert checked.returncode == 0, checked.stderr
    assert (
        "agreed: 4 matched of 4 in the wallet and 4 in the journal, 0 mismatches" in checked.stdout
    )
    (tmp_path / "usb").mkdir()
    closed = run_kiosk(config, "staff", "close", "--day", day, "--export", str(tmp_path / "usb"))
    assert "reconciliation with the wallet" in closed.stdout
    assert "agreed: 4 matched" in closed.stdout
    written = next((tmp_path / "usb").glob("paykiosk-T01-day-*.csv"))
    assert "reconciliation,agreed,0,0" in written.read_text(encoding="utf-8-sig")
    journal = journal_of(config)
    assert wallet_cases(journal) == []
    journal.close()


def test_each_planted_discrepancy_is_found_named_and_opens_its_case(
    tmp_path: Path, own: Sandbox
) -> None:
    config = config_for(tmp_path, own)
    journal = journal_of(config)
    requests = a_day(journal, own)
    stranger = own.member({"base": 0})
    journal.close()
    planted = admin(own, "plant-topup", own.card_of(stranger), "3000")
    admin(own, "cancel", "--request", requests[0])  # the ¥1,000 credit, reversed
    admin(own, "correct", "--request", requests[1], "2500")  # the ¥2,000 credit, now ¥2,500

    checked = run_kiosk(config, "staff", "reconcile", "--day", today())
    assert checked.returncode == 1, checked.stderr
    out = checked.stdout
    assert "mismatch: 4 matched of 5 in the wallet and 4 in the journal, 3 mismatches" in out
    assert "not made by this kiosk: the wallet's top-up ¥3,000 to base" in out
    assert planted[:8] in out
    assert "cancelled in the wallet after it was confirmed: credit ¥1,000 to base" in out
    assert "amount differs: journal ¥2,000, wallet ¥2,500" in out
    journal = journal_of(config)
    cases = wallet_cases(journal)
    assert sorted(amount for _, amount, _ in cases) == [500, 1000, 3000]
    assert all(f"[case {reference}]" in out for reference, _, _ in cases)
    listed = run_kiosk(config, "staff", "cases")
    assert listed.stdout.count("the wallet's ledger differs") == 3
    status = run_kiosk(config, "staff", "status")
    assert (
        f"reconciliation with the wallet: {today()}: 3 MISMATCHES (see the cases)" in status.stdout
    )
    journal.close()

    again = run_kiosk(config, "staff", "reconcile", "--day", today())
    journal = journal_of(config)
    assert wallet_cases(journal) == cases  # the same mismatches: the same cases, none new
    journal.close()
    assert again.stdout.splitlines()[1:] == out.splitlines()[1:]


def test_an_open_credit_is_listed_as_open_not_as_a_mismatch(tmp_path: Path, own: Sandbox) -> None:
    config = config_for(tmp_path, own)
    journal = journal_of(config)
    a_day(journal, own)
    member = own.member({"base": 0})
    # the wallet was down at the day's end: one credit went in at the wallet but its answer
    # was lost (the kiosk will confirm it by its request id); another never went out
    lost = stacked_credit(journal, own, member, 2000)
    own.faults(drop_after_commit=20)
    deliver(journal, own)
    own.clear_faults()
    # and one made just before midnight whose answer was lost too: the wallet put it on this day
    earlier = stacked_credit(journal, own, own.member({"base": 0}), 5000)  # (not held behind)
    own.faults(drop_after_commit=20)
    deliver(journal, own)
    own.clear_faults()
    midnight = datetime.now(ZoneInfo("Asia/Tokyo")).replace(hour=0, minute=0, second=0)
    with journal.db.write() as tx:
        tx.execute(
            "UPDATE credits SET created_at = ? WHERE id = ?",
            (midnight.timestamp() - 60, earlier.id),
        )
    never = stacked_credit(journal, own, member, 1000)
    states = {c.id: c.state for c in journal.credits.open_credits()}
    assert states == {lost.id: "sent", earlier.id: "sent", never.id: "pending"}, states
    journal.close()

    checked = run_kiosk(config, "staff", "reconcile", "--day", today())
    assert checked.returncode == 0, checked.stdout + checked.stderr
    out = checked.stdout
    assert "0 mismatches, 3 open" in out
    assert "open: credit ¥5,000 to base" in out and "made on another day" in out
    assert "open: credit ¥2,000 to base" in out and "the wallet has it" in out
    assert "open: credit ¥1,000 to base" in out and "not in the wallet yet" in out
    assert "MISMATCH" not in out
    journal = journal_of(config)
    assert wallet_cases(journal) == []
    journal.close()


def test_a_reconciliation_killed_halfway_and_rerun_gives_the_same_result(
    tmp_path: Path, own: Sandbox
) -> None:
    config = config_for(tmp_path, own)
    journal = journal_of(config)
    requests = a_day(journal, own)
    stacked_credit(journal, own, own.member(), 1000)  # open: the run asks the wallet about it
    journal.close()
    admin(own, "cancel", "--request", requests[2])
    # every answer slow: the run is killed after its first answer, waiting for its second
    own.faults(latency_ms=2000)
    calls = own.calls()
    running = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kiosk",
            "--config",
            str(config),
            "staff",
            "reconcile",
            "--day",
            today(),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while own.calls() == calls and time.monotonic() < deadline:
        time.sleep(0.05)
    assert own.calls() > calls, "the run never asked the wallet"
    running.kill()
    running.wait(10)
    own.clear_faults()
    journal = journal_of(config)
    assert journal.reconciliations.last() is None and wallet_cases(journal) == []
    journal.close()

    first = run_kiosk(config, "staff", "reconcile", "--day", today())
    second = run_kiosk(config, "staff", "reconcile", "--day", today())
    assert first.returncode == second.returncode == 1
    assert "1 mismatches, 1 open" in first.stdout
    assert first.stdout.splitlines()[1:] == second.stdout.splitlines()[1:]
    journal = journal_of(config)
    assert len(wallet_cases(journal)) == 1
    journal.close()


def test_a_wallet_that_is_down_postpones_it_and_says_so(tmp_path: Path, own: Sandbox) -> None:
    config = config_for(tmp_path, own)
    stop_sandbox(own)
    checked = run_kiosk(config, "staff", "reconcile", "--day", today(), timeout=60)
    assert checked.returncode == 75, checked.stderr
    assert "postponed: the wallet did not answer" in checked.stdout
    closed = run_kiosk(config, "staff", "close", "--day", today())
    assert "postponed: the wallet did not answer" in closed.stdout


def reconciliation_metrics(journal: Journal) -> dict[str, float]:
    collector = journal_collector(journal)
    return {
        sample.name: sample.value
        for family in collector._money()
        for sample in family.samples
        if sample.name.startswith("paykiosk_reconciliation")
    }


def test_the_metrics_tell_the_monitor_the_last_result(tmp_path: Path, own: Sandbox) -> None:
    config = config_for(tmp_path, own)
    journal = journal_of(config)
    journal.log("kiosk", "started")  # the journal's start: a kiosk never reconciled counts from it
    began = time.time()
    assert reconciliation_metrics(journal) == {
        "paykiosk_reconciliation_last_timestamp_seconds": pytest.approx(began, abs=5),
        "paykiosk_reconciliation_mismatches": 0,
        "paykiosk_reconciliation_postponed": 0,
    }
    a_day(journal, own)
    admin(own, "plant-topup", own.card_of(own.member()), "4000")
    assert run_kiosk(config, "staff", "reconcile", "--day", today()).returncode == 1
    found = reconciliation_metrics(journal)
    assert found["paykiosk_reconciliation_mismatches"] == 1
    assert found["paykiosk_reconciliation_agreed"] == 0
    assert found["paykiosk_reconciliation_last_timestamp_seconds"] >= began
    stop_sandbox(own)
    assert run_kiosk(config, "staff", "reconcile", "--day", today()).returncode == 75
    down = reconciliation_metrics(journal)
    assert down["paykiosk_reconciliation_postponed"] == 1
    assert down["paykiosk_reconciliation_mismatches"] == 1  # the last result stands
    journal.close()


def test_the_daily_run_waits_for_the_member_runs_once_and_is_postponed_while_the_wallet_is_down(
    tmp_path: Path, own: Sandbox
) -> None:
    journal = Journal(tmp_path / "journal.sqlite3", "T01")
    member = [True]
    yesterday = (datetime.now(ZoneInfo("Asia/Tokyo")).date() - timedelta(days=1)).isoformat()

    def daily() -> DailyReconciliation:
        buckets = {money: bucket for bucket, money in own.moneys.items()}
        return DailyReconciliation(
            journal, own.settings(), "Asia/Tokyo", "00:00", buckets, busy=lambda: member[0]
        )

    scheduled = daily()
    assert scheduled.tick() is None  # a member is at the kiosk: it waits
    assert journal.reconciliations.last() is None
    member[0] = False
    run = scheduled.tick()
    assert run is not None and (run.day, run.result, run.by) == (yesterday, "agreed", "schedule")
    assert scheduled.tick() is None  # once a day
    with journal.db.write() as tx:
        tx.execute("DELETE FROM reconciliations")
    stop_sandbox(own)
    postponed = daily().tick()
    assert postponed is not None and postponed.result == "postponed"
    assert "the wallet did not answer" in postponed.detail
    assert daily().tick() is None  # tried again later, not at every check
    journal.close()


def test_the_shops_day_is_read_every_page_each_row_once(tmp_path: Path, own: Sandbox) -> None:
    journal = Journal(tmp_path / "journal.sqlite3", "T01")
    a_day(journal, own)
    journal.close()
    # the seed's purchases (payments, made today too) are not the shop's top-ups or moves
    start = datetime.now(ZoneInfo("Asia/Tokyo")).replace(hour=0, minute=0, second=0)
    end = start + timedelta(days=1)

    def listed(per_page: int) -> list[str]:
        rows = with_wallet(
            own.settings(), lambda c: c.shop_transactions(start, end, TYPES, per_page=per_page)
        )
        return [row.id for row in rows]

    every = listed(1000)
    assert len(every) == 4
    assert listed(1) == listed(3) == every  # paged by the cursor: none repeated, none lost
    yesterday = (start - timedelta(days=1), start)
    rows = with_wallet(own.settings(), lambda c: c.shop_transactions(*yesterday, TYPES))
    assert rows == []  # from/to: another day lists nothing


def test_a_running_kiosk_reconciles_the_day_before_by_itself(tmp_path: Path, own: Sandbox) -> None:
    """The real ``paykiosk --no-ui`` with ``[staff] reconcile_at`` already past today: it checks
    the day before at once, on its own thread, and journals it as the schedule's."""
    yesterday = (datetime.now(ZoneInfo("Asia/Tokyo")).date() - timedelta(days=1)).isoformat()
    with make_rig(tmp_path, own, reconcile_at="00:00") as rig:
        rig.kiosk.start()
        rig.kiosk.wait_ready()

        def scheduled() -> Run | None:
            journal = rig.kiosk.journal()
            try:
                return journal.reconciliations.last(yesterday, done=True)
            finally:
                journal.close()

        wait_until(lambda: scheduled() is not None, 20, "the daily reconciliation")
        run = scheduled()
        assert run is not None and (run.result, run.by) == ("agreed", "schedule")


def test_a_money_or_member_that_differs_is_named() -> None:
    """What the wallet says a transaction was, against the journal's credit of it."""
    credit = JournalCredit(
        request_id="r" * 36,
        kind="cash",
        user_id="member-a",
        money_id="money-base",
        bucket="base",
        source_money_id=None,
        source_bucket=None,
        amount=1000,
        transaction_id="t" * 36,
        state="confirmed",
    )
    row = Transaction(
        id="t" * 36,
        type="topup",
        is_modified=False,
        sender_id="shop",
        receiver_id="member-b",
        receiver_account_id="account",
        private_money_id="money-cafe",
        amount=1000,
        money_amount=1000,
        point_amount=0,
        done_at="2026-12-07T03:00:00.000Z",
        description="",
    )
    found = compare(credit, row, {"money-base": "base", "money-cafe": "cafeteria"})
    assert [f.kind for f in found] == ["money", "member"]
    assert "journal credit ¥1,000 to base, wallet top-up ¥1,000 to cafeteria" in found[0].detail
    assert "member differs: journal member-a, wallet member-b" in found[1].detail
    same = compare(credit, replace(row, receiver_id="member-a", private_money_id="money-base"), {})
    assert same == []
