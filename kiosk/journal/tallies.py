"""The journal's "ever" figures without reading its rows: notes stacked, and credits of each kind
in each state (how many, their yen, the last time one came into the state), kept in the
``tallies`` table by triggers in the transaction of the row they count (schema 10)."""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.journal.db import Database
from kiosk.journal.records import CreditKind

STACKED = "stacked"


@dataclass(frozen=True)
class Tally:
    n: int
    total: int  # yen
    last: float | None  # when the last one was counted (None: never)


def tally(db: Database, name: str) -> Tally:
    row = db.one("SELECT n, total, last FROM tallies WHERE name = ?", (name,))
    if row is None:
        return Tally(0, 0, None)
    last = row["last"]
    return Tally(int(row["n"]), int(row["total"]), None if last is None else float(last))


def credit_name(kind: CreditKind, state: str) -> str:
    return f"credits {kind.value} {state}"


def credits_in(db: Database, kind: CreditKind, state: str) -> Tally:
    """Credits of ``kind`` in ``state`` now (``last``: when one last came into it)."""
    return tally(db, credit_name(kind, state))


def credit_counts(db: Database, kind: CreditKind) -> dict[str, int]:
    """How many credits of ``kind`` are in each state (states with none left out)."""
    prefix = credit_name(kind, "")
    rows = db.query(
        "SELECT name, n FROM tallies WHERE name >= ? AND name < ? AND n > 0",
        (prefix, prefix + "\uffff"),
    )
    return {str(r["name"])[len(prefix) :]: int(r["n"]) for r in rows}
