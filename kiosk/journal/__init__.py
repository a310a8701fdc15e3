"""The journal: the one durable record of money facts (SQLite, WAL, synchronous=FULL).

Sessions, every note from escrow to stacked, credits with their ``request_id`` (cash top-ups
and マネー移動 moves), staff cases and the cash-box
ledger. Every money-relevant change is one transaction.
"""

from __future__ import annotations

import time
from pathlib import Path

from kiosk.core.money import AcceptanceGate
from kiosk.journal.cases import Cases
from kiosk.journal.cashbox import Cashbox
from kiosk.journal.credits import Credits
from kiosk.journal.db import Database, JournalDamaged, JournalUnusable, JournalUnwritable
from kiosk.journal.moves import Moves
from kiosk.journal.note_choice import NoteChoice
from kiosk.journal.notes import JournalNotes
from kiosk.journal.reconciliations import Reconciliations
from kiosk.journal.sessions import Sessions
from kiosk.journal.speaker import Speaker

__all__ = ["Journal", "JournalDamaged", "JournalUnusable", "JournalUnwritable"]


class Journal:
    def __init__(
        self,
        path: str | Path,
        kiosk_id: str,
        gate: AcceptanceGate | None = None,
        owner: bool = False,
        check: bool = False,
    ) -> None:
        """``owner``: the running kiosk's journal (see :class:`Database`); ``check``: refuse a
        journal SQLite finds damaged (``JournalDamaged``), as the kiosk and the staff commands
        do at start."""
        self.db = Database(path, owner=owner, check=check)
        self.gate = gate or AcceptanceGate()
        self.cases = Cases(self.db, kiosk_id)
        self.notes = JournalNotes(self.db, self.gate, self.cases)
        self.sessions = Sessions(self.db)
        self.credits = Credits(self.db, self.cases)
        self.moves = Moves(self.db)
        self.cashbox = Cashbox(self.db)
        self.note_choice = NoteChoice(self.db)
        self.speaker = Speaker(self.db)
        self.reconciliations = Reconciliations(self.db, self.cases)

    def log(self, kind: str, detail: str = "") -> None:
        """An operational event (acceptor faults, staff actions) for ``paykiosk journal``."""
        with self.db.write() as tx:
            tx.execute(
                "INSERT INTO events (at, kind, detail) VALUES (?, ?, ?)",
                (time.time(), kind, detail[:500]),
            )

    def probe(self) -> None:
        """One durable write that touches every table money goes through (raises
        :class:`JournalUnwritable`): the journal can take notes again only if this lands."""
        with self.db.write() as tx:
            for table in ("sessions", "notes", "cashbox", "credits", "cases"):
                tx.execute(f"UPDATE {table} SET id = id WHERE 0")
            tx.execute(
                "INSERT INTO events (at, kind, detail) VALUES (?, ?, ?)",
                (time.time(), "journal", "writable again"),
            )

    def close(self) -> None:
        self.db.close()
