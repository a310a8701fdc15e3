"""Charge sessions in the journal, and turning their stacked notes into credits."""

from __future__ import annotations

import sqlite3
import time
import uuid

from kiosk.journal.db import Database
from kiosk.journal.records import Credit, SessionOutcome, SessionRecord


class Sessions:
    def __init__(self, db: Database) -> None:
        self.db = db

    def open(self, card_tag: str, user_id: str, user_name: str, bucket: str, money_id: str) -> int:
        with self.db.write() as tx:
            cursor = tx.execute(
                "INSERT INTO sessions (started_at, card_tag, user_id, user_name, bucket,"
                " money_id) VALUES (?, ?, ?, ?, ?, ?)",
                (time.time(), card_tag, user_id, user_name, bucket, money_id),
            )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def get(self, session_id: int) -> SessionRecord:
        row = self.db.one("SELECT * FROM sessions WHERE id = ?", (session_id,))
        if row is None:
            raise KeyError(session_id)
        return SessionRecord.from_row(row)

    def finish(self, session_id: int, outcome: SessionOutcome) -> Credit | None:
        """Close the session and, in the same transaction, turn its stacked, uncredited notes
        into one pending credit with a fresh ``request_id``."""
        with self.db.write() as tx:
            credit = _credit_notes(tx, session_id)
            tx.execute(
                "UPDATE sessions SET state = 'finished', outcome = ?, finished_at = ?"
                " WHERE id = ? AND state = 'open'",
                (
                    SessionOutcome.CREDITED
                    if credit and outcome is SessionOutcome.FINISHED
                    else outcome,
                    time.time(),
                    session_id,
                ),
            )
        return credit

    def close_open(
        self, outcome: SessionOutcome = SessionOutcome.CLOSED_AFTER_RESTART
    ) -> list[Credit]:
        """Finish the sessions left open (crediting what they took): at start after a crash,
        or once a journal that failed can be written again."""
        credits = []
        for row in self.db.query("SELECT id FROM sessions WHERE state = 'open' ORDER BY id"):
            credit = self.finish(int(row["id"]), outcome)
            if credit:
                credits.append(credit)
        return credits

    def credit_orphans(self) -> list[Credit]:
        """Stacked notes of finished sessions that no credit holds yet (e.g. a note the
        acceptor counted at power-up after its session had ended) become credits."""
        credits = []
        for row in self.db.query(
            "SELECT DISTINCT n.session_id FROM notes n JOIN sessions s ON s.id = n.session_id"
            " WHERE n.state = 'stacked' AND n.credit_id IS NULL AND s.state = 'finished'"
        ):
            with self.db.write() as tx:
                credit = _credit_notes(tx, int(row["session_id"]))
            if credit:
                credits.append(credit)
        return credits

    def uncredited(self, user_id: str) -> dict[str, int]:
        """A member's cash stacked but in no credit yet, per bucket: a note held at Done and
        stacked after its session closed waits for delivery's next round to become a credit
        (:meth:`credit_orphans`), yet it is already on its way into the wallet."""
        rows = self.db.query(
            "SELECT s.bucket, SUM(n.value) AS amount FROM notes n JOIN sessions s"
            " ON s.id = n.session_id WHERE n.state = 'stacked' AND n.credit_id IS NULL"
            " AND s.user_id = ? GROUP BY s.bucket",
            (user_id,),
        )
        return {str(r["bucket"]): int(r["amount"]) for r in rows}

    def recent(self, limit: int = 20) -> list[SessionRecord]:
        rows = self.db.query("SELECT * FROM sessions ORDER BY id DESC LIMIT ?", (limit,))
        return [SessionRecord.from_row(r) for r in rows]


def _credit_notes(tx: sqlite3.Connection, session_id: int) -> Credit | None:
    session = tx.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
    amount = tx.execute(
        "SELECT COALESCE(SUM(value), 0) FROM notes WHERE session_id = ? AND state = 'stacked'"
        " AND credit_id IS NULL",
        (session_id,),
    ).fetchone()[0]
    if session is None or not amount:
        return None
    now = time.time()
    cursor = tx.execute(
        "INSERT INTO credits (request_id, session_id, user_id, money_id, bucket, amount,"
        " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            str(uuid.uuid4()),
            session_id,
            session["user_id"],
            session["money_id"],
            session["bucket"],
            amount,
            now,
            now,
        ),
    )
    tx.execute(
        "UPDATE notes SET credit_id = ? WHERE session_id = ? AND state = 'stacked'"
        " AND credit_id IS NULL",
        (cursor.lastrowid, session_id),
    )
    return Credit.from_row(
        tx.execute("SELECT * FROM credits WHERE id = ?", (cursor.lastrowid,)).fetchone()
    )
