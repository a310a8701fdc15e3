"""A journal damaged while the kiosk was stopped (a failing SD card): the kiosk and every
command that reads the journal refuse with one line naming the file (exit 78, which the unit
does not restart), and ``paykiosk journal --recover`` copies what can still be read into a new
journal, keeps the damaged one beside it, and the kiosk starts on the new one.

The journal is a real one: the real kiosk took two notes into a credit, and staff commands
wrote their rows. For each table of the schema its root page is overwritten on a copy."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kiosk.config.settings import EXIT_CONFIG
from kiosk.journal.db import MIGRATIONS
from kiosk.ops.datadir import EXIT_LOCKED
from tests.support.common import wait_until
from tests.support.kiosk_process import run_kiosk
from tests.support.rig import Rig, make_rig
from tests.support.wallet import ROOT, Sandbox

pytestmark = pytest.mark.slow


def _tables_of_the_schema() -> list[str]:
    """Every table the migrations make, in the order they make them."""
    db = sqlite3.connect(":memory:")
    try:
        for script in MIGRATIONS:
            db.executescript(script)
        rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid")
        return [str(name) for (name,) in rows]
    finally:
        db.close()


TABLES = _tables_of_the_schema()
READERS = (("--no-ui",), (), ("pending",), ("journal",), ("staff", "status"))


@dataclass(frozen=True)
class Source:
    """The journal a real kiosk and staff commands left, and what it holds."""

    path: Path
    page_size: int
    roots: dict[str, int]  # table → its root page
    rows: dict[str, int]  # table → rows
    user: str  # the member whose card was charged


def _counts(path: Path) -> dict[str, int]:
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        return {t: int(db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]) for t in TABLES}


def _staff(config: Path, *args: str, stdin: str = "") -> None:
    """A staff command, its secrets on stdin (a wrong PIN exits 1)."""
    result = run_kiosk(config, "staff", *args, stdin=stdin)
    assert result.returncode in (0, 1) and "Traceback" not in result.stderr, result


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory, sandbox: Sandbox) -> Iterator[Source]:
    """Built once: two notes charged and credited, a staff member with a PIN, a wrong PIN
    tried, a note switched off; the kiosk stopped cleanly (nothing left in a WAL)."""
    directory = tmp_path_factory.mktemp("source")
    with make_rig(directory, sandbox) as rig:
        user, card = rig.member({"base": 0})
        rig.kiosk.start()
        rig.start_session(card)
        rig.feed(1000)
        rig.feed(5000)
        rig.kiosk.wait_settled()
        wait_until(lambda: sandbox.balance(user, "base") == 6000, 30, "the credit")
        rig.kiosk.stop()
        _staff(rig.kiosk.config, "set-pin", "alice", stdin="4821\n4821\n")
        _staff(rig.kiosk.config, "check-pin", "alice", stdin="1111\n")
        _staff(rig.kiosk.config, "notes", "--off", "2000", "--by", "alice")
        path = rig.kiosk.journal_path
    wal = path.with_name(path.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0, "the clean stop left a WAL"
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        page_size = int(db.execute("PRAGMA page_size").fetchone()[0])
        roots = {
            str(name): int(root)
            for name, root in db.execute(
                "SELECT name, rootpage FROM sqlite_master WHERE type = 'table'"
            )
        }
    rows = _counts(path)
    assert rows["notes"] == 2 and rows["cashbox"] == 2 and rows["credits"] == 1, rows
    assert rows["staff"] == 1 and rows["staff_attempts"] >= 1 and rows["disabled_notes"] == 1
    yield Source(path, page_size, roots, rows, user)


def _damage(source: Source, journal: Path, table: str) -> None:
    """A copy of the source journal with ``table``'s root page overwritten with garbage."""
    journal.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source.path, journal)
    with journal.open("r+b") as file:
        file.seek((source.roots[table] - 1) * source.page_size)
        file.write(b"\xde\xad\xbe\xef" * (source.page_size // 4))


def _refused(result: subprocess.CompletedProcess[str], journal: Path) -> str:
    """Exit 78 and exactly one line on stderr naming the journal; no traceback."""
    assert result.returncode == EXIT_CONFIG, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert str(journal) in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def rig(tmp_path: Path, wallet: Sandbox) -> Iterator[Rig]:
    with make_rig(tmp_path, wallet) as running:
        yield running


@pytest.mark.parametrize("table", TABLES)
def test_a_journal_damaged_at_start_is_refused_in_one_line_then_recovered(
    rig: Rig, source: Source, table: str
) -> None:
    journal = rig.kiosk.journal_path
    _damage(source, journal, table)
    journal.chmod(0o640)
    if os.geteuid() == 0:  # recovered by root, the journal stays the kiosk user's
        os.chown(journal, 4321, 4321)
    owner = journal.stat()
    damaged = journal.read_bytes()

    for args in READERS:  # the kiosk (--no-ui and with its UI) and each command
        line = _refused(run_kiosk(rig.kiosk.config, *args, timeout=20), journal)
        assert "damaged" in line and "journal --recover" in line, line
    assert journal.read_bytes() == damaged, "a refusal changed the journal"

    result = run_kiosk(rig.kiosk.config, "journal", "--recover")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result
    [kept] = journal.parent.glob(f"{journal.name}.damaged-*")  # its empty WAL is not kept
    assert kept.read_bytes() == damaged  # the damaged file, beside the new one, untouched
    assert str(kept) in result.stdout, result.stdout
    new = journal.stat()
    assert (new.st_uid, new.st_gid, new.st_mode) == (owner.st_uid, owner.st_gid, owner.st_mode)

    # every row of every other table is there (and the recovery's own event); the damaged
    # table lost what was on its page
    rows = _counts(journal)
    expected = {**source.rows, "events": source.rows["events"] + 1}
    for other in TABLES:
        if other != table:
            assert rows[other] == expected[other], (other, rows, result.stdout)
    assert rows[table] <= expected[table]
    with contextlib.closing(sqlite3.connect(journal)) as db:
        [(detail,)] = db.execute("SELECT detail FROM events WHERE kind = 'journal'").fetchall()
    assert kept.name in detail

    for args in (("pending",), ("journal",), ("staff", "status")):
        report = run_kiosk(rig.kiosk.config, *args)
        assert report.returncode == 0 and "Traceback" not in report.stderr, report
        if args == ("staff", "status"):
            assert "journal: ok" in report.stdout, report.stdout
    report = run_kiosk(rig.kiosk.config, "journal").stdout
    if table not in ("cashbox", "collections"):
        assert "2 notes, ¥6,000" in report, report  # the cash box still counts the notes fed

    rig.kiosk.start()
    rig.kiosk.wait_ready()
    wait_until(
        lambda: any(line.endswith("ready: touch your card") for line in rig.kiosk.output),
        20,
        "the kiosk in service on the recovered journal",
    )


def test_recover_refuses_while_a_kiosk_runs_and_leaves_a_sound_journal_alone(
    rig: Rig, source: Source
) -> None:
    journal = rig.kiosk.journal_path
    journal.parent.mkdir(parents=True)
    shutil.copyfile(source.path, journal)
    sound = journal.read_bytes()

    result = run_kiosk(rig.kiosk.config, "journal", "--recover")
    assert result.returncode == 0, result
    assert "nothing to recover" in result.stdout, result.stdout
    assert journal.read_bytes() == sound
    assert list(journal.parent.glob("*.damaged-*")) == []

    rig.kiosk.start()
    rig.kiosk.wait_ready()
    busy = run_kiosk(rig.kiosk.config, "journal", "--recover")
    assert busy.returncode == EXIT_LOCKED, busy
    lines = busy.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in busy.stderr, busy.stderr


def test_a_crash_left_a_wal_the_refusals_leave_both_files_and_the_recovery_reads_both(
    rig: Rig,
) -> None:
    """The kiosk was SIGKILLed after a charge (its last writes are in the WAL only), and then
    a page in the main file went bad: the refusals do not fold the WAL into the damaged file,
    the recovery reads the WAL's rows too, and the damaged copy keeps its WAL."""
    _staff(rig.kiosk.config, "set-pin", "alice", stdin="4821\n4821\n")  # in the main file
    user, card = rig.member({"base": 0})
    rig.kiosk.start()
    rig.start_session(card)
    rig.feed(2000)
    rig.kiosk.wait_settled()
    wait_until(lambda: rig.wallet.balance(user, "base") == 2000, 30, "the credit")
    rig.kiosk.kill()
    journal = rig.kiosk.journal_path
    wal = journal.with_name(journal.name + "-wal")
    assert wal.stat().st_size > 0, "the kill left no WAL"
    with contextlib.closing(sqlite3.connect(f"file:{journal}?mode=ro", uri=True)) as db:
        page_size = int(db.execute("PRAGMA page_size").fetchone()[0])
        [(root,)] = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'staff'")
    with journal.open("r+b") as file:
        file.seek((int(root) - 1) * page_size)
        file.write(b"\xde\xad\xbe\xef" * (page_size // 4))
    damaged, damaged_wal = journal.read_bytes(), wal.read_bytes()

    for args in (("--no-ui",), ("pending",), ("staff", "status")):
        _refused(run_kiosk(rig.kiosk.config, *args, timeout=20), journal)
    assert journal.read_bytes() == damaged and wal.read_bytes() == damaged_wal

    result = run_kiosk(rig.kiosk.config, "journal", "--recover")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result
    kept = Path(result.stdout.split("kept as ")[1].split()[0])
    assert kept.read_bytes() == damaged
    assert kept.with_name(kept.name + "-wal").read_bytes() == damaged_wal
    assert not wal.exists() or wal.stat().st_size == 0  # the old WAL is not laid over the new
    rows = _counts(journal)
    assert (rows["sessions"], rows["notes"], rows["cashbox"], rows["credits"]) == (1, 1, 1, 1)
    assert rows["staff"] == 0, result.stdout  # its only page was the damaged one
    with contextlib.closing(sqlite3.connect(f"file:{journal}?mode=ro", uri=True)) as db:
        [(state,)] = db.execute("SELECT state FROM credits")
    assert state == "confirmed"


def test_recover_without_the_sqlite3_shell_says_what_to_install(
    rig: Rig, source: Source, tmp_path: Path
) -> None:
    journal = rig.kiosk.journal_path
    _damage(source, journal, "events")
    empty = tmp_path / "bin"  # a PATH with no sqlite3 on it
    empty.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "kiosk", "--config", str(rig.kiosk.config), "journal", "--recover"],
        cwd=ROOT,
        env={"PATH": str(empty), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == EXIT_CONFIG, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "apt-get install sqlite3" in lines[0], result.stderr
    assert list(journal.parent.glob("*.damaged-*")) == []


def test_a_journal_whose_schema_is_damaged_is_refused_and_left_as_it_is(
    rig: Rig, source: Source
) -> None:
    """Page 1 holds the schema: without it no row can be read by SQLite's shell, so the
    recovery changes nothing and says how to start anew."""
    journal = rig.kiosk.journal_path
    journal.parent.mkdir(parents=True)
    shutil.copyfile(source.path, journal)
    with journal.open("r+b") as file:
        file.seek(100)  # past the header, which says it is an SQLite file
        file.write(b"\xde\xad\xbe\xef" * ((source.page_size - 100) // 4))
    damaged = journal.read_bytes()
    for args in READERS:
        line = _refused(run_kiosk(rig.kiosk.config, *args, timeout=20), journal)
        assert "journal --recover" in line, line
    result = run_kiosk(rig.kiosk.config, "journal", "--recover")
    assert result.returncode == 1, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "nothing was changed" in lines[0], result.stderr
    assert journal.read_bytes() == damaged
    assert list(journal.parent.glob("*.damaged-*")) == []
    assert not journal.with_name(journal.name + ".recovering").exists()
