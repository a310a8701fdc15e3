"""Which notes the kiosk takes: staff may switch a denomination off (the co-op does not want
¥2,000 notes, say). Kept in the journal so it holds across restarts and a shell command and the
touch menu change the same thing; the engine reads it when a member's session begins."""

from __future__ import annotations

import time
from collections.abc import Iterable

from kiosk.core.money import DENOMINATIONS
from kiosk.journal.db import Database


class NoteChoiceRefused(ValueError):
    """A change that would leave the kiosk with no note to take, or a value it has no note for."""


class NoteChoice:
    """The note values switched off by staff; every other note the acceptor knows is taken."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def disabled(self) -> frozenset[int]:
        return frozenset(int(r["value"]) for r in self.db.query("SELECT value FROM disabled_notes"))

    def taken(self, offered: Iterable[int]) -> list[int]:
        """Of the notes the acceptor offers, those not switched off (in the acceptor's order)."""
        off = self.disabled()
        return [value for value in offered if value not in off]

    def switch(self, value: int, on: bool, who: str) -> bool:
        """Switch ``value`` notes on or off (journaled with ``who``); False if it already was.
        Raises :class:`NoteChoiceRefused` for an unknown value or the last note switched off."""
        if value not in DENOMINATIONS:
            known = ", ".join(f"{v}" for v in DENOMINATIONS)
            raise NoteChoiceRefused(f"no {value} yen note (the notes are {known})")
        with self.db.write() as tx:
            off = {int(r[0]) for r in tx.execute("SELECT value FROM disabled_notes")}
            if (value not in off) == on:
                return False
            if on:
                tx.execute("DELETE FROM disabled_notes WHERE value = ?", (value,))
            else:
                if set(DENOMINATIONS) <= off | {value}:
                    raise NoteChoiceRefused(
                        "at least one note must stay on (take the kiosk out of service instead)"
                    )
                tx.execute(
                    "INSERT INTO disabled_notes (value, by, at) VALUES (?, ?, ?)",
                    (value, who, time.time()),
                )
            what = "on" if on else "off"
            tx.execute(
                "INSERT INTO events (at, kind, detail) VALUES (?, ?, ?)",
                (time.time(), "staff", f"{who}: ¥{value:,} notes switched {what}"),
            )
        return True
