"""``paykiosk staff status``: how the kiosk stands, from what a shell can see without disturbing
it — whether its process runs, cash credits waiting and the oldest one's age, マネー移動 moves
being processed, open staff cases, the cash box, the journal's health and size, free disk space,
the devices' last journaled faults and the clock. (The live device figures come with the metrics
endpoint.)"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.core.money import yen
from kiosk.engine.health import free_bytes, journal_size
from kiosk.journal.credits import oldest_age
from kiosk.journal.db import quick_check
from kiosk.journal.records import Credit, CreditKind
from kiosk.ops.archiving import archive_status
from kiosk.ops.datadir import LOCK_NAME
from kiosk.ops.reconcile import latest
from kiosk.staff.cashbox_report import Fill, notes, when

if TYPE_CHECKING:
    from kiosk.config.settings import Config
    from kiosk.journal import Journal


def add_commands(commands: Any) -> None:
    """Register ``staff status``."""
    status = commands.add_parser(
        "status", help="the kiosk at a glance: process, credits, cases, cash box, journal, disk"
    )
    status.set_defaults(handler=show_status)


@dataclass(frozen=True)
class Faults:
    """Per device, the last fault the engine journaled and whether it was cleared since."""

    last: dict[str, tuple[float, str]]  # source → (when, detail) of its latest fault event

    def lines(self) -> list[str]:
        if not self.last:
            return ["  no device fault journaled"]
        return [
            f"  {source}: {'ok since' if detail == 'cleared' else 'FAULT'} {when(at)}"
            + ("" if detail == "cleared" else f" ({detail})")
            for source, (at, detail) in sorted(self.last.items())
        ]


def running_pid(data_dir: Path) -> int | None:
    """The pid of the kiosk holding the data dir, read from its lock file (never locking it:
    a kiosk starting at that moment must not find it taken)."""
    try:
        text = (data_dir / LOCK_NAME).read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return None
    if not text.isdigit():
        return None  # released cleanly: the pid is truncated away
    pid = int(text)
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None  # killed: the pid it left names no process
    return pid if b"kiosk" in cmdline else None


@dataclass(frozen=True)
class JournalHealth:
    healthy: bool
    check: str  # what the journal's check said ("ok")
    size: int  # bytes of the file and its WAL


def journal_health(config: Config, journal: Journal) -> JournalHealth:
    """The journal's bounded check (SQLite's quick check of a small journal, a round of reads
    of a big one: kiosk.journal.integrity) and its size on disk."""
    check = quick_check(config.journal_path)
    return JournalHealth(check == "ok", check, journal_size(config.journal_path))


def journal_faults(journal: Journal) -> Faults:
    rows = journal.db.query(
        "SELECT at, detail FROM events WHERE kind = 'fault' AND id IN"
        " (SELECT MAX(id) FROM events WHERE kind = 'fault' GROUP BY substr(detail, 1,"
        " instr(detail, ':') - 1))"
    )
    last: dict[str, tuple[float, str]] = {}
    for row in rows:
        source, _, detail = str(row["detail"]).partition(": ")
        last[source] = (float(row["at"]), detail)
    return Faults(last)


def _oldest_for(credits: list[Credit], now: float) -> str:
    age = oldest_age(credits, now)
    return "" if age is None else f", the oldest for {duration(age)}"


def status_text(config: Config, journal: Journal, now: float) -> str:
    data_dir = config.kiosk.data_dir
    pid = running_pid(data_dir)
    lines = [f"kiosk {config.kiosk.id}: " + (f"running (pid {pid})" if pid else "NOT RUNNING")]
    counts = journal.credits.counts()
    waiting = journal.credits.open_credits(kind=CreditKind.CASH)
    age = _oldest_for(waiting, now)
    lines.append(
        f"credits: {len(waiting)} waiting for the wallet{age}; {counts.get('confirmed', 0)}"
        f" confirmed, {counts.get('refused', 0)} refused"
    )
    moves = journal.moves.counts()
    moving = journal.credits.open_credits(kind=CreditKind.MOVE)
    age = _oldest_for(moving, now)
    lines.append(
        f"moves (マネー移動, no cash): {len(moving)} being processed{age};"
        f" {moves.get('confirmed', 0)} moved, {moves.get('refused', 0)} refused (nothing moved)"
    )
    cases = journal.cases.list()
    oldest_case = min((c.created_at for c in cases), default=None)
    lines.append(
        f"staff cases open: {len(cases)}"
        + ("" if oldest_case is None else f", the oldest since {when(oldest_case)}")
    )
    checked, _ = latest(journal)
    lines.append(f"reconciliation with the wallet: {checked}")
    box = journal.cashbox.count()
    fill = Fill(box.notes, config.staff.stacker_capacity, config.staff.near_full_percent)
    lines.append(f"cash box: {notes(box.notes)}, {yen(box.total)}, {fill.percent} % full")
    warning = fill.warning()
    if warning:
        lines.append(warning)
    if journal.cashbox.removals():
        lines.append("WARNING: the cash box was taken out with no collection recorded since")
    health = journal_health(config, journal)
    lines.append(
        f"journal: {'ok' if health.healthy else 'DAMAGED: ' + health.check},"
        f" schema {journal.db.version}, {health.size / 1e6:.1f} MB"
    )
    archived = archive_status(journal, config.archive_dir)
    lines.append(f"journal archive: {archived.text(config.kiosk.time_zone)}")
    free_mb = free_bytes(data_dir) / 1e6
    low = free_mb < config.kiosk.min_free_mb
    lines.append(
        f"disk: {free_mb:,.0f} MB free on {data_dir}"
        + (f" — BELOW the {config.kiosk.min_free_mb:.0f} MB reserve" if low else "")
    )
    lines.append("devices (last journaled fault of each):")
    lines.extend(journal_faults(journal).lines())
    lines.append(f"clock: {when(now)} ({time.strftime('%Z')})")
    return "\n".join(lines)


def duration(seconds: float) -> str:
    if seconds < 60:
        return f"{max(0, int(seconds))} s"
    minutes = int(seconds // 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


def show_status(config: Config, journal: Journal, args: argparse.Namespace) -> int:
    del args
    print(status_text(config, journal, time.time()))
    return 0
