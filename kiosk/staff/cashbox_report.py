"""What staff read about the cash box: its count and fill, and a collection's summary (the
text a collection's QR code carries)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from kiosk.core.money import DENOMINATIONS, yen
from kiosk.journal.cashbox import CashboxCount, Collection


def when(at: float) -> str:
    """A journal time as staff read it (local time, to the second)."""
    return datetime.fromtimestamp(at).strftime("%Y-%m-%d %H:%M:%S")


@dataclass(frozen=True)
class Fill:
    """How full the acceptor's cash box is against its configured capacity."""

    notes: int
    capacity: int
    near_full_percent: int

    @property
    def percent(self) -> int:
        return self.notes * 100 // self.capacity

    @property
    def near_full(self) -> bool:
        return self.percent >= self.near_full_percent

    def warning(self) -> str | None:
        """One line for staff when the box should be collected, else None."""
        if self.notes >= self.capacity:
            return (
                f"WARNING: the cash box is full ({self.notes} of {self.capacity:,} notes):"
                " collect it now"
            )
        if self.near_full:
            return (
                f"WARNING: the cash box is near full ({self.percent} %, warned from"
                f" {self.near_full_percent} %): collect it soon"
            )
        return None


def notes(n: int) -> str:
    return f"{n:,} note" + ("" if n == 1 else "s")


def signed_yen(amount: int) -> str:
    return "±¥0" if amount == 0 else ("+" if amount > 0 else "-") + yen(abs(amount))


def _counts(count: CashboxCount) -> str:
    return " ".join(f"{yen(v)}×{count.of(v)}" for v in DENOMINATIONS)


def cashbox_text(
    count: CashboxCount,
    fill: Fill,
    last: Collection | None,
    ledger_ok: bool = True,
    removed: Sequence[float] = (),
) -> str:
    """``paykiosk staff cashbox``: notes per denomination since the last collection, total,
    fill, a warning near full and the times the box was taken out with no collection since."""
    if last is None:
        since = "since the journal began (no collection yet)"
    else:
        since = f"since collection #{last.id} ({when(last.at)}, {last.who})"
    lines = [f"cash box {since}:"]
    width = max(len(yen(v)) for v in DENOMINATIONS)
    for value in DENOMINATIONS:
        n = count.of(value)
        lines.append(f"  {yen(value):>{width}} × {n:>4}  {yen(value * n):>12}")
    lines.append(f"  total {notes(count.notes)}, {yen(count.total)}")
    lines.append(f"  fill {fill.notes:,} of {fill.capacity:,} notes ({fill.percent} %)")
    warning = fill.warning()
    if warning:
        lines.append(warning)
    for at in removed:
        lines.append(
            f"WARNING: the cash box was taken out at {when(at)} and no collection was recorded"
            " since: count the cash and record it (staff collect)"
        )
    if not ledger_ok:
        lines.append("WARNING: the ledger does not match the stacked notes: tell the maintainer")
    return "\n".join(lines)


def discrepancy_text(record: Collection) -> str:
    """``-¥1,000 (¥1,000 -1)``, ``none``, or ``not counted``."""
    if record.discrepancy is None:
        return "not counted"
    differences = record.differences()
    if not differences:
        return "none"
    notes = ", ".join(f"{yen(v)} {n:+d}" for v, n in differences.items())
    return f"{signed_yen(record.discrepancy)} ({notes})"


def summary_text(record: Collection, kiosk_id: str | None = None) -> str:
    """A collection as staff keep it (printed, or carried by a QR code): which kiosk, who,
    when, expected and counted notes per denomination, the discrepancy and the note."""
    kiosk = f" {kiosk_id}" if kiosk_id else ""
    lines = [
        f"Pay Spot{kiosk} cash box collection #{record.id}",
        f"at {when(record.at)} by {record.who}",
        f"expected {_counts(record.expected)} = {yen(record.expected.total)}"
        f" ({notes(record.expected.notes)})",
    ]
    if record.counted is None:
        lines.append("counted: not counted")
    else:
        lines.append(
            f"counted {_counts(record.counted)} = {yen(record.counted.total)}"
            f" ({notes(record.counted.notes)})"
        )
    lines.append(f"discrepancy: {discrepancy_text(record)}")
    if record.note:
        lines.append(f"note: {record.note}")
    return "\n".join(lines)


def collection_line(record: Collection) -> str:
    """One collection in a list."""
    counted = "not counted" if record.counted is None else f"counted {yen(record.counted.total)}"
    line = (
        f"#{record.id} {when(record.at)} by {record.who}: expected {yen(record.expected.total)}"
        f" ({notes(record.expected.notes)}), {counted}, discrepancy {discrepancy_text(record)}"
    )
    return line + (f" — {record.note}" if record.note else "")


def collection_event(record: Collection) -> str:
    """The journal's ``staff`` event of a collection (who, what was expected and counted)."""
    if record.counted is None:
        counted = "not counted"
    else:
        counted = f"counted {yen(record.counted.total)} ({notes(record.counted.notes)})"
    return (
        f"{record.who}: collection #{record.id}: expected {yen(record.expected.total)}"
        f" ({notes(record.expected.notes)}), {counted}, discrepancy {discrepancy_text(record)}"
    )
