"""The journal's archive job as the kiosk runs it: :func:`kiosk.journal.retention.run` with the
``[journal]`` policy, by itself once a day at ``[journal] archive_at`` (:class:`DailyArchive`, on
its own thread: never on the engine's loop, and only while no member is at the kiosk; a member
who comes stops it between two months) or from a shell (``paykiosk staff archive``). Its runs
show on the staff status and in the metrics (:func:`archive_status`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from kiosk.config.settings import Config
from kiosk.journal import Journal
from kiosk.journal.retention import Archived, ArchiveRun, Policy, archives, last_run, run
from kiosk.ops.daily import QuietHourJob, quiet_hour

log = logging.getLogger("paykiosk.archive")


def policy_of(config: Config) -> Policy:
    return Policy(config.journal.working_days, config.journal.retention_years)


def archive_now(
    journal: Journal,
    config: Config,
    by: str,
    stop: Callable[[], bool] = lambda: False,
) -> Archived:
    """Run the archive job now (what failed is raised: ``ValueError``, ``OSError``)."""
    done = run(journal.db, config.archive_dir, policy_of(config), time.time(), by, stop)
    if done.moved or done.removed:
        log.info("journal archive: %s", done_text(done))
    return done


def done_text(done: Archived) -> str:
    moved = ", ".join(f"{month} ({rows:,} rows)" for month, rows in done.moved.items())
    text = f"moved {moved}" if moved else "nothing to move"
    if done.removed:
        text += "; past the retention period, removed: " + ", ".join(done.removed)
    if done.left:
        text += "; stopped (a member came): the rest at the next run"
    return text


class DailyArchive(QuietHourJob[float, Archived]):
    """Runs the archive job once a day from ``[journal] archive_at`` (the co-op's time zone); a
    run that failed is tried again after ``retry_s``; one stopped by a member, when the kiosk is
    free again; one killed (still "running" in the journal), at once."""

    what = "the journal's archive"

    def __init__(
        self,
        journal: Journal,
        config: Config,
        busy: Callable[[], bool],
        check_s: float = 30.0,
        retry_s: float = 3600.0,
    ) -> None:
        super().__init__(busy, check_s)
        self.journal = journal
        self.config = config
        self.zone = ZoneInfo(config.kiosk.time_zone)
        self.at = quiet_hour(config.journal.archive_at)
        self.retry_s = retry_s

    def due(self, now: datetime) -> float | None:
        """Today's quiet hour (a timestamp) if a run is due now."""
        local = now.astimezone(self.zone)
        hour, minute = self.at
        if (local.hour, local.minute) < self.at:
            return None
        since = local.replace(hour=hour, minute=minute, second=0, microsecond=0).timestamp()
        last = last_run(self.journal.db)
        if last is None or last.at < since:
            return since
        if last.result == "done":
            return None
        if last.result == "failed" and now.timestamp() - last.at < self.retry_s:
            return None
        return since  # stopped by a member, or killed: on with it

    def work(self, due: float) -> Archived:
        return archive_now(
            self.journal, self.config, "schedule", stop=lambda: self.stopping or self.busy()
        )


@dataclass(frozen=True)
class ArchiveStatus:
    """The archive job and the archives, for the staff status and the metrics."""

    last: ArchiveRun | None  # the newest run
    months: int  # archive files
    oldest: str | None  # the oldest archive's month
    archive_bytes: int

    @property
    def failed(self) -> bool:
        return self.last is not None and self.last.result == "failed"

    def run_text(self, zone: str) -> str:
        """The newest run: when, and what it did or why it failed."""
        if self.last is None:
            return "never ran"
        clock = datetime.fromtimestamp(self.last.at, ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")
        return f"{clock}: " + {
            "done": f"{self.last.rows:,} rows moved",
            "stopped": f"{self.last.rows:,} rows moved, stopped (a member came)",
            "running": "did not finish (killed?), goes on at the next run",
            "failed": f"FAILED: {self.last.detail}",
        }.get(self.last.result, self.last.result)

    def held_text(self) -> str:
        """The archives kept."""
        if not self.months:
            return "none"
        return f"{self.months} since {self.oldest}, {self.archive_bytes / 1e6:.1f} MB"

    def text(self, zone: str) -> str:
        ran = "never ran" if self.last is None else f"last run {self.run_text(zone)}"
        return f"{ran}; months archived: {self.held_text()}"


def archive_status(journal: Journal, folder: Path) -> ArchiveStatus:
    files = archives(folder)
    size = 0
    for path in files:
        try:
            size += path.stat().st_size
        except OSError:  # removed meanwhile by a run
            continue
    oldest = files[0].name[len("journal-") : -len(".sqlite3")] if files else None
    return ArchiveStatus(last_run(journal.db), len(files), oldest, size)
