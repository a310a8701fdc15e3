"""Retention with audit: closed records older than the working window move out of the live
journal into monthly archive files, and archives older than the retention period go.

The rule (:func:`select`): a calendar month (the kiosk's local time) moves only once it ended
before the **cut-off**, the earlier of *now − the working window* and *the last collection*
(anything since the last collection never moves; no collection yet: nothing moves). Of that
month, what is closed moves, with everything its rows refer to or that refers to it:

- a finished session whose notes are all settled (stacked and in a collected cash-box row with a
  credit, returned, rejected, or unresolved with no open case) and whose credits are all settled
  (confirmed, or refused with no open case), with its notes, cash-box rows and credits;
- a move (a credit with no session) settled, its member told, with no open case;
- the resolved cases of those credits and notes, and resolved cases of the month that refer to
  nothing;
- a collection of the month none of whose cash-box rows stays; the month's events, staff
  attempts and reconciliation runs (with their findings).

The archive (:func:`write_archive`): ``journal-YYYY-MM.sqlite3`` in the archive folder, the
journal's tables (no triggers), a ``manifest`` of rows and a SHA-256 per table, and beside it
``journal-YYYY-MM.sqlite3.sha256`` (``sha256sum`` format). Written under a temporary name,
fsynced, renamed, the folder fsynced, then the checksum file the same way: at every moment the
month's name holds a whole archive or none. A month archived again (rows that closed later) is a
new file holding the old rows and the new, renamed over the old one once the old one's checksum
file is gone (an archive without one is checked against its manifest alone).

The live rows go (:func:`delete_archived`) only after the archive on disk is read back and each
of them is found in it, equal; in short transactions, children first. A crash anywhere leaves
the live rows, or a whole archive (and what is left of the live rows, deleted by the next run),
never neither. Each run of the job is a row of ``archive_runs``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from kiosk.core.crashpoints import checkpoint
from kiosk.journal.db import Database, fsync_dir
from kiosk.journal.read_only import read_only

# children before parents: the order live rows are deleted in (foreign keys are on)
TABLES = (
    "reconciliation_findings",
    "reconciliations",
    "cases",
    "cashbox",
    "notes",
    "credits",
    "sessions",
    "collections",
    "events",
    "staff_attempts",
)
_CHUNK = 500  # ids per statement, and rows deleted per transaction (SQLite's limit is far above)
# A credit's row has indexes on random keys (its request id, its member): every transaction
# that deletes a few hundred of them rewrites most of those indexes' pages. A busy month's
# credits (~5,800) in one transaction write 18 MB instead of 80 MB (bench/archive_run.py); the
# kiosk's writes wait for it once (0.5 s here), at a quiet hour.
_ROWS_PER_TRANSACTION = {"credits": 10_000}


@dataclass(frozen=True)
class Policy:
    """How long closed records stay live, and archives kept (defaults: ``[journal]``)."""

    working_days: int  # closed records younger than this stay in the live journal
    retention_years: int  # archives of months that ended longer ago are removed


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @property
    def name(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start(self) -> float:
        return datetime(self.year, self.month, 1).timestamp()  # local time

    @property
    def end(self) -> float:
        after = Month(self.year + self.month // 12, self.month % 12 + 1)
        return after.start

    @classmethod
    def of(cls, at: float) -> Month:
        moment = datetime.fromtimestamp(at)
        return cls(moment.year, moment.month)


@dataclass
class Selection:
    """The rows of one month that move: table → ids."""

    month: Month
    ids: dict[str, list[int]] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(len(ids) for ids in self.ids.values())


def cutoff(db: Database, policy: Policy, now: float) -> float:
    """Nothing at or after this moves: the working window, and the last collection (0: there
    was none, nothing moves)."""
    row = db.one("SELECT at FROM collections ORDER BY id DESC LIMIT 1")
    last = 0.0 if row is None else float(row["at"])
    return min(now - policy.working_days * 86_400, last)


@contextlib.contextmanager
def snapshot(db: Database) -> Iterator[sqlite3.Connection]:
    """A read-only connection of its own, in one read transaction: the journal as it was at
    one moment, read without holding the journal's lock (the kiosk writes on meanwhile)."""
    with contextlib.closing(read_only(db.path, autocommit=True)) as read:
        read.execute("BEGIN")
        try:
            yield read
        finally:
            read.execute("COMMIT")


def months_to_move(db: Database, before: float) -> list[Month]:
    """The months that ended before ``before``, from the month of the oldest live row of any
    table a later month's :func:`select` would take rows of earlier months from (ids follow
    time: the first row of each table is its oldest; reconciliation runs by their day). A run
    killed in a month's deletion leaves some of these (the month's collections when its events
    went with an earlier archive, its staff attempts: the last rows deleted): the month is done
    again, not the next month taking them into its own archive as well."""
    with snapshot(db) as read:
        firsts = [
            read.execute(f"SELECT {column} FROM {table} ORDER BY id LIMIT 1").fetchone()
            for table, column in (
                ("sessions", "started_at"),
                ("credits", "created_at"),
                ("cases", "created_at"),
                ("collections", "at"),
                ("events", "at"),
                ("staff_attempts", "at"),
            )
        ]
        day = read.execute("SELECT min(day) FROM reconciliations").fetchone()[0]
    times = [float(row[0]) for row in firsts if row is not None]
    if day is not None:
        times.append(datetime.strptime(str(day), "%Y-%m-%d").timestamp())
    if not times:
        return []
    months, month = [], Month.of(min(times))
    while month.end <= before:
        months.append(month)
        month = Month.of(month.end + 1)
    return months


_SETTLED_CREDIT = (
    "(c.state = 'confirmed' OR c.state = 'refused') AND c.told = 1"
    " AND NOT EXISTS (SELECT 1 FROM cases k WHERE k.credit_id = c.id AND k.state = 'open')"
)
_SETTLED_NOTE = (
    "(n.state IN ('returned', 'rejected')"
    " OR (n.state = 'stacked' AND n.credit_id IS NOT NULL AND EXISTS (SELECT 1 FROM cashbox b"
    "  WHERE b.note_id = n.id AND b.collection_id IS NOT NULL))"
    " OR n.state = 'unresolved')"
    " AND NOT EXISTS (SELECT 1 FROM cases k WHERE k.note_id = n.id AND k.state = 'open')"
)


def select(db: Database, month: Month, before: float) -> Selection:
    """What of ``month`` moves (nothing unless the month ended before ``before``, the
    :func:`cutoff`), read from a :func:`snapshot`: the caller archives and deletes. Bounded by
    the month's rows: each table is read from its oldest id until a row past the month."""
    chosen = Selection(month)
    if month.end > before:
        return chosen
    with snapshot(db) as read:
        chosen.ids = _select(read, month)
    return chosen


@dataclass(frozen=True)
class Newest:
    """The newest row of each table stays live: SQLite gives a new row the id after the newest
    one's, so archiving the newest would hand its id out again (an archived row and a live one
    under one id, in the books). A table's newest row (and the session or move it belongs to)
    moves once a newer one is there."""

    ids: dict[str, int]  # table → its newest id
    sessions: frozenset[int]  # sessions holding a table's newest row
    moves: frozenset[int]  # moves (credits with no session) holding one

    @classmethod
    def read(cls, read: sqlite3.Connection) -> Newest:
        ids = {
            table: int(row[0])
            for table in TABLES
            if (row := read.execute(f"SELECT max(id) FROM {table}").fetchone())[0] is not None
        }

        def one(sql: str, table: str) -> list[tuple[int | None, int]]:
            """(session id or None, credit id or 0) of the table's newest row."""
            if table not in ids:
                return []
            return [(r[0], int(r[1])) for r in read.execute(sql, (ids[table],))]

        found = one("SELECT session_id, 0 FROM notes WHERE id = ?", "notes")
        found += one(
            "SELECT n.session_id, 0 FROM cashbox b JOIN notes n ON n.id = b.note_id WHERE b.id = ?",
            "cashbox",
        )
        found += one(
            "SELECT n.session_id, 0 FROM cases k JOIN notes n ON n.id = k.note_id WHERE k.id = ?",
            "cases",
        )
        found += one("SELECT session_id, id FROM credits WHERE id = ?", "credits")
        found += one(
            "SELECT c.session_id, c.id FROM cases k JOIN credits c ON c.id = k.credit_id"
            " WHERE k.id = ?",
            "cases",
        )
        sessions = {ids["sessions"]} if "sessions" in ids else set()
        sessions |= {int(session) for session, _ in found if session is not None}
        moves = {credit for session, credit in found if session is None and credit}
        return cls(ids, frozenset(sessions), frozenset(moves))

    def without(self, table: str, ids: list[int]) -> list[int]:
        """``ids`` but the table's newest."""
        return [i for i in ids if i != self.ids.get(table)]


def _select(read: sqlite3.Connection, month: Month) -> dict[str, list[int]]:
    newest = Newest.read(read)
    sessions = _of(
        read,
        "SELECT s.id FROM sessions s WHERE s.id IN ({}) AND s.state = 'finished'"
        " AND NOT EXISTS (SELECT 1 FROM notes n WHERE n.session_id = s.id"
        f"  AND NOT ({_SETTLED_NOTE})) AND NOT EXISTS (SELECT 1 FROM credits c"
        f"  WHERE c.session_id = s.id AND NOT ({_SETTLED_CREDIT}))",
        _in_month(read, "sessions", "started_at", month),
    )
    sessions = [s for s in sessions if s not in newest.sessions]
    notes = _of(read, "SELECT id FROM notes WHERE session_id IN ({})", sessions)
    cashbox = _of(read, "SELECT id FROM cashbox WHERE note_id IN ({})", notes)
    credits = _of(read, "SELECT id FROM credits WHERE session_id IN ({})", sessions)
    moves = _of(  # no session
        read,
        f"SELECT c.id FROM credits c WHERE c.id IN ({{}}) AND c.session_id IS NULL"
        f" AND {_SETTLED_CREDIT}",
        _in_month(read, "credits", "created_at", month),
    )
    credits += [m for m in moves if m not in newest.moves]
    span = (month.start, month.end)
    cases = set(_of(read, "SELECT id FROM cases WHERE credit_id IN ({})", credits))
    cases |= set(_of(read, "SELECT id FROM cases WHERE note_id IN ({})", notes))
    cases |= {
        int(r[0])
        for r in read.execute(
            "SELECT id FROM cases WHERE credit_id IS NULL AND note_id IS NULL"
            " AND state = 'resolved' AND created_at >= ? AND created_at < ?",
            span,
        )
    }
    cases.discard(newest.ids.get("cases", 0))  # one of the rows above: it stays with them
    # the collections of the month (and earlier) none of whose cash-box rows stays live
    candidates = [
        int(c) for (c,) in read.execute("SELECT id FROM collections WHERE at < ?", span[1:])
    ]
    moving, staying = set(cashbox), set()
    for chunk in chunks(candidates):
        marks = ",".join("?" * len(chunk))
        for box, collection in read.execute(
            f"SELECT id, collection_id FROM cashbox WHERE collection_id IN ({marks})", chunk
        ):
            if int(box) not in moving:
                staying.add(int(collection))
    collections = [c for c in candidates if c not in staying]
    runs = [
        int(r[0])
        for r in read.execute(
            "SELECT id FROM reconciliations WHERE day < ? ORDER BY id", (f"{month.name}-99",)
        )
    ]
    finding = newest.ids.get("reconciliation_findings")
    held_run = read.execute(
        "SELECT run_id FROM reconciliation_findings WHERE id = ?", (finding,)
    ).fetchone()
    runs = [
        r
        for r in newest.without("reconciliations", runs)
        if held_run is None or r != int(held_run[0])
    ]
    return {
        "reconciliation_findings": _of(
            read, "SELECT id FROM reconciliation_findings WHERE run_id IN ({})", runs
        ),
        "reconciliations": runs,
        "cases": sorted(cases),
        "cashbox": sorted(cashbox),
        "notes": sorted(notes),
        "credits": sorted(credits),
        "sessions": sessions,
        "collections": newest.without("collections", collections),
        # rows of no one's: everything before the month's end (a row a clock step left behind
        # goes with the next month)
        "events": newest.without(
            "events", _in_month(read, "events", "at", month, since_start=False)
        ),
        "staff_attempts": newest.without(
            "staff_attempts", _in_month(read, "staff_attempts", "at", month, since_start=False)
        ),
    }


def _in_month(
    read: sqlite3.Connection, table: str, column: str, month: Month, since_start: bool = True
) -> list[int]:
    """Ids of ``table``'s rows whose ``column`` is in the month (``since_start`` False: before
    its end), read from the oldest id on until the first row past the month: ids follow time,
    and the rows of earlier months still there are the few that stay."""
    found = []
    for rowid, at in read.execute(f"SELECT id, {column} FROM {table} ORDER BY id"):
        if at >= month.end:
            break
        if not since_start or at >= month.start:
            found.append(int(rowid))
    return found


def _of(read: sqlite3.Connection, sql: str, ids: list[int]) -> list[int]:
    """``sql`` with ``{}`` for a list of ids, in chunks."""
    found: list[int] = []
    for chunk in chunks(ids):
        marks = ",".join("?" * len(chunk))
        found += [int(r[0]) for r in read.execute(sql.format(marks), tuple(chunk))]
    return found


def chunks(ids: list[int], size: int = _CHUNK) -> Iterator[list[int]]:
    """``ids`` in runs of ``size``: a statement's ``IN (...)`` or a transaction's rows."""
    for at in range(0, len(ids), size):
        yield ids[at : at + size]


# ---- the archive files ------------------------------------------------------------------------
def archive_path(folder: Path, month: Month) -> Path:
    return folder / f"journal-{month.name}.sqlite3"


def checksum_path(archive: Path) -> Path:
    return archive.with_name(archive.name + ".sha256")


def _rows(
    db: sqlite3.Connection, table: str, ids: Iterable[int] | None
) -> list[tuple[object, ...]]:
    if ids is None:
        return [tuple(r) for r in db.execute(f"SELECT * FROM {table} ORDER BY id")]
    rows: list[tuple[object, ...]] = []
    for chunk in chunks(list(ids)):
        marks = ",".join("?" * len(chunk))
        rows += [
            tuple(r)
            for r in db.execute(f"SELECT * FROM {table} WHERE id IN ({marks})", tuple(chunk))
        ]
    return sorted(rows, key=_key)


def _key(row: tuple[object, ...]) -> int:
    """A row's id (every archived table's first column)."""
    value = row[0]
    assert isinstance(value, int)
    return value


def digest(rows: Iterable[tuple[object, ...]]) -> str:
    """SHA-256 of rows (in id order) as their ``repr``: the same rows, the same digest."""
    sha = hashlib.sha256()
    for row in rows:
        sha.update(repr(row).encode())
        sha.update(b"\n")
    return sha.hexdigest()


def write_archive(db: Database, selection: Selection, folder: Path) -> Path:
    """The month's archive with ``selection``'s rows (and the rows it held already), durable
    under its name with its checksum file before this returns. The live rows are not touched."""
    folder.mkdir(parents=True, exist_ok=True)
    final = archive_path(folder, selection.month)
    temp = final.with_name(f".{final.name}.tmp")
    temp.unlink(missing_ok=True)
    schema = [
        str(r["sql"])
        for r in db.query(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name IN ({})".format(
                ",".join("?" * len(TABLES))
            ),
            TABLES,
        )
    ]
    with contextlib.closing(sqlite3.connect(temp, isolation_level=None)) as out:
        out.execute("PRAGMA journal_mode=DELETE")
        out.execute("BEGIN")
        for sql in schema:
            out.execute(sql)
        out.execute("CREATE TABLE manifest (name TEXT PRIMARY KEY, rows INTEGER, sha256 TEXT)")
        out.execute("CREATE TABLE about (key TEXT PRIMARY KEY, value TEXT)")
        old = _read_old(final)
        with snapshot(db) as live:  # the month as it is now; the deletion checks it again
            for table in TABLES:
                rows = {_key(r): r for r in old.get(table, [])}
                for row in _rows(live, table, selection.ids.get(table, [])):
                    rows[_key(row)] = row
                ordered = [rows[k] for k in sorted(rows)]
                if ordered:
                    marks = ",".join("?" * len(ordered[0]))
                    out.executemany(f"INSERT INTO {table} VALUES ({marks})", ordered)
                out.execute(
                    "INSERT INTO manifest VALUES (?, ?, ?)", (table, len(ordered), digest(ordered))
                )
        out.executemany(
            "INSERT INTO about VALUES (?, ?)",
            [("month", selection.month.name), ("written_at", str(time.time()))],
        )
        out.execute("COMMIT")
    checkpoint("archive_temp_written")
    _fsync(temp)
    if checksum_path(final).exists():  # the old archive's: gone first, durably
        # else a crash between the rename and the new checksum file leaves the new archive
        # beside the old one's checksum: it fails verify(), and every later run refuses it
        checksum_path(final).unlink()
        fsync_dir(folder)
    os.replace(temp, final)
    fsync_dir(folder)
    checkpoint("archive_renamed")
    _write_checksum(final)
    checkpoint("archive_checksummed")
    return final


def _read_old(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """The rows of an archive already there (checked first: a damaged one is not merged)."""
    if not path.exists():
        return {}
    problem = verify(path)
    if problem is not None:
        raise ValueError(f"archive {path.name}: {problem}; not written over")
    with contextlib.closing(read_only(path)) as db:
        return {table: _rows(db, table, None) for table in TABLES}


def _write_checksum(archive: Path) -> None:
    sha = hashlib.sha256(archive.read_bytes()).hexdigest()
    final = checksum_path(archive)
    temp = final.with_name(f".{final.name}.tmp")
    temp.write_text(f"{sha}  {archive.name}\n", encoding="ascii")
    _fsync(temp)
    os.replace(temp, final)
    fsync_dir(archive.parent)


def _fsync(path: Path) -> None:
    with path.open("rb") as file:
        os.fsync(file.fileno())


CHANGED = "its SHA-256 differs from its checksum file"


def _checksum_file(sums: Path) -> tuple[str | None, str | None]:
    """The SHA-256 a checksum file (``sha256sum`` format) holds, or what is wrong with it."""
    try:
        words = sums.read_text(encoding="ascii").split()
    except (OSError, UnicodeDecodeError):
        return None, "its checksum file cannot be read"
    if not words:
        return None, "its checksum file is empty"
    if not re.fullmatch(r"[0-9a-f]{64}", words[0]):
        return None, "its checksum file is not a SHA-256 line"
    return words[0], None


def expected_sha256(sums: Path) -> str | None:
    """The SHA-256 the checksum file at ``sums`` holds (None: not one)."""
    return _checksum_file(sums)[0]


def checksum_problem(path: Path) -> str | None:
    """What is wrong with the archive's bytes by its checksum file (None: they agree, or there
    is no checksum file). Reads the file once, not its rows."""
    sums = checksum_path(path)
    if not sums.exists():
        return None
    expected, problem = _checksum_file(sums)
    if problem is not None:
        return problem
    with path.open("rb") as file:
        if hashlib.file_digest(file, "sha256").hexdigest() != expected:
            return CHANGED
    return None


def verify(path: Path) -> str | None:
    """What is wrong with the archive at ``path`` (None: its checksum file, if there, and its
    manifest agree with its rows)."""
    problem = checksum_problem(path)
    if problem is not None:
        return problem
    try:
        with contextlib.closing(read_only(path)) as db:
            for name, rows, sha in db.execute("SELECT name, rows, sha256 FROM manifest"):
                found = _rows(db, str(name), None)
                if len(found) != rows or digest(found) != sha:
                    return f"table {name} differs from its manifest"
    except sqlite3.Error as error:
        return f"cannot be read ({error})"
    return None


def delete_archived(db: Database, selection: Selection, archive: Path) -> int:
    """Delete the live rows of ``selection`` that the archive on disk holds, equal; ``ValueError``
    (nothing more deleted) if one of them is missing from it or differs, or the archive fails
    :func:`verify`. Returns the rows deleted.

    In short transactions (``_CHUNK`` rows; a month's credits in one), children before parents
    (:data:`TABLES`): the journal's lock is held a short while at a time (the engine writes
    between them), and a crash between two leaves live rows whose children went first, every
    one of them in the whole archive; the next run selects what is left of the month and
    finishes it. A note's cash-box row goes in the note's transaction: :func:`select` takes a
    stacked note as settled by its collected cash-box row, so a note left without it would stay
    live for good, and its session with it."""
    problem = verify(archive)
    if problem is not None:
        raise ValueError(f"archive {archive.name}: {problem}; nothing deleted")
    deleted = 0
    # a note and its cash-box row go in one transaction: a stacked note whose ledger row went
    # first would be left live for good (no longer settled: never selected again) and the
    # ledger would not equal the stacked notes
    boxes = set(selection.ids.get("cashbox", []))
    with contextlib.closing(read_only(archive)) as saved:
        for table in TABLES:
            if table == "cashbox":
                continue  # with their notes
            size = _ROWS_PER_TRANSACTION.get(table, _CHUNK)
            batches = list(chunks(selection.ids.get(table, []), size))
            for number, batch in enumerate(batches, start=1):
                with db.write() as tx:
                    for chunk in chunks(batch):
                        if table == "notes":
                            ledger = _of_notes(tx, chunk, boxes)
                            if ledger:
                                deleted += _delete_saved(tx, saved, "cashbox", ledger, archive.name)
                        deleted += _delete_saved(tx, saved, table, chunk, archive.name)
                if number < len(batches):
                    checkpoint("archive_part_deleted")
            if table == "notes" and boxes:  # rows of notes that stay (none, by select)
                for chunk in chunks(sorted(boxes)):
                    with db.write() as tx:
                        deleted += _delete_saved(tx, saved, "cashbox", chunk, archive.name)
    with db.write() as tx:
        tx.execute(
            "INSERT INTO events (at, kind, detail) VALUES (?, 'journal', ?)",
            (time.time(), f"archived {selection.month.name}: {deleted} rows into {archive.name}"),
        )
    return deleted


def _of_notes(tx: sqlite3.Connection, notes: list[int], boxes: set[int]) -> list[int]:
    """The cash-box rows of ``notes`` among ``boxes`` (taken out of it)."""
    marks = ",".join("?" * len(notes))
    found = [
        int(r[0])
        for r in tx.execute(f"SELECT id FROM cashbox WHERE note_id IN ({marks})", tuple(notes))
        if int(r[0]) in boxes
    ]
    boxes.difference_update(found)
    return found


def _delete_saved(
    tx: sqlite3.Connection, saved: sqlite3.Connection, table: str, ids: list[int], name: str
) -> int:
    """Delete ``table``'s rows ``ids``, each found equal in the archive first."""
    kept = {_key(r): r for r in _rows(saved, table, ids)}
    for row in _rows(tx, table, ids):
        if kept.get(_key(row)) != row:
            raise ValueError(
                f"archive {name}: {table} #{row[0]} is not in it as it is live;"
                " nothing more deleted"
            )
    marks = ",".join("?" * len(ids))
    return tx.execute(f"DELETE FROM {table} WHERE id IN ({marks})", tuple(ids)).rowcount


@dataclass(frozen=True)
class Archived:
    """What a run of the archive job did."""

    moved: dict[str, int]  # month → live rows moved into its archive
    removed: list[str]  # archives past the retention period, removed
    left: bool = False  # stopped before the end (``stop``): the next run goes on

    @property
    def rows(self) -> int:
        return sum(self.moved.values())


def run(
    db: Database,
    folder: Path,
    policy: Policy,
    now: float,
    by: str = "schedule",
    stop: Callable[[], bool] = lambda: False,
) -> Archived:
    """Every month due moved into its archive (:func:`select`, :func:`write_archive`,
    :func:`delete_archived`, each journaled), then the archives past the retention period
    removed (journaled); ``stop()`` is asked before each month (a member came: the rest waits).
    The run is a row of ``archive_runs``, written first ("running") and finished with what it
    did or why it failed: a run killed anywhere stays "running", and the next one finishes
    its work. Raises what failed (``ValueError`` for a damaged archive, ``OSError``)."""
    folder.mkdir(parents=True, exist_ok=True)
    with _one_run_at_a_time(folder):
        return _run(db, folder, policy, now, by, stop)


@contextlib.contextmanager
def _one_run_at_a_time(folder: Path) -> Iterator[None]:
    """The kiosk's daily run and one from a shell never write the same archive at once."""
    with (folder / ".lock").open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ValueError("another run of the archive job is under way") from None
        yield  # the lock goes with the file's close (and with a killed process)


def _run(
    db: Database, folder: Path, policy: Policy, now: float, by: str, stop: Callable[[], bool]
) -> Archived:
    began = time.time()
    with db.write() as tx:
        run_id = tx.execute(
            "INSERT INTO archive_runs (at, by, result) VALUES (?, ?, 'running')", (began, by)
        ).lastrowid
    moved: dict[str, int] = {}
    removed: list[str] = []
    left = False
    try:
        before = cutoff(db, policy, now)
        for month in months_to_move(db, before):
            if stop():
                left = True
                break
            chosen = select(db, month, before)
            if chosen.rows:
                moved[month.name] = delete_archived(db, chosen, write_archive(db, chosen, folder))
        if not left:
            removed = [p.name for p in remove_expired(folder, policy, now)]
    except (ValueError, OSError, sqlite3.Error) as error:
        _finish(db, run_id, "failed", moved, removed, began, str(error))
        raise
    if removed:
        with db.write() as tx:
            tx.execute(
                "INSERT INTO events (at, kind, detail) VALUES (?, 'journal', ?)",
                (
                    time.time(),
                    f"archives past {policy.retention_years} years removed: " + ", ".join(removed),
                ),
            )
    checkpoint("archive_run_unfinished")
    _finish(db, run_id, "stopped" if left else "done", moved, removed, began, "")
    return Archived(moved, removed, left)


def _finish(
    db: Database,
    run_id: int | None,
    result: str,
    moved: dict[str, int],
    removed: list[str],
    began: float,
    detail: str,
) -> None:
    with db.write() as tx:
        tx.execute(
            "UPDATE archive_runs SET result = ?, months = ?, rows = ?, removed = ?, seconds = ?,"
            " detail = ? WHERE id = ?",
            (
                result,
                " ".join(moved),
                sum(moved.values()),
                " ".join(removed),
                time.time() - began,
                detail[:500],
                run_id,
            ),
        )


@dataclass(frozen=True)
class ArchiveRun:
    """A run of the archive job as journaled."""

    at: float
    by: str
    result: str  # running (or killed) | done | stopped | failed
    months: tuple[str, ...]
    rows: int
    removed: tuple[str, ...]
    seconds: float
    detail: str


def last_run(db: Database, finished: bool = False) -> ArchiveRun | None:
    """The newest run of the archive job (``finished``: the newest that did its work, whole or
    stopped by a member; None: none)."""
    where = "WHERE result IN ('done', 'stopped')" if finished else ""
    row = db.one(f"SELECT * FROM archive_runs {where} ORDER BY id DESC LIMIT 1")
    if row is None:
        return None
    return ArchiveRun(
        float(row["at"]),
        str(row["by"]),
        str(row["result"]),
        tuple(str(row["months"]).split()),
        int(row["rows"]),
        tuple(str(row["removed"]).split()),
        float(row["seconds"]),
        str(row["detail"]),
    )


def archives(folder: Path) -> list[Path]:
    """The archive files in ``folder``, oldest month first."""
    return sorted(folder.glob("journal-????-??.sqlite3")) if folder.is_dir() else []


def remove_expired(folder: Path, policy: Policy, now: float) -> list[Path]:
    """Archives of months that ended more than the retention period ago, removed (with their
    checksum files). Returns the archives removed."""
    limit = Month.of(now)
    oldest = Month(limit.year - policy.retention_years, limit.month)
    removed = []
    for path in archives(folder):
        year, month = path.name[len("journal-") : -len(".sqlite3")].split("-")
        if Month(int(year), int(month)) < oldest:
            checksum_path(path).unlink(missing_ok=True)
            path.unlink()
            removed.append(path)
            checkpoint("archive_expired_removed")
    if removed:
        fsync_dir(folder)
    return removed
