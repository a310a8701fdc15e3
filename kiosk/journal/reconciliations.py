"""Reconciliation runs with the wallet's ledger as the journal keeps them: one row per run of a
day (agreed, mismatch or postponed) and one per finding; a mismatch opens a ``wallet_mismatch``
staff case, once per day and finding (a rerun of the day names the same case).

A run is written in one transaction: a run killed before it ends leaves nothing behind, and its
rerun starts from the same journal."""

from __future__ import annotations

import time
from dataclasses import dataclass

from kiosk.journal.cases import Cases
from kiosk.journal.db import Database

AGREED, MISMATCH, POSTPONED = "agreed", "mismatch", "postponed"
OPEN = "open"  # a finding that is not a mismatch: a credit still on its way to the wallet


@dataclass(frozen=True)
class Finding:
    """One row that does not simply agree: ``key`` names it within its day (the transaction id
    or request id it is about, and what differs), ``kind`` what is wrong."""

    key: str
    kind: str  # wallet_only | journal_only | cancelled | amount | money | member | open
    detail: str
    amount: int | None = None

    @property
    def mismatch(self) -> bool:
        return self.kind != OPEN


@dataclass(frozen=True)
class Run:
    """A run of one day as journaled."""

    id: int
    day: str  # YYYY-MM-DD in the co-op's time zone
    at: float
    by: str
    result: str  # agreed | mismatch | postponed
    wallet_rows: int
    journal_rows: int
    matched: int
    open: int
    mismatches: int
    seconds: float
    detail: str  # why it was postponed
    findings: tuple[tuple[Finding, str | None], ...] = ()  # with the case it opened


class Reconciliations:
    def __init__(self, db: Database, cases: Cases) -> None:
        self.db = db
        self.cases = cases

    def record(
        self,
        day: str,
        by: str,
        findings: list[Finding],
        *,
        wallet_rows: int,
        journal_rows: int,
        matched: int,
        seconds: float,
    ) -> Run:
        """A finished run and its findings, and a case for each mismatch not already opened
        for this day: all in one transaction."""
        mismatches = [f for f in findings if f.mismatch]
        result = MISMATCH if mismatches else AGREED
        with self.db.write() as tx:
            run_id = tx.execute(
                "INSERT INTO reconciliations (day, at, by, result, wallet_rows, journal_rows,"
                " matched, open, mismatches, seconds) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    day,
                    time.time(),
                    by,
                    result,
                    wallet_rows,
                    journal_rows,
                    matched,
                    len(findings) - len(mismatches),
                    len(mismatches),
                    seconds,
                ),
            ).lastrowid
            for finding in findings:
                reference = None
                if finding.mismatch:
                    known = tx.execute(
                        "SELECT case_reference FROM reconciliation_findings WHERE day = ?"
                        " AND key = ? AND case_reference IS NOT NULL LIMIT 1",
                        (day, finding.key),
                    ).fetchone()
                    reference = (
                        known["case_reference"]
                        if known is not None
                        else self.cases.open_in(
                            tx,
                            "wallet_mismatch",
                            amount=finding.amount,
                            detail=f"{day}: {finding.detail}"[:500],
                        )
                    )
                tx.execute(
                    "INSERT INTO reconciliation_findings (run_id, day, key, kind, amount, detail,"
                    " case_reference) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        run_id,
                        day,
                        finding.key,
                        finding.kind,
                        finding.amount,
                        finding.detail,
                        reference,
                    ),
                )
            self.cases.event_in(
                tx,
                "reconcile",
                f"{day} reconciled by {by}: {result}, {matched} matched,"
                f" {len(mismatches)} mismatches, {len(findings) - len(mismatches)} open",
            )
        assert run_id is not None
        run = self.get(run_id)
        assert run is not None
        return run

    def postponed(self, day: str, by: str, why: str) -> Run:
        """A run that could not be made now (the wallet down): said, tried again later."""
        with self.db.write() as tx:
            run_id = tx.execute(
                "INSERT INTO reconciliations (day, at, by, result, detail) VALUES (?, ?, ?, ?, ?)",
                (day, time.time(), by, POSTPONED, why[:500]),
            ).lastrowid
            self.cases.event_in(tx, "reconcile", f"{day} reconciliation postponed: {why}")
        assert run_id is not None
        run = self.get(run_id)
        assert run is not None
        return run

    def get(self, run_id: int) -> Run | None:
        row = self.db.one("SELECT * FROM reconciliations WHERE id = ?", (run_id,))
        if row is None:
            return None
        findings = tuple(
            (Finding(r["key"], r["kind"], r["detail"], r["amount"]), r["case_reference"])
            for r in self.db.query(
                "SELECT * FROM reconciliation_findings WHERE run_id = ? ORDER BY id", (run_id,)
            )
        )
        return Run(
            id=int(row["id"]),
            day=str(row["day"]),
            at=float(row["at"]),
            by=str(row["by"]),
            result=str(row["result"]),
            wallet_rows=int(row["wallet_rows"]),
            journal_rows=int(row["journal_rows"]),
            matched=int(row["matched"]),
            open=int(row["open"]),
            mismatches=int(row["mismatches"]),
            seconds=float(row["seconds"]),
            detail=str(row["detail"]),
            findings=findings,
        )

    def last(self, day: str | None = None, *, done: bool = False) -> Run | None:
        """The latest run (of ``day``; ``done``: only one that reached a result)."""
        where, args = ["1 = 1"], []
        if day is not None:
            where, args = [*where, "day = ?"], [day]
        if done:
            where.append(f"result != '{POSTPONED}'")
        row = self.db.one(
            f"SELECT id FROM reconciliations WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT 1",
            tuple(args),
        )
        return None if row is None else self.get(int(row["id"]))
