"""The journal's periodic integrity check (``Health.check_integrity``): a journal whose pages
were damaged on disk (a failing SD card) takes the kiosk out of service with SQLite's words."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path

import pytest

from kiosk.core.faults import FaultSource
from kiosk.engine.health import Health
from kiosk.journal import Journal, JournalDamaged
from kiosk.journal.integrity import Sweep, check


def test_a_damaged_journal_is_reported_and_a_sound_one_is_not(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    journal = Journal(path, "T01")
    for n in range(6_000):  # the middle third: event pages, not the roots read at open
        journal.log("test", f"event {n} " + "x" * 100)
    reports: list[tuple[str, str | None]] = []
    health = Health(journal, 0, lambda source, detail: reports.append((source, detail)))
    health.check_integrity()
    assert health.journal_check == "ok" and reports == []
    journal.db.query("PRAGMA wal_checkpoint(TRUNCATE)")  # all pages in the main file
    journal.close()

    with path.open("r+b") as file:  # scribble over pages in the middle, not the header
        size = file.seek(0, 2)
        for at in range(size // 3, size // 3 * 2, 4096):
            file.seek(at + 100)
            file.write(b"\xde\xad\xbe\xef" * 64)
    journal = Journal(path, "T01")
    try:
        health = Health(journal, 0, lambda source, detail: reports.append((source, detail)))
        health.check_integrity()
        health.check_integrity()  # said once, not on every check
    finally:
        journal.close()
    assert health.journal_check != "ok"
    [(source, detail)] = reports
    assert (
        source is FaultSource.JOURNAL_CHECK
        and detail is not None
        and detail.startswith("damaged (")
    )


def _scribbled(path: Path) -> None:
    """Garbage over pages in the middle of the journal file (not its header)."""
    with path.open("r+b") as file:
        size = file.seek(0, 2)
        for at in range(size // 3, size // 3 * 2, 4096):
            file.seek(at + 100)
            file.write(b"\xde\xad\xbe\xef" * 64)


@pytest.mark.parametrize("checked", [True, False], ids=["checked-at-open", "unchecked"])
def test_a_journal_checked_as_it_was_opened_is_not_read_through_again_at_once(
    tmp_path: Path, checked: bool
) -> None:
    """The kiosk opens its journal with SQLite's quick check; its health task's first check
    then comes one interval later, not at once (reading a large journal on an SD card twice at
    every start). The file is damaged behind the open journal's back to see which it did."""
    path = tmp_path / "journal.sqlite3"
    journal = Journal(path, "T01")
    for n in range(2_000):
        journal.log("test", f"event {n} " + "x" * 100)
    journal.db.query("PRAGMA wal_checkpoint(TRUNCATE)")
    journal.close()
    journal = Journal(path, "T01", check=checked)
    _scribbled(path)
    reports: list[tuple[str, str | None]] = []
    # a reserve no disk has: the first round's disk report comes after its integrity step
    health = Health(journal, 10**18, lambda source, detail: reports.append((source, detail)))

    async def first_round() -> None:
        task = asyncio.create_task(health.run())
        while not any(source is FaultSource.DISK for source, _ in reports):
            await asyncio.sleep(0.01)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    try:
        asyncio.run(first_round())
    finally:
        journal.close()
    integrity = [detail for source, detail in reports if source is FaultSource.JOURNAL_CHECK]
    if checked:
        assert integrity == [] and health.journal_check == "ok"
    else:
        assert len(integrity) == 1 and str(integrity[0]).startswith("damaged (")


# ---- a big journal: the bounded check (kiosk.journal.integrity) ----------------------------
# The rounds are forced on a journal of a few MB with ``full_below=0`` (a kiosk's journal gets
# them above 8 MB); ``rows`` makes a sweep's slice small enough for the journal to need several.


def _big_journal(path: Path, events: int = 30_000) -> None:
    journal = Journal(path, "T01")
    with journal.db.write() as tx:
        tx.executemany(
            "INSERT INTO events (at, kind, detail) VALUES (?, 'test', ?)",
            [(float(n), f"event {n} " + "x" * 100) for n in range(events)],
        )
    journal.db.query("PRAGMA wal_checkpoint(TRUNCATE)")  # all pages in the main file
    journal.close()


def _pages(path: Path, table: str, kind: str) -> list[int]:
    """The pages of ``table``'s b-tree of ``kind`` (leaf, internal), in the tree's order."""
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        rows = db.execute(
            "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = ? ORDER BY path",
            (table, kind),
        )
        return [int(page) for (page,) in rows]


def _round(path: Path, sweep: Sweep | None = None, **bounds: int) -> str:
    """One round's answer, as the kiosk hears it ("ok", a finding, or SQLite's error)."""
    try:
        return check(path, sweep, **bounds)[0]
    except sqlite3.DatabaseError as error:
        return str(error)


def _scribble_page(path: Path, page: int) -> None:
    """Garbage over most of one page (a failing SD card's sector)."""
    with path.open("r+b") as file:
        file.seek((page - 1) * 4096 + 8)
        file.write(b"\xde\xad\xbe\xef" * 1000)


def test_the_sweep_reads_a_big_journal_a_slice_a_round_and_finds_a_damaged_page(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.sqlite3"
    _big_journal(path)
    leaves = _pages(path, "events", "leaf")
    _scribble_page(path, leaves[len(leaves) // 2])  # rows in the middle: no edge, no head

    # a check at open reads the schema, the edges and the newest rows: not this page
    assert _round(path, full_below=0) == "ok"
    # SQLite's quick check of the whole file finds it: the damage is real
    assert _round(path) != "ok"

    sweep = Sweep()  # from the first table on
    answers = [_round(path, sweep, full_below=0, rows=2_000) for _ in range(30)]
    found = [n for n, answer in enumerate(answers) if answer != "ok"]
    assert found, "the sweep never found the damaged page"
    # a round reads a slice, not the whole journal: the first rounds passed over nothing bad
    assert found[0] >= 3, answers[:5]
    # and every later round finds it again (the sweep stays on the damaged slice)
    assert found == list(range(found[0], 30)), answers


def test_every_round_reads_each_table_s_root_page(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    _big_journal(path, events=80_000)  # over 8 MB: the check at open is a bounded one too
    [root] = _pages(path, "events", "internal")[:1]
    _scribble_page(path, root)
    answer = _round(path, Sweep(), full_below=0, rows=10)
    assert "malformed" in answer, answer
    with pytest.raises(JournalDamaged):  # the kiosk and every command refuse it at open
        Journal(path, "T01", check=True)


def test_a_round_reads_the_rows_written_since_the_last_one(tmp_path: Path) -> None:
    """The head: what was written since the last round is read by the next one (the sweep far
    away, its slices small)."""
    path = tmp_path / "journal.sqlite3"
    _big_journal(path, events=10_000)
    sweep = Sweep()
    assert _round(path, sweep, full_below=0, rows=10) == "ok"
    journal = Journal(path, "T01")
    with journal.db.write() as tx:
        tx.executemany(
            "INSERT INTO events (at, kind, detail) VALUES (?, 'later', ?)",
            [(float(n), f"later {n} " + "y" * 100) for n in range(500)],
        )
    journal.db.query("PRAGMA wal_checkpoint(TRUNCATE)")
    journal.close()
    _scribble_page(path, _pages(path, "events", "leaf")[-8])  # among the new rows, no edge
    assert _round(path, sweep, full_below=0, rows=10) != "ok"
