"""The journal's monthly archives read from a shell and by the staff menu: ``paykiosk journal
--archives`` (the months there, each verified) and ``--archive MONTH_OR_PATH`` (one month, for
the co-op's books). Read only: an archive is opened ``mode=ro`` and never written.

An archive is verified before anything of it is shown (:func:`problem_of`): its checksum file
(``journal-YYYY-MM.sqlite3.sha256``, written by the archive job) must be there and agree with its
bytes, and its ``manifest`` with its rows (:func:`kiosk.journal.retention.verify`). What is
wrong is said in one line (:class:`ArchiveRefused`). No card id is shown: the journal keeps only
a masked tag of a member's card, and these reports do not show even that.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from kiosk.core.money import yen
from kiosk.journal.cashbox import Cashbox
from kiosk.journal.read_only import read_only as journal_file
from kiosk.journal.records import CreditKind
from kiosk.journal.retention import (
    TABLES,
    checksum_path,
    checksum_problem,
    expected_sha256,
    verify,
)

MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
ARCHIVE_NAME = "journal-????-??.sqlite3"  # the archive job's names (retention.archive_path)
SQLITE_HEADER = b"SQLite format 3\x00"
# the archive's tables in the order a reader thinks of them (retention.TABLES: children first)
SHOWN = (
    "sessions",
    "notes",
    "cashbox",
    "credits",
    "cases",
    "collections",
    "events",
    "staff_attempts",
    "reconciliations",
    "reconciliation_findings",
)
KINDS = {CreditKind.CASH.value: "charge", CreditKind.MOVE.value: "move"}


class ArchiveRefused(ValueError):
    """An archive that is not there, not an archive, or damaged: one line saying which."""


class Fault(StrEnum):
    """What kind of thing is wrong with an archive (the staff menu names it in a word)."""

    MISSING = "missing"  # not there, or not a file
    NOT_ARCHIVE = "not_archive"  # not SQLite, or no manifest
    NO_CHECKSUM = "no_checksum"  # no checksum file beside it, or not a SHA-256 in it
    DAMAGED = "damaged"  # its bytes differ from its checksum, or its rows from its manifest


@dataclass(frozen=True)
class Problem:
    fault: Fault
    text: str  # in words, for a shell and the journal

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class ArchiveEntry:
    """One archive file as listed: its month, size, rows and what is wrong with it (None:
    verified)."""

    month: str
    path: Path
    size: int
    rows: int | None  # by its manifest (None: unreadable)
    problem: Problem | None


def locate(folder: Path, what: str) -> Path:
    """``2026-06`` → that month's archive in ``folder`` (the config's archive folder); anything
    else is a path to an archive file (a copy on a USB stick, say)."""
    if MONTH.fullmatch(what):
        return folder / f"journal-{what}.sqlite3"
    if re.fullmatch(r"\d{4}-\d{1,2}", what):
        raise ArchiveRefused(f"archive {what}: not a month like 2026-06")
    return Path(what)


def problem_of(path: Path, rows_too: bool = True) -> Problem | None:
    """What is wrong with the archive at ``path`` (None: its checksum file is there and agrees
    with it, and its manifest with its rows). ``rows_too`` False: the checksum alone (a changed
    byte anywhere; 12 ms for a month of 62,000 rows, where the manifest's check re-reads every
    row, 0.2 s: the staff page lists them all, an export checks both)."""
    if not path.exists():
        return Problem(Fault.MISSING, "not there")
    if not path.is_file():
        return Problem(Fault.MISSING, "not a file")
    sums = checksum_path(path)
    if not sums.exists():
        # without its checksum file nothing says the file is whole; the archive job writes it
        # right after the archive (a run stopped between the two writes the month again)
        text = f"no checksum file ({sums.name}) beside it"
        return problem_as_archive(path) or Problem(Fault.NO_CHECKSUM, text)
    expected = expected_sha256(sums)
    if expected is None:
        return Problem(Fault.NO_CHECKSUM, f"its checksum file {sums.name} is not a SHA-256 line")
    if not rows_too:
        changed = checksum_problem(path)
        if changed is not None:
            return Problem(Fault.DAMAGED, f"damaged: {changed}")
        return problem_as_archive(path)
    problem = verify(path)
    if problem is None:
        return problem_as_archive(path)
    if problem.startswith("cannot be read"):  # yet its checksum agrees: written so
        return problem_as_archive(path) or Problem(Fault.DAMAGED, problem)
    return Problem(Fault.DAMAGED, f"damaged: {problem}")


def problem_as_archive(path: Path) -> Problem | None:
    """Why the file is not a journal archive at all (None: an SQLite file with a manifest)."""
    with path.open("rb") as file:
        if file.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            return Problem(Fault.NOT_ARCHIVE, "not a journal archive (not an SQLite file)")
    try:
        with read_only(path) as db:
            names = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
    except sqlite3.Error as error:
        return Problem(Fault.NOT_ARCHIVE, f"not a journal archive ({error})")
    if not {"manifest", "about"} <= names:
        return Problem(Fault.NOT_ARCHIVE, "not a journal archive (no manifest)")
    return None


def checked(path: Path, what: str | None = None) -> Path:
    """``path`` if it verifies; :class:`ArchiveRefused` naming it and what is wrong."""
    problem = problem_of(path)
    if problem is not None:
        name = str(path) if what in (None, str(path)) else f"{what} ({path})"
        raise ArchiveRefused(f"archive {name}: {problem}; nothing was changed")
    return path


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[sqlite3.Connection]:
    """The archive opened read-only (``mode=ro``: nothing of it or beside it is written)."""
    with contextlib.closing(journal_file(path)) as db:
        db.row_factory = sqlite3.Row
        yield db


def manifest_rows(path: Path) -> dict[str, int]:
    """Rows per table by the archive's manifest."""
    with read_only(path) as db:
        return {str(r["name"]): int(r["rows"]) for r in db.execute("SELECT * FROM manifest")}


def listing(folder: Path, rows_too: bool = True) -> list[ArchiveEntry]:
    """Every archive in ``folder``, newest month first, each verified (:func:`problem_of`)."""
    if not folder.is_dir():
        return []
    entries = []
    for path in sorted(folder.glob(ARCHIVE_NAME), reverse=True):
        month = path.name[len("journal-") : -len(".sqlite3")]
        problem = problem_of(path, rows_too)
        try:
            rows: int | None = sum(manifest_rows(path).values())
        except sqlite3.Error:
            rows = None
        entries.append(ArchiveEntry(month, path, path.stat().st_size, rows, problem))
    return entries


def listing_text(folder: Path) -> str:
    """``paykiosk journal --archives``."""
    entries = listing(folder)
    if not entries:
        there = "" if folder.is_dir() else " (the folder is not there yet)"
        return f"no journal archives in {folder}{there}"
    lines = [f"journal archives in {folder} (newest first):"]
    for entry in entries:
        rows = "rows unknown" if entry.rows is None else f"{entry.rows:,} rows"
        state = "verified" if entry.problem is None else f"NOT OK: {entry.problem}"
        lines.append(f"  {entry.month}  {_size(entry.size):>9}  {rows:>12}  {state}")
    bad = sum(1 for e in entries if e.problem is not None)
    lines.append(f"{len(entries)} archives, " + (f"{bad} not ok" if bad else "all verified"))
    return "\n".join(lines)


def report(path: Path) -> str:
    """One month of the co-op's books from a verified archive: cash, credits, sessions, cases
    and collections (``paykiosk journal --archive``)."""
    with read_only(path) as db:
        about = {str(r["key"]): str(r["value"]) for r in db.execute("SELECT * FROM about")}
        rows = {str(r["name"]): int(r["rows"]) for r in db.execute("SELECT * FROM manifest")}
        written = float(about.get("written_at", "0") or 0)
        lines = [
            f"journal archive {about.get('month', '?')} ({path})",
            f"written {_when(written)}, {_size(path.stat().st_size)}; times in"
            f" {datetime.now().astimezone().tzname()}; verified: its checksum file and manifest"
            " agree with its rows",
            "rows: " + ", ".join(f"{t} {rows.get(t, 0):,}" for t in _in_order(rows)),
        ]
        lines += (
            _cash(db)
            + _credits(db)
            + _sessions(db)
            + _cases(db)
            + _collections(db)
            + _reconciliations(db)
        )
    return "\n".join(lines)


def _in_order(rows: dict[str, int]) -> list[str]:
    """The archive's tables, :data:`SHOWN` first (a table it does not name, last)."""
    return [*SHOWN, *sorted((set(TABLES) | set(rows)) - set(SHOWN))]


def _cash(db: sqlite3.Connection) -> list[str]:
    stacked = db.execute(
        "SELECT value, count(*) AS n FROM cashbox GROUP BY value ORDER BY value"
    ).fetchall()
    notes = sum(int(r["n"]) for r in stacked)
    total = sum(int(r["value"]) * int(r["n"]) for r in stacked)
    by_value = ", ".join(f"{yen(int(r['value']))} × {r['n']:,}" for r in stacked) or "none"
    back = {
        str(r["state"]): int(r["n"])
        for r in db.execute(
            "SELECT state, count(*) AS n FROM notes WHERE state != 'stacked' GROUP BY state"
        )
    }
    lines = [f"cash stacked into the box: {by_value} — {notes:,} notes, {yen(total)}"]
    if back:
        lines.append(
            "notes not kept: " + ", ".join(f"{state} {n:,}" for state, n in sorted(back.items()))
        )
    return lines


def _credits(db: sqlite3.Connection) -> list[str]:
    found = db.execute(
        "SELECT kind, state, count(*) AS n, sum(amount) AS amount FROM credits"
        " GROUP BY kind, state ORDER BY kind, state"
    ).fetchall()
    lines = ["credits (charge: cash; move: マネー移動, no cash):"]
    for r in found:
        kind = KINDS.get(str(r["kind"]), str(r["kind"]))
        lines.append(f"  {kind} {r['state']}: {r['n']:,}, {yen(int(r['amount']))}")
    return lines if found else [lines[0], "  none"]


def _sessions(db: sqlite3.Connection) -> list[str]:
    span = db.execute(
        "SELECT count(*) AS n, min(started_at) AS first, max(started_at) AS last FROM sessions"
    ).fetchone()
    if not span["n"]:
        return ["sessions: none"]
    outcomes = ", ".join(
        f"{r['outcome'] or '-'} {r['n']:,}"
        for r in db.execute(
            "SELECT outcome, count(*) AS n FROM sessions GROUP BY outcome ORDER BY outcome"
        )
    )
    return [f"sessions: {span['n']:,} ({_when(span['first'])} – {_when(span['last'])}), {outcomes}"]


def _cases(db: sqlite3.Connection) -> list[str]:
    found = db.execute("SELECT * FROM cases ORDER BY id").fetchall()
    lines = [f"cases resolved: {len(found) or 'none'}"]
    for r in found:
        amount = "value unknown" if r["amount"] is None else yen(int(r["amount"]))
        note = f" — {r['resolution_note']}" if r["resolution_note"] else ""
        lines.append(
            f"  {r['reference']} {r['kind']} {amount}, opened {_when(r['created_at'])}:"
            f" {r['resolution'] or r['state']} by {r['resolved_by'] or '-'}"
            f" {_when(r['resolved_at'])}{note}"
        )
    return lines


def _collections(db: sqlite3.Connection) -> list[str]:
    found = [Cashbox.from_row(r) for r in db.execute("SELECT * FROM collections ORDER BY id")]
    lines = [f"collections: {len(found) or 'none'}"]
    for c in found:
        counted = "not counted" if c.counted is None else f"counted {yen(c.counted.total)}"
        difference = c.discrepancy
        differs = "" if not difference else f", difference {difference:+,} yen"
        lines.append(
            f"  #{c.id} {_when(c.at)} by {c.who}: expected {yen(c.expected.total)}"
            f" ({c.expected.notes:,} notes), {counted}{differs}"
        )
    return lines


def _reconciliations(db: sqlite3.Connection) -> list[str]:
    """Each day's last check against the wallet's ledger, counted by its result."""
    found = db.execute(
        "SELECT r.result, count(*) AS days FROM reconciliations r"
        " WHERE r.id = (SELECT max(id) FROM reconciliations WHERE day = r.day)"
        " GROUP BY r.result ORDER BY r.result"
    ).fetchall()
    results = ", ".join(f"{r['result']} {r['days']:,}" for r in found)
    return [f"days checked with the wallet's ledger (each day's last check): {results or 'none'}"]


def _when(at: float | None) -> str:
    return datetime.fromtimestamp(at).strftime("%Y-%m-%d %H:%M") if at else "-"


def _size(size: int) -> str:
    return f"{size / 1_000:,.1f} kB" if size < 1_000_000 else f"{size / 1_000_000:,.1f} MB"
