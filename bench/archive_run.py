"""The journal's archive job on a busy kiosk's journal: what a run costs, and what the kiosk's own
writes wait meanwhile.

    python -m bench.archive_run [--days 150] [--per-day 300] [--writes-ms 50]

A synthetic journal of ``--days`` busy days ending today (``tests/support/synthetic_journal.py``:
300 visits a day, a collection every evening), then :func:`kiosk.journal.retention.run` with the
default policy (90 days: the months that ended before then move) in this process, while a
thread stands in for the engine: a small journal write (an event) every ``--writes-ms``, each
timed from asking for the journal's lock to its commit. Then a second run the next day (nothing
due: what a quiet day's run costs). Printed: rows moved, seconds (wall and CPU), bytes written to
storage (``write_bytes`` of ``/proc/self/io``, the archive files and the journal's WAL
checkpoints), archive size, the live journal before and after; and the stand-in's waits:
median, p99 and the longest, against the same writes with no run beside them.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

from kiosk.journal import Journal
from kiosk.journal.retention import Policy, archives, run
from tests.support.synthetic_journal import KIOSK, generate

POLICY = Policy(working_days=90, retention_years=7)


def io_bytes(field: str) -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/io")


class Writer(threading.Thread):
    """The engine's stand-in: an event written every ``every_s``, each one timed."""

    def __init__(self, journal: Journal, every_s: float) -> None:
        super().__init__(daemon=True)
        self.journal, self.every_s = journal, every_s
        self.waits: list[float] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(self.every_s):
            began = time.perf_counter()
            self.journal.log("bench", "a write beside the archive job")
            self.waits.append(time.perf_counter() - began)


def figures(waits: list[float]) -> str:
    ordered = sorted(waits)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"{len(waits)} writes: median {statistics.median(ordered) * 1000:.1f} ms,"
        f" p99 {p99 * 1000:.1f} ms, longest {ordered[-1] * 1000:.1f} ms"
    )


def timed_writes(journal: Journal, every_s: float, seconds: float) -> list[float]:
    writer = Writer(journal, every_s)
    writer.start()
    time.sleep(seconds)
    writer.done.set()
    writer.join()
    return writer.waits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=150)
    parser.add_argument("--per-day", type=int, default=300)
    parser.add_argument("--writes-ms", type=float, default=50.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path, folder = Path(tmp) / "journal.sqlite3", Path(tmp) / "archive"
        began = time.perf_counter()
        generate(path, args.days, args.per_day)
        print(
            f"journal: {args.days} days of {args.per_day} visits, made in"
            f" {time.perf_counter() - began:.0f} s, {path.stat().st_size / 1e6:.1f} MB"
        )
        journal = Journal(path, KIOSK)
        try:
            alone = timed_writes(journal, args.writes_ms / 1000, 5.0)
            print(f"the stand-in's writes alone: {figures(alone)}")
            writer = Writer(journal, args.writes_ms / 1000)
            writer.start()
            written, cpu, wall = io_bytes("write_bytes"), time.process_time(), time.perf_counter()
            done = run(journal.db, folder, POLICY, time.time())
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            written = io_bytes("write_bytes") - written
            writer.done.set()
            writer.join()
            size = sum(p.stat().st_size for p in archives(folder))
            print(
                f"run: {len(done.moved)} months ({', '.join(done.moved)}), {done.rows:,} rows"
                f" moved in {wall:.1f} s ({cpu:.1f} s CPU, both threads);"
                f" {written / 1e6:.1f} MB written to storage; archives {size / 1e6:.1f} MB"
            )
            print(f"the stand-in's writes during the run: {figures(writer.waits)}")
            journal.db.query("PRAGMA wal_checkpoint(TRUNCATE)")
            pages = journal.db.one("PRAGMA page_count")
            free = journal.db.one("PRAGMA freelist_count")
            assert pages is not None and free is not None
            print(
                f"live journal: {path.stat().st_size / 1e6:.1f} MB file,"
                f" {(pages[0] - free[0]) * 4096 / 1e6:.1f} MB in use (the rest free pages, reused"
                " by the next rows)"
            )
            written, wall = io_bytes("write_bytes"), time.perf_counter()
            quiet = run(journal.db, folder, POLICY, time.time() + 86_400)
            print(
                f"the next day's run: {quiet.rows:,} rows in {time.perf_counter() - wall:.2f} s,"
                f" {(io_bytes('write_bytes') - written) / 1e3:.0f} KB written"
            )
        finally:
            journal.close()


if __name__ == "__main__":
    main()
