"""A small durable note ledger in SQLite (WAL, synchronous=FULL).

Implements :class:`hardware.acceptor.NoteLedger` for the console demo, the tests and the
benchmarks. The charge-engine journal takes over this job in a later step; until then this is
where escrow decisions and stacked notes are made durable.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from hardware.acceptor import NoteRecord, NoteState

_SCHEMA = """
CREATE TABLE IF NOT EXISTS notes (
    id INTEGER PRIMARY KEY,
    escrow_code INTEGER NOT NULL,
    value INTEGER NOT NULL,
    state TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
)
"""

Policy = Callable[[int], bool]


def accept_all(value: int) -> bool:
    return True


class SqliteNoteLedger:
    """Durable escrow/stacked records; ``policy(value)`` decides whether to stack a note."""

    def __init__(self, path: str | Path, policy: Policy = accept_all) -> None:
        self.path = Path(path)
        self.policy = policy
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def escrow(self, escrow_code: int, value: int) -> NoteRecord | None:
        if not self.policy(value):
            return None
        now = time.time()
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO notes (escrow_code, value, state, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (escrow_code, value, NoteState.STACK_SENT.value, now, now),
            )
        assert cursor.lastrowid is not None
        return NoteRecord(cursor.lastrowid, escrow_code, value, NoteState.STACK_SENT)

    def stacked(self, note_id: int) -> None:
        self._move(note_id, NoteState.STACKED)

    def closed(self, note_id: int, state: NoteState) -> None:
        self._move(note_id, state)

    def _move(self, note_id: int, state: NoteState) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE notes SET state = ?, updated_at = ? WHERE id = ? AND state = ?",
                (state.value, time.time(), note_id, NoteState.STACK_SENT.value),
            )

    def last_note(self) -> NoteRecord | None:
        with self._lock:
            row = self._db.execute(
                "SELECT id, escrow_code, value, state FROM notes ORDER BY id DESC LIMIT 1"
            ).fetchone()
        return NoteRecord(row[0], row[1], row[2], NoteState(row[3])) if row else None

    def notes(self, state: NoteState | None = None) -> list[NoteRecord]:
        query = "SELECT id, escrow_code, value, state FROM notes"
        args: tuple[str, ...] = ()
        if state is not None:
            query, args = query + " WHERE state = ?", (state.value,)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY id", args).fetchall()
        return [NoteRecord(r[0], r[1], r[2], NoteState(r[3])) for r in rows]

    def stacked_values(self) -> list[int]:
        return [n.value for n in self.notes(NoteState.STACKED)]
