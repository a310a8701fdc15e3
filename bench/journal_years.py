"""The journal over years: a synthetic journal of a busy kiosk's years, and what reading it costs.

    python -m bench.journal_years [--years 5] [--per-day 300] [--cache DIR] [--runs 3]

The journal is made by ``tests/support/synthetic_journal.py``, straight into the journal's
schema with the shapes the kiosk's write paths give its rows (sessions of 1–4 notes with their
cash-box rows, credits and acceptor events, moves, refused credits and their cases, a collection
every evening, staff attempts, reconciliations): the journal's own write paths would take hours
for five years; the generator takes minutes.

Then the same figures for a fresh journal (one day) and for the years' journal, each read cold
(the journal's pages evicted from the page cache first: a kiosk's SD card reads at 20–40 MB/s,
and what a figure reads from storage is printed beside its time):

- the journal's size;
- the periodic integrity check (``Health.check_integrity``, every 10 minutes in the kiosk);
- the check at open (``Journal(check=True)``: every start and every command);
- start → ready of the real ``paykiosk --no-ui`` on the harness's devices (the replay);
- ``paykiosk staff status`` (and ``status_text`` in this process);
- a metrics scrape of the running kiosk (the first after its start);
- ``paykiosk pending`` (and ``pending`` in this process);
- a session's notes, read as it closes (``JournalNotes.of_session``, on the engine's loop);
- the CSV export (``kiosk.staff.export.export``).

A table: fresh, years, and their ratio (the goal: every figure within ×2).
"""

from __future__ import annotations

import argparse
import contextlib
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
from dataclasses import dataclass, field
from pathlib import Path

from bench.rig import endless_simulator
from hardware.felica.sim import CardEmulator, free_udp_port
from kiosk.config.settings import load
from kiosk.engine.health import Health, journal_size
from kiosk.journal import Journal
from kiosk.ops.pending import pending
from kiosk.sim.config import write_sandbox_config
from kiosk.staff.commands.status import status_text
from kiosk.staff.export import export
from tests.support.kiosk_process import KioskProcess
from tests.support.synthetic_journal import KIOSK, generate
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
    rows: dict[str, int] = field(default_factory=dict)
    measured: dict[str, Figure] = field(default_factory=dict)


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
            figures.rows = {
                t: db.execute(f"SELECT max(id) FROM {t}").fetchone()[0] or 0 for t in ROWS
            }
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
            last = figures.rows["sessions"]
            m["a session's notes (closing)"] = in_process(
                path, lambda: journal.notes.of_session(last), runs
            )
            folder = base / "export"
            folder.mkdir()
            m["CSV export (in process)"] = in_process(
                path, lambda: export(journal, KIOSK, folder), 1
            )
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


def report(fresh: Figures, years: Figures, label: str) -> None:
    print(f"\n{'':30}{'fresh (1 day)':>22}{label:>22}{'ratio':>9}")
    print(
        f"{'journal size':30}{_mb(fresh.size):>22}{_mb(years.size):>22}"
        f"{years.size / max(fresh.size, 1):>8.0f}×"
    )
    for name, f in fresh.measured.items():
        y = years.measured[name]
        ratio = y.seconds / f.seconds if f.seconds else float("inf")
        mark = "" if ratio <= 2 else "  > ×2"
        first = f"{f.seconds * 1000:,.0f} ms, {_mb(f.read)}"
        second = f"{y.seconds * 1000:,.0f} ms, {_mb(y.read)}"
        print(f"{name:30}{first:>22}{second:>22}{ratio:>8.1f}×{mark}")
    print("rows (years): " + ", ".join(f"{t} {n:,}" for t, n in years.rows.items()))
    sessions = max(years.rows.get("sessions", 0), 1)
    print(f"journal per session: {years.size / sessions / 1024:.2f} KiB")


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
        fresh = measure(fresh_path, Path(tmp), args.runs)
        years = measure(years_path, Path(tmp), args.runs)
    report(fresh, years, f"{args.years:g} years")


if __name__ == "__main__":
    main()
