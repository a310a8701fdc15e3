"""Staff cases: money the kiosk could not settle by itself, each with a human reference."""

from __future__ import annotations

import sqlite3
import time
from datetime import datetime

from kiosk.journal.db import Database
from kiosk.journal.records import Case

KINDS = ("refused_credit", "uncredited_note", "unresolved_note")
RESOLUTIONS = ("refunded", "credited_manually", "no_money_involved")


class Cases:
    def __init__(self, db: Database, kiosk_id: str) -> None:
        self.db = db
        self.kiosk_id = kiosk_id

    def open_in(
        self,
        tx: sqlite3.Connection,
        kind: str,
        *,
        amount: int | None,
        detail: str,
        credit_id: int | None = None,
        note_id: int | None = None,
        user_id: str | None = None,
    ) -> str:
        """Open a case inside the caller's transaction; returns its reference
        (kiosk id, local date, sequence of the day: ``K01-20261123-0003``)."""
        assert kind in KINDS, kind
        now = time.time()
        day = datetime.fromtimestamp(now).strftime("%Y%m%d")
        prefix = f"{self.kiosk_id}-{day}-"
        count = tx.execute(
            "SELECT COUNT(*) FROM cases WHERE reference LIKE ?", (prefix + "%",)
        ).fetchone()[0]
        reference = f"{prefix}{count + 1:04d}"
        tx.execute(
            "INSERT INTO cases (reference, kind, credit_id, note_id, user_id, amount, detail,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (reference, kind, credit_id, note_id, user_id, amount, detail, now),
        )
        return reference

    def open(self, kind: str, *, amount: int | None, detail: str, **links: object) -> str:
        with self.db.write() as tx:
            return self.open_in(tx, kind, amount=amount, detail=detail, **links)  # type: ignore[arg-type]

    def resolve(self, reference: str, resolution: str, who: str) -> Case:
        if resolution not in RESOLUTIONS:
            raise ValueError(f"resolution must be one of {', '.join(RESOLUTIONS)}")
        with self.db.write() as tx:
            changed = tx.execute(
                "UPDATE cases SET state = 'resolved', resolution = ?, resolved_by = ?,"
                " resolved_at = ? WHERE reference = ? AND state = 'open'",
                (resolution, who, time.time(), reference),
            ).rowcount
        if not changed:
            raise KeyError(f"no open case {reference}")
        return self.get(reference)

    def get(self, reference: str) -> Case:
        row = self.db.one("SELECT * FROM cases WHERE reference = ?", (reference,))
        if row is None:
            raise KeyError(reference)
        return Case.from_row(row)

    def list(self, state: str | None = "open") -> list[Case]:
        if state is None:
            rows = self.db.query("SELECT * FROM cases ORDER BY id")
        else:
            rows = self.db.query("SELECT * FROM cases WHERE state = ? ORDER BY id", (state,))
        return [Case.from_row(r) for r in rows]
