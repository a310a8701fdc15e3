"""マネー移動 in the journal: a move is a credit row of kind ``exchange`` (the journal's data since
schema 7; :data:`CreditKind.MOVE` in the code).

It is journaled with its ``request_id`` before the first attempt and then goes through the same
states and the same delivery as a cash credit (pending → sent → confirmed | refused). What
differs: nothing was taken from the member, so a move the wallet refuses for good moved
nothing and opens no staff case; and the member is told how it ended, at once or, when it was
still being processed, at their next touch (``told``).
"""

from __future__ import annotations

import time
import uuid

from kiosk.journal.credits import counts_by_state
from kiosk.journal.db import Database
from kiosk.journal.records import Credit, CreditKind

_MOVE = f"kind = '{CreditKind.MOVE.value}'"


class Moves:
    def __init__(self, db: Database) -> None:
        self.db = db

    def open(
        self,
        user_id: str,
        source: tuple[str, str],
        target: tuple[str, str],
        amount: int,
    ) -> Credit:
        """Journal a move of ``amount`` from ``source`` to ``target`` (each ``(bucket, money
        id)``) with a new ``request_id``, durable before anything is sent."""
        if amount <= 0:
            raise ValueError(f"a move is of a positive amount, not {amount}")
        now = time.time()
        with self.db.write() as tx:
            cursor = tx.execute(
                "INSERT INTO credits (request_id, user_id, money_id, bucket, amount, kind,"
                " source_money_id, source_bucket, told, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)",
                (
                    str(uuid.uuid4()),
                    user_id,
                    target[1],
                    target[0],
                    amount,
                    CreditKind.MOVE.value,
                    source[1],
                    source[0],
                    now,
                    now,
                ),
            )
            row = tx.execute("SELECT * FROM credits WHERE id = ?", (cursor.lastrowid,)).fetchone()
        return Credit.from_row(row)

    def decline(self, credit_id: int, error_type: str) -> bool:
        """Refused for good by the wallet: nothing moved, the member is told, no case."""
        with self.db.write() as tx:
            changed = tx.execute(
                "UPDATE credits SET state = 'refused', last_error = ?, updated_at = ?"
                f" WHERE id = ? AND {_MOVE} AND state IN ('pending', 'sent')",
                (error_type[:300], time.time(), credit_id),
            ).rowcount
        return bool(changed)

    def of_member(self, user_id: str) -> list[Credit]:
        """The member's moves still being processed, and the settled ones they have not
        been told about, oldest first."""
        rows = self.db.query(
            f"SELECT * FROM credits WHERE user_id = ? AND {_MOVE}"
            " AND (state IN ('pending', 'sent') OR told = 0) ORDER BY id",
            (user_id,),
        )
        return [Credit.from_row(r) for r in rows]

    def told(self, credit_ids: list[int]) -> None:
        """The member has seen how these settled moves ended."""
        if not credit_ids:
            return
        marks = ",".join("?" * len(credit_ids))
        with self.db.write() as tx:
            tx.execute(
                f"UPDATE credits SET told = 1 WHERE id IN ({marks})"
                " AND state IN ('confirmed', 'refused')",
                tuple(credit_ids),
            )

    def counts(self) -> dict[str, int]:
        return counts_by_state(self.db, CreditKind.MOVE)
