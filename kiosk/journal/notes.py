"""Notes in the journal: the engine's side of the acceptor's ledger hooks.

Runs on the acceptor thread. The escrow decision comes from the :class:`AcceptanceGate`;
every state change is one durable transaction, and a stacked note enters the cash-box ledger
in the same transaction.
"""

from __future__ import annotations

import time

from hardware.acceptor import NoteRecord, NoteState
from kiosk.core.crashpoints import checkpoint
from kiosk.core.money import AcceptanceGate
from kiosk.journal.cases import Cases
from kiosk.journal.db import Database


class JournalNotes:
    """Implements :class:`hardware.acceptor.NoteLedger` on the journal."""

    def __init__(self, db: Database, gate: AcceptanceGate, cases: Cases) -> None:
        self.db = db
        self.gate = gate
        self.cases = cases

    def escrow(self, escrow_code: int, value: int) -> NoteRecord | None:
        session_id = self.gate.reserve(value)
        if session_id is None:
            return None
        now = time.time()
        try:
            with self.db.write() as tx:
                cursor = tx.execute(
                    "INSERT INTO notes (session_id, escrow_code, value, state, created_at,"
                    " updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (session_id, escrow_code, value, NoteState.STACK_SENT.value, now, now),
                )
        except Exception:
            self.gate.release(session_id, value)
            raise
        assert cursor.lastrowid is not None
        checkpoint("escrow_recorded")
        return NoteRecord(cursor.lastrowid, escrow_code, value, NoteState.STACK_SENT)

    def stacked(self, note_id: int) -> None:
        checkpoint("stacked_before_journal")
        now = time.time()
        with self.db.write() as tx:
            changed = tx.execute(
                "UPDATE notes SET state = 'stacked', updated_at = ? WHERE id = ?"
                " AND state = 'stack_sent'",
                (now, note_id),
            ).rowcount
            if changed:
                tx.execute(
                    "INSERT INTO cashbox (note_id, value, at)"
                    " SELECT id, value, ? FROM notes WHERE id = ?",
                    (now, note_id),
                )
        self.gate.landed()
        checkpoint("stacked_before_ack")

    def closed(self, note_id: int, state: NoteState, why: str = "") -> None:
        """An open note ended uncounted; an unresolved one opens its staff case in the same
        transaction (the engine's case for the acceptor's event then finds it open)."""
        with self.db.write() as tx:
            row = tx.execute(
                "SELECT session_id, value FROM notes WHERE id = ? AND state = 'stack_sent'",
                (note_id,),
            ).fetchone()
            tx.execute(
                "UPDATE notes SET state = ?, updated_at = ? WHERE id = ? AND state = 'stack_sent'",
                (state.value, time.time(), note_id),
            )
            if row is not None and state is NoteState.UNRESOLVED:
                self.cases.open_in(
                    tx, "unresolved_note", amount=row["value"], detail=why, note_id=note_id
                )
        if row is not None:
            self.gate.release(row["session_id"], row["value"])
        else:
            self.gate.landed()  # nothing of this note is reserved any more

    def last_note(self) -> NoteRecord | None:
        row = self.db.one(
            "SELECT id, escrow_code, value, state FROM notes ORDER BY id DESC LIMIT 1"
        )
        if row is None:
            return None
        return NoteRecord(row["id"], row["escrow_code"], row["value"], NoteState(row["state"]))

    def of_session(self, session_id: int) -> list[NoteRecord]:
        rows = self.db.query(
            "SELECT id, escrow_code, value, state FROM notes WHERE session_id = ? ORDER BY id",
            (session_id,),
        )
        return [
            NoteRecord(r["id"], r["escrow_code"], r["value"], NoteState(r["state"])) for r in rows
        ]

    def all(self) -> list[NoteRecord]:
        rows = self.db.query("SELECT id, escrow_code, value, state FROM notes ORDER BY id")
        return [
            NoteRecord(r["id"], r["escrow_code"], r["value"], NoteState(r["state"])) for r in rows
        ]

    def stacked_values(self) -> list[int]:
        return [
            int(r["value"])
            for r in self.db.query("SELECT value FROM notes WHERE state = 'stacked' ORDER BY id")
        ]
