"""Crash anywhere, the quick subset: the real kiosk process killed before durable and outward
steps spread over each scripted scenario (a charge of three notes; a charge with the wallet
answering 503 and then losing its answer after committing; a マネー移動), and at random moments;
then the same killed as power cuts (every write not yet fsynced lost), after showing that the
power-cut layer does lose such writes and keeps fsynced ones. The full sweeps of every step are
``python -m bench.crash_space [--power-cut]`` (figures in docs/figures.md)."""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from bench.crash_space import SCENARIOS, Explorer, Outcome, build_shim, points
from bench.power_cut import Cut, cut, shim_env
from tests.support.wallet import Sandbox

pytestmark = pytest.mark.slow
KILLS_PER_SCENARIO = 4
RANDOM_SEED = 20261203


@pytest.fixture(scope="module")
def shim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_shim(tmp_path_factory.mktemp("shim"))


@pytest.fixture
def explorer(tmp_path: Path, wallet: Sandbox, shim: Path) -> Iterator[Explorer]:
    yield Explorer(wallet, shim, tmp_path / "runs")
    wallet.clear_faults()


def _ok(outcome: Outcome) -> None:
    assert not outcome.problems, f"{outcome.scenario} killed at {outcome.step}: {outcome.problems}"


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_killed_before_steps_spread_over_the_scenario(explorer: Explorer, name: str) -> None:
    scenario = SCENARIOS[name]
    recording = explorer.run(scenario)
    _ok(recording)
    kinds = {step.what for step in recording.steps}
    assert {"fdatasync", "wallet", "port"} <= kinds | {"fsync"}, kinds
    if scenario.notes:  # each note is stacked by a STACK-2 to the acceptor
        stacks = [s for s in recording.steps if s.what == "port" and s.detail == "42"]
        assert len(stacks) == len(scenario.notes), recording.steps
    killed = 0
    for kill_at in points(len(recording.steps), 1, KILLS_PER_SCENARIO):
        outcome = explorer.run(scenario, kill_at=kill_at)
        _ok(outcome)
        killed += outcome.killed
    assert killed >= KILLS_PER_SCENARIO - 1  # the last point may lie past a shorter run


def test_killed_at_random_moments(explorer: Explorer) -> None:
    rng = random.Random(RANDOM_SEED)  # a failure replays with the same seed
    for name in sorted(SCENARIOS):
        outcome = explorer.run(SCENARIOS[name], kill_after_s=rng.uniform(1.0, 5.0))
        _ok(outcome)


# -- power cuts ---------------------------------------------------------------------------------

POWER_SCENARIOS = ("charge", "flaky", "move")  # "removed" is in the full sweep (its run is long)


def _power_cut(shim: Path, tmp_path: Path, script: str) -> tuple[Path, Cut]:
    """Run ``script`` (Python, ``DATA`` is the data dir) under the shim in power-cut mode until
    it SIGKILLs itself; then cut the power. The data dir starts with ``old.txt`` = "old"."""
    data, shadow = tmp_path / "data", tmp_path / "durable"
    data.mkdir()
    (data / "old.txt").write_text("old")
    env = {**os.environ, "LD_PRELOAD": str(shim), **shim_env(data, shadow)}
    prologue = f"import os, signal, sqlite3\nDATA = {str(data)!r}\n"
    epilogue = "\nos.kill(os.getpid(), signal.SIGKILL)\n"
    done = subprocess.run([sys.executable, "-c", prologue + script + epilogue], env=env)
    assert done.returncode == -9
    return data, cut(data, shadow)


def test_power_cut_loses_writes_never_fsynced(shim: Path, tmp_path: Path) -> None:
    data, dropped = _power_cut(
        shim,
        tmp_path,
        """
with open(os.path.join(DATA, "old.txt"), "a") as f:
    f.write(" and new")  # in the page cache, never fsynced
fd = os.open(os.path.join(DATA, "new.txt"), os.O_CREAT | os.O_WRONLY)
os.write(fd, b"new")
os.fsync(fd)  # the content is synced, its name in the folder is not
os.close(fd)
""",
    )
    assert (data / "old.txt").read_text() == "old"
    assert not (data / "new.txt").exists()
    assert dropped.reverted == ["old.txt"] and dropped.gone == ["new.txt"]


def test_power_cut_keeps_what_was_fsynced(shim: Path, tmp_path: Path) -> None:
    data, _ = _power_cut(
        shim,
        tmp_path,
        """
fd = os.open(os.path.join(DATA, "new.txt"), os.O_CREAT | os.O_WRONLY)
os.write(fd, b"kept")
os.fsync(fd)
os.close(fd)
folder = os.open(DATA, os.O_RDONLY)
os.fsync(folder)  # now its name is durable too
os.close(folder)
with open(os.path.join(DATA, "new.txt"), "a") as f:
    f.write(" and lost")
""",
    )
    assert (data / "new.txt").read_text() == "kept"
    assert (data / "old.txt").read_text() == "old"


def test_power_cut_keeps_sqlite_commits_synced_and_loses_the_rest(
    shim: Path, tmp_path: Path
) -> None:
    """The journal's own case: WAL commits fsynced (synchronous=FULL) survive, a commit never
    fsynced (synchronous=OFF) is lost, and SQLite opens the cut file whole (its -shm rebuilt)."""
    data, dropped = _power_cut(
        shim,
        tmp_path,
        """
db = sqlite3.connect(os.path.join(DATA, "j.sqlite3"), isolation_level=None)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=FULL")
db.execute("CREATE TABLE t (v TEXT)")
db.execute("INSERT INTO t VALUES ('synced')")
db.execute("PRAGMA synchronous=OFF")
db.execute("INSERT INTO t VALUES ('lost')")
""",
    )
    assert "j.sqlite3-wal" in dropped.reverted
    with closing(sqlite3.connect(data / "j.sqlite3")) as db:
        assert db.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        assert [r[0] for r in db.execute("SELECT v FROM t")] == ["synced"]


@pytest.fixture
def power_explorer(tmp_path: Path, wallet: Sandbox, shim: Path) -> Iterator[Explorer]:
    yield Explorer(wallet, shim, tmp_path / "runs", power_cut=True)
    wallet.clear_faults()


@pytest.mark.parametrize("name", POWER_SCENARIOS)
def test_power_cut_before_a_journal_commit_and_after_the_session(
    power_explorer: Explorer, name: str
) -> None:
    """Power cut before the journal's commit that follows the first note stacked (a charge) or
    the first top-up sent (a move) — the commit's frames lost — and once the session is done
    (all the kiosk said was done must be on the card)."""
    scenario = SCENARIOS[name]
    recording = power_explorer.run(scenario)
    _ok(recording)
    steps = recording.steps
    first = next(
        i for i, s in enumerate(steps)
        if (s.what, s.detail) in {("port", "42"), ("wallet", "send")}
    )  # fmt: skip
    commits = [s.number for s in steps[first:] if s.detail == "journal.sqlite3-wal"]
    lost_a_commit = 0
    for kill_at in (commits[0] if commits else steps[first].number + 1, len(steps) + 1):
        outcome = power_explorer.run(scenario, kill_at=kill_at)
        _ok(outcome)
        assert outcome.killed and outcome.cut is not None and outcome.cut.dropped
        if outcome.step is not None and outcome.step.detail == "journal.sqlite3-wal":
            assert "journal.sqlite3-wal" in outcome.cut.reverted, outcome.cut
            lost_a_commit += 1
    assert lost_a_commit >= 1, "no cut before a journal commit"  # the steps moved too much?
