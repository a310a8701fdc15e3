"""The journal's SQLite file: WAL, synchronous=FULL, versioned migrations, one lock."""

from __future__ import annotations

import contextlib
import enum
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.journal.integrity import Sweep, check
from kiosk.journal.read_only import read_only

log = logging.getLogger("paykiosk.journal")

# The "ever" figures from the rows (migration 10, and a recovered journal: kiosk.journal.recovery)
# (a name with no rows left keeps its row, at 0)
TALLIES_FROM_ROWS = """
    UPDATE tallies SET n = 0, total = 0;
    INSERT INTO tallies (name, n, total, last)
        SELECT 'stacked', count(*), coalesce(sum(value), 0), max(at) FROM cashbox WHERE true
        ON CONFLICT (name) DO UPDATE SET n = excluded.n, total = excluded.total,
            last = excluded.last;
    INSERT INTO tallies (name, n, total, last)
        SELECT 'credits ' || kind || ' ' || state, count(*), sum(amount), max(updated_at)
        FROM credits WHERE true GROUP BY kind, state
        ON CONFLICT (name) DO UPDATE SET n = excluded.n, total = excluded.total,
            last = excluded.last;
"""

# Each entry moves the schema one version up (PRAGMA user_version); never edit a shipped one.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE sessions (
        id INTEGER PRIMARY KEY, started_at REAL NOT NULL, card_tag TEXT NOT NULL,
        user_id TEXT, user_name TEXT, bucket TEXT, money_id TEXT,
        state TEXT NOT NULL DEFAULT 'open', outcome TEXT, finished_at REAL);
    CREATE TABLE credits (
        id INTEGER PRIMARY KEY, request_id TEXT UNIQUE NOT NULL,
        session_id INTEGER REFERENCES sessions(id), user_id TEXT NOT NULL,
        money_id TEXT NOT NULL, bucket TEXT NOT NULL, amount INTEGER NOT NULL CHECK (amount > 0),
        state TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL DEFAULT 0, transaction_id TEXT, last_error TEXT,
        reference TEXT, created_at REAL NOT NULL, updated_at REAL NOT NULL);
    CREATE INDEX credits_due ON credits (state, next_attempt_at);
    CREATE TABLE notes (
        id INTEGER PRIMARY KEY, session_id INTEGER REFERENCES sessions(id),
        escrow_code INTEGER NOT NULL, value INTEGER NOT NULL, state TEXT NOT NULL,
        credit_id INTEGER REFERENCES credits(id), created_at REAL NOT NULL,
        updated_at REAL NOT NULL);
    CREATE INDEX notes_uncredited ON notes (state, credit_id);
    CREATE TABLE cashbox (
        id INTEGER PRIMARY KEY, note_id INTEGER UNIQUE REFERENCES notes(id),
        value INTEGER NOT NULL, at REAL NOT NULL, collection_id INTEGER REFERENCES collections(id));
    CREATE TABLE collections (
        id INTEGER PRIMARY KEY, at REAL NOT NULL, who TEXT NOT NULL, counts TEXT NOT NULL,
        total INTEGER NOT NULL);
    CREATE TABLE cases (
        id INTEGER PRIMARY KEY, reference TEXT UNIQUE NOT NULL, kind TEXT NOT NULL,
        credit_id INTEGER REFERENCES credits(id), note_id INTEGER REFERENCES notes(id),
        user_id TEXT, amount INTEGER, detail TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL DEFAULT 'open', resolution TEXT, resolved_by TEXT, resolved_at REAL,
        created_at REAL NOT NULL);
    CREATE TABLE events (
        id INTEGER PRIMARY KEY, at REAL NOT NULL, kind TEXT NOT NULL, detail TEXT NOT NULL);
    """,
    # 2: a member's earlier open credits are looked up for every due credit
    """
    CREATE INDEX credits_by_member ON credits (user_id, state, id);
    """,
    # 3: staff (PINs as scrypt hashes, cards as salted hashes), every entry attempt, and a
    # collection's counted notes beside the expected ones
    """
    CREATE TABLE staff (
        name TEXT PRIMARY KEY, pin_hash BLOB, pin_salt BLOB, pin_params TEXT,
        created_at REAL NOT NULL, updated_at REAL NOT NULL);
    CREATE TABLE staff_cards (
        id INTEGER PRIMARY KEY, name TEXT NOT NULL REFERENCES staff(name) ON DELETE CASCADE,
        salt BLOB NOT NULL, card_hash BLOB NOT NULL, card_tag TEXT NOT NULL,
        added_at REAL NOT NULL);
    CREATE TABLE staff_attempts (
        id INTEGER PRIMARY KEY, at REAL NOT NULL, name TEXT, method TEXT NOT NULL,
        success INTEGER NOT NULL, detail TEXT NOT NULL DEFAULT '');
    ALTER TABLE collections ADD COLUMN counted TEXT;
    ALTER TABLE collections ADD COLUMN discrepancy INTEGER;
    ALTER TABLE collections ADD COLUMN note TEXT NOT NULL DEFAULT '';
    """,
    # 4: the note staff leave when they resolve a case by hand (schema 3 kept it in events;
    # char(59) is the ';' the migration runner would split the statement at)
    """
    ALTER TABLE cases ADD COLUMN resolution_note TEXT;
    UPDATE cases SET resolution_note = (
        SELECT substr(e.detail, instr(e.detail, char(59) || ' note: ') + 8) FROM events e
        WHERE e.kind = 'staff' AND e.detail LIKE 'case ' || cases.reference || ' resolved as %'
        ORDER BY e.id DESC LIMIT 1)
    WHERE state = 'resolved';
    """,
    # 5: a staff card's short hint (16 bits of an unsalted hash of its IDm), so that a member's
    # touch is checked against the few staff cards it may be, not scrypt'ed against them all;
    # a card added before has none and is always checked
    """
    ALTER TABLE staff_cards ADD COLUMN hint TEXT;
    """,
    # 6: the denominations staff switched off (none: the kiosk takes every note it knows)
    """
    CREATE TABLE disabled_notes (value INTEGER PRIMARY KEY, by TEXT NOT NULL, at REAL NOT NULL);
    """,
    # 7: マネー移動: a move is a credit of kind 'exchange' that moves money from the
    # member's source money (no notes, no cash); it goes through the same delivery. ``told``:
    # 0 while the member has not seen how a settled move ended (shown at their next touch)
    """
    ALTER TABLE credits ADD COLUMN kind TEXT NOT NULL DEFAULT 'cash';
    ALTER TABLE credits ADD COLUMN source_money_id TEXT;
    ALTER TABLE credits ADD COLUMN source_bucket TEXT;
    ALTER TABLE credits ADD COLUMN told INTEGER NOT NULL DEFAULT 1;
    """,
    # 8: the speaker as staff set it (the voice on or off, the volume): one row per setting,
    # over the configuration's default; none: the configuration's
    """
    CREATE TABLE speaker (name TEXT PRIMARY KEY, value INTEGER NOT NULL, by TEXT NOT NULL,
                          at REAL NOT NULL);
    """,
    # 9: reconciliation with the wallet's ledger: a row per run of a day (its result: agreed,
    # mismatch or postponed, and the counts), a row per finding of a run (each mismatch, each
    # credit still open), a mismatch with the staff case it opened (one case per day and key)
    """
    CREATE TABLE reconciliations (
        id INTEGER PRIMARY KEY, day TEXT NOT NULL, at REAL NOT NULL, by TEXT NOT NULL,
        result TEXT NOT NULL, wallet_rows INTEGER NOT NULL DEFAULT 0,
        journal_rows INTEGER NOT NULL DEFAULT 0, matched INTEGER NOT NULL DEFAULT 0,
        open INTEGER NOT NULL DEFAULT 0, mismatches INTEGER NOT NULL DEFAULT 0,
        seconds REAL NOT NULL DEFAULT 0, detail TEXT NOT NULL DEFAULT '');
    CREATE INDEX reconciliations_by_day ON reconciliations (day, id);
    CREATE TABLE reconciliation_findings (
        id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES reconciliations(id),
        day TEXT NOT NULL, key TEXT NOT NULL, kind TEXT NOT NULL, amount INTEGER,
        detail TEXT NOT NULL, case_reference TEXT);
    CREATE INDEX findings_by_day ON reconciliation_findings (day, key);
    """,
    # 10: what the kiosk reads at every start, status and scrape, found without reading the
    # whole journal (issue 27): the sessions left open, a session's notes (read while it
    # closes, on the engine's loop), the cash box since the last collection,
    # the fault events, the open cases, a day's credits (the daily reconciliation), a run's
    # findings (the metrics' and the status's latest reconciliation); and the
    # "ever" figures (notes stacked, credits by kind and state: count, yen, last change) kept
    # in ``tallies`` by triggers, in the transaction of the row they count. No trigger on
    # DELETE: archived rows stay counted.
    """
    CREATE INDEX sessions_open ON sessions (id) WHERE state = 'open';
    CREATE INDEX notes_by_session ON notes (session_id);
    CREATE INDEX cashbox_uncollected ON cashbox (value) WHERE collection_id IS NULL;
    CREATE INDEX events_faults ON events (kind, at, detail) WHERE kind = 'fault';
    CREATE INDEX cases_by_state ON cases (state, id);
    CREATE INDEX credits_by_day ON credits (created_at);
    CREATE INDEX findings_by_run ON reconciliation_findings (run_id);
    CREATE TABLE tallies (
        name TEXT PRIMARY KEY, n INTEGER NOT NULL DEFAULT 0, total INTEGER NOT NULL DEFAULT 0,
        last REAL);
    """
    + TALLIES_FROM_ROWS
    + """
    CREATE TRIGGER tally_stacked AFTER INSERT ON cashbox BEGIN
        INSERT INTO tallies (name, n, total, last) VALUES ('stacked', 1, new.value, new.at)
        ON CONFLICT (name) DO UPDATE SET n = n + 1, total = total + excluded.total,
            last = max(coalesce(last, excluded.last), excluded.last);
    END;
    CREATE TRIGGER tally_credit AFTER INSERT ON credits BEGIN
        INSERT INTO tallies (name, n, total, last)
        VALUES ('credits ' || new.kind || ' ' || new.state, 1, new.amount, new.updated_at)
        ON CONFLICT (name) DO UPDATE SET n = n + 1, total = total + excluded.total,
            last = max(coalesce(last, excluded.last), excluded.last);
    END;
    CREATE TRIGGER tally_credit_state AFTER UPDATE OF state ON credits
    WHEN old.state IS NOT new.state BEGIN
        UPDATE tallies SET n = n - 1, total = total - old.amount
        WHERE name = 'credits ' || old.kind || ' ' || old.state;
        INSERT INTO tallies (name, n, total, last)
        VALUES ('credits ' || new.kind || ' ' || new.state, 1, new.amount, new.updated_at)
        ON CONFLICT (name) DO UPDATE SET n = n + 1, total = total + excluded.total,
            last = max(coalesce(last, excluded.last), excluded.last);
    END;
    """,
    # 11: retention (kiosk.journal.retention). Every column that refers to another row indexed:
    # deleting an archived parent row makes SQLite look for its children (foreign keys), a
    # whole-table read per row without them. The archive job's runs (never archived: one a day).
    """
    CREATE INDEX credits_by_session ON credits (session_id);
    CREATE INDEX notes_by_credit ON notes (credit_id);
    CREATE INDEX cashbox_by_collection ON cashbox (collection_id);
    CREATE INDEX cases_by_credit ON cases (credit_id);
    CREATE INDEX cases_by_note ON cases (note_id);
    CREATE TABLE archive_runs (
        id INTEGER PRIMARY KEY, at REAL NOT NULL, by TEXT NOT NULL, result TEXT NOT NULL,
        months TEXT NOT NULL DEFAULT '', rows INTEGER NOT NULL DEFAULT 0,
        removed TEXT NOT NULL DEFAULT '', seconds REAL NOT NULL DEFAULT 0,
        detail TEXT NOT NULL DEFAULT '');
    """,
    # 12: the CSV exports for the books (kiosk.staff.export): each holds what changed since the
    # previous one, so a row per export says where it ended: the last cash-box row, credit,
    # case and collection it held, and the credits and cases still open then (ids, comma
    # separated: the next export holds them again, as they are then). Never archived.
    """
    CREATE TABLE exports (
        id INTEGER PRIMARY KEY, at REAL NOT NULL, by TEXT NOT NULL, folder TEXT NOT NULL,
        last_cashbox INTEGER NOT NULL, last_credit INTEGER NOT NULL,
        last_case INTEGER NOT NULL, last_collection INTEGER NOT NULL,
        open_credits TEXT NOT NULL DEFAULT '', open_cases TEXT NOT NULL DEFAULT '');
    """,
]


def statements(script: str) -> Iterator[str]:
    """A migration's statements one by one (a trigger's body keeps its own ``;``)."""
    pending = ""
    for part in script.split(";"):
        pending += part + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                yield pending
            pending = ""


class Failure(enum.Enum):
    """Why a journal write failed, which decides how the kiosk comes back."""

    UNWRITABLE = "unwritable"  # full disk, I/O error, a table gone: probed until a write lands
    DAMAGED = "damaged"  # SQLite found the file malformed: out of service until staff act
    FILE_LOST = "file lost"  # the path no longer names the open file: restored from the connection


class JournalUnwritable(RuntimeError):
    """The journal could not be written: the kiosk must stop taking cash."""

    def __init__(self, message: str, failure: Failure = Failure.UNWRITABLE) -> None:
        super().__init__(message)
        self.failure = failure

    @classmethod
    def of(cls, error: sqlite3.Error) -> JournalUnwritable:
        damaged = damage_in(error) is not None
        return cls(str(error), Failure.DAMAGED if damaged else Failure.UNWRITABLE)


class JournalRestoreFailed(RuntimeError):
    """The journal's file was lost and could not be put back from the open connection."""


@dataclass(frozen=True)
class _FileId:
    """Which file a path names: device and inode."""

    dev: int
    ino: int

    @classmethod
    def of(cls, stat: os.stat_result) -> _FileId:
        return cls(stat.st_dev, stat.st_ino)


class JournalUnusable(RuntimeError):
    """The journal file cannot be this kiosk's journal (not an SQLite database, written by a
    newer version, no access): the kiosk must not start on it. The message names the file."""


class JournalDamaged(JournalUnusable):
    """SQLite finds the journal's pages damaged (a failing SD card): what can still be read is
    copied into a new journal by ``paykiosk journal --recover``."""

    def __init__(self, path: Path, what: str) -> None:
        self.path, self.what = path, what
        super().__init__(f"journal {path}: damaged ({what})")


def check_rows(path: Path, pragma: str = "quick_check") -> list[str]:
    """SQLite's ``quick_check`` or ``integrity_check`` of the file at ``path`` (["ok"] when
    sound), on a read-only connection of its own: under WAL the kiosk's writers are not held up
    while it reads every page, and a damaged file is left exactly as it was. Raises
    ``sqlite3.Error`` when it cannot even be read."""
    with contextlib.closing(read_only(path)) as db:
        return [str(row[0]) for row in db.execute(f"PRAGMA {pragma}").fetchall()]


def whole_check(path: Path) -> str:
    """SQLite's quick check of every page of the file at ``path``: "ok", or its first
    finding (a recovered copy is checked whole before it takes the journal's name)."""
    try:
        rows = check_rows(path)
    except sqlite3.Error as error:
        return str(error)
    return rows[0] if rows else "no answer"


def quick_check(path: Path, sweep: Sweep | None = None) -> str:
    """The journal's bounded integrity check (:mod:`kiosk.journal.integrity`: SQLite's quick
    check of a small journal, a round of reads of a big one; ``sweep``: the rounds so far):
    "ok" when sound, else its first finding."""
    try:
        rows = check(path, sweep)
    except sqlite3.Error as error:
        return str(error)
    return rows[0] if rows else "no answer"


def damage_in(error: BaseException) -> str | None:
    """What SQLite said, if ``error`` is the journal's file being damaged (not, say, a lock
    held too long or a disk error, which a restart may mend)."""
    if not isinstance(error, sqlite3.Error):
        return None
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None and code & 0xFF in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return shortened(str(error))
    return None


def shortened(answer: str, limit: int = 160) -> str:
    """SQLite's account of the damage on one short line: its first findings, without the
    "*** in database main ***" heading."""
    lines = [line.strip() for line in answer.splitlines()]
    text = "; ".join(line for line in lines if line and not line.startswith("*** in database"))
    return text if len(text) <= limit else text[: limit - 1] + "…"


SQLITE_HEADER = b"SQLite format 3\x00"


def _check_header(path: Path) -> None:
    """A journal file that is there and not empty starts as an SQLite database: on a file of a
    few bytes SQLite itself would silently start a new, empty journal."""
    try:
        with path.open("rb") as file:
            head = file.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return  # a new journal
    except OSError as error:
        raise JournalUnusable(f"journal {path}: cannot read it: {error.strerror}") from None
    if head and head != SQLITE_HEADER:
        raise JournalUnusable(f"journal {path}: not an SQLite database")


class Database:
    """One connection shared by the engine loop and the acceptor thread, under a lock.

    ``owner``: the running kiosk (it holds the data dir's lock). The owner keeps a second name
    for the journal's file and its write-ahead log (hard links ``.NAME.keep``, ``.NAME.keep-wal``)
    while it runs: a journal removed under it and the kiosk killed before it could put the file
    back (a power cut a moment after an ``rm``) is found there by the next start. Reports and
    staff commands opened beside it are not owners and leave the links alone."""

    def __init__(self, path: str | Path, owner: bool = False, check: bool = False) -> None:
        """Open (or create) the journal and bring it to the newest schema; ``JournalUnusable``
        (naming the file) when it cannot be used (a newer journal is not written to at all).
        ``check``: SQLite's quick check first, read through every page (``JournalDamaged``,
        before anything is written); ``checked`` then says it passed."""
        self.path = Path(path)
        self.owner = owner
        self._lock = threading.RLock()
        self.lost: str | None = None  # why the path no longer names the open file
        self.last_failure: JournalUnwritable | None = None
        self.adopted: str | None = None  # what the start found and put back (for a staff case)
        if owner:
            self.adopted = self._adopt_kept()
        if check:
            self._check()
        self._db = self._open()
        self.checked = check
        try:
            self._remember_file()
            self._keep()
            self.migrate()
        except JournalUnwritable as error:
            self._db.close()
            raise JournalUnusable(
                f"journal {self.path}: cannot bring it to schema version {len(MIGRATIONS)}: {error}"
            ) from None
        except BaseException:
            self._db.close()
            raise

    def _open(self) -> sqlite3.Connection:
        _check_header(self.path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as error:
            reason = error.strerror if isinstance(error, OSError) else error
            raise JournalUnusable(f"journal {self.path}: cannot open it: {reason}") from None
        try:
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA busy_timeout=5000")
            # read before anything is written: a newer journal is left exactly as it was
            self._refuse_newer(int(db.execute("PRAGMA user_version").fetchone()[0]))
            _into_wal(db)
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error as error:
            db.close()
            if error.sqlite_errorcode == sqlite3.SQLITE_NOTADB:
                raise JournalUnusable(f"journal {self.path}: not an SQLite database") from None
            what = damage_in(error)
            if what is not None:  # e.g. its schema's pages
                raise JournalDamaged(self.path, what) from None
            raise JournalUnusable(f"journal {self.path}: cannot open it: {error}") from None
        except BaseException:
            db.close()
            raise
        return db

    def _check(self) -> None:
        """Refuse a journal SQLite finds damaged: the kiosk would stop at the first page it
        cannot read (a session's replay, a credit's delivery), and a restart would too. Read
        only: a damaged journal is left exactly as it was (a writer closing it would fold its
        WAL in). Bounded (:mod:`kiosk.journal.integrity`): a big journal's schema, b-tree
        edges and newest rows, not all of it. Other errors are left to the opening, which
        names them."""
        _check_header(self.path)
        if not self.path.exists():
            return  # a new journal
        try:
            rows = check(self.path)
        except sqlite3.DatabaseError as error:  # e.g. its schema cannot be read at all
            what = damage_in(error)
            if what is not None:
                raise JournalDamaged(self.path, what) from None
            return
        answer = "\n".join(rows)
        if answer != "ok":
            raise JournalDamaged(self.path, shortened(answer or "no answer"))

    def _refuse_newer(self, found: int) -> None:
        """Code that does not know a journal's schema must not write to it (a downgrade)."""
        known = len(MIGRATIONS)
        if found > known:
            raise JournalUnusable(
                f"journal {self.path}: schema version {found} is newer than version {known}, "
                "the newest this kiosk knows (was the kiosk downgraded?); run the version that "
                "wrote it"
            )

    # ---- the file under the connection ----------------------------------------------------
    def _remember_file(self) -> None:
        """The files the connection has open (the journal and its write-ahead log), so that a
        removed, replaced or truncated file is noticed: the connection would go on writing
        money facts into a file no path names, lost at the next start."""
        self._db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()  # opens the -wal
        stat = os.stat(self.path)
        self._file, self._size = _FileId.of(stat), stat.st_size
        try:
            self._wal: _FileId | None = _FileId.of(os.stat(self._wal_path))
        except FileNotFoundError:
            self._wal = None

    @property
    def _wal_path(self) -> Path:
        return self.path.with_name(self.path.name + "-wal")

    @property
    def _keep_paths(self) -> tuple[Path, Path]:
        return keep_paths(self.path)

    def _keep(self) -> None:
        """(Re)link the second names to the files the connection has open now."""
        if not self.owner:
            return
        for source, keep in zip((self.path, self._wal_path), self._keep_paths, strict=True):
            keep.unlink(missing_ok=True)
            with contextlib.suppress(FileNotFoundError):
                os.link(source, keep)
        fsync_dir(self.path.parent)

    def _drop_keep(self) -> None:
        if self.owner:
            for keep in self._keep_paths:
                keep.unlink(missing_ok=True)

    def _adopt_kept(self) -> str | None:
        """At start: the last run's file, if it was lost under that run (removed or replaced)
        and the run died before putting it back, goes back to its path; a file found there is
        kept beside it. Returns what was done, or None."""
        keep, keep_wal = self._keep_paths
        try:
            kept = _FileId.of(os.stat(keep))
        except FileNotFoundError:
            return None
        try:
            same = _FileId.of(os.stat(self.path)) == kept
        except FileNotFoundError:
            same, why = False, "removed"
        else:
            why = "replaced by another file"
        if same:  # the last run ended (or died) with its file in place
            self._drop_keep()
            return None
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        found = ""
        for part in (self.path, self._wal_path):
            if part.exists():
                aside = part.with_name(f"{part.name}.found-{stamp}")
                os.rename(part, aside)
                found = f"; the file found there is kept as {self.path.name}.found-{stamp}"
        self.path.with_name(self.path.name + "-shm").unlink(missing_ok=True)  # rebuilt on open
        if keep_wal.exists():
            os.rename(keep_wal, self._wal_path)
        os.rename(keep, self.path)
        fsync_dir(self.path.parent)
        done = f"file {why} under the last run; put back at the start{found}"
        log.warning("journal %s: %s", self.path, done)
        return done

    def file_problem(self) -> str | None:
        """What is wrong with the journal's file under the open connection (None: nothing);
        once something is, every write is refused until :meth:`restore` puts it back."""
        if self.lost is not None:
            return self.lost
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            problem: str | None = "removed"
        except OSError as error:
            problem = f"cannot be looked at ({error.strerror})"
        else:
            if _FileId.of(stat) != self._file:
                problem = "replaced by another file"
            elif stat.st_size < self._size:  # no VACUUM here: the file only grows
                problem = f"truncated ({self._size} → {stat.st_size} bytes)"
            else:
                self._size = stat.st_size
                problem = self._wal_problem()
        if problem is not None:
            self.lost = problem
        return problem

    def _wal_problem(self) -> str | None:
        if self._wal is None:
            return None
        try:
            wal = _FileId.of(os.stat(self._wal_path))
        except FileNotFoundError:
            return "write-ahead log (-wal) removed"
        return None if wal == self._wal else "write-ahead log (-wal) replaced"

    def restore(self) -> str:
        """Put the journal back at its path from the open connection (SQLite's online backup
        reads through the connection, its write-ahead log included), checked before it takes
        the path; a file found at the path is kept beside it. Returns what was done; raises
        :class:`JournalRestoreFailed` (the path is left as it was) if it cannot be done."""
        with self._lock:
            if self.lost is None:
                return "nothing to restore"
            stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
            fresh = self.path.with_name(f".{self.path.name}.restoring")
            for leftover in (fresh, fresh.with_name(fresh.name + "-journal")):
                leftover.unlink(missing_ok=True)
            try:
                self._copy_to(fresh)
            except (OSError, sqlite3.Error, JournalRestoreFailed) as error:
                fresh.unlink(missing_ok=True)
                reason = error.strerror if isinstance(error, OSError) else str(error)
                raise JournalRestoreFailed(f"cannot restore it: {reason}") from error
            kept = ""
            if self.path.exists():
                aside = self.path.with_name(f"{self.path.name}.found-{stamp}")
                os.rename(self.path, aside)
                kept = f"; the file found there is kept as {aside.name}"
            with contextlib.suppress(sqlite3.Error):
                self._db.close()  # its -wal and -shm go with it: their names are the old file's
            os.rename(fresh, self.path)
            fsync_dir(self.path.parent)
            self._db = self._open()
            self._remember_file()
            self._keep()
            why, self.lost = self.lost, None
            return f"file {why}; restored from the open connection{kept}"

    def _copy_to(self, fresh: Path) -> None:
        target = sqlite3.connect(fresh, isolation_level=None)
        try:
            self._db.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")  # one file, whole, before it is moved
            answer = target.execute("PRAGMA quick_check").fetchone()[0]
            if answer != "ok":
                raise JournalRestoreFailed(f"the copy is damaged ({str(answer)[:120]})")
        finally:
            target.close()
        with open(fresh, "rb") as file:
            os.fsync(file.fileno())

    def compact(self) -> tuple[int, int]:
        """SQLite's ``VACUUM``: the file rewritten with only its pages in use (the archive job's
        deletions leave free pages, reused by new rows but kept by the file). Every reader and
        writer waits for it (the kiosk stopped). Returns the file's size before and after."""
        with self._lock:
            before = self.path.stat().st_size
            self._db.execute("VACUUM")
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return before, self.path.stat().st_size

    @property
    def version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def migrate(self) -> None:
        with self._lock:
            self._refuse_newer(self.version)
            for version, script in enumerate(MIGRATIONS, start=1):
                if self.version >= version:
                    continue
                with self.write() as db:
                    # read again under the write lock: another process opening the journal at
                    # the same moment (the kiosk and a staff command) may have done this step
                    if int(db.execute("PRAGMA user_version").fetchone()[0]) >= version:
                        continue
                    for statement in statements(script):
                        db.execute(statement)
                    db.execute(f"PRAGMA user_version = {version}")

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One durable transaction: everything in the block lands together or not at all."""
        try:
            with self._transaction() as db:
                yield db
        except JournalUnwritable as error:
            self.last_failure = error  # for whoever hears of it only as text (the acceptor's)
            raise

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        # Checked before every write (two stat calls): money facts are never written into a
        # file that no path names any more.
        if (problem := self.file_problem()) is not None:
            raise JournalUnwritable(f"journal file {problem}", Failure.FILE_LOST)
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as error:
                raise JournalUnwritable.of(error) from error
            try:
                yield self._db
            except sqlite3.Error as error:
                self._rollback()
                raise JournalUnwritable.of(error) from error
            except BaseException:
                self._rollback()
                raise
            try:
                self._db.execute("COMMIT")
            except sqlite3.Error as error:
                self._rollback()  # a failed COMMIT (disk full) may have rolled back already
                raise JournalUnwritable.of(error) from error

    def _rollback(self) -> None:
        """Undo what is left of the transaction; SQLite may have undone it already."""
        if not self._db.in_transaction:
            return
        try:
            self._db.execute("ROLLBACK")
        except sqlite3.Error as error:  # the original failure is what the caller hears of
            log.error("journal rollback failed: %s", error)

    def query(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def one(self, sql: str, args: tuple[Any, ...] = ()) -> sqlite3.Row | None:
        rows = self.query(sql, args)
        return rows[0] if rows else None

    def data_version(self) -> int:
        """Changes when another connection (another process: a staff command) commits to the
        journal; this connection's own commits leave it alone. Reads nothing from disk."""
        with self._lock:
            return int(self._db.execute("PRAGMA data_version").fetchone()[0])

    def close(self) -> None:
        """Close the connection; a journal file lost under it is restored first (its money
        facts live only in this connection until then)."""
        with self._lock:
            if self.file_problem() is not None:
                try:
                    log.warning("%s", self.restore())
                except JournalRestoreFailed as error:
                    log.critical("journal %s lost at close: %s", self.path, error)
                    self._db.close()
                    return  # its second name stays: the next start puts it back
            self._db.close()
            self._drop_keep()


def _into_wal(db: sqlite3.Connection, wait_s: float = 5.0) -> None:
    """WAL mode (kept in the file once set). SQLite answers a new file's switch with "database
    is locked" at once, without its busy handler, while another process creates the same
    file (the kiosk and a staff command started together): tried again a short while."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def keep_paths(path: Path) -> tuple[Path, Path]:
    """The running kiosk's second names for the journal at ``path`` and its write-ahead log."""
    return path.with_name(f".{path.name}.keep"), path.with_name(f".{path.name}.keep-wal")


def forget_kept(path: Path) -> None:
    """The file at ``path`` is the journal from now on (a recovery put it there, no kiosk
    running): the last run's second names must not bring the old one back at the next start."""
    for keep in keep_paths(path):
        keep.unlink(missing_ok=True)


def fsync_dir(folder: Path) -> None:
    """Make the folder's entries (a rename, a link) durable."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
