"""Who may enter the staff side: staff members with a PIN and staff cards, entry by PIN, by a
staff card and a PIN, or by the service key and a PIN, and the kiosk-wide lockout.

Everything lives in the journal: members in ``staff`` and ``staff_cards``, every entry attempt
in ``staff_attempts`` (never a PIN, card ids only masked), every change as a ``staff`` event.
The lockout is worked out from the attempts' rows, so a restart does not lift it.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from hardware.card import mask_card_id
from kiosk.staff.credentials import (
    PinHash,
    burn_pin_time,
    card_hint,
    card_matches,
    hash_card,
    hash_pin,
    needs_rehash,
    normalize_idm,
    verify_pin,
)

if TYPE_CHECKING:
    from kiosk.config.settings import StaffSection
    from kiosk.journal import Journal

log = logging.getLogger("paykiosk.staff")

NAME_MAX = 32


class Method(StrEnum):
    """How someone tried to enter."""

    PIN = "pin"  # a PIN alone: the shell (``staff check-pin``), whose user is already inside
    CARD = "card"  # a staff card and its owner's PIN
    KEY = "key"  # the GPIO service key (turned: the caller's check) and a PIN


class Denied(StrEnum):
    """Why entry was refused, as a person at the kiosk may be told."""

    WRONG_PIN = "wrong_pin"  # also an unknown name: names are not to be probed
    UNKNOWN_CARD = "unknown_card"
    LOCKED = "locked"


# The first word of an attempt's ``detail``; these count towards the lockout.
WRONG_PIN_CODES = ("wrong_pin", "unknown_name", "no_pin")


@dataclass(frozen=True)
class Entry:
    """An entry attempt's outcome: ``name`` let in, or ``denied`` (and the lock, if one holds)."""

    name: str | None = None
    denied: Denied | None = None
    locked_until: float | None = None

    @property
    def granted(self) -> bool:
        return self.denied is None and self.name is not None


@dataclass(frozen=True)
class Member:
    """A staff member as ``staff list`` shows them (card ids masked)."""

    name: str
    has_pin: bool
    card_tags: tuple[str, ...]
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class Attempt:
    """One row of ``staff_attempts``."""

    at: float
    name: str | None
    method: str
    success: bool
    detail: str


@dataclass(frozen=True)
class Lock:
    """Staff entry's lock: ``until`` (None: open) and the wrong PINs in a row since."""

    until: float | None
    wrong_in_row: int

    def holds(self, now: float) -> bool:
        return self.until is not None and now < self.until


def check_name(name: str) -> str:
    """A staff member's name, trimmed: 1–32 printable characters, not only digits (so that a
    PIN typed into the name field is refused, not stored)."""
    name = name.strip()
    if not 1 <= len(name) <= NAME_MAX or not name.isprintable() or name.isdigit():
        raise ValueError(f"a staff name is 1 to {NAME_MAX} printable characters, not only digits")
    return name


def lock_from_rows(rows: Sequence[tuple[float, str]], max_attempts: int, lockout_s: float) -> Lock:
    """The lock after a run of wrong PINs (``(at, detail)`` since the last good entry, oldest
    first): every ``max_attempts``-th one locks entry for ``lockout_s`` from its time."""
    wrong, until = 0, None
    for at, _detail in rows:
        if until is not None and at < until:
            continue  # not possible unless the clock stepped back; the lock already holds
        wrong += 1
        if wrong >= max_attempts:
            until, wrong = at + lockout_s, 0
    return Lock(until, wrong)


# The code is the detail's first word: a card's attempt goes on with its masked tag.
_STREAK_SQL = (
    "SELECT at, detail FROM staff_attempts WHERE success = 0"
    " AND substr(detail, 1, instr(detail || ' ', ' ') - 1) IN "
    f"({', '.join('?' * len(WRONG_PIN_CODES))}) AND id > "
    "COALESCE((SELECT MAX(id) FROM staff_attempts WHERE success = 1), 0) ORDER BY id"
)


def format_time(at: float) -> str:
    """A journal time as staff read it (the kiosk's local time)."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at))


class StaffAccess:
    """Staff members, their cards and entry, on the kiosk's journal."""

    def __init__(
        self, journal: Journal, settings: StaffSection, clock: Callable[[], float] = time.time
    ) -> None:
        self._db = journal.db
        self._settings = settings
        self._clock = clock

    # --- set-up -------------------------------------------------------------------------

    def set_pin(self, name: str, pin: str, by: str = "") -> bool:
        """Set ``name``'s PIN (as :data:`~kiosk.staff.credentials.PIN_PATTERN` says), creating
        the member if new; True if new."""
        name = check_name(name)
        stored = hash_pin(pin)
        now = self._clock()
        with self._db.write() as tx:
            new = tx.execute("SELECT 1 FROM staff WHERE name = ?", (name,)).fetchone() is None
            tx.execute(
                "INSERT INTO staff (name, pin_hash, pin_salt, pin_params, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET"
                " pin_hash = excluded.pin_hash, pin_salt = excluded.pin_salt,"
                " pin_params = excluded.pin_params, updated_at = excluded.updated_at",
                (name, stored.digest, stored.salt, stored.params, now, now),
            )
            what = "new staff member" if new else "PIN changed"
            self._event(tx, f"{what}: {name}{_by(by)}", now)
        log.info("%s: %s", "member added" if new else "PIN changed", name)
        return new

    def add_card(self, name: str, idm: str, by: str = "") -> str:
        """Add a staff card (its IDm) to an existing member; returns its masked tag. A card
        that is already a staff card is refused."""
        name = check_name(name)
        card = hash_card(idm)
        owner = self.card_owner(idm)
        if owner is not None:
            raise ValueError(f"card {card.tag} is already a staff card (of {owner})")
        now = self._clock()
        with self._db.write() as tx:
            if tx.execute("SELECT 1 FROM staff WHERE name = ?", (name,)).fetchone() is None:
                raise KeyError(f"no staff member {name} (set a PIN first: staff set-pin {name})")
            tx.execute(
                "INSERT INTO staff_cards (name, salt, card_hash, card_tag, added_at, hint)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (name, card.salt, card.digest, card.tag, now, card_hint(normalize_idm(idm))),
            )
            self._event(tx, f"card {card.tag} added for {name}{_by(by)}", now)
        log.info("card %s added for %s", card.tag, name)
        return card.tag

    def remove(self, name: str, by: str = "") -> int:
        """Remove a staff member and their cards (their past attempts stay); returns how many
        cards went with them."""
        name = name.strip()
        now = self._clock()
        with self._db.write() as tx:
            if tx.execute("SELECT 1 FROM staff WHERE name = ?", (name,)).fetchone() is None:
                raise KeyError(f"no staff member {name}")
            cards = tx.execute(
                "SELECT COUNT(*) FROM staff_cards WHERE name = ?", (name,)
            ).fetchone()[0]
            tx.execute("DELETE FROM staff_cards WHERE name = ?", (name,))
            tx.execute("DELETE FROM staff WHERE name = ?", (name,))
            self._event(tx, f"staff member removed: {name} ({cards} card(s)){_by(by)}", now)
        log.info("member removed: %s", name)
        return int(cards)

    def members(self) -> list[Member]:
        """Every staff member, by name."""
        tags: dict[str, list[str]] = {}
        for row in self._db.query("SELECT name, card_tag FROM staff_cards ORDER BY id"):
            tags.setdefault(row["name"], []).append(row["card_tag"])
        return [
            Member(
                row["name"],
                row["pin_hash"] is not None,
                tuple(tags.get(row["name"], ())),
                row["created_at"],
                row["updated_at"],
            )
            for row in self._db.query("SELECT * FROM staff ORDER BY name")
        ]

    def card_owner(self, idm: str) -> str | None:
        """The member a card belongs to, or None (also for something that is not an IDm)."""
        try:
            value = normalize_idm(idm)
        except ValueError:
            return None
        rows = self._db.query(
            "SELECT name, salt, card_hash FROM staff_cards WHERE hint IS NULL OR hint = ?"
            " ORDER BY id",
            (card_hint(value),),
        )
        for row in rows:
            if card_matches(value, row["card_hash"], row["salt"]):
                return str(row["name"])
        return None

    # --- entry --------------------------------------------------------------------------

    def enter_with_pin(self, name: str, pin: str) -> Entry:
        """A name and its PIN (the shell's way in)."""
        return self._enter_by_name(Method.PIN, name, pin)

    def enter_with_key(self, name: str, pin: str) -> Entry:
        """The service key and a PIN; the caller has seen the key turned."""
        return self._enter_by_name(Method.KEY, name, pin)

    def enter_with_card(self, idm: str, pin: str) -> Entry:
        """A staff card and its owner's PIN. An unknown card is refused (and journaled with its
        masked tag) without looking at the PIN."""
        try:
            tag = mask_card_id(normalize_idm(idm))
        except ValueError:
            tag = "unreadable id"
        if self.lock().holds(self._clock()):
            return self._record(Method.CARD, self.card_owner(idm), "locked", f"card {tag}")
        owner = self.card_owner(idm)
        if owner is None:
            return self._record(Method.CARD, None, "unknown_card", tag)
        return self._check_pin(Method.CARD, owner, pin, f"card {tag}")

    def lock(self) -> Lock:
        """Staff entry's lock as the journal's attempts say now."""
        rows = self._db.query(_STREAK_SQL, WRONG_PIN_CODES)
        return self._lock_of(rows)

    def attempts(self, last: int = 20) -> list[Attempt]:
        """The latest entry attempts, oldest first."""
        rows = self._db.query(
            "SELECT * FROM (SELECT * FROM staff_attempts ORDER BY id DESC LIMIT ?) ORDER BY id",
            (last,),
        )
        return [
            Attempt(row["at"], row["name"], row["method"], bool(row["success"]), row["detail"])
            for row in rows
        ]

    def _enter_by_name(self, method: Method, name: str, pin: str) -> Entry:
        name = name.strip()
        known = self._db.one("SELECT 1 FROM staff WHERE name = ?", (name,)) is not None
        if self.lock().holds(self._clock()):
            return self._record(method, name if known else None, "locked")
        if not known:
            burn_pin_time(pin)
            return self._record(method, None, "unknown_name")
        return self._check_pin(method, name, pin)

    def _check_pin(self, method: Method, name: str, pin: str, extra: str = "") -> Entry:
        row = self._db.one(
            "SELECT pin_hash, pin_salt, pin_params FROM staff WHERE name = ?", (name,)
        )
        if row is None or row["pin_hash"] is None:
            burn_pin_time(pin)
            return self._record(method, name, "no_pin" if row else "unknown_name", extra)
        stored = PinHash(row["pin_hash"], row["pin_salt"], row["pin_params"])
        if not verify_pin(pin, stored):
            return self._record(method, name, "wrong_pin", extra)
        fresh = hash_pin(pin) if needs_rehash(stored) else None
        return self._record(method, name, "granted", extra, fresh)

    def _record(
        self,
        method: Method,
        name: str | None,
        code: str,
        extra: str = "",
        rehash: PinHash | None = None,
    ) -> Entry:
        """Journal one attempt and decide it: the lock is looked at again inside the write, so
        another process's attempts in the meantime are counted."""
        now = self._clock()
        with self._db.write() as tx:
            before = self._lock_of(tx.execute(_STREAK_SQL, WRONG_PIN_CODES).fetchall())
            if before.holds(now):
                code = "locked"
            elif code == "granted" and not _member(tx, name):
                code = "unknown_name"  # removed while their PIN was being checked
            success = code == "granted"
            detail = f"{code} {extra}".strip()
            tx.execute(
                "INSERT INTO staff_attempts (at, name, method, success, detail)"
                " VALUES (?, ?, ?, ?, ?)",
                (now, name, method.value, int(success), detail),
            )
            if success and name is not None:
                if rehash is not None:
                    tx.execute(
                        "UPDATE staff SET pin_hash = ?, pin_salt = ?, pin_params = ?"
                        " WHERE name = ?",
                        (rehash.digest, rehash.salt, rehash.params, name),
                    )
                self._event(tx, f"entry: {name} ({method.value})", now)
                log.info("entry granted to %s (%s)", name, method.value)
                return Entry(name=name)
            after = self._lock_of(tx.execute(_STREAK_SQL, WRONG_PIN_CODES).fetchall())
            if code in WRONG_PIN_CODES and after.holds(now) and not before.holds(now):
                assert after.until is not None
                self._event(
                    tx,
                    f"entry locked until {format_time(after.until)} after "
                    f"{self._settings.max_pin_attempts} wrong PINs in a row",
                    now,
                )
                log.info("entry locked until %s", format_time(after.until))
        log.info("entry refused (%s, %s)", method.value, detail)
        if code == "locked" or after.holds(now):
            return Entry(denied=Denied.LOCKED, locked_until=after.until)
        if code == "unknown_card":
            return Entry(denied=Denied.UNKNOWN_CARD)
        return Entry(denied=Denied.WRONG_PIN)

    def _lock_of(self, rows: Sequence[sqlite3.Row]) -> Lock:
        return lock_from_rows(
            [(row["at"], row["detail"]) for row in rows],
            self._settings.max_pin_attempts,
            self._settings.lockout_minutes * 60.0,
        )

    @staticmethod
    def _event(tx: sqlite3.Connection, detail: str, at: float) -> None:
        # in the change's own transaction: a staff change is never left unjournaled
        tx.execute(
            "INSERT INTO events (at, kind, detail) VALUES (?, 'staff', ?)", (at, detail[:500])
        )


def _member(tx: sqlite3.Connection, name: str | None) -> bool:
    return tx.execute("SELECT 1 FROM staff WHERE name = ?", (name,)).fetchone() is not None


def _by(who: str) -> str:
    return f" (by {who})" if who else ""
