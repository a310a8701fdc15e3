"""CSV export of the journal for the co-op's books: the cash ledger, credits (cash top-ups and
マネー移動 moves, told apart by ``kind``: a move is no cash), staff cases and collections, one
snapshot of the journal, each file written atomically (temp + rename).

Files are UTF-8 with a byte-order mark (spreadsheets then read Japanese text right) and named
``paykiosk-<kiosk id>-<local time>-<what>.csv``. No card id is exported.
"""

from __future__ import annotations

import csv
import io
import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from kiosk.core.money import DENOMINATIONS
from kiosk.journal import Journal
from kiosk.journal.cashbox import Cashbox
from kiosk.staff.day_close import DayClose, csv_text

ENCODING = "utf-8-sig"

# what → (columns, query); times are exported as local ISO 8601 with the UTC offset
TABLES: dict[str, tuple[tuple[str, ...], str]] = {
    "cash-ledger": (
        ("ledger_id", "note_id", "session_id", "value", "stacked_at", "collection_id"),
        "SELECT c.id, c.note_id, n.session_id, c.value, c.at, c.collection_id"
        " FROM cashbox c LEFT JOIN notes n ON n.id = c.note_id ORDER BY c.id",
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
        " FROM credits ORDER BY id",
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
        "SELECT reference, kind, state, amount, credit_id, note_id, user_id, detail, resolution,"
        " resolved_by, resolved_at, created_at FROM cases ORDER BY id",
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


def iso_time(at: float | None) -> str:
    return "" if at is None else datetime.fromtimestamp(at).astimezone().isoformat("T", "seconds")


def export(
    journal: Journal, kiosk_id: str, folder: Path, now: datetime | None = None
) -> list[Exported]:
    """Write the four CSV files into ``folder`` (which must exist: a USB stick that is not
    mounted must not become a folder on the kiosk's own disk); ``ValueError`` if it cannot."""
    check_folder(folder)
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    return write_tables(_snapshot(journal), folder, f"paykiosk-{kiosk_id}-{stamp}")


def write_tables(tables: dict[str, Table], folder: Path, prefix: str) -> list[Exported]:
    """Each table as ``<prefix>-<what>.csv`` in ``folder``, each file atomically."""
    written: list[Exported] = []
    for what, (columns, rows) in tables.items():
        path = folder / f"{prefix}-{what}.csv"
        _write_atomically(path, _csv(columns, rows))
        written.append(Exported(path, len(rows)))
    return written


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
        written = export(journal, kiosk_id, folder)
    except (ValueError, OSError) as error:
        journal.log("staff", f"{who}: export failed: {error}")
        return "Export failed: {value}", str(error)
    files = ", ".join(f"{f.path.name} ({f.rows} rows)" for f in written)
    journal.log("staff", f"{who}: exported to {folder}: {files}")
    return "Exported {value} files", str(len(written))


def _snapshot(journal: Journal) -> dict[str, Table]:
    """Every table in one transaction: the files agree with each other (a collection made
    meanwhile is in all of them or in none)."""
    with journal.db.write() as tx:
        return read_tables(tx)


def read_tables(db: sqlite3.Connection) -> dict[str, Table]:
    """The export's tables read from ``db`` (the journal's, or an archive's: the same tables;
    its ``row_factory`` must be :class:`sqlite3.Row`), in the caller's transaction."""
    tables: dict[str, Table] = {}
    for what, (columns, sql) in TABLES.items():
        rows = [
            [iso_time(v) if c in TIME_COLUMNS else v for c, v in zip(columns, row, strict=True)]
            for row in db.execute(sql).fetchall()
        ]
        tables[what] = (columns, rows)
    collections = db.execute("SELECT * FROM collections ORDER BY id").fetchall()
    tables["collections"] = (COLLECTION_COLUMNS, [_collection_row(r) for r in collections])
    return tables


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
    """The file is there whole or not at all, even if the stick is pulled mid-write."""
    temp = path.with_name(f".{path.name}.tmp")
    try:
        with temp.open("w", encoding=ENCODING, newline="") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
        fsync_folder(path.parent)
    except OSError as error:
        temp.unlink(missing_ok=True)
        raise ValueError(
            f"export to {path.parent}: cannot write {path.name}: {error.strerror}"
        ) from None


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
