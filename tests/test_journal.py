"""The journal on a real SQLite file: sessions → notes → credits → cases, and the cash box."""

from __future__ import annotations

import re
import sqlite3
import threading
from pathlib import Path

import pytest

from hardware.acceptor import NoteState
from kiosk.journal import Journal, JournalUnwritable
from kiosk.journal.db import MIGRATIONS
from kiosk.journal.records import SessionOutcome


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "journal.sqlite3", "K01")


def _session_with_notes(journal: Journal, values: list[int], headroom: int = 50_000) -> int:
    session = journal.sessions.open("0123…EF", "user-1", "太郎", "base", "money-base")
    journal.gate.open(session, headroom)
    for value in values:
        note = journal.notes.escrow(0x61, value)
        assert note is not None
        journal.notes.stacked(note.id)
    return session


def test_schema_is_migrated_and_durable_in_wal_full_mode(tmp_path: Path, journal: Journal) -> None:
    assert journal.db.version == len(MIGRATIONS)
    _session_with_notes(journal, [1000])
    journal.close()
    raw = sqlite3.connect(tmp_path / "journal.sqlite3")
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    reopened = Journal(tmp_path / "journal.sqlite3", "K01")
    assert reopened.notes.stacked_values() == [1000]


def test_escrow_respects_the_headroom_and_returned_notes_free_it(journal: Journal) -> None:
    session = journal.sessions.open("t", "u", "n", "base", "m")
    journal.gate.open(session, 3000)
    first = journal.notes.escrow(0x62, 2000)
    assert first is not None and first.state is NoteState.STACK_SENT
    assert journal.notes.escrow(0x62, 2000) is None  # only 1,000 left
    journal.notes.closed(first.id, NoteState.RETURNED)
    assert journal.notes.escrow(0x62, 2000) is not None  # fits again
    journal.gate.close()
    assert journal.notes.escrow(0x61, 1000) is None  # no accepting session: hand it back


def test_finishing_a_session_makes_one_pending_credit_with_a_request_id(journal: Journal) -> None:
    session = _session_with_notes(journal, [1000, 5000])
    credit = journal.sessions.finish(session, SessionOutcome.FINISHED)
    assert credit is not None
    assert (credit.amount, credit.state, credit.user_id) == (6000, "pending", "user-1")
    assert re.fullmatch(r"[0-9a-f-]{36}", credit.request_id)
    assert journal.sessions.get(session).outcome == "credited"
    # nothing left to credit
    assert journal.sessions.finish(session, SessionOutcome.FINISHED) is None


def test_stacked_is_idempotent_and_the_cash_box_equals_the_stacked_notes(journal: Journal) -> None:
    session = journal.sessions.open("t", "u", "n", "base", "m")
    journal.gate.open(session, 50_000)
    note = journal.notes.escrow(0x64, 10000)
    assert note is not None
    journal.notes.stacked(note.id)
    journal.notes.stacked(note.id)  # a repeated VEND VALID
    assert journal.cashbox.count().counts == {10000: 1}
    assert journal.cashbox.matches_notes()
    collected = journal.cashbox.collect("staff-1")
    assert (collected.notes, collected.total) == (1, 10000)
    assert journal.cashbox.count().notes == 0 and journal.cashbox.matches_notes()


def test_credit_lifecycle_and_refusal_opens_a_case_with_a_reference(journal: Journal) -> None:
    session = _session_with_notes(journal, [2000])
    credit = journal.sessions.finish(session, SessionOutcome.FINISHED)
    assert credit is not None
    journal.credits.mark_sent(credit.id)
    assert journal.credits.get(credit.id).outcome_unknown
    reference = journal.credits.refuse(credit.id, "account_suspended", "account is suspended")
    assert re.fullmatch(r"K01-\d{8}-0001", reference)
    assert journal.credits.refuse(credit.id, "again", "") == reference  # never two cases
    case = journal.cases.get(reference)
    assert (case.kind, case.amount, case.credit_id, case.state) == (
        "refused_credit",
        2000,
        credit.id,
        "open",
    )
    journal.cases.resolve(reference, "refunded", "staff-1")
    assert journal.cases.list() == []
    assert journal.credits.open_credits() == []


def test_restart_closes_open_sessions_and_credits_orphan_notes(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3", "K01")
    crashed = _session_with_notes(journal, [1000])
    journal.close()
    journal = Journal(tmp_path / "j.sqlite3", "K01")
    [credit] = journal.sessions.close_open()
    assert (credit.session_id, credit.amount) == (crashed, 1000)
    # A note counted later (power-up with a note in the stacker) for that finished session:
    row = journal.db.one("SELECT id FROM notes")
    assert row is not None
    with journal.db.write() as tx:
        tx.execute(
            "INSERT INTO notes (session_id, escrow_code, value, state, created_at,"
            " updated_at) VALUES (?, 99, 5000, 'stack_sent', 0, 0)",
            (crashed,),
        )
    late = journal.notes.last_note()
    assert late is not None
    journal.notes.stacked(late.id)
    [orphan] = journal.sessions.credit_orphans()
    assert orphan.amount == 5000 and orphan.request_id != credit.request_id
    assert journal.sessions.credit_orphans() == []


def test_unwritable_journal_raises(tmp_path: Path, journal: Journal) -> None:
    journal.db._db.execute("PRAGMA query_only = ON")
    with pytest.raises(JournalUnwritable):
        journal.sessions.open("t", "u", "n", "base", "m")


def test_a_version_1_journal_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    raw = sqlite3.connect(path)
    raw.executescript(MIGRATIONS[0] + "; PRAGMA user_version = 1;")
    raw.execute("INSERT INTO events (at, kind, detail) VALUES (1, 'old', 'kept')")
    raw.commit()
    raw.close()
    journal = Journal(path, "K01")
    assert journal.db.version == len(MIGRATIONS) >= 2
    assert journal.db.one("SELECT detail FROM events")["detail"] == "kept"  # type: ignore[index]
    assert (
        journal.db.one("SELECT name FROM sqlite_master WHERE name = 'credits_by_member'")
        is not None
    )


def test_the_probe_touches_every_table_money_goes_through(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3", "K01")
    try:
        journal.probe()  # a healthy journal
        journal.db._db.execute("DROP TABLE cashbox")  # e.g. a bad manual repair
        with pytest.raises(JournalUnwritable, match="cashbox"):
            journal.probe()
    finally:
        journal.close()


def test_schema_4_keeps_the_notes_of_cases_resolved_under_schema_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Schema 3 kept a resolution note only in the staff event; schema 4 moves it to the case."""
    from kiosk.journal import db as journal_db
    from kiosk.journal.cases import Cases

    path = tmp_path / "journal.sqlite3"
    monkeypatch.setattr(journal_db, "MIGRATIONS", journal_db.MIGRATIONS[:3])
    journal = Journal(path, "K01")
    noted, silent = (journal.cases.open("uncredited_note", amount=1000, detail="") for _ in "ab")
    with journal.db.write() as tx:
        tx.execute(
            "UPDATE cases SET state = 'resolved', resolution = 'refunded', resolved_by = 'Sato',"
            " resolved_at = 1"
        )
        Cases.event_in(tx, "staff", f"case {noted} resolved as refunded by Sato; note: old")
        Cases.event_in(tx, "staff", f"case {noted} resolved as refunded by Sato; note: ¥1,000 back")
    journal.close()
    monkeypatch.undo()

    journal = Journal(path, "K01")
    assert journal.db.version == len(journal_db.MIGRATIONS) >= 4
    assert journal.cases.note_of(journal.cases.get(noted)) == "¥1,000 back"
    assert journal.cases.get(silent).resolution_note is None
    journal.close()


def test_the_ever_figures_of_an_older_journal_are_counted_once_then_kept_by_each_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Schema 10 keeps the notes stacked and the credits per state in ``tallies`` (nothing is
    counted at a scrape): a journal written before it is counted at the migration, and every
    later write (a stacked note, a refusal, staff's retry, the confirmation) keeps them."""
    from kiosk.journal import db as journal_db
    from kiosk.journal.tallies import STACKED, tally

    path = tmp_path / "journal.sqlite3"
    monkeypatch.setattr(journal_db, "MIGRATIONS", journal_db.MIGRATIONS[:9])
    journal = Journal(path, "K01")
    first = journal.sessions.finish(_session_with_notes(journal, [1000, 5000]),
                                    SessionOutcome.FINISHED)
    assert first is not None
    journal.credits.mark_sent(first.id)
    journal.credits.confirm(first.id, "tx-1")
    journal.close()
    monkeypatch.undo()

    journal = Journal(path, "K01")
    try:
        assert (tally(journal.db, STACKED).n, tally(journal.db, STACKED).total) == (2, 6000)
        assert journal.credits.counts() == {"confirmed": 1}
        second = journal.sessions.finish(_session_with_notes(journal, [10000]),
                                         SessionOutcome.FINISHED)
        assert second is not None
        assert journal.credits.counts() == {"confirmed": 1, "pending": 1}
        reference = journal.credits.refuse(second.id, "invalid_request", "refused")
        assert journal.credits.counts() == {"confirmed": 1, "refused": 1}
        journal.cases.retry(reference, "alice")
        journal.credits.mark_sent(second.id)
        assert journal.credits.counts() == {"confirmed": 1, "sent": 1}
        journal.credits.confirm(second.id, "tx-2")
        assert journal.credits.counts() == {"confirmed": 2}
        assert (tally(journal.db, STACKED).n, tally(journal.db, STACKED).total) == (3, 16000)
        rows = journal.db.one(
            "SELECT count(*) AS n, sum(amount) AS yen FROM credits WHERE state = 'confirmed'"
        )
        confirmed = tally(journal.db, "credits cash confirmed")
        assert rows is not None and (confirmed.n, confirmed.total) == (rows["n"], rows["yen"])
    finally:
        journal.close()


def test_two_processes_creating_the_journal_at_once_both_open_it(tmp_path: Path) -> None:
    """The kiosk and a staff command (or a test's look) started together on a new data dir:
    each brings the journal to the newest schema; the second finds the first's work done
    (its version read again under the write lock), not "table sessions already exists"."""
    for attempt in range(20):
        path = tmp_path / f"journal-{attempt}.sqlite3"
        barrier = threading.Barrier(4)
        failures: list[BaseException] = []

        def open_it(
            path: Path = path,
            barrier: threading.Barrier = barrier,
            failures: list[BaseException] = failures,
        ) -> None:
            barrier.wait()
            try:
                Journal(path, "T01").close()
            except BaseException as error:  # reported below
                failures.append(error)

        threads = [threading.Thread(target=open_it) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == []
