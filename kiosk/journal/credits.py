"""Credits in the journal: pending → sent → confirmed | refused (a refusal opens a case; staff
may send a refused credit again: refused → pending, same request_id, see kiosk.journal.cases)."""

from __future__ import annotations

import time
from collections.abc import Container

from kiosk.journal.cases import Cases
from kiosk.journal.db import Database
from kiosk.journal.records import Credit, CreditKind
from kiosk.journal.tallies import credit_counts

OPEN_STATES = ("pending", "sent")


class Credits:
    def __init__(self, db: Database, cases: Cases) -> None:
        self.db = db
        self.cases = cases

    def get(self, credit_id: int) -> Credit:
        row = self.db.one("SELECT * FROM credits WHERE id = ?", (credit_id,))
        if row is None:
            raise KeyError(credit_id)
        return Credit.from_row(row)

    def due(self, waiting: Container[int] = (), limit: int = 100) -> list[Credit]:
        """Open credits to attempt now, oldest first: all but those in ``waiting`` (ids whose
        retry time has not come: the delivery worker keeps those times on the monotonic clock,
        never on ``next_attempt_at``). A member's credit is held back while an earlier one of
        theirs waits: an unknown outcome is resolved before anything else is sent for that
        member, and one member's backlog holds up nobody else's."""
        held: set[str] = set()
        due: list[Credit] = []
        for credit in self.open_credits():
            if credit.user_id in held:
                continue
            if credit.id in waiting:
                held.add(credit.user_id)
                continue
            due.append(credit)
            if len(due) >= limit:
                break
        return due

    def open_credits(
        self, user_id: str | None = None, kind: CreditKind | None = None
    ) -> list[Credit]:
        """Credits not settled yet, oldest first (of one member, of one kind: all if None)."""
        sql = "SELECT * FROM credits WHERE state IN ('pending', 'sent')"
        args: tuple[str, ...] = ()
        if user_id is not None:
            sql, args = sql + " AND user_id = ?", (user_id,)
        if kind is not None:
            sql, args = sql + " AND kind = ?", (*args, kind.value)
        return [Credit.from_row(r) for r in self.db.query(sql + " ORDER BY id", args)]

    def mark_sent(self, credit_id: int) -> bool:
        """Journaled before each attempt: from now on the outcome is unknown until answered.
        False if the credit is no longer open (settled meanwhile): send nothing then."""
        with self.db.write() as tx:
            changed = tx.execute(
                "UPDATE credits SET state = 'sent', attempts = attempts + 1, updated_at = ?"
                " WHERE id = ? AND state IN ('pending', 'sent')",
                (time.time(), credit_id),
            ).rowcount
        return bool(changed)

    def confirm(self, credit_id: int, transaction_id: str) -> bool:
        """The wallet has it: only from pending/sent, and a retried credit's open case is
        closed in the same transaction. False if the credit was not open."""
        with self.db.write() as tx:
            changed = tx.execute(
                "UPDATE credits SET state = 'confirmed', transaction_id = ?, last_error = NULL,"
                " updated_at = ? WHERE id = ? AND state IN ('pending', 'sent')",
                (transaction_id, time.time(), credit_id),
            ).rowcount
            if changed:
                self.cases.close_credited_in(tx, credit_id)
        return bool(changed)

    def not_created(self, credit_id: int) -> None:
        """The wallet says this request_id created nothing: safe to send it (again)."""
        with self.db.write() as tx:
            tx.execute(
                "UPDATE credits SET state = 'pending', updated_at = ? WHERE id = ?"
                " AND state = 'sent'",
                (time.time(), credit_id),
            )

    def retry_later(self, credit_id: int, error: str, next_attempt_at: float) -> None:
        """The attempt failed; ``next_attempt_at`` (wall clock) is information for staff only:
        nothing waits on it (a clock step must not hold a credit back)."""
        with self.db.write() as tx:
            tx.execute(
                "UPDATE credits SET last_error = ?, next_attempt_at = ?, updated_at = ?"
                " WHERE id = ?",
                (error[:300], next_attempt_at, time.time(), credit_id),
            )

    def refuse(self, credit_id: int, error_type: str, message: str) -> str:
        """Refused for good: the credit stops and a staff case opens, in one transaction.
        Returns the case reference shown to the member."""
        with self.db.write() as tx:
            credit = Credit.from_row(
                tx.execute("SELECT * FROM credits WHERE id = ?", (credit_id,)).fetchone()
            )
            if credit.reference:  # a retried credit refused again: its case is still open
                again = tx.execute(
                    "UPDATE credits SET state = 'refused', last_error = ?, updated_at = ?"
                    " WHERE id = ? AND state IN ('pending', 'sent')",
                    (error_type, time.time(), credit_id),
                ).rowcount
                if again:
                    self.cases.event_in(
                        tx,
                        "credit",
                        f"case {credit.reference}: credit #{credit_id} refused again"
                        f" ({error_type})",
                    )
                return credit.reference
            reference = self.cases.open_in(
                tx,
                "refused_move" if credit.is_move else "refused_credit",
                amount=credit.amount,
                credit_id=credit.id,
                user_id=credit.user_id,
                detail=f"{error_type}: {message}"[:300],
            )
            tx.execute(
                "UPDATE credits SET state = 'refused', last_error = ?, reference = ?,"
                " updated_at = ? WHERE id = ?",
                (error_type, reference, time.time(), credit_id),
            )
        return reference

    def counts(self) -> dict[str, int]:
        """Cash credits by state (moves: ``Moves.counts``)."""
        return counts_by_state(self.db, CreditKind.CASH)


def counts_by_state(db: Database, kind: CreditKind) -> dict[str, int]:
    """How many credits of ``kind`` are in each state (from the tallies: nothing is counted)."""
    return credit_counts(db, kind)


def oldest_age(credits: list[Credit], now: float) -> float | None:
    """Seconds the oldest of ``credits`` has waited (None: there are none)."""
    oldest = min((c.created_at for c in credits), default=None)
    return None if oldest is None else max(0.0, now - oldest)
