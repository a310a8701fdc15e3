"""A synthetic journal of a busy kiosk's days, written straight into the journal's schema (the
journal's own migrations make the file; the rows have the shapes the kiosk's write paths give
them): per day, visits — cash sessions of 1–4 notes (each note escrowed, stacked, in the
cash-box ledger, three acceptor events), a member now and then who puts nothing in, マネー移動
moves (a credit of kind ``exchange``, no cash), a refused credit now and then (a staff case,
resolved by staff an evening 1–5 days later; one in fifty waits months for its member; a case
whose day has not come by the journal's end is still open) — a collection every evening (the
stacker-open fault and its clearing, the staff event), a staff PIN attempt and the day's
reconciliation with the wallet. Rows are written in time order (ids follow time), as the
kiosk writes them: what retention (``kiosk.journal.retention``) relies on.

For ``bench/journal_years.py`` (five years) and the tests that show a read does not grow with
the journal (a few days)."""

from __future__ import annotations

import heapq
import json
import math
import random
import sqlite3
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from kiosk.journal import Journal

DAY_S = 86_400
MEMBERS = 2_000
NOTES = ((1000, 0x61, 80), (5000, 0x63, 12), (10000, 0x64, 8))  # value, escrow code, weight
BUCKETS = (("base", "M-base"), ("textbook", "M-textbook"))
KIOSK = "B01"
RESOLUTION = "cash handed back at the counter"


@dataclass
class Ids:
    """The next id of each table (the generator numbers rows itself, as SQLite would)."""

    next: dict[str, int] = field(default_factory=dict)

    def take(self, table: str) -> int:
        value = self.next.get(table, 1)
        self.next[table] = value + 1
        return value


@dataclass
class Day:
    """One day's rows, table → rows in the order of the table's columns below."""

    rows: dict[str, list[tuple[object, ...]]] = field(default_factory=dict)

    def add(self, table: str, *row: object) -> None:
        self.rows.setdefault(table, []).append(row)


COLUMNS: dict[str, str] = {
    "sessions": "id, started_at, card_tag, user_id, user_name, bucket, money_id, state, outcome,"
    " finished_at",
    "credits": "id, request_id, session_id, user_id, money_id, bucket, amount, state, attempts,"
    " next_attempt_at, transaction_id, last_error, reference, created_at, updated_at, kind,"
    " source_money_id, source_bucket, told",
    "notes": "id, session_id, escrow_code, value, state, credit_id, created_at, updated_at",
    "cashbox": "id, note_id, value, at, collection_id",
    "collections": "id, at, who, counts, total, counted, discrepancy, note",
    "cases": "id, reference, kind, credit_id, note_id, user_id, amount, detail, state,"
    " resolution, resolved_by, resolved_at, created_at, resolution_note",
    "events": "id, at, kind, detail",
    "staff_attempts": "id, at, name, method, success, detail",
    "reconciliations": "id, day, at, by, result, wallet_rows, journal_rows, matched, open,"
    " mismatches, seconds, detail",
}


class Generator:
    """Days of a busy kiosk, written straight into the journal's tables."""

    def __init__(self, per_day: int, seed: int = 27, until: float = math.inf) -> None:
        self.per_day = per_day
        self.until = until  # the journal's end: a case to be resolved later is still open
        self.later: list[tuple[float, int, str]] = []  # resolutions to come: at, case, reference
        self.random = random.Random(seed)
        self.ids = Ids()
        self.box: dict[int, int] = {}  # value → notes since the last collection
        self.cases_today = 0
        self.collection: int | None = None  # the evening's collection (None: not yet today)

    def day(self, start: float, last: bool) -> Day:
        """The rows of the day starting at ``start``; ``last``: today (no collection yet)."""
        rng, day = self.random, Day()
        self.cases_today = 0
        # the evening's collection takes the day's notes (today's: still in the box)
        self.collection = None if last else self.ids.take("collections")
        opening = start + 8 * 3600
        for visit in sorted(rng.uniform(0, 13 * 3600) for _ in range(self.per_day)):
            at = opening + visit
            user = rng.randrange(MEMBERS)
            bucket, money = rng.choice(BUCKETS)
            roll = rng.random()
            if roll < 0.08:
                self._move(day, at, user, bucket)
            elif roll < 0.12:
                self._session(day, at, user, bucket, money, 0)
            else:
                notes = rng.choices((1, 2, 3, 4), (20, 25, 35, 20))[0]
                self._session(day, at, user, bucket, money, notes)
        if rng.random() < 0.02:  # a jam now and then: a fault and its clearing
            at = opening + rng.uniform(0, 13 * 3600)
            day.add("events", self.ids.take("events"), at, "fault", "acceptor: jam acceptor")
            day.add("events", self.ids.take("events"), at + 120, "fault", "acceptor: cleared")
        day.add(
            "staff_attempts",
            self.ids.take("staff_attempts"),
            start + 21.5 * 3600,
            "alice",
            "pin",
            1,
            "",
        )
        while self.later and self.later[0][0] < start + DAY_S:  # the evening's cases
            resolved, _case, reference = heapq.heappop(self.later)
            day.add(
                "events",
                self.ids.take("events"),
                resolved,
                "staff",
                f"case {reference} resolved as refunded by alice; note: {RESOLUTION}",
            )
        if not last:
            self._collection(day, start + 21.75 * 3600)
        self._reconciliation(day, start)
        return day

    def _session(self, day: Day, at: float, user: int, bucket: str, money: str, notes: int) -> None:
        rng, ids = self.random, self.ids
        session = ids.take("sessions")
        card = f"{rng.randrange(16**4):04X}…{rng.randrange(256):02X}"
        t = at + 2.0
        note_ids: list[tuple[int, int]] = []
        for _ in range(notes):
            value, code, _w = rng.choices(NOTES, [w for *_, w in NOTES])[0]
            note = ids.take("notes")
            note_ids.append((note, value))
            for kind, detail in (
                ("acceptor", "accepting"),
                ("acceptor", f"escrow {value} 0x{code:02X}"),
                ("acceptor", f"stacked {value}"),
            ):
                day.add("events", ids.take("events"), t, kind, detail)
                t += 1.2
            box = ids.take("cashbox")
            day.add("cashbox", box, note, value, t, self.collection)
            self.box[value] = self.box.get(value, 0) + 1
            t += 2.0
        amount = sum(value for _, value in note_ids)
        credit = None
        if amount:
            credit = ids.take("credits")
            refused = rng.random() < 0.002
            reference = self._case(day, t, credit, user, amount) if refused else None
            day.add(
                "credits",
                credit,
                str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                session,
                f"U{user:05d}",
                money,
                bucket,
                amount,
                "refused" if refused else "confirmed",
                1,
                0.0,
                None if refused else str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "invalid_request" if refused else None,
                reference,
                t,
                t + 0.4,
                "cash",
                None,
                None,
                1,
            )
        for note, value in note_ids:
            code = next(c for v, c, _w in NOTES if v == value)
            day.add("notes", note, session, code, value, "stacked", credit, at + 2, t)
        outcome = "credited" if amount else "nothing_inserted"
        day.add(
            "sessions",
            session,
            at,
            card,
            f"U{user:05d}",
            f"会員{user}",
            bucket,
            money,
            "finished",
            outcome,
            t,
        )

    def _move(self, day: Day, at: float, user: int, bucket: str) -> None:
        rng = self.random
        credit = self.ids.take("credits")
        target = "textbook" if bucket == "base" else "base"
        refused = rng.random() < 0.01
        day.add(
            "credits",
            credit,
            str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            None,
            f"U{user:05d}",
            f"M-{target}",
            target,
            rng.choice((500, 1000, 2000, 3000)),
            "refused" if refused else "confirmed",
            1,
            0.0,
            None if refused else str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "insufficient_balance" if refused else None,
            None,
            at,
            at + 0.5,
            "exchange",
            f"M-{bucket}",
            bucket,
            1,
        )

    def _case(self, day: Day, at: float, credit: int, user: int, amount: int) -> str:
        self.cases_today += 1
        stamp = time.strftime("%Y%m%d", time.gmtime(at))  # the generator's days are UTC days
        reference = f"{KIOSK}-{stamp}-{self.cases_today:04d}"
        # staff settle cases in the evening, when the member came back for the cash
        waits = (
            self.random.randint(60, 400)
            if self.random.random() < 0.02
            else self.random.randint(1, 5)
        )
        resolved = (at // DAY_S + waits) * DAY_S + 21.6 * 3600
        case = self.ids.take("cases")
        closed = resolved < self.until
        day.add(
            "cases",
            case,
            reference,
            "refused_credit",
            credit,
            None,
            f"U{user:05d}",
            amount,
            "invalid_request: the wallet refused the top-up",
            "resolved" if closed else "open",
            "refunded" if closed else None,
            "alice" if closed else None,
            resolved if closed else None,
            at,
            RESOLUTION if closed else None,
        )
        if closed:  # its staff event is written that evening
            heapq.heappush(self.later, (resolved, case, reference))
        return reference

    def _collection(self, day: Day, at: float) -> None:
        ids, collection = self.ids, self.collection
        counts = json.dumps({str(v): n for v, n in sorted(self.box.items())})
        total = sum(v * n for v, n in self.box.items())
        day.add("events", ids.take("events"), at - 60, "fault", "acceptor: stacker_open")
        day.add("collections", collection, at, "alice", counts, total, counts, 0, "")
        day.add("events", ids.take("events"), at + 30, "fault", "acceptor: cleared")
        day.add(
            "events",
            ids.take("events"),
            at,
            "staff",
            f"alice: collection #{collection} recorded, ¥{total:,} expected, counted: agreed",
        )
        self.box = {}

    def _reconciliation(self, day: Day, start: float) -> None:
        sessions = self.per_day
        day.add(
            "reconciliations",
            self.ids.take("reconciliations"),
            time.strftime("%Y-%m-%d", time.localtime(start - DAY_S)),
            start + 3 * 3600,
            "daily",
            "agreed",
            sessions,
            sessions,
            sessions,
            0,
            0,
            1.2,
            "",
        )


def generate(path: Path, days: int, per_day: int, end: float | None = None) -> None:
    """A journal at ``path`` of ``days`` days of ``per_day`` visits ending today."""
    Journal(path, KIOSK).close()  # the schema, by the journal's own migrations
    today = (end or time.time()) // DAY_S * DAY_S
    generator = Generator(per_day, until=end or time.time())
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA synchronous=OFF")  # a bench's file: rebuilt if the machine stops
        db.execute("BEGIN")
        for n in range(days):
            start = today - (days - 1 - n) * DAY_S
            day = generator.day(start, last=n == days - 1)
            _insert(db, day)
            if n % 30 == 29:
                db.execute("COMMIT")
                db.execute("BEGIN")
        db.execute("COMMIT")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()


def _insert(db: sqlite3.Connection, day: Day) -> None:
    # parents first: the foreign keys are not enforced here, but the order is the kiosk's
    for table in ("sessions", "credits", "notes", "collections", "cashbox", "cases", "events"):
        _insert_rows(db, table, day.rows.get(table, []))
    for table in ("staff_attempts", "reconciliations"):
        _insert_rows(db, table, day.rows.get(table, []))


def _insert_rows(db: sqlite3.Connection, table: str, rows: list[tuple[object, ...]]) -> None:
    if rows:
        columns = COLUMNS[table]
        marks = ", ".join("?" * len(columns.split(",")))
        db.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)
