"""A month of the journal's archive to the USB stick (``[staff] export_dir``), for the co-op's
books: the archive file as the archive job wrote it, its checksum file, and the month's CSV
files with the live export's columns (:mod:`kiosk.staff.export`: the same queries, run on the
archive copied).

The archive is verified first (:func:`kiosk.ops.archives.checked`: its checksum file and its
manifest), and its bytes are hashed as they are copied: the copy is the file the checksum file
names, or nothing is kept. Every file is written under a temporary name, fsynced and renamed (a
stick pulled mid-copy leaves no half file), the checksum file last: a checksum file on the stick
means the archive beside it is whole. The names carry the kiosk's id (one stick, several
kiosks): ``paykiosk-K01-journal-2026-06.sqlite3`` and its ``.sha256`` (the same SHA-256, under
the copy's name, for ``sha256sum -c``), ``paykiosk-K01-2026-06-<what>.csv``.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from kiosk.journal import Journal
from kiosk.journal.retention import checksum_path, expected_sha256
from kiosk.ops.archives import MONTH, checked, locate, read_only
from kiosk.staff.export import (
    Exported,
    check_folder,
    read_tables,
    write_atomically,
    write_tables,
)

CHUNK = 1 << 20


def export_month(archive_folder: Path, month: str, kiosk_id: str, folder: Path) -> list[Exported]:
    """The archive of ``month`` (``2026-06``) from ``archive_folder`` to ``folder``, which must
    exist (a stick that is not mounted must not become a folder on the kiosk's disk);
    ``ValueError`` naming what is wrong, and nothing new on the stick, if it cannot."""
    if not MONTH.fullmatch(month):
        raise ValueError(f"archive {month!r}: not a month like 2026-06")
    check_folder(folder)
    source = checked(locate(archive_folder, month), month)
    expected = expected_sha256(checksum_path(source))
    assert expected is not None  # checked: the checksum file holds one
    copy = folder / f"paykiosk-{kiosk_id}-journal-{month}.sqlite3"
    _copy(source, copy, expected, month)
    try:
        with read_only(copy) as db:  # the copy's own rows: the CSV files agree with it
            tables = read_tables(db)
            rows = sum(int(r["rows"]) for r in db.execute("SELECT rows FROM manifest"))
    except sqlite3.Error as error:
        raise ValueError(f"export to {folder}: cannot read {copy.name} back: {error}") from None
    written = [Exported(copy, rows)]
    written += write_tables(tables, folder, f"paykiosk-{kiosk_id}-{month}")
    sums = checksum_path(copy)
    line = f"{expected}  {copy.name}\n".encode("ascii")

    def write(out: BinaryIO) -> None:
        out.write(line)

    write_atomically(sums, write)
    return [*written, Exported(sums, 1)]


def export_month_for_staff(
    journal: Journal,
    archive_folder: Path,
    month: str,
    kiosk_id: str,
    folder: Path | None,
    who: str,
) -> tuple[str, str]:
    """The staff menu's export of a month, journaled with who asked: the message for the menu
    (a msgid with a ``{value}``) and its value."""
    try:
        if folder is None:
            raise ValueError("no [staff] export_dir in the configuration")
        written = export_month(archive_folder, month, kiosk_id, folder)
    except (ValueError, OSError) as error:
        journal.log("staff", f"{who}: export of archive {month} failed: {error}")
        return "Export failed: {value}", str(error)
    journal.log("staff", f"{who}: archive {month} exported to {folder}: {files_text(written)}")
    return "Month {value} exported", month


def files_text(written: list[Exported]) -> str:
    return ", ".join(f"{f.path.name} ({f.rows} rows)" for f in written)


def _copy(source: Path, target: Path, expected: str, month: str) -> None:
    """``source`` copied to ``target`` while hashed: kept only if its SHA-256 is ``expected``
    (the archive job may write the month again meanwhile: then nothing is kept)."""

    def write(out: BinaryIO) -> None:
        sha = hashlib.sha256()
        for chunk in _chunks(source, month):
            sha.update(chunk)
            out.write(chunk)
        if sha.hexdigest() != expected:
            raise ValueError(
                f"archive {month}: its SHA-256 as copied differs from its checksum file (the"
                " archive job may have written it meanwhile); nothing was kept, try again"
            )

    write_atomically(target, write)


def _chunks(source: Path, month: str) -> Iterator[bytes]:
    """The archive's bytes (a read error is the archive's, not the stick's: ``ValueError``)."""
    try:
        with source.open("rb") as file:
            while chunk := file.read(CHUNK):
                yield chunk
    except OSError as error:
        raise ValueError(f"archive {month}: cannot read {source}: {error.strerror}") from None
