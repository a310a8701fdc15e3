"""Retention with audit (kiosk.journal.retention): what of a month moves out of the live journal,
the archive file it moves into (checksummed, read back before anything is deleted), and what
never moves: open credits and cases, and anything since the last collection.

The rows are written through the journal's own write paths, then dated back by the test."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from kiosk.journal import Journal
from kiosk.journal.retention import (
    Month,
    Policy,
    _one_run_at_a_time,
    checksum_path,
    cutoff,
    delete_archived,
    last_run,
    months_to_move,
    remove_expired,
    run,
    select,
    verify,
    write_archive,
)
from kiosk.journal.tallies import STACKED, tally
from kiosk.ops.pending import pending
from tests.support.old_journal import charge_at, collect_at

NOW = datetime(2026, 12, 8, 12, 0).timestamp()
POLICY = Policy(working_days=90, retention_years=7)


def _at(year: int, month: int, day: int) -> float:
    return datetime(year, month, day, 10, 0).timestamp()


def _count(journal: Journal, table: str) -> int:
    row = journal.db.one(f"SELECT count(*) AS n FROM {table}")
    assert row is not None
    return int(row["n"])


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    return _june(tmp_path / "journal.sqlite3")


def _june(path: Path) -> Journal:
    """June: two settled charges and one refused with its case open; a collection on 15 July;
    August: a charge after the last collection (its note still in the box)."""
    journal = Journal(path, "K01")
    charge_at(journal, _at(2026, 6, 3))
    charge_at(journal, _at(2026, 6, 20), 5000)
    refused = charge_at(journal, _at(2026, 6, 21), 10000, confirm=False)
    journal.credits.refuse(refused, "invalid_request", "refused")
    collect_at(journal, _at(2026, 7, 15))
    charge_at(journal, _at(2026, 8, 2))
    return journal


def test_closed_rows_of_a_month_before_the_last_collection_move_and_open_ones_stay(
    journal: Journal, tmp_path: Path
) -> None:
    try:
        before = cutoff(journal.db, POLICY, NOW)
        assert before == _at(2026, 7, 15)  # the last collection, earlier than the 90 days
        assert months_to_move(journal.db, before) == [Month(2026, 6)]
        assert select(journal.db, Month(2026, 8), before).rows == 0  # since the collection

        chosen = select(journal.db, Month(2026, 6), before)
        assert len(chosen.ids["sessions"]) == 2  # not the refused credit's: its case is open
        assert len(chosen.ids["notes"]) == len(chosen.ids["cashbox"]) == 2
        assert len(chosen.ids["credits"]) == 2 and chosen.ids["cases"] == []
        pending_before = pending(journal)
        stacked_before = tally(journal.db, STACKED)

        archive = write_archive(journal.db, chosen, tmp_path / "archive")
        assert archive.name == "journal-2026-06.sqlite3" and checksum_path(archive).exists()
        assert verify(archive) is None
        assert _count(journal, "sessions") == 4  # nothing deleted by writing the archive

        assert delete_archived(journal.db, chosen, archive) == chosen.rows
        assert _count(journal, "sessions") == 2 and _count(journal, "credits") == 2
        with contextlib.closing(sqlite3.connect(archive)) as saved:
            assert saved.execute("SELECT sum(amount) FROM credits").fetchone()[0] == 6000
        # what staff and the monitor see does not change: the refused credit's case, the
        # cash since the collection, the notes stacked ever, the ledger against the notes
        assert pending(journal) == pending_before
        assert tally(journal.db, STACKED) == stacked_before
        assert journal.cashbox.matches_notes()
        assert journal.cashbox.count().total == 1000
        assert select(journal.db, Month(2026, 6), before).ids["sessions"] == []
    finally:
        journal.close()


def test_a_run_killed_after_its_archive_is_written_is_finished_by_the_next_one(
    journal: Journal, tmp_path: Path
) -> None:
    """Killed between the archive and the deletion: the live rows are all there; the next run
    writes the same month again (no row twice) and deletes them."""
    try:
        before = cutoff(journal.db, POLICY, NOW)
        first = select(journal.db, Month(2026, 6), before)
        write_archive(journal.db, first, tmp_path / "archive")  # … and the power went
        again = select(journal.db, Month(2026, 6), before)
        assert again.ids == first.ids
        archive = write_archive(journal.db, again, tmp_path / "archive")
        with contextlib.closing(sqlite3.connect(archive)) as saved:
            assert saved.execute("SELECT count(*) FROM sessions").fetchone()[0] == 2
        assert delete_archived(journal.db, again, archive) == again.rows
    finally:
        journal.close()


def test_nothing_is_deleted_when_the_archive_on_disk_is_not_what_was_written(
    journal: Journal, tmp_path: Path
) -> None:
    try:
        chosen = select(journal.db, Month(2026, 6), cutoff(journal.db, POLICY, NOW))
        archive = write_archive(journal.db, chosen, tmp_path / "archive")
        with contextlib.closing(sqlite3.connect(archive)) as saved:  # a bit flipped on the card
            saved.execute("UPDATE credits SET amount = amount + 1")
            saved.commit()
        with pytest.raises(ValueError, match="checksum"):
            delete_archived(journal.db, chosen, archive)
        assert _count(journal, "sessions") == 4
    finally:
        journal.close()


def test_archives_past_the_retention_period_are_removed(tmp_path: Path) -> None:
    folder = tmp_path / "archive"
    folder.mkdir()
    for name in ("2018-11", "2019-11", "2019-12"):
        (folder / f"journal-{name}.sqlite3").write_bytes(b"")
        (folder / f"journal-{name}.sqlite3.sha256").write_text("x")
    removed = remove_expired(folder, POLICY, NOW)
    # November 2019 ended more than 7 years before 8 December 2026; December 2019 did not
    assert [p.name for p in removed] == ["journal-2018-11.sqlite3", "journal-2019-11.sqlite3"]
    assert sorted(p.name for p in folder.iterdir()) == [
        "journal-2019-12.sqlite3",
        "journal-2019-12.sqlite3.sha256",
    ]


def test_the_job_moves_every_month_due_journals_it_and_a_second_run_has_nothing_to_do(
    journal: Journal, tmp_path: Path
) -> None:
    folder = tmp_path / "archive"
    try:
        done = run(journal.db, folder, POLICY, NOW)
        assert done.moved == {"2026-06": 11}  # 2 sessions, notes, cash-box rows, credits; 3 events
        assert sorted(p.name for p in folder.glob("journal-*")) == [
            "journal-2026-06.sqlite3",
            "journal-2026-06.sqlite3.sha256",
        ]
        last = last_run(journal.db)
        assert last is not None and (last.result, last.months, last.rows) == (
            "done",
            ("2026-06",),
            11,
        )
        [event] = journal.db.query("SELECT detail FROM events WHERE kind = 'journal'")
        assert event["detail"] == "archived 2026-06: 11 rows into journal-2026-06.sqlite3"
        assert run(journal.db, folder, POLICY, NOW).moved == {}
    finally:
        journal.close()


def test_a_second_run_while_one_is_under_way_is_refused_and_changes_nothing(
    journal: Journal, tmp_path: Path
) -> None:
    """The kiosk's daily run and one from a shell never write the same archive at once."""
    folder = tmp_path / "archive"
    try:
        folder.mkdir()
        # the folder's lock, held as another run holds it (flock: per open file)
        with _one_run_at_a_time(folder), pytest.raises(ValueError, match="under way"):
            run(journal.db, folder, POLICY, NOW)
        assert last_run(journal.db) is None and _count(journal, "sessions") == 4
        assert run(journal.db, folder, POLICY, NOW).moved == {"2026-06": 11}
    finally:
        journal.close()


def test_an_archive_in_a_folder_with_uri_characters_is_written_read_and_checked(
    journal: Journal, tmp_path: Path
) -> None:
    """A data dir named ``#1 kiosk?`` is a folder: its archive is written, verified and deleted
    from, and an empty checksum file is a finding, not a crash."""
    folder = tmp_path / "#1 kiosk?%20" / "archive"
    try:
        done = run(journal.db, folder, POLICY, NOW)
        assert done.moved == {"2026-06": 11}
        [archive] = folder.glob("journal-*.sqlite3")
        assert verify(archive) is None
        checksum_path(archive).write_text("")
        assert verify(archive) == "its checksum file is empty"
    finally:
        journal.close()


class _Killed(Exception):
    """The process stopped between two of the run's transactions."""


def test_a_run_killed_between_any_two_of_its_transactions_is_finished_by_the_next(
    tmp_path: Path,
) -> None:
    """At every moment the ledger equals the stacked notes, and the next run moves all of
    June: a note never outlives its cash-box row (it would no longer be settled, and stay)."""
    for kill_at in range(1, 100):
        journal = _june(tmp_path / f"journal-{kill_at}.sqlite3")
        folder = tmp_path / f"archive-{kill_at}"
        write, writes = journal.db.write, 0

        @contextlib.contextmanager
        def killed_at(
            write: Callable[[], Any] = write, kill_at: int = kill_at
        ) -> Iterator[sqlite3.Connection]:
            nonlocal writes
            writes += 1
            if writes == kill_at:
                raise _Killed
            with write() as tx:
                yield tx

        journal.db.write = killed_at  # type: ignore[method-assign]
        try:
            run(journal.db, folder, POLICY, NOW)
            finished = True
        except _Killed:
            finished = False
        finally:
            del journal.db.write  # the journal's own again
        try:
            assert journal.cashbox.matches_notes(), kill_at
            run(journal.db, folder, POLICY, NOW)
            assert journal.cashbox.matches_notes(), kill_at
            # June's two settled sessions moved; the refused one (its case open) and August's stay
            assert _count(journal, "sessions") == 2 and _count(journal, "notes") == 2, kill_at
        finally:
            journal.close()
        if finished:
            return
    raise AssertionError("the run never finished")


def test_a_tables_newest_row_stays_until_a_newer_one_so_no_id_is_handed_out_twice(
    tmp_path: Path,
) -> None:
    """SQLite numbers a new row after the table's newest: were the newest archived, its id
    would be a live row's too. A kiosk unused since (only the collection came after): June's
    session, its note, cash-box row and credit stay; once a member comes, they move, and every
    id in the live journal is above every archived one."""
    journal = Journal(tmp_path / "journal.sqlite3", "K01")
    folder = tmp_path / "archive"
    try:
        charge_at(journal, _at(2026, 6, 3))
        charge_at(journal, _at(2026, 6, 20), 5000)  # the newest session, note, credit
        collect_at(journal, _at(2026, 7, 15))
        assert list(run(journal.db, folder, POLICY, NOW).moved) == ["2026-06"]
        for table in ("sessions", "notes", "cashbox", "credits"):
            assert _count(journal, table) == 1, table  # the first session went, not the newest

        charge_at(journal, _at(2026, 12, 1))  # a member, in December
        assert list(run(journal.db, folder, POLICY, NOW).moved) == ["2026-06"]
        for table in ("sessions", "notes", "cashbox", "credits"):
            assert _count(journal, table) == 1, table  # December's
        with contextlib.closing(sqlite3.connect(folder / "journal-2026-06.sqlite3")) as saved:
            for table in ("sessions", "notes", "credits", "cashbox"):
                [(archived,)] = saved.execute(f"SELECT max(id) FROM {table}").fetchall()
                row = journal.db.one(f"SELECT min(id) AS low FROM {table}")
                assert row is not None and row["low"] > archived, table
    finally:
        journal.close()
