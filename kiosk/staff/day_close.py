"""The daily close (日計): one day of the kiosk as the journal has it, in the co-op's time zone —
the notes taken by denomination, the cash credited per money, マネー移動 per route (no cash),
the credits still open at the day's end, cases opened and settled, collections, and the cash box
at the day's end. Read-only: closing a day changes nothing but the events log (who closed it).

A credit's state at the day's end is read from its last change (``updated_at``): settled by then
if it was confirmed or refused before the end, else open at the end (delivered later, or still
waiting now)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from kiosk.core.days import day_bounds
from kiosk.core.money import DENOMINATIONS, yen
from kiosk.journal import Journal
from kiosk.journal.reconciliations import Run
from kiosk.journal.records import CreditKind, CreditState
from kiosk.ops.reconcile import run_text
from kiosk.staff.cashbox_report import notes as note_count


@dataclass(frozen=True)
class Tally:
    """How many, and how much."""

    count: int = 0
    amount: int = 0

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.count + other.count, self.amount + other.amount)


@dataclass(frozen=True)
class DayClose:
    kiosk_id: str
    day: date
    zone: str
    start: float  # the day's first second (epoch) in the co-op's time zone
    end: float  # the next day's first second
    notes: dict[int, int]  # denomination → notes put in the cash box that day
    cash: dict[str, Tally]  # bucket → cash credits made that day (every state)
    confirmed: dict[str, Tally]  # bucket → of those, confirmed by the day's end
    moves: dict[tuple[str, str], Tally]  # (source, target) → moves made that day, confirmed
    refused: Tally  # credits and moves of the day refused by the day's end
    open_at_end: Tally  # credits (of any day) not settled at the day's end
    open_credits: tuple[tuple[str, str, int], ...]  # (reference or request id, bucket, amount)
    cases_opened: int
    cases_settled: int
    collections: tuple[tuple[float, str, int, int | None], ...]  # at, who, total, discrepancy
    cashbox_at_end: dict[int, int] = field(default_factory=dict)  # denomination → notes
    reconciliation: Run | None = None  # the day's last check against the wallet's ledger

    @property
    def cash_in(self) -> Tally:
        return Tally(sum(self.notes.values()), sum(v * n for v, n in self.notes.items()))

    @property
    def credited(self) -> Tally:
        return sum(self.confirmed.values(), Tally())

    @property
    def cashbox_total(self) -> int:
        return sum(v * n for v, n in self.cashbox_at_end.items())


def close_day(journal: Journal, kiosk_id: str, day: date, zone_name: str) -> DayClose:
    """The daily close of ``day`` (the co-op's ``zone_name``) from the journal."""
    start, end = day_bounds(day, ZoneInfo(zone_name))
    db = journal.db
    window = (start, end)
    notes = {v: 0 for v in DENOMINATIONS}
    for row in db.query(
        "SELECT value, COUNT(*) AS n FROM cashbox WHERE at >= ? AND at < ? GROUP BY value",
        window,
    ):
        notes[int(row["value"])] = int(row["n"])
    cash: dict[str, Tally] = {}
    confirmed: dict[str, Tally] = {}
    moves: dict[tuple[str, str], Tally] = {}
    refused = Tally()
    for row in db.query(
        "SELECT kind, bucket, source_bucket, amount, state, updated_at FROM credits"
        " WHERE created_at >= ? AND created_at < ? ORDER BY id",
        window,
    ):
        one = Tally(1, int(row["amount"]))
        settled_by_end = row["updated_at"] < end
        state = CreditState(row["state"])
        if row["kind"] == CreditKind.MOVE.value:
            if state is CreditState.CONFIRMED and settled_by_end:
                route = (str(row["source_bucket"]), str(row["bucket"]))
                moves[route] = moves.get(route, Tally()) + one
        else:
            cash[row["bucket"]] = cash.get(row["bucket"], Tally()) + one
            if state is CreditState.CONFIRMED and settled_by_end:
                confirmed[row["bucket"]] = confirmed.get(row["bucket"], Tally()) + one
        if state is CreditState.REFUSED and settled_by_end:
            refused += one
    open_rows = db.query(
        "SELECT request_id, reference, bucket, amount FROM credits WHERE created_at < ?"
        " AND (state NOT IN ('confirmed', 'refused') OR updated_at >= ?) ORDER BY id",
        (end, end),
    )
    open_credits = tuple(
        (str(r["reference"] or r["request_id"]), str(r["bucket"]), int(r["amount"]))
        for r in open_rows
    )
    opened = db.one(
        "SELECT COUNT(*) AS n FROM cases WHERE created_at >= ? AND created_at < ?", window
    )
    settled = db.one(
        "SELECT COUNT(*) AS n FROM cases WHERE resolved_at >= ? AND resolved_at < ?", window
    )
    collections = tuple(
        (float(r["at"]), str(r["who"]), int(r["total"]), r["discrepancy"])
        for r in db.query(
            "SELECT at, who, total, discrepancy FROM collections WHERE at >= ? AND at < ?"
            " ORDER BY id",
            window,
        )
    )
    in_box = {v: 0 for v in DENOMINATIONS}
    for row in db.query(
        "SELECT c.value, COUNT(*) AS n FROM cashbox c LEFT JOIN collections k"
        " ON k.id = c.collection_id WHERE c.at < ? AND (k.id IS NULL OR k.at >= ?)"
        " GROUP BY c.value",
        (end, end),
    ):
        in_box[int(row["value"])] = int(row["n"])
    return DayClose(
        kiosk_id=kiosk_id,
        day=day,
        zone=zone_name,
        start=start,
        end=end,
        notes=notes,
        cash=cash,
        confirmed=confirmed,
        moves=moves,
        refused=refused,
        open_at_end=Tally(len(open_credits), sum(a for _, _, a in open_credits)),
        open_credits=open_credits,
        cases_opened=int(opened["n"]) if opened else 0,
        cases_settled=int(settled["n"]) if settled else 0,
        collections=collections,
        cashbox_at_end=in_box,
        reconciliation=journal.reconciliations.last(day.isoformat(), done=True)
        or journal.reconciliations.last(day.isoformat()),
    )


def _counts(counts: dict[int, int]) -> str:
    return " ".join(f"{yen(v)}×{counts.get(v, 0)}" for v in DENOMINATIONS)


def day_text(close: DayClose) -> str:
    """The close as a few lines (the staff screen's QR code, the command's output)."""
    cash_in = close.cash_in
    lines = [
        f"Pay Spot daily close {close.kiosk_id} {close.day.isoformat()} ({close.zone})",
        f"cash in: {note_count(cash_in.count)} {yen(cash_in.amount)} ({_counts(close.notes)})",
    ]
    for bucket in sorted(close.cash):
        made, done = close.cash[bucket], close.confirmed.get(bucket, Tally())
        lines.append(
            f"credited {bucket}: {done.count} × {yen(done.amount)} confirmed"
            f" (of {made.count} × {yen(made.amount)})"
        )
    for (source, target), tally in sorted(close.moves.items()):
        lines.append(f"moved {source}->{target}: {tally.count} × {yen(tally.amount)} (no cash)")
    lines.append(f"refused: {close.refused.count} × {yen(close.refused.amount)}")
    lines.append(
        f"open at the day's end: {close.open_at_end.count} × {yen(close.open_at_end.amount)}"
    )
    lines.append(f"cases: {close.cases_opened} opened, {close.cases_settled} settled")
    for at, who, total, discrepancy in close.collections:
        clock = datetime.fromtimestamp(at, ZoneInfo(close.zone)).strftime("%H:%M")
        off = "" if discrepancy in (None, 0) else f", discrepancy {yen(int(discrepancy))}"
        lines.append(f"collection {clock} by {who}: {yen(total)}{off}")
    lines.append(
        f"cash box at the day's end: {yen(close.cashbox_total)} ({_counts(close.cashbox_at_end)})"
    )
    if close.reconciliation is None:
        lines.append("reconciliation with the wallet: not run yet")
    else:
        lines.append(run_text(close.reconciliation, close.zone))
    return "\n".join(lines)


def csv_text(close: DayClose) -> str:
    """The close as CSV rows ``section, item, count, amount`` (UTF-8; the export adds a BOM)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(("section", "item", "count", "amount"))
    rows: list[tuple[str, str, int, int]] = [
        ("day", f"{close.day.isoformat()} {close.zone} {close.kiosk_id}", 0, 0)
    ]
    rows += [("notes", str(v), n, v * n) for v, n in close.notes.items()]
    rows.append(("notes", "total", close.cash_in.count, close.cash_in.amount))
    rows += [("cash credits made", b, t.count, t.amount) for b, t in sorted(close.cash.items())]
    rows += [("cash confirmed", b, t.count, t.amount) for b, t in sorted(close.confirmed.items())]
    rows += [("moves", f"{s}->{t}", x.count, x.amount) for (s, t), x in sorted(close.moves.items())]
    rows.append(("refused", "credits and moves", close.refused.count, close.refused.amount))
    rows.append(("open at end", "credits", close.open_at_end.count, close.open_at_end.amount))
    rows += [("open credit", ref, 1, amount) for ref, _bucket, amount in close.open_credits]
    rows.append(("cases", "opened", close.cases_opened, 0))
    rows.append(("cases", "settled", close.cases_settled, 0))
    rows += _collection_rows(close.collections, ZoneInfo(close.zone))
    rows += [("cash box at end", str(v), n, v * n) for v, n in close.cashbox_at_end.items()]
    run = close.reconciliation
    if run is not None:
        rows.append(("reconciliation", run.result, run.mismatches, 0))
        rows += [
            ("reconciliation " + ("mismatch" if f.mismatch else "open"), f.detail, 1, f.amount or 0)
            for f, _ in run.findings
        ]
    writer.writerows(rows)
    return out.getvalue()


def _collection_rows(
    collections: Iterable[tuple[float, str, int, int | None]], zone: ZoneInfo
) -> list[tuple[str, str, int, int]]:
    return [
        (
            "collection",
            f"{datetime.fromtimestamp(at, zone).isoformat('T', 'seconds')} {who}",
            1,
            total,
        )
        for at, who, total, _ in collections
    ]
