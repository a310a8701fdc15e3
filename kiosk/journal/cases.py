"""Staff cases: money the kiosk could not settle by itself, each with a human reference.

The money rule between staff and the delivery worker, kept by conditional updates inside one
journal transaction each (whichever lands first wins; the other is refused):

- a case is resolved by hand only while it is open and its credit (if any) is neither
  ``pending`` nor ``sent`` (not on its way to the wallet) nor ``confirmed``;
- a refused credit's case is retried only while it is open and its credit is ``refused``: the
  credit goes back to ``pending`` with the same ``request_id``;
- the worker confirms only from ``pending``/``sent``, closing the case in the same transaction.

So a case resolved by hand never has its credit sent again, and a credit on its way to the
wallet (whose outcome may already be committed there) is never also settled by hand.
"""

from __future__ import annotations

import re
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime

from kiosk.journal.db import Database
from kiosk.journal.records import Case

# refused_move: a マネー移動 the wallet refused oddly (request id conflict, another transaction
# returned): no cash was taken, so it can be retried or settled by hand but never refunded
# journal_file: the journal's file was removed, replaced or truncated under the running kiosk
# and restored from its open connection: nothing to pay back, staff find out who did it
# wallet_mismatch: the wallet's ledger and the journal disagree on a day (reconciliation): for
# the co-op's accounts, no member's money to give back here
KINDS = (
    "refused_credit",
    "refused_move",
    "uncredited_note",
    "unresolved_note",
    "journal_file",
    "wallet_mismatch",
)
RETRIABLE = ("refused_credit", "refused_move")
RESOLUTIONS = ("refunded", "credited_manually", "no_money_involved")
# How staff may settle a case of each kind by hand on the touch screen
SETTLED_AS: dict[str, tuple[str, ...]] = {
    "refused_credit": ("refunded", "credited_manually"),
    "refused_move": ("credited_manually",),  # a move took no cash: nothing to refund
    "uncredited_note": ("refunded", "credited_manually"),
    "unresolved_note": ("refunded", "credited_manually"),
    "journal_file": ("no_money_involved",),
    "wallet_mismatch": ("no_money_involved",),  # put right in the co-op's accounts
}
CREDITED_ON_RETRY = "credited_on_retry"  # closed by the delivery worker, not by staff
NOTE_MAX = 200
_IN_FLIGHT = ("pending", "sent")
_CARD_ID = re.compile(r"\b[0-9A-Fa-f]{16}\b")  # an IDm typed into a note


class CaseRefused(ValueError):
    """A staff action the case's state does not allow now (often: another action came first)."""


@dataclass(frozen=True)
class CaseSummary:
    """A case with what staff need beside it: its credit's state and whose money it is."""

    case: Case
    credit_state: str | None  # None: no credit (a note case)
    member: str | None  # the session's member name, if known
    card_tag: str | None  # masked card id, as journaled
    note: str | None  # the resolution note


def clean_note(note: str) -> str:
    """A resolution note fit for the journal: one line, at most NOTE_MAX characters, a card id
    in it masked. Raises ValueError for an empty or too long note."""
    text = " ".join(note.split())
    if not text:
        raise ValueError("the note is empty: say what was done (e.g. who got the cash back)")
    if len(text) > NOTE_MAX:
        raise ValueError(f"the note is {len(text)} characters long; at most {NOTE_MAX}")
    return _CARD_ID.sub(lambda m: m[0][:4] + "…" + m[0][-2:], text)


def _resolved_prefix(reference: str, resolution: str, who: str) -> str:
    return f"case {reference} resolved as {resolution} by {who}; note: "


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
        """Open a case; a case of this kind for the same note is not opened twice (the note's
        ledger write may have opened it already): its reference is returned."""
        with self.db.write() as tx:
            if links.get("note_id") is not None:
                row = tx.execute(
                    "SELECT reference FROM cases WHERE note_id = ? AND kind = ?",
                    (links["note_id"], kind),
                ).fetchone()
                if row is not None:
                    return str(row["reference"])
            return self.open_in(tx, kind, amount=amount, detail=detail, **links)  # type: ignore[arg-type]

    def resolve(self, reference: str, resolution: str, who: str, note: str = "") -> Case:
        """Settled by hand: only while open and its credit is not on its way to the wallet
        (:class:`CaseRefused` otherwise, KeyError for no such case). The note is kept with the
        case and in the journal's events with who and how, in the same transaction."""
        if resolution not in RESOLUTIONS:
            raise ValueError(f"resolution must be one of {', '.join(RESOLUTIONS)}")
        text = clean_note(note) if note else ""
        with self.db.write() as tx:
            if resolution == "refunded" and self._case(tx, reference).kind == "refused_move":
                raise CaseRefused(
                    f"case {reference} is a move between the member's own moneys: no cash was"
                    " taken, so nothing can be refunded (credited by hand, or no money involved)"
                )
            changed = tx.execute(
                "UPDATE cases SET state = 'resolved', resolution = ?, resolved_by = ?,"
                " resolved_at = ?, resolution_note = ? WHERE reference = ? AND state = 'open'"
                " AND NOT EXISTS (SELECT 1 FROM credits c WHERE c.id = cases.credit_id"
                "  AND c.state IN ('pending', 'sent', 'confirmed'))",
                (resolution, who, time.time(), text or None, reference),
            ).rowcount
            if not changed:
                raise self._why_not(tx, reference, "resolved")
            self.event_in(tx, "staff", _resolved_prefix(reference, resolution, who) + (text or "-"))
        return self.get(reference)

    def retry(self, reference: str, who: str) -> Case:
        """Send a refused credit again, with its same ``request_id`` (credited at most once,
        even if the wallet had committed it): the credit goes back to ``pending`` for the
        delivery worker; the case stays open until the worker confirms it (then it is closed
        as ``credited_on_retry``) or the wallet refuses it again."""
        with self.db.write() as tx:
            case = self._case(tx, reference)
            if case.kind not in RETRIABLE or case.credit_id is None:
                raise CaseRefused(
                    f"case {reference} is an {case.kind.replace('_', ' ')}: only a refused"
                    " credit or move can be retried; resolve it by hand"
                )
            changed = tx.execute(
                "UPDATE credits SET state = 'pending', updated_at = ? WHERE id = ?"
                " AND state = 'refused' AND EXISTS"
                " (SELECT 1 FROM cases WHERE reference = ? AND state = 'open')",
                (time.time(), case.credit_id, reference),
            ).rowcount
            if not changed:
                raise self._why_not(tx, reference, "retried")
            self.event_in(
                tx,
                "staff",
                f"case {reference} retried by {who}: credit #{case.credit_id} back to delivery"
                " with its same request",
            )
        return self.get(reference)

    def close_credited_in(self, tx: sqlite3.Connection, credit_id: int) -> str | None:
        """Inside the worker's confirming transaction: the open case of a retried credit is
        closed as credited. Returns its reference, None if the credit had no open case."""
        row = tx.execute(
            "SELECT reference FROM cases WHERE credit_id = ? AND state = 'open'", (credit_id,)
        ).fetchone()
        if row is None:
            return None
        tx.execute(
            "UPDATE cases SET state = 'resolved', resolution = ?, resolved_by = 'delivery',"
            " resolved_at = ? WHERE reference = ?",
            (CREDITED_ON_RETRY, time.time(), row["reference"]),
        )
        self.event_in(
            tx, "credit", f"case {row['reference']} closed: credit #{credit_id} credited on retry"
        )
        return str(row["reference"])

    def get(self, reference: str) -> Case:
        row = self.db.one("SELECT * FROM cases WHERE reference = ?", (reference,))
        if row is None:
            raise KeyError(f"no case {reference}")
        return Case.from_row(row)

    def summaries(self, include_resolved: bool = False) -> list[CaseSummary]:
        """Open cases (or all), oldest first, with their credit's state and member."""
        rows = self.db.query(
            "SELECT cases.*, c.state AS credit_state, s.user_name, s.card_tag FROM cases"
            " LEFT JOIN credits c ON c.id = cases.credit_id"
            " LEFT JOIN sessions s ON s.id = c.session_id"
            + ("" if include_resolved else " WHERE cases.state = 'open'")
            + " ORDER BY cases.id"
        )
        summaries = []
        for row in rows:
            case = Case.from_row(row)
            summaries.append(
                CaseSummary(
                    case, row["credit_state"], row["user_name"], row["card_tag"], self.note_of(case)
                )
            )
        return summaries

    def note_of(self, case: Case) -> str | None:
        """The note staff left when resolving the case by hand."""
        if case.state != "resolved" or case.resolution not in RESOLUTIONS:
            return None
        return case.resolution_note

    def _case(self, tx: sqlite3.Connection, reference: str) -> Case:
        row = tx.execute("SELECT * FROM cases WHERE reference = ?", (reference,)).fetchone()
        if row is None:
            raise KeyError(f"no case {reference}")
        return Case.from_row(row)

    def _why_not(self, tx: sqlite3.Connection, reference: str, action: str) -> Exception:
        """Why a case could not be resolved or retried now, in one line for staff."""
        case = self._case(tx, reference)  # KeyError: no such case
        if case.state != "open":
            if case.resolution == CREDITED_ON_RETRY:
                return CaseRefused(
                    f"case {reference} cannot be {action}: its credit was credited on retry"
                )
            return CaseRefused(
                f"case {reference} cannot be {action}: already resolved as {case.resolution}"
                f" by {case.resolved_by}"
            )
        credit = tx.execute("SELECT state FROM credits WHERE id = ?", (case.credit_id,)).fetchone()
        state = credit["state"] if credit else None
        if state in _IN_FLIGHT:
            return CaseRefused(
                f"case {reference} cannot be {action}: its credit is being retried ({state});"
                " wait until it is credited or refused again"
            )
        if state == "confirmed":
            return CaseRefused(f"case {reference} cannot be {action}: its credit was credited")
        return CaseRefused(f"case {reference} cannot be {action} now (credit {state})")

    @staticmethod
    def event_in(tx: sqlite3.Connection, kind: str, detail: str) -> None:
        """An operational event inside the caller's transaction (as ``Journal.log``)."""
        tx.execute(
            "INSERT INTO events (at, kind, detail) VALUES (?, ?, ?)",
            (time.time(), kind, detail[:500]),
        )

    def list(self, state: str | None = "open") -> list[Case]:
        if state is None:
            rows = self.db.query("SELECT * FROM cases ORDER BY id")
        else:
            rows = self.db.query("SELECT * FROM cases WHERE state = ? ORDER BY id", (state,))
        return [Case.from_row(r) for r in rows]
