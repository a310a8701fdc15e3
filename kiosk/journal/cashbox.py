"""The cash-box ledger: one row per stacked note, counted per denomination since the last
collection, and the collections themselves (expected against counted notes)."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from kiosk.core.money import DENOMINATIONS
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

    def of(self, value: int) -> int:
        return self.counts.get(value, 0)


@dataclass(frozen=True)
class Collection:
    """Staff emptied the cash box: what the journal expected, what they counted (None for a
    collection recorded without a count), who, when, and their note."""

    id: int
    at: float
    who: str
    expected: CashboxCount
    counted: CashboxCount | None
    note: str

    @property
    def discrepancy(self) -> int | None:
        """Counted − expected, in yen (None when nothing was counted)."""
        return None if self.counted is None else self.counted.total - self.expected.total

    def differences(self) -> dict[int, int]:
        """Counted − expected notes per denomination, only where they differ."""
        if self.counted is None:
            return {}
        values = sorted(set(self.expected.counts) | set(self.counted.counts))
        return {
            v: self.counted.of(v) - self.expected.of(v)
            for v in values
            if self.counted.of(v) != self.expected.of(v)
        }


def check_counted(counted: Mapping[int, int]) -> CashboxCount:
    """Staff's count, every denomination listed (missing ones are 0); ``ValueError`` naming
    the first value that is not a note the kiosk takes or a count below zero."""
    for value, n in counted.items():
        if value not in DENOMINATIONS:
            raise ValueError(f"{value} yen is not a note this kiosk takes ({_names()})")
        if n < 0:
            raise ValueError(f"{value} yen: {n} notes is below zero")
    return CashboxCount({v: int(counted.get(v, 0)) for v in DENOMINATIONS})


def _names() -> str:
    return ", ".join(f"¥{v:,}" for v in DENOMINATIONS)


def _counts(text: str | None) -> CashboxCount | None:
    if text is None:
        return None
    return CashboxCount({int(v): int(n) for v, n in json.loads(text).items()})


# How the engine journals the acceptor's stacker-open fault ("<source>: <kind> <detail>").
STACKER_OPEN_FAULT = "acceptor: stacker_open"


class Cashbox:
    def __init__(self, db: Database) -> None:
        self.db = db

    def count(self) -> CashboxCount:
        rows = self.db.query(
            "SELECT value, COUNT(*) AS n FROM cashbox WHERE collection_id IS NULL GROUP BY value"
        )
        return CashboxCount({int(r["value"]): int(r["n"]) for r in rows})

    def collect(self, who: str) -> CashboxCount:
        """Staff emptied the box without counting it: journal who, when and what the ledger
        held, and start counting from zero. Returns what the ledger held."""
        return self.record_collection(who, None).expected

    def record_collection(
        self,
        who: str,
        counted: Mapping[int, int] | None,
        note: str = "",
        event: Callable[[Collection], str] | None = None,
    ) -> Collection:
        """Staff emptied the box and counted ``counted`` (value → notes; None: not counted):
        the expected counts from the ledger, the counted ones, the discrepancy, who, when and
        the note land in one transaction with the start of a new period, and with the
        ``staff`` event ``event(record)`` describes, if given. A discrepancy is recorded as
        it is."""
        if not who.strip():
            raise ValueError("who collected the cash box is required")
        count = check_counted(counted) if counted is not None else None
        now = time.time()
        with self.db.write() as tx:
            rows = tx.execute(
                "SELECT value, COUNT(*) AS n FROM cashbox WHERE collection_id IS NULL"
                " GROUP BY value"
            ).fetchall()
            expected = CashboxCount({int(r["value"]): int(r["n"]) for r in rows})
            cursor = tx.execute(
                "INSERT INTO collections (at, who, counts, total, counted, discrepancy, note)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    now,
                    who,
                    json.dumps(expected.counts),
                    expected.total,
                    json.dumps(count.counts) if count is not None else None,
                    count.total - expected.total if count is not None else None,
                    note,
                ),
            )
            assert cursor.lastrowid is not None
            record = Collection(cursor.lastrowid, now, who, expected, count, note)
            tx.execute(
                "UPDATE cashbox SET collection_id = ? WHERE collection_id IS NULL", (record.id,)
            )
            if event is not None:
                tx.execute(
                    "INSERT INTO events (at, kind, detail) VALUES (?, 'staff', ?)",
                    (now, event(record)[:500]),
                )
        return record

    def collection(self, collection_id: int) -> Collection:
        row = self.db.one("SELECT * FROM collections WHERE id = ?", (collection_id,))
        if row is None:
            raise KeyError(f"no collection #{collection_id}")
        return self.from_row(row)

    def collections(self, last: int | None = None) -> list[Collection]:
        """Collections, newest first (the ``last`` ones only, if given)."""
        rows = self.db.query(
            "SELECT * FROM collections ORDER BY id DESC LIMIT ?", (-1 if last is None else last,)
        )
        return [self.from_row(r) for r in rows]

    def last_collection(self) -> Collection | None:
        latest = self.collections(1)
        return latest[0] if latest else None

    def removals(self) -> list[float]:
        """When the cash box was taken out (the acceptor reported its stacker open) since the
        last collection was recorded: each is cash out of the kiosk with no count yet."""
        last = self.last_collection()
        rows = self.db.query(
            # the fault events since then, by their index: not a scan of years of events
            "SELECT at FROM events INDEXED BY events_faults WHERE kind = 'fault'"
            " AND detail LIKE ? AND at > ? ORDER BY id",
            (f"{STACKER_OPEN_FAULT}%", 0.0 if last is None else last.at),
        )
        return [float(r["at"]) for r in rows]

    @staticmethod
    def from_row(row: sqlite3.Row) -> Collection:
        """A row of the ``collections`` table as a :class:`Collection`."""
        expected = _counts(row["counts"])
        assert expected is not None
        return Collection(
            id=int(row["id"]),
            at=float(row["at"]),
            who=str(row["who"]),
            expected=expected,
            counted=_counts(row["counted"]),
            note=str(row["note"] or ""),
        )

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
