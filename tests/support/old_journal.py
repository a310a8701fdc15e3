"""Journals with a past: rows written through the journal's own write paths, then dated back (the
retention and archive tests)."""

from __future__ import annotations

from kiosk.journal import Journal
from kiosk.journal.records import SessionOutcome

DAY = 86_400.0


def charge_at(journal: Journal, at: float, value: int = 1000, confirm: bool = True) -> int:
    """A session of one note credited (and confirmed), dated ``at``; returns its credit id."""
    session = journal.sessions.open("0123…EF", "user-1", "太郎", "base", "money-base")
    journal.gate.open(session, 50_000)
    note = journal.notes.escrow(0x61, value)
    assert note is not None
    journal.notes.stacked(note.id)
    credit = journal.sessions.finish(session, SessionOutcome.FINISHED)
    journal.gate.close()
    assert credit is not None
    journal.credits.mark_sent(credit.id)
    if confirm:
        journal.credits.confirm(credit.id, f"tx-{credit.id}")
    with journal.db.write() as tx:
        tx.execute(
            "UPDATE sessions SET started_at = ?, finished_at = ? WHERE id = ?",
            (at, at + 60, session),
        )
        tx.execute(
            "UPDATE notes SET created_at = ?, updated_at = ? WHERE id = ?", (at, at, note.id)
        )
        tx.execute("UPDATE cashbox SET at = ? WHERE note_id = ?", (at, note.id))
        tx.execute(
            "UPDATE credits SET created_at = ?, updated_at = ? WHERE id = ?",
            (at + 60, at + 61, credit.id),
        )
        tx.execute("INSERT INTO events (at, kind, detail) VALUES (?, 'acceptor', 'stacked')", (at,))
    return credit.id


def collect_at(journal: Journal, at: float) -> None:
    record = journal.cashbox.record_collection("alice", None)
    with journal.db.write() as tx:
        tx.execute("UPDATE collections SET at = ? WHERE id = ?", (at, record.id))


def months_of_use(journal: Journal, now: float) -> list[int]:
    """Charges about 8, 7 and 6 months before ``now`` (one refused, its case left open), a
    collection 5 months before, and a charge 10 days before (its note still in the cash box):
    with the default policy, the three old months move but the refused credit's session. Returns
    the credit ids, oldest first."""
    credits = [charge_at(journal, now - months * 30 * DAY) for months in (8, 7)]
    credits.append(charge_at(journal, now - 6 * 30 * DAY, 5000))
    refused = charge_at(journal, now - 6 * 30 * DAY + DAY, 10000, confirm=False)
    journal.credits.refuse(refused, "invalid_request", "refused")
    credits.append(refused)
    collect_at(journal, now - 5 * 30 * DAY)
    credits.append(charge_at(journal, now - 10 * DAY))
    return credits
