"""The journal's periodic integrity check (``Health.check_integrity``): a journal whose pages
were damaged on disk (a failing SD card) takes the kiosk out of service with SQLite's words."""

from __future__ import annotations

from pathlib import Path

from kiosk.health import INTEGRITY, Health
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
    assert source == INTEGRITY and detail is not None and detail.startswith("damaged (")
