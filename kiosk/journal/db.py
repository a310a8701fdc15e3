"""The journal's SQLite file: WAL, synchronous=FULL, versioned migrations, one lock."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

log = logging.getLogger("paykiosk.journal")

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
    # 7: マネー移動: an exchange is a credit of kind 'exchange' that moves money from the
    # member's source money (no notes, no cash); it goes through the same delivery. ``told``:
    # 0 while the member has not seen how a settled exchange ended (shown at their next touch)
    """
    ALTER TABLE credits ADD COLUMN kind TEXT NOT NULL DEFAULT 'cash';
    ALTER TABLE credits ADD COLUMN source_money_id TEXT;
    ALTER TABLE credits ADD COLUMN source_bucket TEXT;
    ALTER TABLE credits ADD COLUMN told INTEGER NOT NULL DEFAULT 1;
    """,
]


class JournalUnwritable(RuntimeError):
    """The journal could not be written: the kiosk must stop taking cash."""


class JournalUnusable(RuntimeError):
    """The journal file cannot be this kiosk's journal (not an SQLite database, written by a
    newer version, no access): the kiosk must not start on it. The message names the file."""


class JournalDamaged(JournalUnusable):
    """SQLite finds the journal's pages damaged (a failing SD card): what can still be read is
    copied into a new journal by ``paykiosk journal --recover``."""

    def __init__(self, path: Path, what: str) -> None:
        self.path, self.what = path, what
        super().__init__(f"journal {path}: damaged ({what})")


def quick_check(path: Path) -> str:
    """SQLite's quick check of the journal ("ok" when sound), on a read-only connection of its
    own: under WAL the kiosk's writers are not held up while it reads every page."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            row = db.execute("PRAGMA quick_check").fetchone()
    except sqlite3.Error as error:
        return str(error)
    return str(row[0]) if row is not None else "no answer"


def damage_in(error: sqlite3.DatabaseError) -> str | None:
    """What SQLite said, if ``error`` is the journal's file being damaged (not, say, a lock
    held too long or a disk error, which a restart may mend)."""
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
    """One connection shared by the engine loop and the acceptor thread, under a lock."""

    def __init__(self, path: str | Path, check: bool = False) -> None:
        """Open (or create) the journal and bring it to the newest schema; ``JournalUnusable``
        (naming the file) when it cannot be used (a newer journal is not written to at all).
        ``check``: SQLite's quick check first, read through every page (``JournalDamaged``,
        before anything is written); ``checked`` then says it passed."""
        self.path = Path(path)
        self._lock = threading.RLock()
        if check:
            self._check()
        self._db = self._open()
        self.checked = check
        try:
            self.migrate()
        except JournalUnwritable as error:
            self._db.close()
            raise JournalUnusable(
                f"journal {self.path}: cannot bring it to schema version {len(MIGRATIONS)}: "
                f"{error}"
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
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error as error:
            db.close()
            if error.sqlite_errorcode == sqlite3.SQLITE_NOTADB:
                raise JournalUnusable(f"journal {self.path}: not an SQLite database") from None
            what = damage_in(error) if isinstance(error, sqlite3.DatabaseError) else None
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
        WAL in). Other errors are left to the opening, which names them."""
        _check_header(self.path)
        if not self.path.exists():
            return  # a new journal
        try:
            with contextlib.closing(
                sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            ) as db:
                rows = db.execute("PRAGMA quick_check").fetchall()
        except sqlite3.DatabaseError as error:  # e.g. its schema cannot be read at all
            what = damage_in(error)
            if what is not None:
                raise JournalDamaged(self.path, what) from None
            return
        answer = "\n".join(str(row[0]) for row in rows)
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
                    for statement in script.split(";"):
                        if statement.strip():
                            db.execute(statement)
                    db.execute(f"PRAGMA user_version = {version}")

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One durable transaction: everything in the block lands together or not at all."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as error:
                raise JournalUnwritable(str(error)) from error
            try:
                yield self._db
            except sqlite3.Error as error:
                self._rollback()
                raise JournalUnwritable(str(error)) from error
            except BaseException:
                self._rollback()
                raise
            try:
                self._db.execute("COMMIT")
            except sqlite3.Error as error:
                self._rollback()  # a failed COMMIT (disk full) may have rolled back already
                raise JournalUnwritable(str(error)) from error

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
        with self._lock:
            self._db.close()
