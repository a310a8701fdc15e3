"""Rows of the journal as typed records."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any, Self


class CreditState(StrEnum):
    """Where a credit is on its way to the wallet (stored as its value)."""

    PENDING = "pending"  # journaled, not sent yet (or known not to have been created)
    SENT = "sent"  # an attempt went out; its outcome is unknown until answered or looked up
    CONFIRMED = "confirmed"  # the wallet has the top-up
    REFUSED = "refused"  # refused for good: a staff case (a move: nothing moved, no case)

    @property
    def settled(self) -> bool:
        return self in (CreditState.CONFIRMED, CreditState.REFUSED)


class CreditKind(StrEnum):
    """What a credit row carries to the wallet (stored as its value)."""

    CASH = "cash"  # a session's stacked notes: a top-up
    # マネー移動: the member's own money moved from ``source_bucket``. The value "exchange": the
    # journal's data (column credits.kind) since schema 7, kept as written.
    MOVE = "exchange"


class SessionOutcome(StrEnum):
    """How a journaled charge session was closed (stored as its value)."""

    CREDITED = "credited"  # closed by the member (or the idle time-out) into its credit
    FINISHED = "finished"  # closed by the member with no note stacked
    NOTHING_INSERTED = "nothing_inserted"  # ended before any note went in
    CLOSED_AFTER_RESTART = "closed_after_restart"  # left open by a crash: closed at the start
    CLOSED_AFTER_JOURNAL_FAILURE = "closed_after_journal_failure"  # once the journal wrote again


class _Row:
    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Self:
        return cls(**{f.name: row[f.name] for f in fields(cls)})  # type: ignore[arg-type]


@dataclass(frozen=True)
class SessionRecord(_Row):
    id: int
    started_at: float
    card_tag: str
    user_id: str | None
    user_name: str | None
    bucket: str | None
    money_id: str | None
    state: str  # open | finished
    outcome: str | None
    finished_at: float | None


@dataclass(frozen=True)
class Credit(_Row):
    id: int
    request_id: str
    session_id: int | None
    user_id: str
    money_id: str
    bucket: str
    amount: int
    state: CreditState
    attempts: int
    next_attempt_at: float
    transaction_id: str | None
    last_error: str | None
    reference: str | None
    created_at: float
    kind: CreditKind = CreditKind.CASH
    source_money_id: str | None = None  # a move's sender money
    source_bucket: str | None = None
    told: bool = True  # a move: the member has seen how it ended

    def __post_init__(self) -> None:
        object.__setattr__(self, "state", CreditState(self.state))
        object.__setattr__(self, "kind", CreditKind(self.kind))
        object.__setattr__(self, "told", bool(self.told))

    @property
    def is_move(self) -> bool:
        return self.kind is CreditKind.MOVE

    @property
    def outcome_unknown(self) -> bool:
        """An attempt went out and its answer never arrived (or was not recorded)."""
        return self.state is CreditState.SENT


@dataclass(frozen=True)
class Case(_Row):
    id: int
    reference: str
    kind: str  # refused_credit | refused_move | uncredited_note | unresolved_note
    credit_id: int | None
    note_id: int | None
    user_id: str | None
    amount: int | None
    detail: str
    state: str  # open | resolved
    resolution: str | None
    resolved_by: str | None
    resolved_at: float | None
    created_at: float
    resolution_note: str | None  # what staff did, when resolved by hand


def as_dict(record: Any) -> dict[str, Any]:
    return {f.name: getattr(record, f.name) for f in fields(record)}
