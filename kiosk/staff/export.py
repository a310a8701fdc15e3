"""CSV export of the journal for the co-op's books: the cash ledger, credits (cash top-ups and
マネー移動 moves, told apart by ``kind``: a move is no cash), staff cases and collections, each
file written atomically (temp + rename).

Each export holds what changed since the previous one (the ``exports`` table says where that
one ended): the cash-box rows stacked since, and the earlier ones collected since (with their
collection); the credits and cases made since, and those still open at the previous export
again, as they are now (a credit confirmed or refused since, a case resolved since: the same
``credit_id`` or ``reference``, the later row is the current one); the collections since. The
first export holds the whole live journal (older months: the archive exports). It is read from
a read-only snapshot of its own (one read transaction: the four files agree with each other),
never under the journal's write lock: the kiosk goes on serving meanwhile.

Files are UTF-8 with a byte-order mark (spreadsheets then read Japanese text right) and named
``paykiosk-<kiosk id>-<local time>-<what>.csv``. No card id is exported.
"""

from __future__ import annotations

import csv
import io
import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from kiosk.core.money import DENOMINATIONS
from kiosk.journal import Journal
from kiosk.journal.cashbox import Cashbox
from kiosk.journal.retention import chunks, snapshot
from kiosk.staff.day_close import DayClose, csv_text

ENCODING = "utf-8-sig"

# what → (columns, the select of its rows: a WHERE follows); times are exported as local ISO
# 8601 with the UTC offset
TABLES: dict[str, tuple[tuple[str, ...], str]] = {
    "cash-ledger": (
        ("ledger_id", "note_id", "session_id", "value", "stacked_at", "collection_id"),
        "SELECT c.id, c.note_id, n.session_id, c.value, c.at, c.collection_id"
        " FROM cashbox c LEFT JOIN notes n ON n.id = c.note_id",
    ),
    "credits": (
        (
            "credit_id",
            "request_id",
            "session_id",
            "user_id",
            "bucket",
            "money_id",
            "amount",
            "state",
            "attempts",
            "transaction_id",
            "reference",
            "last_error",
            "created_at",
            "updated_at",
            "kind",  # cash (a top-up of notes) | exchange (the journal's value for a マネー移動)
            "source_bucket",  # a move's: the money it moved from
        ),
        "SELECT id, request_id, session_id, user_id, bucket, money_id, amount, state, attempts,"
        " transaction_id, reference, last_error, created_at, updated_at, kind, source_bucket"
        " FROM credits",
    ),
    "cases": (
        (
            "reference",
            "kind",
            "state",
            "amount",
            "credit_id",
            "note_id",
            "user_id",
            "detail",
            "resolution",
            "resolved_by",
            "resolved_at",
            "created_at",
        ),
        "SELECT id, reference, kind, state, amount, credit_id, note_id, user_id, detail,"
        " resolution, resolved_by, resolved_at, created_at FROM cases",
    ),
}
TIME_COLUMNS = {"stacked_at", "created_at", "updated_at", "resolved_at", "at"}
COLLECTION_COLUMNS = (
    "collection_id",
    "at",
    "who",
    *(f"expected_{v}" for v in DENOMINATIONS),
    "expected_total",
    *(f"counted_{v}" for v in DENOMINATIONS),
    "counted_total",
    "discrepancy",
    "note",
)


@dataclass(frozen=True)
class Exported:
    path: Path
    rows: int


@dataclass(frozen=True)
class Mark:
    """Where an export ended (all 0: no export yet): the last row of each table it held, and
    the credits and cases still open then (the next export holds them again); ``at``: when
    its snapshot was taken."""

    at: float = 0.0
    cashbox: int = 0
    credit: int = 0
    case: int = 0
    collection: int = 0
    open_credits: tuple[int, ...] = ()
    open_cases: tuple[int, ...] = ()


def iso_time(at: float | None) -> str:
    return "" if at is None else datetime.fromtimestamp(at).astimezone().isoformat("T", "seconds")


def export(
    journal: Journal, kiosk_id: str, folder: Path, now: datetime | None = None, by: str = ""
) -> list[Exported]:
    """Write the four CSV files of what changed since the previous export into ``folder``
    (which must exist: a USB stick that is not mounted must not become a folder on the
    kiosk's own disk; ``ValueError`` if it cannot be written), then journal where this export
    ended (``by``: who asked). An export that fails is not journaled: the next one holds its
    rows."""
    check_folder(folder)
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    with snapshot(journal.db) as read:
        read.row_factory = sqlite3.Row
        tables, mark = _since(read, last_mark(read), time.time())
    written = write_tables(tables, folder, f"paykiosk-{kiosk_id}-{stamp}")
    with journal.db.write() as tx:  # one short row, after the files are there
        tx.execute(
            "INSERT INTO exports (at, by, folder, last_cashbox, last_credit, last_case,"
            " last_collection, open_credits, open_cases) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                mark.at,
                by,
                str(folder),
                mark.cashbox,
                mark.credit,
                mark.case,
                mark.collection,
                _ids_text(mark.open_credits),
                _ids_text(mark.open_cases),
            ),
        )
    return written


def write_tables(tables: dict[str, Table], folder: Path, prefix: str) -> list[Exported]:
    """Each table as ``<prefix>-<what>.csv`` in ``folder``, each file atomically."""
    written: list[Exported] = []
    for what, (columns, rows) in tables.items():
        path = folder / f"{prefix}-{what}.csv"
        _write_atomically(path, _csv(columns, rows))
        written.append(Exported(path, len(rows)))
    return written


def read_tables(db: sqlite3.Connection) -> dict[str, Table]:
    """Every row of the export's tables in ``db`` (an archive's: the same tables; its
    ``row_factory`` must be :class:`sqlite3.Row`), in the caller's transaction."""
    rows = {what: db.execute(f"{sql} ORDER BY 1").fetchall() for what, (_c, sql) in TABLES.items()}
    return _tables(rows, db.execute("SELECT * FROM collections ORDER BY id").fetchall())


def last_mark(read: sqlite3.Connection) -> Mark:
    """Where the previous export ended (``Mark()``: there was none)."""
    row = read.execute("SELECT * FROM exports ORDER BY id DESC LIMIT 1").fetchone()
    if row is None:
        return Mark()
    return Mark(
        float(row["at"]),
        int(row["last_cashbox"]),
        int(row["last_credit"]),
        int(row["last_case"]),
        int(row["last_collection"]),
        _ids(str(row["open_credits"])),
        _ids(str(row["open_cases"])),
    )


def _ids_text(ids: tuple[int, ...]) -> str:
    return ",".join(str(i) for i in ids)


def _ids(text: str) -> tuple[int, ...]:
    return tuple(int(i) for i in text.split(",") if i)


Table = tuple[tuple[str, ...], list[list[object]]]


def check_folder(folder: Path) -> None:
    """``ValueError`` unless ``folder`` is there and writable (a USB stick that is not mounted
    must not become a folder on the kiosk's own disk)."""
    if not folder.is_dir():
        raise ValueError(
            f"export folder {folder}: "
            + ("not a folder" if folder.exists() else "not there (is the USB stick mounted?)")
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ValueError(f"export folder {folder}: not writable by this user")


def export_day(close: DayClose, folder: Path) -> Exported:
    """The daily close as one CSV file in ``folder`` (``ValueError`` if it cannot be written)."""
    check_folder(folder)
    path = folder / f"paykiosk-{close.kiosk_id}-day-{close.day.strftime('%Y%m%d')}.csv"
    text = csv_text(close)
    _write_atomically(path, text)
    return Exported(path, text.count("\r\n") - 1)


def export_for_staff(
    journal: Journal, kiosk_id: str, folder: Path | None, who: str
) -> tuple[str, str]:
    """Export from the staff menu, journaled with who asked: the message for the menu (a
    msgid with a ``{value}``) and its value."""
    try:
        if folder is None:
            raise ValueError("no [staff] export_dir in the configuration")
        written = export(journal, kiosk_id, folder, by=who)
    except (ValueError, OSError) as error:
        journal.log("staff", f"{who}: export failed: {error}")
        return "Export failed: {value}", str(error)
    files = ", ".join(f"{f.path.name} ({f.rows} rows)" for f in written)
    journal.log("staff", f"{who}: exported to {folder}: {files}")
    return "Exported {value} files", str(len(written))


def _since(read: sqlite3.Connection, mark: Mark, now: float) -> tuple[dict[str, Table], Mark]:
    """The rows changed since ``mark`` (through the primary keys and the indexes: as many
    rows read as exported), and where this export ends."""
    rows: dict[str, list[sqlite3.Row]] = {}
    ledger, credits, cases = (TABLES[w][1] for w in ("cash-ledger", "credits", "cases"))
    stacked = _made_since(read, "cashbox", "at", mark.cashbox, mark.at, "c.")
    collected = _made_since(read, "collections", "at", mark.collection, mark.at)
    rows["cash-ledger"] = read.execute(  # stacked since, or collected since (by its index)
        f"{ledger} WHERE {stacked[0]} UNION {ledger} WHERE c.collection_id IN"
        f" (SELECT id FROM collections WHERE {collected[0]}) ORDER BY 1",
        (*stacked[1], *collected[1]),
    ).fetchall()
    made = _made_since(read, "credits", "created_at", mark.credit, mark.at)
    rows["credits"] = _made_and_open(read, credits, made, mark.open_credits)
    made = _made_since(read, "cases", "created_at", mark.case, mark.at)
    rows["cases"] = _made_and_open(read, cases, made, mark.open_cases)
    collections = read.execute(
        f"SELECT * FROM collections WHERE {collected[0]} ORDER BY id", collected[1]
    ).fetchall()
    tables = _tables(rows, collections)

    def last(table: str) -> int:
        return int(read.execute(f"SELECT max(id) FROM {table}").fetchone()[0] or 0)

    open_credits = read.execute(  # on their way, or refused with their case still open
        "SELECT id FROM credits WHERE state IN ('pending', 'sent')"
        " UNION SELECT credit_id FROM cases WHERE state = 'open' AND credit_id IS NOT NULL"
    ).fetchall()
    open_cases = read.execute("SELECT id FROM cases WHERE state = 'open'").fetchall()
    ended = Mark(
        now,
        last("cashbox"),
        last("credits"),
        last("cases"),
        last("collections"),
        tuple(sorted(int(r[0]) for r in open_credits)),
        tuple(sorted(int(r[0]) for r in open_cases)),
    )
    return tables, ended


def _tables(rows: dict[str, list[sqlite3.Row]], collections: list[sqlite3.Row]) -> dict[str, Table]:
    """The rows read as the files' tables (local times, the collections' counts spread)."""
    tables: dict[str, Table] = {}
    for what, (columns, _sql) in TABLES.items():
        skip = 1 if what == "cases" else 0  # the case's id: read for the order, not exported
        tables[what] = (
            columns,
            [
                [
                    iso_time(v) if c in TIME_COLUMNS else v
                    for c, v in zip(columns, tuple(row)[skip:], strict=True)
                ]
                for row in rows[what]
            ],
        )
    tables["collections"] = (COLLECTION_COLUMNS, [_collection_row(r) for r in collections])
    return tables


MARGIN_S = 60.0  # a row timed just before a snapshot may commit just after it


def _made_since(
    read: sqlite3.Connection, table: str, column: str, last: int, since: float, alias: str = ""
) -> tuple[str, tuple[float, ...]]:
    """The condition (and its argument) on ``table``'s rows made since the previous export:
    an id after its last row's, while that row is still there as old as the export. Else
    retention moved the newest rows out, and SQLite may hand their ids out again: the rows
    timed since then (a scan of the live table; a minute more: a row twice, never none)."""
    if last:
        row = read.execute(f"SELECT {column} FROM {table} WHERE id = ?", (last,)).fetchone()
        if row is None or float(row[0]) > since:
            return f"{alias}{column} >= ?", (since - MARGIN_S,)
    return f"{alias}id > ?", (last,)


def _made_and_open(
    read: sqlite3.Connection,
    sql: str,
    made: tuple[str, tuple[float, ...]],
    again: tuple[int, ...],
) -> list[sqlite3.Row]:
    """``sql``'s rows ``made`` since the previous export, and those of ``again`` (open at the
    previous export), in id order."""
    found = {int(r[0]): r for r in read.execute(f"{sql} WHERE {made[0]}", made[1])}
    for chunk in chunks(list(again)):
        marks = ",".join("?" * len(chunk))
        for row in read.execute(f"{sql} WHERE id IN ({marks})", chunk):
            found.setdefault(int(row[0]), row)
    return [found[k] for k in sorted(found)]


def _collection_row(row: sqlite3.Row) -> list[object]:
    record = Cashbox.from_row(row)
    counted = record.counted
    return [
        record.id,
        iso_time(record.at),
        record.who,
        *(record.expected.of(v) for v in DENOMINATIONS),
        record.expected.total,
        *(counted.of(v) if counted else "" for v in DENOMINATIONS),
        counted.total if counted else "",
        "" if record.discrepancy is None else record.discrepancy,
        record.note,
    ]


def _csv(columns: tuple[str, ...], rows: list[list[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    return buffer.getvalue()


def _write_atomically(path: Path, text: str) -> None:
    """A CSV file whole or not at all, even if the stick is pulled mid-write."""

    def write(out: BinaryIO) -> None:
        out.write(text.encode(ENCODING))

    write_atomically(path, write)


def write_atomically(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """``path`` written by ``write`` whole or not at all: a temporary name, fsync, rename."""
    temp = path.with_name(f".{path.name}.tmp")
    try:
        with temp.open("wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
        fsync_folder(path.parent)
    except OSError as error:
        temp.unlink(missing_ok=True)
        raise ValueError(
            f"export to {path.parent}: cannot write {path.name}: {error.strerror or error}"
        ) from None
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def fsync_folder(folder: Path) -> None:
    """A rename in ``folder`` made durable, where its file system allows (a stick's vfat)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems (vfat on a stick) refuse fsync of a folder
        pass
    finally:
        os.close(fd)
