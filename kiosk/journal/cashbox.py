"""The cash-box ledger: one row per stacked note, counted per denomination since the last
collection."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from kiosk.journal.db import Database


@dataclass(frozen=True)
class CashboxCount:
    counts: dict[int, int]  # note value → notes in the box

    @property
    def notes(self) -> int:
        return sum(self.counts.values())

    @property
    def total(self) -> int:
        return sum(value * n for value, n in self.counts.items())


class Cashbox:
    def __init__(self, db: Database) -> None:
        self.db = db

    def count(self) -> CashboxCount:
        rows = self.db.query(
            "SELECT value, COUNT(*) AS n FROM cashbox WHERE collection_id IS NULL GROUP BY value"
        )
        return CashboxCount({int(r["value"]): int(r["n"]) for r in rows})

    def collect(self, who: str) -> CashboxCount:
        """Staff emptied the box: journal who, when and what, and start counting from zero."""
        with self.db.write() as tx:
            rows = tx.execute(
                "SELECT value, COUNT(*) AS n FROM cashbox WHERE collection_id IS NULL"
                " GROUP BY value"
            ).fetchall()
            counted = CashboxCount({int(r["value"]): int(r["n"]) for r in rows})
            cursor = tx.execute(
                "INSERT INTO collections (at, who, counts, total) VALUES (?, ?, ?, ?)",
                (time.time(), who, json.dumps(counted.counts), counted.total),
            )
            tx.execute(
                "UPDATE cashbox SET collection_id = ? WHERE collection_id IS NULL",
                (cursor.lastrowid,),
            )
        return counted

    def matches_notes(self) -> bool:
        """The ledger holds exactly the notes reported stacked (an invariant)."""
        row = self.db.one(
            "SELECT (SELECT COUNT(*) FROM notes WHERE state = 'stacked') AS stacked,"
            " (SELECT COUNT(*) FROM cashbox) AS boxed,"
            " (SELECT COUNT(*) FROM cashbox c JOIN notes n ON n.id = c.note_id"
            "   WHERE n.state = 'stacked' AND n.value = c.value) AS matched"
        )
        assert row is not None
        return bool(row["stacked"] == row["boxed"] == row["matched"])
