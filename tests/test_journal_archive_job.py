"""The journal's archive job as staff and the monitor meet it: by itself at ``[journal]
archive_at`` in the running kiosk (off its loop, waiting for a member), from a shell
(``paykiosk staff archive``), on the staff status and in the metrics; a run that fails says why."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kiosk.config.settings import load
from kiosk.journal import Journal
from kiosk.journal.retention import archives, last_run, verify
from kiosk.ops.archiving import DailyArchive
from kiosk.sim.config import write_sandbox_config
from tests.support.common import wait_until
from tests.support.kiosk_process import run_kiosk
from tests.support.metrics import journal_collector
from tests.support.old_journal import months_of_use
from tests.support.rig import make_rig
from tests.support.wallet import Sandbox


def _config(tmp_path: Path, wallet: Sandbox, archive_at: str = "off") -> Path:
    return write_sandbox_config(
        tmp_path, wallet.info, str(tmp_path / "acc"), "udp:127.0.0.1:9", archive_at=archive_at
    )


@dataclass
class Seeded:
    config: Path
    journal: Journal  # the kiosk's, with months of use (tests.support.old_journal)
    folder: Path  # its archive folder


@pytest.fixture
def seeded(tmp_path: Path, wallet: Sandbox) -> Iterator[Seeded]:
    config = _config(tmp_path, wallet)
    journal = Journal(config.parent / "data" / "journal.sqlite3", "T01")
    months_of_use(journal, time.time())
    yield Seeded(config, journal, load(config).archive_dir)
    journal.close()


def _live(journal: Journal, table: str) -> int:
    row = journal.db.one(f"SELECT count(*) AS n FROM {table}")
    assert row is not None
    return int(row["n"])


def _archive_metrics(journal: Journal, folder: Path) -> dict[str, float]:
    collector = journal_collector(journal, folder)
    return {
        sample.name: sample.value
        for family in collector._machine()
        for sample in family.samples
        if sample.name.startswith("paykiosk_journal_archive")
    }


def test_staff_archive_moves_the_old_months_and_status_and_metrics_say_so(seeded: Seeded) -> None:
    config, journal, folder = seeded.config, seeded.journal, seeded.folder
    before = _archive_metrics(journal, folder)
    assert before["paykiosk_journal_archive_months"] == 0
    assert before["paykiosk_journal_archive_failed"] == 0
    status = run_kiosk(config, "staff", "status")
    assert "journal archive: never ran; months archived: none" in status.stdout

    dry = run_kiosk(config, "staff", "archive", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.count(" rows)") == 3 and _live(journal, "sessions") == 5
    assert archives(folder) == []  # nothing written

    done = run_kiosk(config, "staff", "archive")
    assert done.returncode == 0, done.stderr
    assert "moved " in done.stdout and done.stdout.count(" rows)") == 3
    # the refused credit's session (its case open) and the one since the collection stay
    assert _live(journal, "sessions") == 2
    assert len(archives(folder)) == 3 and all(verify(p) is None for p in archives(folder))

    status = run_kiosk(config, "staff", "status")
    line = next(x for x in status.stdout.splitlines() if x.startswith("journal archive:"))
    assert "rows moved; months archived: 3 since" in line
    after = _archive_metrics(journal, folder)
    assert after["paykiosk_journal_archive_months"] == 3
    assert after["paykiosk_journal_archived_rows"] > 0
    assert after["paykiosk_journal_archive_bytes"] > 0
    assert after["paykiosk_journal_archive_last_timestamp_seconds"] > time.time() - 60

    again = run_kiosk(config, "staff", "archive")
    assert "nothing to move" in again.stdout
    [event] = journal.db.query(
        "SELECT detail FROM events WHERE kind = 'staff' AND detail LIKE '%archive run%'"
        " ORDER BY id LIMIT 1"
    )
    assert "moved" in event["detail"]


def test_a_damaged_archive_stops_the_job_says_why_and_nothing_is_deleted(seeded: Seeded) -> None:
    config, journal, folder = seeded.config, seeded.journal, seeded.folder
    assert run_kiosk(config, "staff", "archive").returncode == 0
    for archive in archives(folder):  # someone changed the archived credits
        with sqlite3.connect(archive) as db:
            db.execute("UPDATE credits SET amount = amount + 1000")
        db.close()
    # staff settle the refused credit's case: its session can go now, into its month's
    # archive (the month's events went already), which is damaged
    [case] = journal.cases.list()
    journal.cases.resolve(case.reference, "refunded", "alice", "paid back at the counter")
    journal.cases.open("journal_file", amount=None, detail="a later case")  # the newest now
    live = _live(journal, "sessions")
    failed = run_kiosk(config, "staff", "archive")
    assert failed.returncode == 1
    assert "its SHA-256 differs from its checksum file" in failed.stderr
    assert _live(journal, "sessions") == live
    last = last_run(journal.db)
    assert last is not None and last.result == "failed"
    status = run_kiosk(config, "staff", "status").stdout
    assert "journal archive: last run" in status and "FAILED: archive journal-" in status
    assert _archive_metrics(journal, folder)["paykiosk_journal_archive_failed"] == 1


def test_the_daily_run_waits_for_a_member_runs_once_a_day_and_retries_a_failure_later(
    tmp_path: Path, wallet: Sandbox
) -> None:
    config = load(_config(tmp_path, wallet, archive_at="00:00"))
    journal = Journal(config.journal_path, "T01")
    months_of_use(journal, time.time())
    member = [True]
    try:
        daily = DailyArchive(journal, config, busy=lambda: member[0])
        assert daily.tick() is None and last_run(journal.db) is None  # a member: it waits
        member[0] = False
        done = daily.tick()
        assert done is not None and len(done.moved) == 3
        assert daily.tick() is None  # once a day
        with journal.db.write() as tx:  # today's run failed a moment ago
            tx.execute("UPDATE archive_runs SET result = 'failed'")
        assert daily.tick() is None  # tried again an hour later, not at every check
        with journal.db.write() as tx:  # killed (still "running"): finished at once
            tx.execute("UPDATE archive_runs SET result = 'running'")
        again = daily.tick()
        assert again is not None and again.moved == {}
    finally:
        journal.close()


def test_a_running_kiosk_archives_by_itself_and_serves_on(tmp_path: Path, wallet: Sandbox) -> None:
    """The real ``paykiosk --no-ui`` with ``[journal] archive_at`` already past today: it runs
    the job at once on its own thread, journaled as the schedule's, and takes a member's note
    after it."""
    with make_rig(tmp_path, wallet, archive_at="00:00") as rig:
        seeded = Journal(rig.kiosk.config.parent / "data" / "journal.sqlite3", "T01")
        months_of_use(seeded, time.time())
        seeded.close()
        rig.kiosk.start()
        rig.kiosk.wait_ready()

        def scheduled() -> bool:
            journal = rig.kiosk.journal()
            try:
                last = last_run(journal.db)
                return last is not None and last.result == "done"
            finally:
                journal.close()

        wait_until(scheduled, 20, "the daily archive run")
        journal = rig.kiosk.journal()
        try:
            last = last_run(journal.db)
            assert last is not None and last.by == "schedule" and len(last.months) == 3
            assert _live(journal, "sessions") == 2
        finally:
            journal.close()
        user, card = rig.member()
        rig.start_session(card)
        rig.feed(1000)
        wait_until(lambda: wallet.balance(user, "base") == 1000, 30, "the credit")


def test_compact_gives_the_archived_pages_back_and_not_beside_a_running_kiosk(
    tmp_path: Path, wallet: Sandbox
) -> None:
    """After the first archive of a journal of years the file keeps its size (free pages,
    reused by new rows); ``paykiosk journal --compact`` gives them back, with the kiosk
    stopped, and every row stays."""
    config = _config(tmp_path, wallet)
    journal = Journal(config.parent / "data" / "journal.sqlite3", "T01")
    months_of_use(journal, time.time())
    for n in range(20_000):  # years of events, in the oldest month
        journal.log("acceptor", f"status {n} " + "x" * 80)
    with journal.db.write() as tx:
        tx.execute(
            "UPDATE events SET at = ? WHERE kind = 'acceptor'", (time.time() - 240 * 86_400,)
        )
    journal.close()
    assert run_kiosk(config, "staff", "archive").returncode == 0
    path = config.parent / "data" / "journal.sqlite3"
    journal = Journal(path, "T01")
    rows = {t: _live(journal, t) for t in ("sessions", "credits", "events", "cases")}
    journal.close()
    before = path.stat().st_size

    compacted = run_kiosk(config, "journal", "--compact")
    assert compacted.returncode == 0, compacted.stderr
    assert path.stat().st_size < before / 2
    assert f"{before / 1e6:.1f} MB → " in compacted.stdout
    journal = Journal(path, "T01", check=True)
    try:
        assert {t: _live(journal, t) for t in rows} == rows
    finally:
        journal.close()

    (tmp_path / "running").mkdir()
    with make_rig(tmp_path / "running", wallet) as rig:
        rig.kiosk.start()
        rig.kiosk.wait_ready()
        busy = run_kiosk(rig.kiosk.config, "journal", "--compact")
        assert busy.returncode == 75 and "running" in busy.stderr, busy.stderr
