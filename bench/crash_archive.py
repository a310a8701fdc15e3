"""The journal's archive job killed at every step of its own: ``paykiosk --config F staff
archive`` (the real process) over a journal of several months, SIGKILLed before each fsync it
makes (the journal's, the archive's, the archive folder's: ``bench/crash_shim.c`` in power-cut
mode numbers every fsync under the data dir), with or without a power cut (every write not yet
fsynced lost: :func:`bench.power_cut.cut`), then checked and run again to the end.

The data dir (:class:`Scene`): a synthetic journal of a busy kiosk's days
(``tests/support/synthetic_journal.py``); its first month already archived by an earlier run but
for a refused credit's session, whose staff case was resolved since (its session moves now: the
month is archived again, its old rows with the new); in the last month that moves, a refused
credit whose case is open (it never moves); an archive of a month past the retention period;
the last day's notes still in the box. The run moves a few months and removes the old archive.

After each kill (:func:`check_killed`): every row the run moves (what an uninterrupted run of the
same data dir moved) is live or in an archive that verifies, equal to the live one if both; no
row in two archives; every other row live and unchanged; the journal passes SQLite's
integrity check; ``paykiosk pending`` and the cash box's count as before; the killed run not
finished in ``archive_runs``. Then (:func:`check_finished`) the command again to its end: the
archives and the live rows as the uninterrupted run left them, the killed run still not
finished, the new one done.

    python -m bench.crash_archive                    # every step, killed, then power-cut
    python -m bench.crash_archive --every 3 --days 200 --per-day 20
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.crash_space import Step, build_shim, read_steps
from bench.power_cut import Cut, cut, shim_env
from kiosk.journal import Journal
from kiosk.journal.retention import TABLES, Month, Selection, archives, verify, write_archive
from kiosk.sim.config import write_sandbox_config
from tests.support.synthetic_journal import DAY_S, KIOSK, generate
from tests.support.wallet import ROOT, start_sandbox, stop_sandbox

Rows = dict[str, dict[int, tuple[object, ...]]]  # table → id → row
WORKING_DAYS = 30  # the crash runs' [journal] working_days: the months before the last one move


def paykiosk(
    config: Path, *args: str, env: Mapping[str, str] | None = None, timeout: float = 120
) -> subprocess.Popen[str]:
    """``paykiosk --config F ARGS`` started (stdout and stderr together)."""
    environ = {**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "kiosk", "--config", str(config), *args],
        cwd=ROOT,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(process: subprocess.Popen[str], timeout: float = 120) -> str:
    """The process's output once it ended; AssertionError if it failed."""
    output, _ = process.communicate(timeout=timeout)
    if process.returncode != 0:
        raise AssertionError(f"exit {process.returncode}: {output[-2000:]}")
    return output


def freeze_and_kill(process: subprocess.Popen[str], point: str, timeout: float = 60) -> None:
    """Wait for ``PAYKIOSK FROZEN point`` and SIGKILL the process there."""
    assert process.stdout is not None
    seen = []
    deadline = time.monotonic() + timeout
    for line in process.stdout:  # the process blocks for good once frozen: no EOF before
        seen.append(line)
        if line.startswith(f"PAYKIOSK FROZEN {point}"):
            os.kill(process.pid, signal.SIGKILL)
            process.communicate(timeout=30)
            return
        if time.monotonic() > deadline:
            break
    process.kill()
    process.communicate(timeout=30)
    raise AssertionError(f"never froze at {point}: {''.join(seen)[-2000:]}")


def read_journal(path: Path) -> Rows:
    """The live journal's rows of the archived tables."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        return _read(db)


def _read(db: sqlite3.Connection) -> Rows:
    return {
        table: {int(r[0]): tuple(r) for r in db.execute(f"SELECT * FROM {table}")}
        for table in TABLES
    }


def read_archives(folder: Path) -> dict[str, Rows]:
    """Each archive's rows, by its file's name."""
    found = {}
    for path in archives(folder):
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            found[path.name] = _read(db)
    return found


@dataclass(frozen=True)
class State:
    """A data dir as the checks see it."""

    live: Rows
    archived: dict[str, Rows]
    runs: list[tuple[int, str]]  # archive_runs: (id, result)
    pending: str  # ``paykiosk pending``
    box: dict[int, int]  # the cash box's count since the last collection: value → notes
    data: Path  # the data dir


def read_state(config: Path, data: Path, report: bool = True) -> State:
    """``report``: run ``paykiosk pending`` too (else ``pending`` is empty)."""
    journal_path = data / "journal.sqlite3"
    with contextlib.closing(sqlite3.connect(journal_path)) as db:
        runs = [(int(i), str(r)) for i, r in db.execute("SELECT id, result FROM archive_runs")]
    journal = Journal(journal_path, KIOSK)
    try:
        box = journal.cashbox.count().counts
    finally:
        journal.close()
    return State(
        read_journal(journal_path),
        read_archives(data / "archive"),
        runs,
        finish(paykiosk(config, "pending")) if report else "",
        box,
        data,
    )


class Scene:
    """The data dir the job runs on, built once (``template``) and copied for each run."""

    def __init__(self, workdir: Path, wallet_info: dict[str, Any], days: int, per_day: int) -> None:
        self.workdir, self.info = workdir, wallet_info
        self.days, self.per_day = days, per_day
        self.template = workdir / "template"
        self._copies = 0
        self.never: dict[str, set[int]] = {}  # rows that must stay live: table → ids
        self.rearchived = ""  # the archive of the month the run archives again
        self._build()
        self.before = read_state(self.template / "paykiosk.toml", self.template / "data")
        reference = self.copy("uninterrupted")
        finish(paykiosk(reference, "staff", "archive"))
        self.after = read_state(reference, reference.parent / "data")
        self.moving = {  # the rows the run moves: (table, id)
            (table, key)
            for rows in self.after.archived.values()
            for table, by_id in rows.items()
            for key in by_id
            if key not in self.after.live[table] and key in self.before.live[table]
        }
        self.expired = sorted(set(self.before.archived) - set(self.after.archived))

    def __str__(self) -> str:
        moved = {t: sum(1 for m in self.moving if m[0] == t) for t in TABLES}
        return (
            f"the run moves {len(self.moving):,} rows ("
            + ", ".join(f"{t} {n:,}" for t, n in moved.items() if n)
            + f") into {', '.join(sorted(self.after.archived))}; removes"
            f" {', '.join(self.expired) or 'nothing'}"
        )

    def config(self, directory: Path, working_days: int) -> Path:
        return write_sandbox_config(
            directory, self.info, str(directory / "acceptor"), "udp:127.0.0.1:9", kiosk_id=KIOSK,
            extra=f"[journal]\nworking_days = {working_days}\n",
        )  # fmt: skip

    def copy(self, name: str) -> Path:
        """A fresh copy of the data dir with its own configuration; returns the config."""
        self._copies += 1
        directory = self.workdir / f"{name}-{self._copies}"
        directory.mkdir(parents=True)
        shutil.copytree(self.template / "data", directory / "data", symlinks=True)
        return self.config(directory, WORKING_DAYS)

    def _build(self) -> None:
        data = self.template / "data"
        data.mkdir(parents=True)
        journal_path = data / "journal.sqlite3"
        now = time.time()
        generate(journal_path, self.days, self.per_day, end=now)
        first = Month.of(now - (self.days - 1) * DAY_S)
        second = Month.of(first.end + 1)
        self.rearchived = f"journal-{first.name}.sqlite3"  # a month the run archives again
        last = Month.of(Month.of(now - WORKING_DAYS * DAY_S).start - 1)  # the last that moves
        with contextlib.closing(sqlite3.connect(journal_path, isolation_level=None)) as db:
            resolved = self._refuse(db, first, "0001")
            kept = self._refuse(db, last, "0002")
        # an earlier run archived the first month (the cut-off in the middle of the second)
        earlier = int((now - second.start) / DAY_S) - 15
        finish(paykiosk(self.config(self.template, earlier), "staff", "archive"))
        journal = Journal(journal_path, KIOSK)
        try:  # an archive of a month past the retention period (7 years): removed by the run
            long_ago = Month.of(now).year - 8
            write_archive(journal.db, Selection(Month(long_ago, 1)), data / "archive")
        finally:
            journal.close()
        with contextlib.closing(sqlite3.connect(journal_path, isolation_level=None)) as db:
            db.execute(
                "UPDATE cases SET state = 'resolved', resolution = 'refunded', resolved_by ="
                " 'alice', resolved_at = ? WHERE id = ?",
                (now - 2 * DAY_S, resolved),
            )  # staff handed the cash back: its session moves now, into the old archive
            self.never = _staying(db, kept)
        self.config(self.template, WORKING_DAYS)

    @staticmethod
    def _refuse(db: sqlite3.Connection, month: Month, number: str) -> int:
        """A confirmed credit of a session in the middle of ``month`` refused, with an open
        staff case (as a refused top-up opens one); returns the case's id."""
        row = db.execute(
            "SELECT c.id, c.user_id, c.amount, c.created_at FROM credits c JOIN sessions s"
            " ON s.id = c.session_id WHERE s.started_at >= ? AND c.state = 'confirmed'"
            " ORDER BY c.id LIMIT 1",
            (month.start + 14 * DAY_S,),
        ).fetchone()
        credit, user, amount, at = row
        reference = f"{KIOSK}-ARCHIVE-{number}"
        db.execute(
            "UPDATE credits SET state = 'refused', transaction_id = NULL, last_error ="
            " 'invalid_request', reference = ? WHERE id = ?",
            (reference, credit),
        )
        case = db.execute(
            "INSERT INTO cases (reference, kind, credit_id, user_id, amount, detail, state,"
            " created_at) VALUES (?, 'refused_credit', ?, ?, ?,"
            " 'invalid_request: the wallet refused the top-up', 'open', ?)",
            (reference, credit, user, amount, at),
        ).lastrowid
        return int(case or 0)


def _staying(db: sqlite3.Connection, case: int) -> dict[str, set[int]]:
    """The rows that never move: the open case, its credit, session, notes and cash-box rows;
    and the notes since the last collection with their sessions and cash-box rows."""
    (credit,) = db.execute("SELECT credit_id FROM cases WHERE id = ?", (case,)).fetchone()
    (session,) = db.execute("SELECT session_id FROM credits WHERE id = ?", (credit,)).fetchone()
    box = [int(r[0]) for r in db.execute("SELECT id FROM cashbox WHERE collection_id IS NULL")]
    notes = {int(r[0]) for r in db.execute(
        "SELECT note_id FROM cashbox WHERE collection_id IS NULL")}  # fmt: skip
    notes |= {
        int(r[0]) for r in db.execute("SELECT id FROM notes WHERE session_id = ?", (session,))
    }
    marks = ",".join("?" * len(notes))
    sessions = {int(r[0]) for r in db.execute(
        f"SELECT DISTINCT session_id FROM notes WHERE id IN ({marks})", tuple(notes))}  # fmt: skip
    box += [int(r[0]) for r in db.execute(
        f"SELECT id FROM cashbox WHERE note_id IN ({marks})", tuple(notes))]  # fmt: skip
    assert box, "no note since the last collection"
    return {
        "cases": {case},
        "credits": {int(credit)},
        "sessions": sessions,
        "notes": notes,
        "cashbox": set(box),
    }


# ---- the checks -------------------------------------------------------------------------------
def check_killed(scene: Scene, state: State, finished: bool = False) -> list[str]:
    """What must hold after a kill (or a power cut) anywhere in the run; ``finished``: the
    run had ended before the kill (the point past its last step)."""
    problems: list[str] = []
    before = scene.before
    bad = {name for name in state.archived if verify(state.data / "archive" / name) is not None}
    problems += [f"archive {name} does not verify" for name in sorted(bad)]
    where = _where(state)
    for (table, key), names in where.items():
        for name in names:
            row = state.archived[name][table][key]
            final = scene.after.archived.get(name, {}).get(table, {}).get(key)
            if final != row:
                problems.append(f"{table} #{key} in {name} as {row}, not as archived: {final}")
    problems += _twice(state)
    for table, by_id in before.live.items():
        for key, row in by_id.items():
            live = state.live[table].get(key)
            if live is not None and live != row:
                problems.append(f"{table} #{key} changed: {row} -> {live}")
            if live is not None:
                continue
            if not [name for name in where.get((table, key), []) if name not in bad]:
                problems.append(f"{table} #{key} neither live nor in an archive that verifies")
            if (table, key) not in scene.moving:
                problems.append(f"{table} #{key} gone, but the run does not move it")
    for table, ids in scene.never.items():
        gone = sorted(k for k in ids if k not in state.live[table])
        if gone:
            problems.append(f"{table} {gone} moved: they never may")
    problems += _integrity(state)
    if _staying_lines(scene, state.pending) != _staying_lines(scene, before.pending):
        problems.append(f"pending changed: {before.pending!r} -> {state.pending!r}")
    if state.box != before.box:
        problems.append(f"cash box count changed: {before.box} -> {state.box}")
    new = [result for key, result in state.runs if key > before.runs[-1][0]]
    # killed before its row was finished: "running" (or no row: the power went before its
    # commit); after (the staff event, the journal's close): "done", and all of it moved
    if new not in ([["done"]] if finished else [[], ["running"], ["done"]]):
        problems.append(f"the killed run journaled as {new}")
    if new == ["done"] and any(key in state.live[t] for t, key in scene.moving):
        problems.append("the killed run journaled as done, but rows it moves are live")
    return problems


def check_finished(scene: Scene, state: State, finished: bool = False) -> list[str]:
    """What must hold once the command ran again to its end: the uninterrupted run's result
    (the journal's own events of the runs aside), the killed run not finished, the last done."""
    problems: list[str] = []
    after, known = scene.after, scene.before.live["events"]
    if sorted(state.archived) != sorted(after.archived):
        problems.append(f"archives {sorted(state.archived)} != {sorted(after.archived)}")
    problems += _twice(state)
    for name, rows in state.archived.items():
        if verify(state.data / "archive" / name) is not None:
            problems.append(f"archive {name} does not verify")
        wanted, differ = after.archived.get(name, {}), []
        for table in TABLES:
            got, expected = rows.get(table, {}), wanted.get(table, {})
            differ += [
                f"{table} #{key}"
                for key in sorted(set(got) | set(expected))
                if got.get(key) != expected.get(key)
            ]
        if differ:
            problems.append(
                f"archive {name}'s rows differ from the uninterrupted run's: {differ[:5]}"
            )
    for table, by_id in state.live.items():
        have = {k: r for k, r in by_id.items() if table != "events" or k in known}
        want = {k: r for k, r in after.live[table].items() if table != "events" or k in known}
        if have != want:
            problems.append(
                f"live {table}: {len(have)} rows, the uninterrupted run left {len(want)}"
            )
    new = [result for key, result in state.runs if key > scene.before.runs[-1][0]]
    allowed = [["done", "done"]] if finished else [["done"], ["running", "done"], ["done", "done"]]
    if new not in allowed:
        problems.append(f"runs journaled as {new}: not the killed one, then one done")
    problems += _integrity(state)
    return problems


def _where(state: State) -> dict[tuple[str, int], list[str]]:
    """(table, id) → the archives that hold the row."""
    where: dict[tuple[str, int], list[str]] = {}
    for name, rows in state.archived.items():
        for table, by_id in rows.items():
            for key in by_id:
                where.setdefault((table, key), []).append(name)
    return where


def _twice(state: State) -> list[str]:
    return [
        f"{table} #{key} in {len(names)} archives: {names}"
        for (table, key), names in sorted(_where(state).items())
        if len(names) > 1
    ]


def _staying_lines(scene: Scene, pending: str) -> list[str]:
    """``paykiosk pending`` but its lines of sessions the run moves (refused credits whose case
    is resolved: they are settled, yet the report lists their notes) and its total."""
    moving = {f"session #{key} " for table, key in scene.moving if table == "sessions"}
    return [
        line
        for line in pending.splitlines()
        if not line.startswith("  total ") and line.partition("(")[0].strip() + " " not in moving
    ]


def _integrity(state: State) -> list[str]:
    with contextlib.closing(sqlite3.connect(state.data / "journal.sqlite3")) as db:
        result = db.execute("PRAGMA integrity_check").fetchone()[0]
    return [] if result == "ok" else [f"journal integrity_check: {result}"]


# ---- the runs ---------------------------------------------------------------------------------
@dataclass
class Outcome:
    """One run killed (or not), checked, run again and checked."""

    point: str  # a freeze point, "step K", or "recorded"
    power_cut: bool
    step: Step | None = None  # the step the kill came before
    steps: list[Step] = field(default_factory=list)  # the steps the killed run logged
    cut: Cut | None = None
    archived: list[str] = field(default_factory=list)  # the archives after the kill (or cut)
    gone: int = 0  # of the rows the run moves, those no longer live after the kill
    runs: list[str] = field(default_factory=list)  # archive_runs after the next run: results
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0


class Explorer:
    """Runs of the archive job on fresh copies of a :class:`Scene`'s data dir."""

    def __init__(self, scene: Scene, shim: Path | None = None) -> None:
        self.scene, self.shim = scene, shim

    def record(self) -> list[Step]:
        """The steps of an uninterrupted run under the shim (every fsync under the data dir)."""
        outcome = self.run(kill_at=None)
        assert not outcome.problems, outcome.problems
        return outcome.steps

    def frozen(self, point: str) -> Outcome:
        """Killed at the named freeze point."""
        return self._run(point, False, lambda config: _freeze(config, point))

    def run(self, kill_at: int | None, power_cut: bool = False) -> Outcome:
        """Killed before the shim's step ``kill_at`` (None: not killed; past the last step: the
        plug pulled once the run ended), the power cut after the kill if ``power_cut``."""
        assert self.shim is not None
        return self._run(
            "recorded" if kill_at is None else f"step {kill_at}",
            power_cut,
            lambda config: self._shimmed(config, kill_at, power_cut),
        )

    def _shimmed(
        self, config: Path, kill_at: int | None, power_cut: bool
    ) -> tuple[bool, list[Step], Step | None, Cut | None]:
        data, shadow, log = (
            config.parent / "data",
            config.parent / "durable",
            config.parent / "steps",
        )
        env = {
            "LD_PRELOAD": str(self.shim),
            "PAYKIOSK_STEP_LOG": str(log),
            **shim_env(data, shadow),
        }
        if kill_at is not None:
            env["PAYKIOSK_KILL_AT"] = str(kill_at)
        process = paykiosk(config, "staff", "archive", env=env)
        output, _ = process.communicate(timeout=300)
        steps, killed = read_steps(log)
        if not killed and process.returncode != 0:
            raise AssertionError(f"exit {process.returncode}: {output[-2000:]}")
        step = next((s for s in steps if s.number == kill_at), None) if killed else None
        dropped = cut(data, shadow) if power_cut and kill_at is not None else None
        return not killed, steps, step, dropped

    def _run(
        self,
        point: str,
        power_cut: bool,
        kill: Callable[[Path], tuple[bool, list[Step], Step | None, Cut | None]],
    ) -> Outcome:
        started = time.monotonic()
        config = self.scene.copy(point.replace(" ", "-"))
        outcome = Outcome(point, power_cut)
        try:
            finished, outcome.steps, outcome.step, outcome.cut = kill(config)
            data = config.parent / "data"
            killed = read_state(config, data)
            outcome.archived = sorted(killed.archived)
            outcome.gone = sum(1 for t, key in self.scene.moving if key not in killed.live[t])
            outcome.problems += check_killed(self.scene, killed, finished)
            try:
                finish(paykiosk(config, "staff", "archive"))
            except AssertionError as error:
                outcome.problems.append(f"the next run failed: {error}")
            final = read_state(config, data, report=False)
            outcome.problems += check_finished(self.scene, final, finished)
            outcome.runs = [r for key, r in final.runs if key > self.scene.before.runs[-1][0]]
        finally:
            shutil.rmtree(config.parent, ignore_errors=True)
        outcome.seconds = time.monotonic() - started
        return outcome


def _freeze(config: Path, point: str) -> tuple[bool, list[Step], Step | None, Cut | None]:
    freeze_and_kill(paykiosk(config, "staff", "archive", env={"PAYKIOSK_FREEZE_AT": point}), point)
    return False, [], None, None


def _line(outcome: Outcome) -> str:
    what = outcome.point
    if outcome.step is not None:
        what = (
            f"killed before step {outcome.step.number} ({outcome.step.what} {outcome.step.detail})"
        )
    elif outcome.point.startswith("step"):
        what = f"{outcome.point}: past the last one, the run ended"
    if outcome.power_cut:
        what += "; cut: " + (outcome.cut.summary() if outcome.cut else "-")
    verdict = "ok" if not outcome.problems else "FAILED: " + "; ".join(outcome.problems[:5])
    return f"{what:100} {outcome.seconds:5.1f} s  {verdict}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=200, help="the journal's days (default 200)")
    parser.add_argument("--per-day", type=int, default=20, help="visits a day (default 20)")
    parser.add_argument("--every", type=int, default=1, help="every N-th step (default: all)")
    parser.add_argument("--mode", choices=("kill", "power-cut", "both"), default="both")
    args = parser.parse_args()
    started = time.monotonic()
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="crash-archive-") as tmp:
        work = Path(tmp)
        wallet = start_sandbox(work / "wallet")  # its TLS files: the configuration checks them
        try:
            scene = Scene(work / "runs", wallet.info, args.days, args.per_day)
            print(f"journal of {args.days} days, {args.per_day} visits a day: {scene}", flush=True)
            explorer = Explorer(scene, build_shim(work))
            steps = explorer.record()
            print(f"recorded {len(steps)} steps (fsyncs under the data dir)", flush=True)
            modes = {"kill": [False], "power-cut": [True], "both": [False, True]}[args.mode]
            for power_cut in modes:
                for kill_at in range(1, len(steps) + 2, max(1, args.every)):
                    outcome = explorer.run(kill_at, power_cut)
                    print(_line(outcome), flush=True)
                    outcomes.append(outcome)
        finally:
            stop_sandbox(wallet)
    failed = [o for o in outcomes if o.problems]
    for power_cut in (False, True):
        runs = [o for o in outcomes if o.power_cut == power_cut]
        if not runs:
            continue
        line = f"{'power cuts' if power_cut else 'kills'}: {len(runs)} points"
        line += f", {sum(1 for o in runs if o.problems)} failed"
        if power_cut:
            cuts = [o.cut for o in runs if o.cut is not None]
            line += (
                f"; {sum(c.dropped for c in cuts)} of {len(cuts)} cuts dropped unsynced writes"
                f" ({sum(len(c.reverted) for c in cuts)} files reverted,"
                f" {sum(len(c.gone) for c in cuts)} gone, {sum(len(c.back) for c in cuts)} back,"
                f" {sum(c.bytes_dropped for c in cuts) / 1024:.0f} KiB)"
            )
        print(line)
    print(f"{len(outcomes)} runs in {time.monotonic() - started:.0f} s; {len(failed)} failed")
    for outcome in failed:
        print("  " + _line(outcome))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
