"""The journal's periodic integrity check (``Health.check_integrity``): a journal whose pages
were damaged on disk (a failing SD card) takes the kiosk out of service with SQLite's words."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

from kiosk.core.faults import FaultSource
from kiosk.engine.health import Health
from kiosk.journal import Journal


def test_a_damaged_journal_is_reported_and_a_sound_one_is_not(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    journal = Journal(path, "T01")
    for n in range(2_000):
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
