"""The journal over years: a synthetic journal of a busy kiosk's years, what retention makes of
it, and what reading it costs.

    python -m bench.journal_years [--years 5] [--per-day 300] [--cache DIR] [--runs 3]

The journal is made by ``tests/support/synthetic_journal.py``, straight into the journal's
schema with the shapes the kiosk's write paths give its rows (sessions of 1–4 notes with their
cash-box rows, credits and acceptor events, moves, refused credits and their cases — resolved
by staff days later, a few still open —, a collection every evening, staff attempts,
reconciliations): the journal's own write paths would take hours for five years; the generator
takes minutes.

Retention (``kiosk.journal.retention.run``, ``Policy(working_days=90, retention_years=7)``) on
a copy of the years' journal: the first run (as if a month ago: every month but the last one
due, ~5 years), the month's run (today: the one month that came due since), and a day's run
(nothing due); each with rows moved, seconds, the longest hold of the journal's write lock,
the archive folder's size and the live journal's (the file, and its pages in use: SQLite keeps
the freed pages for the rows to come), and what stays live.

Then the same figures for a fresh journal (one day), for the years' journal and for the years'
journal after retention, each read cold (the journal's pages evicted from the page cache first:
a kiosk's SD card reads at 20–40 MB/s, and what a figure reads from storage is printed beside
its time):

- the journal's size;
- the periodic integrity check (``Health.check_integrity``, every 10 minutes in the kiosk);
- the check at open (``Journal(check=True)``: every start and every command);
- start → ready of the real ``paykiosk --no-ui`` on the harness's devices (the replay);
- ``paykiosk staff status`` (and ``status_text`` in this process);
- a metrics scrape of the running kiosk (the first after its start);
- ``paykiosk pending`` (and ``pending`` in this process);
- a session's notes, read as it closes (``JournalNotes.of_session``, on the engine's loop);
- the CSV export (``kiosk.staff.export.export``): a day's, the previous export a day before
  the journal's end (the figure compared), and the first one (every live row).

A table: fresh, years, years after retention, and after/fresh (the goal: every figure within
×2).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.rig import endless_simulator
from hardware.felica.sim import CardEmulator, free_udp_port
from kiosk.config.settings import load
from kiosk.engine.health import Health, journal_size
from kiosk.journal import Journal
from kiosk.journal.db import Database
from kiosk.journal.retention import Policy, run
from kiosk.ops.pending import pending
from kiosk.sim.config import write_sandbox_config
from kiosk.staff.commands.status import status_text
from kiosk.staff.export import export
from tests.support.kiosk_process import KioskProcess
from tests.support.synthetic_journal import DAY_S, KIOSK, generate
from tests.support.wallet import ROOT, start_sandbox, stop_sandbox

READY = "ready: touch your card"


# ---- the measurements -----------------------------------------------------------------------
def evict(path: Path) -> None:
    """Drop the journal's pages from the page cache: the next read comes from storage."""
    for part in (path, path.with_name(path.name + "-wal")):
        with contextlib.suppress(FileNotFoundError):
            fd = os.open(part, os.O_RDONLY)
            try:
                os.fsync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def read_bytes(pid: int | str = "self") -> int:
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("read_bytes:"):
            return int(line.split()[1])
    raise RuntimeError("no read_bytes in /proc/PID/io")


@dataclass(frozen=True)
class Figure:
    seconds: float
    read: int | None = None  # bytes read from storage


def in_process(path: Path, what: Callable[[], object], runs: int) -> Figure:
    """The median of ``runs`` cold runs of ``what`` in this process."""
    times, reads = [], []
    for _ in range(runs):
        evict(path)
        before, started = read_bytes(), time.perf_counter()
        what()
        times.append(time.perf_counter() - started)
        reads.append(read_bytes() - before)
    return Figure(statistics.median(times), int(statistics.median(reads)))


def command(config: Path, path: Path, args: tuple[str, ...], runs: int) -> Figure:
    """The median of ``runs`` cold runs of ``paykiosk --config F ARGS``."""
    times, reads = [], []
    for _ in range(runs):
        evict(path)
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "kiosk", "--config", str(config), *args],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        assert process.stderr is not None
        errors = process.stderr.read()
        process.stderr.close()
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        times.append(time.perf_counter() - started)
        reads.append(usage.ru_inblock * 512)
        if process.returncode != 0:
            raise RuntimeError(f"{' '.join(args)}: exit {process.returncode}: {errors!r}")
    return Figure(statistics.median(times), int(statistics.median(reads)))


@dataclass
class Figures:
    size: int = 0
    in_use: int = 0  # bytes of the file's pages in use (not on SQLite's free list)
    rows: dict[str, int] = field(default_factory=dict)
    end: float = 0.0  # the journal's last event
    exported: int = 0
    measured: dict[str, Figure] = field(default_factory=dict)


def _last(path: Path, table: str) -> int:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return int(db.execute(f"SELECT max(id) FROM {table}").fetchone()[0] or 0)


def _exported_until(db: Database, at: float) -> None:
    """An export journaled as if it was made at ``at`` (the rows since then: the next one's)."""
    with db.write() as tx:

        def last(table: str, column: str) -> int:
            # ids follow time: from the newest row back to the first one before ``at``
            sql = f"SELECT id FROM {table} WHERE {column} < ? ORDER BY id DESC LIMIT 1"
            row = tx.execute(sql, (at,)).fetchone()
            return 0 if row is None else int(row[0])

        tx.execute(
            "INSERT INTO exports (at, by, folder, last_cashbox, last_credit, last_case,"
            " last_collection) VALUES (?, 'bench', '-', ?, ?, ?, ?)",
            (
                at,
                last("cashbox", "at"),
                last("credits", "created_at"),
                last("cases", "created_at"),
                last("collections", "at"),
            ),
        )


ROWS = ("sessions", "notes", "cashbox", "credits", "events", "cases", "collections")


def measure(journal_path: Path, tmp: Path, runs: int) -> Figures:
    """Every figure of one journal, in a kiosk of its own on the harness's devices."""
    figures = Figures()
    base = tmp / f"kiosk-{uuid.uuid4().hex[:6]}"
    base.mkdir()
    sandbox = start_sandbox(base / "sandbox")
    sim = endless_simulator(base / "acc")
    card = CardEmulator(free_udp_port())
    port = free_udp_port()
    try:
        config = write_sandbox_config(
            base, sandbox.info, sim.path, card.device_path, kiosk_id=KIOSK, metrics_port=port
        )
        data = base / "data"
        data.mkdir(exist_ok=True)
        path = data / "journal.sqlite3"
        shutil.copyfile(journal_path, path)
        Journal(path, KIOSK).close()  # an older schema brought to this one (not timed)
        figures.size = journal_size(path)
        with contextlib.closing(sqlite3.connect(path)) as db:
            figures.rows = {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ROWS}
            figures.end = db.execute("SELECT max(at) FROM events").fetchone()[0]
            size, pages, free = (
                db.execute(f"PRAGMA {p}").fetchone()[0]
                for p in ("page_size", "page_count", "freelist_count")
            )
            figures.in_use = size * (pages - free)
        m = figures.measured
        journal = Journal(path, KIOSK)
        try:
            health = Health(journal, 0, lambda source, detail: None)
            m["integrity check (periodic)"] = in_process(path, health.check_integrity, runs)
            m["check at open"] = in_process(
                path, lambda: Journal(path, KIOSK, check=True).close(), runs
            )
            settings = load(config)
            m["staff status (in process)"] = in_process(
                path, lambda: status_text(settings, journal, time.time()), runs
            )
            m["pending (in process)"] = in_process(path, lambda: pending(journal), runs)
            last = _last(path, "sessions")
            m["a session's notes (closing)"] = in_process(
                path, lambda: journal.notes.of_session(last), runs
            )
            first, day = base / "export-first", base / "export-day"
            first.mkdir()
            day.mkdir()
            m["CSV export, first (every live row)"] = in_process(
                path, lambda: export(journal, KIOSK, first), 1
            )
            _exported_until(journal.db, figures.end - DAY_S)
            m["CSV export, a day's"] = in_process(path, lambda: export(journal, KIOSK, day), 1)
            figures.exported = sum(1 for _ in day.iterdir())
        finally:
            journal.close()
        m["paykiosk staff status"] = command(config, path, ("staff", "status"), runs)
        m["paykiosk pending"] = command(config, path, ("pending",), runs)
        kiosk = KioskProcess(config)
        ready, scrape = [], []
        try:
            for _ in range(runs):
                sim.wait_for(lambda d: not d.busy, 15)
                evict(path)
                started = time.perf_counter()
                kiosk.start()
                assert kiosk.process is not None
                while not any(READY in line for line in kiosk.output):
                    if kiosk.process.poll() is not None or time.perf_counter() - started > 600:
                        raise RuntimeError("no ready line:\n" + "\n".join(kiosk.output[-20:]))
                    time.sleep(0.01)
                ready.append(Figure(time.perf_counter() - started, read_bytes(kiosk.process.pid)))
                evict(path)
                before, started = read_bytes(kiosk.process.pid), time.perf_counter()
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=600) as r:
                    r.read()
                scrape.append(
                    Figure(time.perf_counter() - started, read_bytes(kiosk.process.pid) - before)
                )
                kiosk.stop()
        finally:
            kiosk.stop()
        m["start → ready (--no-ui)"] = _median(ready)
        m["metrics scrape (first)"] = _median(scrape)
    finally:
        card.close()
        sim.stop()
        stop_sandbox(sandbox)
    return figures


def _median(figures: list[Figure]) -> Figure:
    return Figure(
        statistics.median(f.seconds for f in figures),
        int(statistics.median(f.read or 0 for f in figures)),
    )


def _mb(n: int | None) -> str:
    return "" if n is None else f"{n / 1e6:,.1f} MB"


def report(fresh: Figures, years: Figures, kept: Figures, label: str) -> None:
    heads = ("fresh (1 day)", label, "after retention")
    print(f"\n{'':36}" + "".join(f"{h:>22}" for h in heads) + f"{'after/fresh':>12}")
    sizes = (fresh.size, years.size, kept.size)
    print(
        f"{'journal size (file)':36}"
        + "".join(f"{_mb(n):>22}" for n in sizes)
        + f"{kept.size / max(fresh.size, 1):>11.0f}×"
    )
    in_use = (fresh.in_use, years.in_use, kept.in_use)
    print(
        f"{'journal pages in use':36}"
        + "".join(f"{_mb(n):>22}" for n in in_use)
        + f"{kept.in_use / max(fresh.in_use, 1):>11.0f}×"
    )
    for name, f in fresh.measured.items():
        ratio = kept.measured[name].seconds / f.seconds if f.seconds else float("inf")
        mark = "" if ratio <= 2 or name.startswith("CSV export, first") else "  > ×2"
        cells = (
            f"{x.seconds * 1000:,.0f} ms, {_mb(x.read)}"
            for x in (f, years.measured[name], kept.measured[name])
        )
        print(f"{name:36}" + "".join(f"{c:>22}" for c in cells) + f"{ratio:>11.1f}×{mark}")
    for what, figures in (("years", years), ("after retention", kept)):
        print(f"rows ({what}): " + ", ".join(f"{t} {n:,}" for t, n in figures.rows.items()))
    sessions = max(years.rows.get("sessions", 0), 1)
    print(f"journal per session (years): {years.size / sessions / 1024:.2f} KiB")


# ---- retention ------------------------------------------------------------------------------
POLICY = Policy(working_days=90, retention_years=7)


@dataclass
class Run:
    """One retention run: what it moved and what it cost."""

    what: str
    months: int
    rows: int
    seconds: float
    longest_lock: float  # the longest hold of the journal's write lock (the kiosk waits)
    archive: int  # bytes of the archive folder after it
    size: int  # bytes of the live journal file after it
    in_use: int  # of which pages in use


def _folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.iterdir()) if folder.is_dir() else 0


def _timed_run(path: Path, folder: Path, now: float, what: str) -> Run:
    journal = Journal(path, KIOSK)
    try:
        db = journal.db
        holds: list[float] = []
        write = db.write

        @contextlib.contextmanager
        def timed() -> Iterator[sqlite3.Connection]:
            started = time.perf_counter()
            with write() as tx:
                yield tx
            holds.append(time.perf_counter() - started)

        db.write = timed  # type: ignore[method-assign]  # the bench watches the lock's holds
        started = time.perf_counter()
        done = run(db, folder, POLICY, now)
        took = time.perf_counter() - started
        page = db.one("PRAGMA page_size")
        pages = db.one("PRAGMA page_count")
        free = db.one("PRAGMA freelist_count")
        assert page is not None and pages is not None and free is not None
        in_use = int(page[0]) * (int(pages[0]) - int(free[0]))
    finally:
        journal.close()
    return Run(
        what,
        len(done.moved),
        sum(done.moved.values()),
        took,
        max(holds, default=0.0),
        _folder_size(folder),
        journal_size(path),
        in_use,
    )


def retained(years: Path, folder: Path) -> tuple[Path, list[Run]]:
    """The years' journal after retention (made from a copy, or taken from ``folder``), and
    its runs: the first (as if a month ago), the month's (today), a day's (nothing due)."""
    path = folder / f"{years.stem}-retained.sqlite3"
    runs_file = path.with_name(path.name + ".runs.json")
    if path.exists() and runs_file.exists():
        return path, [Run(**r) for r in json.loads(runs_file.read_text())]
    archive = folder / f"{years.stem}-archive"
    shutil.rmtree(archive, ignore_errors=True)
    work = path.with_name(path.name + ".new")
    for leftover in work.parent.glob(work.name + "*"):
        leftover.unlink()
    shutil.copyfile(years, work)
    Journal(work, KIOSK).close()  # an older schema brought to this one (not timed)
    with contextlib.closing(sqlite3.connect(work)) as db:
        end = float(db.execute("SELECT max(at) FROM events").fetchone()[0])
    runs = [
        _timed_run(work, archive, end - 31 * DAY_S, "first run (a month ago: ~5 years due)"),
        _timed_run(work, archive, end, "the month's run (one month due)"),
        _timed_run(work, archive, end + 600, "a day's run (nothing due)"),
    ]
    os.replace(work, path)
    runs_file.write_text(json.dumps([asdict(r) for r in runs]))
    return path, runs


def report_retention(path: Path, runs: list[Run]) -> None:
    print("\nretention (working_days=90, retention_years=7):")
    for r in runs:
        print(
            f"  {r.what:40} {r.months:3} months, {r.rows:>10,} rows, {r.seconds:7.1f} s"
            f" (write lock held ≤ {r.longest_lock:.2f} s); archive {_mb(r.archive)},"
            f" live journal {_mb(r.size)} ({_mb(r.in_use)} in use)"
        )
    with contextlib.closing(sqlite3.connect(path)) as db:
        end = float(db.execute("SELECT max(at) FROM events").fetchone()[0])
        window = end - POLICY.working_days * DAY_S
        first = db.execute("SELECT min(started_at) FROM sessions").fetchone()[0]
        old = db.execute(
            "SELECT count(*) FROM sessions WHERE started_at < ?", (window,)
        ).fetchone()[0]
        kept = db.execute(
            "SELECT count(*) FROM cases WHERE state = 'open' AND created_at < ?", (window,)
        ).fetchone()[0]
        cases = db.execute("SELECT state, count(*) FROM cases GROUP BY state").fetchall()
    print(
        f"  live: sessions since {time.strftime('%Y-%m-%d', time.localtime(first))};"
        f" {old} sessions older than the working window (the month it starts in stays;"
        f" {kept} refused credits' cases still open keep theirs); cases "
        + ", ".join(f"{state} {n}" for state, n in cases)
    )


@contextlib.contextmanager
def journals(cache: Path | None, days: int, per_day: int) -> Iterator[tuple[Path, Path]]:
    """The fresh journal and the years' one, generated (or taken from ``cache``)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = cache or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        made = []
        for n in (1, days):
            # the journal's own migrations bring an older one to this schema as it is opened
            path = folder / f"journal-{n}d-{per_day}.sqlite3"
            if not path.exists():
                started = time.perf_counter()
                work = path.with_name(path.name + ".new")
                for leftover in work.parent.glob(work.name + "*"):
                    leftover.unlink()
                generate(work, n, per_day)
                os.replace(work, path)
                took = time.perf_counter() - started
                size = _mb(path.stat().st_size)
                print(f"generated {n} days × {per_day} visits in {took:.0f} s: {size}")
            made.append(path)
        yield made[0], made[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=float, default=5.0)
    parser.add_argument("--per-day", type=int, default=300, help="visits a day")
    parser.add_argument("--runs", type=int, default=3, help="cold runs of each figure")
    parser.add_argument("--cache", type=Path, help="keep the generated journals here")
    args = parser.parse_args()
    days = max(1, round(args.years * 365))
    with (
        journals(args.cache, days, args.per_day) as (fresh_path, years_path),
        tempfile.TemporaryDirectory() as tmp,
    ):
        kept_path, runs = retained(years_path, args.cache or Path(tmp))
        fresh = measure(fresh_path, Path(tmp), args.runs)
        years = measure(years_path, Path(tmp), args.runs)
        kept = measure(kept_path, Path(tmp), args.runs)
        report_retention(kept_path, runs)
    report(fresh, years, kept, f"{args.years:g} years")


if __name__ == "__main__":
    main()
