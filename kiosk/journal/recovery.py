"""``paykiosk journal --recover``: what can still be read of a damaged journal, in a new one.

SQLite's own shell reads the damaged file (``sqlite3 -readonly FILE .dump``): table by table,
every row up to a page it cannot read, then from the table's end back to that page. The rows
are written into a new file beside the journal, which must pass SQLite's quick check and is
then brought to this version's schema by the journal's own migrations; a table whose schema
could not be read at all is made empty. The damaged file is kept beside the new one, never
written to (``journal.sqlite3.damaged-<UTC time>``, with its ``-wal``), and the new file takes
the journal's name with one rename: at every moment the name holds one whole journal.

Why not the shell's ``.recover``, which also reads pages no table leads to any more: Debian's
sqlite3 (12, and so Raspberry Pi OS) is built without the ``sqlite_dbpage`` table it needs, and
fails there ("SQL logic error"); ``.dump`` reads through SQLite's own b-trees and works.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from kiosk.journal.db import (
    MIGRATIONS,
    TALLIES_FROM_ROWS,
    Database,
    JournalUnusable,
    check_rows,
    forget_kept,
    fsync_dir,
    shortened,
    statements,
    whole_check,
)
from kiosk.journal.read_only import read_only

SHELL = "sqlite3"  # Debian's package of the same name
WORK_SUFFIX = ".recovering"
_SIDE_FILES = ("-wal", "-shm")
# the dump's own transaction: the rows are written in one of ours, whatever the dump ends with
# (after a read error it ends with "ROLLBACK; -- due to errors")
_TRANSACTION = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|END)\b", re.IGNORECASE)


class RecoveryFailed(RuntimeError):
    """Nothing was changed; the message says why."""


class ShellMissing(RecoveryFailed):
    """The sqlite3 command-line shell is not installed."""


@dataclass(frozen=True)
class TableRows:
    name: str
    before: int | None  # rows in the damaged file; None: SQLite could not count them
    after: int  # rows in the new journal
    made_empty: bool = False  # not in the dump at all: made from the schema


@dataclass(frozen=True)
class Recovery:
    journal: Path
    damage: str  # what SQLite's integrity check said, shortened
    kept: Path  # the damaged file, as it was
    tables: list[TableRows]
    dangling: dict[str, int]  # "notes → sessions": rows that refer to a row not recovered
    unreplayed: list[str]  # statements of the dump the new file refused (the first few)
    shell_said: str  # the shell's own complaint while it read, shortened

    def report(self) -> str:
        lines = [
            f"journal {self.journal}: damaged ({self.damage})",
            "recovered what SQLite could read into a new journal:",
            f"  {'table':<16}{'before':>8}{'after':>8}",
        ]
        for table in self.tables:
            before = "?" if table.before is None else str(table.before)
            lines.append(f"  {table.name:<16}{before:>8}{table.after:>8}" + _loss(table))
        if self.dangling:
            refs = ", ".join(f"{what}: {n}" for what, n in sorted(self.dangling.items()))
            lines.append(f"rows that refer to rows not recovered: {refs}")
        if self.unreplayed:
            lines.append(f"statements the new journal refused: {'; '.join(self.unreplayed)}")
        if self.shell_said:
            lines.append(f"sqlite3 said: {self.shell_said}")
        sides = [s for s in _SIDE_FILES if _side(self.kept, s).exists()]
        lines.append(
            f"the damaged journal is kept as {self.kept}"
            + (f" (with its {' and '.join(sides)})" if sides else "")
        )
        lines.append(
            "before the kiosk takes cash again, compare `pending` and `staff cashbox` with the"
            " notes in the cash box"
        )
        return "\n".join(lines)


def _loss(table: TableRows) -> str:
    if table.made_empty:
        return "  NOT RECOVERED: its schema could not be read (made empty)"
    if table.before is None:
        return "  could not be counted before: rows may be lost"
    if table.after < table.before:
        return f"  {table.before - table.after} LOST (on pages SQLite could not read)"
    return ""


def integrity(path: Path) -> str:
    """SQLite's full integrity check ("ok" when sound), read-only: it also finds an index that
    disagrees with its table, which the quick check at start does not look for."""
    try:
        rows = check_rows(path, "integrity_check")
    except sqlite3.DatabaseError as error:
        return str(error)
    return "\n".join(rows) or "no answer"


def recover(path: Path) -> Recovery | None:
    """Recover the journal at ``path`` (no kiosk may hold it: the caller holds the data dir's
    lock). None when SQLite finds nothing wrong with it (nothing is changed then)."""
    if not path.is_file():
        raise RecoveryFailed(f"journal {path}: no such file, nothing to recover")
    shell = shutil.which(SHELL)
    if shell is None:
        raise ShellMissing(
            "journal --recover needs the sqlite3 command-line shell: apt-get install sqlite3"
        )
    damage = integrity(path)
    if damage == "ok":
        return None
    version = _version(path)
    before = _counts(path)
    work = path.with_name(path.name + WORK_SUFFIX)
    kept = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}")
    if kept.exists():
        raise RecoveryFailed(f"{kept} is there already: try again in a second")
    _remove(work)
    try:
        unreplayed, shell_said = _replay_dump(shell, path, work, version)
        made_empty = _complete_schema(work, version)
        if made_empty >= {name for kind, name, _ in _schema(version) if kind == "table"}:
            raise RecoveryFailed(
                f"journal {path}: its schema could not be read, so no row could be; nothing"
                " was changed (to start with an empty journal, move the file away: the kiosk"
                " then makes a new one)"
            )
        answer = whole_check(work)
        if answer != "ok":
            raise RecoveryFailed(
                f"journal {path}: the recovered copy fails SQLite's check too"
                f" ({shortened(answer)}); nothing was changed"
            )
        Database(work).close()  # this version's schema, by the journal's own migrations
        after, dangling = _finish(work, kept)
        _same_owner(path, work)
    except BaseException:
        _remove(work)
        raise
    try:
        _keep(path, kept)
        forget_kept(path)  # a crashed kiosk's second name would bring the damaged file back
        os.replace(work, path)
    except BaseException:
        _remove(work)
        raise
    fsync_dir(path.parent)
    tables = [
        TableRows(name, before.get(name), rows, name in made_empty) for name, rows in after.items()
    ]
    return Recovery(path, shortened(damage), kept, tables, dangling, unreplayed, shell_said)


def _version(path: Path) -> int:
    """The damaged file's schema version (in its header, readable while pages are not)."""
    try:
        with contextlib.closing(read_only(path)) as db:
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.DatabaseError as error:
        raise RecoveryFailed(f"journal {path}: cannot read its header: {error}") from None
    if version > len(MIGRATIONS):
        raise JournalUnusable(
            f"journal {path}: schema version {version} is newer than version {len(MIGRATIONS)},"
            " the newest this kiosk knows: recover it with the version that wrote it"
        )
    return version


def _counts(path: Path) -> dict[str, int | None]:
    """Rows per table of a (damaged) file; None where SQLite cannot count them."""
    counts: dict[str, int | None] = {}
    try:
        with contextlib.closing(read_only(path)) as db:
            names = [
                str(name)
                for (name,) in db.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                    " AND name NOT LIKE 'sqlite_%'"
                )
            ]
            for name in names:
                try:
                    counts[name] = int(db.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0])
                except sqlite3.DatabaseError:
                    counts[name] = None
    except sqlite3.DatabaseError:
        pass  # not even the schema: nothing could be counted
    return counts


def _replay_dump(shell: str, damaged: Path, work: Path, version: int) -> tuple[list[str], str]:
    """The shell's dump of ``damaged`` into a new file ``work`` at schema ``version``, in one
    transaction; a statement the new file refuses is skipped, the rest still go in. Returns
    the first refused statements (shortened) and what the shell said on stderr."""
    refused: list[str] = []
    db = sqlite3.connect(work, isolation_level=None)
    try:
        db.execute("BEGIN")
        # the shell's complaints go to a file: a pipe could fill while the dump is read
        with tempfile.TemporaryFile() as errors:
            process = subprocess.Popen(
                [shell, "-readonly", str(damaged), ".dump"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=errors,
            )
            assert process.stdout is not None
            with process:
                statement: list[str] = []
                for raw in process.stdout:
                    # a damaged page can hold bytes that are no UTF-8: the row goes in all the same
                    statement.append(raw.decode("utf-8", errors="replace"))
                    text = "".join(statement)
                    if not sqlite3.complete_statement(text):
                        continue
                    statement = []
                    if _TRANSACTION.match(_without_comments(text)):
                        continue
                    try:
                        db.execute(text)
                    except sqlite3.Error as error:
                        if len(refused) < 3:
                            refused.append(f"{shortened(text, 60)} ({error})")
            errors.seek(0)
            said = errors.read().decode("utf-8", errors="replace")
        db.execute(f"PRAGMA user_version = {int(version)}")
        db.execute("COMMIT")
    finally:
        db.close()
    return refused, shortened(said)


def _without_comments(text: str) -> str:
    """The statement without the comment lines the dump puts before it."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.DOTALL)
    return re.sub(r"^\s*--[^\n]*\n", "", text, flags=re.MULTILINE)


def _schema(version: int) -> list[tuple[str, str, str]]:
    """(type, name, SQL) of every table, then every index, of schema ``version``."""
    with contextlib.closing(sqlite3.connect(":memory:")) as reference:
        for script in MIGRATIONS[:version]:
            reference.executescript(script)
        rows = reference.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL"
            " ORDER BY type = 'index', rowid"
        )
        return [(str(kind), str(name), str(sql)) for kind, name, sql in rows]


def _complete_schema(work: Path, version: int) -> set[str]:
    """Make every table and index of schema ``version`` that the dump did not bring (their
    schema could not be read): empty, so that the migrations and the kiosk find them."""
    made: set[str] = set()
    with contextlib.closing(sqlite3.connect(work, isolation_level=None)) as db:
        present = {str(name) for (name,) in db.execute("SELECT name FROM sqlite_master")}
        for kind, name, sql in _schema(version):
            if name not in present:
                db.execute(sql)
                if kind == "table":
                    made.add(str(name))
    return made


def _finish(work: Path, kept: Path) -> tuple[dict[str, int], dict[str, int]]:
    """Note the recovery in the new journal's events, make the file whole on its own (no WAL
    beside it to lose in the rename) and durable. Returns its rows per table and the rows
    whose reference leads to a row that was not recovered."""
    with contextlib.closing(sqlite3.connect(work, isolation_level=None)) as db:
        # the "ever" figures from the rows recovered (the tallies' own page may be lost, and a
        # lost row is no longer counted)
        db.execute("BEGIN")
        for statement in statements(TALLIES_FROM_ROWS):
            db.execute(statement)
        db.execute("COMMIT")
        names = [
            str(name)
            for (name,) in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%' ORDER BY rowid"
            )
        ]
        after = {n: int(db.execute(f'SELECT COUNT(*) FROM "{n}"').fetchone()[0]) for n in names}
        dangling = Counter(
            f"{table} → {parent}"
            for table, _, parent, _ in db.execute("PRAGMA foreign_key_check").fetchall()
        )
        db.execute(
            "INSERT INTO events (at, kind, detail) VALUES (?, 'journal', ?)",
            (time.time(), f"recovered from a damaged journal, kept as {kept.name}"),
        )
        db.execute("PRAGMA journal_mode=DELETE")
    with work.open("rb") as file:
        os.fsync(file.fileno())
    return after, dict(dangling)


def _same_owner(path: Path, work: Path) -> None:
    """The new journal gets the old one's owner and mode: recovered by root, it must still be
    the kiosk user's to write."""
    stat = path.stat()
    if os.geteuid() == 0:
        os.chown(work, stat.st_uid, stat.st_gid)
    os.chmod(work, stat.st_mode & 0o777)


def _keep(path: Path, kept: Path) -> None:
    """Keep the damaged journal (and its WAL) as ``kept``; the journal's own WAL goes, so that
    SQLite does not lay it over the new file. The journal's name is never without a file."""
    for suffix in ("", *_SIDE_FILES):
        source = _side(path, suffix)
        # an empty WAL holds nothing (a read-only check leaves one), nor does its index then
        if source.exists() and (suffix == "" or _wal_holds_frames(path)):
            try:
                os.link(source, _side(kept, suffix))
            except OSError:  # a file system without hard links
                shutil.copy2(source, _side(kept, suffix))
                with _side(kept, suffix).open("rb") as file:
                    os.fsync(file.fileno())
    fsync_dir(path.parent)
    for suffix in _SIDE_FILES:
        _side(path, suffix).unlink(missing_ok=True)
    fsync_dir(path.parent)


def _wal_holds_frames(path: Path) -> bool:
    try:
        return _side(path, "-wal").stat().st_size > 0
    except FileNotFoundError:
        return False


def _side(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def _remove(path: Path) -> None:
    for suffix in ("", "-journal", *_SIDE_FILES):
        _side(path, suffix).unlink(missing_ok=True)
