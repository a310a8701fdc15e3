"""The journal's integrity check, bounded: what one check reads does not grow with the journal.

A journal of up to ``FULL_CHECK_BYTES`` is checked whole by SQLite's ``quick_check``, as it always
was. A bigger one (months of a busy kiosk) is read in rounds through SQLite's own b-tree code,
with ``cell_size_check`` on: a page that is no sound b-tree page, a cell that runs off its page, an
overflow chain that leads nowhere or a row whose index entry is missing is found as
``quick_check`` would find it. One round reads:

- the schema (page 1), and every table's and index's root page and both edges (its first and its
  last entry);
- each table's rows written since the last round (at the first round, at a kiosk's start and in a
  staff command: its newest ``HEAD_ROWS``), each with its entry in every index of the table;
- the next slice of the **sweep**: ``ROWS_PER_ROUND`` rows in rowid order, table after table, each
  with its index entries. The sweep wraps around: every row and its index entries are read once
  every ⌈rows / ``ROWS_PER_ROUND``⌉ rounds (five busy years, ~7 M rows: about 360 rounds, two
  and a half days at the kiosk's one round per 10 minutes).

Not read by the rounds: the free pages, and index entries that belong to no row (what only
``quick_check``'s page accounting finds); ``paykiosk journal --recover`` runs SQLite's full
integrity check first. The design: docs/journal-integrity.md.
"""

from __future__ import annotations

import contextlib
import random
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from kiosk.journal.read_only import read_only

FULL_CHECK_BYTES = 8 * 2**20  # up to this size SQLite's quick_check reads the whole file
# the sweep's slice: with their index entries (a page each where the key is random, a request
# id) 7–16 MB read per round on five busy years (bench/journal_years.py)
ROWS_PER_ROUND = 20_000
HEAD_ROWS = 200  # a table's newest rows read by a round that knows of no earlier one (4 MB)


@dataclass
class Sweep:
    """Where the rounds are: the sweep's next row, and how far each table's head was read."""

    table: str = ""  # the table the sweep reads next ("": the first)
    rowid: int = 0  # its next rowid
    seen: dict[str, int] = field(default_factory=dict)  # table → the newest rowid read
    passes: int = 0  # times the sweep went through every table

    @classmethod
    def anywhere(cls, tables: int = 20) -> Sweep:
        """A sweep starting at a random table: a kiosk restarted more often than one pass
        takes still reads all of its journal over its restarts."""
        return cls(table=f"#{random.randrange(tables)}")


@dataclass(frozen=True)
class _Index:
    name: str
    columns: tuple[str, ...]
    where: str | None  # a partial index's condition


@dataclass(frozen=True)
class _Table:
    name: str
    indexes: tuple[_Index, ...]


def check(
    path: Path,
    sweep: Sweep | None = None,
    *,
    full_below: int = FULL_CHECK_BYTES,
    rows: int = ROWS_PER_ROUND,
) -> list[str]:
    """One check of the journal at ``path`` on a read-only connection of its own: ["ok"] when
    sound, else what was found. ``sweep``: the rounds so far (advanced); None: a round of the
    schema, the edges and each table's newest rows only (a start, a staff command). Raises
    ``sqlite3.Error`` when the file cannot be read at all (SQLITE_CORRUPT for damage)."""
    with contextlib.closing(read_only(path)) as db:
        db.execute("PRAGMA cell_size_check = ON")
        pages = int(db.execute("PRAGMA page_count").fetchone()[0])
        size = pages * int(db.execute("PRAGMA page_size").fetchone()[0])
        if size <= full_below:
            return [str(row[0]) for row in db.execute("PRAGMA quick_check").fetchall()]
        return _round(db, sweep, rows if sweep is not None else 0)


def _round(db: sqlite3.Connection, sweep: Sweep | None, budget: int) -> list[str]:
    tables = _schema(db)
    for table in tables:
        _edges(db, table)
    findings: list[str] = []
    seen = sweep.seen if sweep is not None else {}
    for table in tables:
        newest = _max_rowid(db, table.name)
        if newest is None:
            continue
        # since the last round (a burst: a slice's worth); no round before: the newest few
        known = seen.get(table.name)
        burst = newest - ROWS_PER_ROUND + 1
        first = newest - HEAD_ROWS + 1 if known is None else max(known + 1, burst)
        findings += _rows(db, table, first, newest)
        seen[table.name] = newest
    if sweep is not None and tables:
        findings += _slice(db, tables, sweep, budget)
    return findings or ["ok"]


def _schema(db: sqlite3.Connection) -> list[_Table]:
    """Every table of the journal (page 1 read through) with its indexes, by name."""
    rows = db.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE type IN ('table', 'index')"
        " ORDER BY name"
    ).fetchall()
    names = [str(name) for kind, name, _, _ in rows if kind == "table"]
    tables = []
    for name in names:
        if name.startswith("sqlite_"):
            continue  # SQLite's own (statistics), not the journal's
        indexes = []
        for kind, index, table, sql in rows:
            if kind != "index" or table != name:
                continue
            info = db.execute(f"PRAGMA index_info({_quoted(str(index))})").fetchall()
            if any(column[2] is None for column in info):
                continue  # an index on an expression: read by SQLite's own queries only
            columns = tuple(str(column[2]) for column in info)
            where = re.search(r"\bWHERE\b(.*)$", str(sql or ""), re.IGNORECASE | re.DOTALL)
            indexes.append(_Index(str(index), columns, where[1].strip() if where else None))
        tables.append(_Table(name, tuple(indexes)))
    return tables


def _edges(db: sqlite3.Connection, table: _Table) -> None:
    """The first and last entry of the table and of each of its indexes: their root pages and
    the pages down to both ends."""
    name = _quoted(table.name)
    for order in ("", " DESC"):
        db.execute(f"SELECT * FROM {name} ORDER BY rowid{order} LIMIT 1").fetchall()
        for index in table.indexes:
            keys = ", ".join(_quoted(c) + order for c in index.columns)
            where = f" WHERE {index.where}" if index.where else ""
            columns = ", ".join(_quoted(c) for c in index.columns)
            db.execute(
                f"SELECT {columns} FROM {name} INDEXED BY {_quoted(index.name)}{where}"
                f" ORDER BY {keys} LIMIT 1"
            ).fetchall()


def _max_rowid(db: sqlite3.Connection, table: str) -> int | None:
    row = db.execute(f"SELECT max(rowid) FROM {_quoted(table)}").fetchone()
    return None if row[0] is None else int(row[0])


def _rows(db: sqlite3.Connection, table: _Table, first: int, last: int) -> list[str]:
    """Every column of the rows ``first``…``last`` (overflow pages included), and each row's
    entry in every index of the table (SQLite seeks it: the index's pages on the way)."""
    if first > last:
        return []
    name = _quoted(table.name)
    findings = []
    previous = first - 1
    # every value fetched (read); the rowids must come in order, as quick_check wants them
    for row in db.execute(
        f"SELECT rowid, * FROM {name} WHERE rowid BETWEEN ? AND ?", (first, last)
    ):
        if not first <= row[0] <= last or row[0] <= previous:
            findings.append(f"rowid {row[0]} out of order in table {table.name}")
            break
        previous = row[0]
    for index in table.indexes:
        same = " AND ".join(f"i.{_quoted(c)} IS r.{_quoted(c)}" for c in index.columns)
        inner = f" AND ({index.where})" if index.where else ""
        outer = f" AND ({index.where})" if index.where else ""
        missing = db.execute(
            f"SELECT r.rowid FROM {name} AS r WHERE r.rowid BETWEEN ? AND ?{outer}"
            f" AND NOT EXISTS (SELECT 1 FROM {name} AS i INDEXED BY {_quoted(index.name)}"
            f" WHERE {same} AND i.rowid = r.rowid{inner}) LIMIT 1",
            (first, last),
        ).fetchone()
        if missing is not None:
            findings.append(f"row {missing[0]} missing from index {index.name}")
    return findings


def _slice(db: sqlite3.Connection, tables: list[_Table], sweep: Sweep, budget: int) -> list[str]:
    """The sweep's next ``budget`` rows, table after table, from where it stopped."""
    names = [t.name for t in tables]
    at = _start(names, sweep.table)
    findings: list[str] = []
    for _ in range(len(tables) + 1):  # at most once round, whatever the budget
        if budget <= 0:
            break
        table = tables[at]
        newest, count = db.execute(
            f"SELECT max(rowid), count(*) FROM (SELECT rowid FROM {_quoted(table.name)}"
            " WHERE rowid >= ? ORDER BY rowid LIMIT ?)",
            (sweep.rowid, budget),
        ).fetchone()
        if count:
            findings += _rows(db, table, sweep.rowid, int(newest))
        if count == budget:  # the budget ends in this table: the next round goes on here
            sweep.table, sweep.rowid = table.name, int(newest) + 1
            break
        budget -= count
        at = (at + 1) % len(tables)  # the table is done: the next one from its start
        if at == 0:
            sweep.passes += 1
        sweep.table, sweep.rowid = names[at], 0
    return findings


def _start(names: list[str], table: str) -> int:
    """The index of the table the sweep reads next (a table gone: the next one by name)."""
    if table.startswith("#"):  # Sweep.anywhere
        return int(table[1:]) % len(names)
    for at, name in enumerate(names):
        if name >= table:
            return at
    return 0


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
