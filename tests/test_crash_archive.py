"""The journal's archive job killed at every step of its own, the quick subset: the real
``paykiosk --config F staff archive`` over a journal of several months (a re-archived month, an
open case and the notes since the last collection that must stay, an archive past the retention
period), SIGKILLed at each of its freeze points (``ARCHIVE_POINTS``), then as power cuts before
a sample of its fsyncs (every write not yet fsynced lost). After each: every row the run moves
live or in an archive that verifies, none in two archives, the rest untouched, ``pending`` and
the cash box as before, the journal sound; then the command again to its end, as an
uninterrupted run leaves it. The full sweep of every fsync: ``python -m bench.crash_archive``
(figures in docs/crash-tests.md)."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from bench.crash_archive import Explorer, Outcome, Scene
from bench.crash_space import Step, build_shim
from bench.power_cut import Cut
from kiosk.core.crashpoints import ARCHIVE_POINTS
from kiosk.journal import Journal
from kiosk.journal.retention import (
    TABLES,
    Policy,
    Selection,
    archives,
    cutoff,
    delete_archived,
    months_to_move,
    run,
    select,
    write_archive,
)
from tests.support.synthetic_journal import KIOSK, generate
from tests.support.wallet import ROOT, Sandbox

pytestmark = pytest.mark.slow
DAYS, PER_DAY = 130, 10  # four months and more: three move, the notes of each in two chunks


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory, sandbox: Sandbox) -> Scene:
    return Scene(tmp_path_factory.mktemp("archive-crash"), sandbox.info, DAYS, PER_DAY)


@pytest.fixture
def explorer(scene: Scene, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Explorer]:
    yield Explorer(scene, build_shim(tmp_path_factory.mktemp("shim")))


def _ok(outcome: Outcome) -> None:
    assert not outcome.problems, f"{outcome.point}: {outcome.problems[:10]}"


def test_every_archive_point_is_in_the_code_once() -> None:
    source = "\n".join(p.read_text() for p in (ROOT / "kiosk").rglob("*.py"))
    for point in ARCHIVE_POINTS:
        assert source.count(f'checkpoint("{point}")') == 1, point


def _as_described(scene: Scene) -> None:
    """What the checks lean on: the uninterrupted run re-archives the first month (its old
    rows and the session whose case was resolved since), moves more months, deletes the notes
    of a month in more than one chunk, leaves the open case and the uncollected notes."""
    before, after = scene.before, scene.after
    first = scene.rearchived
    assert first in before.archived and scene.expired  # and one past 7 years, removed
    assert len(set(after.archived) - set(before.archived)) >= 2  # months archived at last
    grown = {t: len(after.archived[first][t]) - len(before.archived[first][t]) for t in TABLES}
    assert grown["sessions"] == 1 and grown["cases"] == 1  # the resolved case's session
    notes_of = {name: len(rows["notes"]) for name, rows in after.archived.items()}
    assert max(notes_of.values()) > 500, notes_of  # more than one chunk (_CHUNK)
    for table, ids in scene.never.items():
        assert ids and ids <= set(after.live[table]), table
    assert "open staff cases:\n  B01-ARCHIVE-0002" in before.pending
    assert sum(before.box.values()) > 0  # the last day's notes, in the box


def test_killed_at_each_freeze_point(explorer: Explorer) -> None:
    """SIGKILLed at each point (the first month's archive written, renamed, checksummed; a
    table half deleted; the old archive removed; all done but the run's row): the checks hold
    after the kill and after the next run, and the kill came where the point says."""
    scene = explorer.scene
    _as_described(scene)
    moving, expired = len(scene.moving), scene.expired[0]
    failures, gone = [], {}
    for point in ARCHIVE_POINTS:
        outcome = explorer.frozen(point)
        if outcome.problems:
            failures.append(f"{point}: {outcome.problems[:5]}")
        gone[point] = (outcome.gone, expired in outcome.archived)
        assert outcome.runs == ["running", "done"], point  # the killed run, then the next
    assert not failures, failures
    assert gone == {
        "archive_temp_written": (0, True),
        "archive_renamed": (0, True),
        "archive_checksummed": (0, True),
        "archive_part_deleted": (gone["archive_part_deleted"][0], True),
        "archive_expired_removed": (moving, False),
        "archive_run_unfinished": (moving, False),
    }
    assert 0 < gone["archive_part_deleted"][0] < moving


def test_power_cuts_before_fsyncs_of_the_job(explorer: Explorer) -> None:
    """Power cuts in the first new month's archive: before SQLite's fsync of the archive's
    temporary file (its content lost: no archive), before the folder's fsync after the rename
    (the name lost: the temporary name back), before the checksum file's fsync, before the
    first deletion's commit (the journal's -wal reverted), and past the run's end. Each cut
    dropped what was not fsynced; after each the checks hold and the next run finishes."""
    scene = explorer.scene
    steps = explorer.record()
    name = min(set(scene.after.archived) - set(scene.before.archived))
    temp = next(s for s in steps if s.detail == f"archive/.{name}.tmp")
    after = steps[steps.index(temp) :]
    rename = next(s for s in after if (s.what, s.detail) == ("fsync", "archive"))
    sha = next(s for s in after if s.detail == f"archive/.{name}.sha256.tmp")
    commit = next(s for s in after if s.number > sha.number and s.detail == "journal.sqlite3-wal")
    cuts: dict[Step | None, tuple[list[str], Cut]] = {}  # the archives after the cut, the cut
    for step in (temp, rename, sha, commit, None):
        outcome = explorer.run(len(steps) + 1 if step is None else step.number, power_cut=True)
        _ok(outcome)
        assert outcome.cut is not None and outcome.cut.dropped, outcome.point
        cuts[step] = (outcome.archived, outcome.cut)
    archived, cut = cuts[temp]
    assert name not in archived and f"archive/.{name}.tmp" in cut.reverted
    archived, cut = cuts[rename]
    assert name not in archived and f"archive/{name}" in cut.gone
    assert f"archive/.{name}.tmp" in cut.back
    archived, cut = cuts[sha]
    assert name in archived  # its checksum file lost: checked against its manifest alone
    assert f"archive/.{name}.sha256.tmp" in cut.gone
    assert "journal.sqlite3-wal" in cuts[commit][1].reverted


# ---- the bugs the crash points found, as regressions ------------------------------------------
NOW = datetime(2026, 12, 8, 12, 0).timestamp()
POLICY = Policy(working_days=30, retention_years=7)


@pytest.mark.parametrize("left", ["staff_attempts", "collections"])
def test_rows_left_by_a_killed_run_go_into_their_own_months_archive(
    tmp_path: Path, left: str
) -> None:
    """Killed in the oldest month's deletion with only its staff attempts left (the last table
    it deletes), or only its collections (deleted after the sessions; the month's events gone,
    as when the month is archived again and they went with its first archive): the next run
    began at the next month (the oldest with a session, credit or event), which took those rows
    into its own archive too — rows in two archives. Now the month is done again."""
    path, folder = tmp_path / "journal.sqlite3", tmp_path / "archive"
    generate(path, 100, 3, end=NOW)
    journal = Journal(path, KIOSK)
    try:
        before = cutoff(journal.db, POLICY, NOW)
        first = months_to_move(journal.db, before)[0]
        chosen = select(journal.db, first, before)
        archive = write_archive(journal.db, chosen, folder)
        assert chosen.ids[left]
        ids = {t: i for t, i in chosen.ids.items() if t != left}
        delete_archived(journal.db, Selection(first, ids), archive)  # … and killed
        run(journal.db, folder, POLICY, NOW)
        assert not journal.db.query(f"SELECT id FROM {left} WHERE id IN ({chosen.ids[left][0]})")
    finally:
        journal.close()
    where: dict[tuple[str, int], list[str]] = {}
    for path in archives(folder):
        with contextlib.closing(sqlite3.connect(path)) as db:
            for table in TABLES:
                for (key,) in db.execute(f"SELECT id FROM {table}"):
                    where.setdefault((table, key), []).append(path.name)
    assert not {k: v for k, v in where.items() if len(v) > 1}
