"""The engine's side of journal failures: a write that fails takes the kiosk out of service
(the acceptor inhibited at once); what could not be written — a session's close, a staff case —
is done when the journal can be written again (see :class:`kiosk.engine.health.Health`)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from hardware.acceptor import AcceptorEvent, BillAcceptor
from kiosk.core.faults import FaultSource
from kiosk.engine.delivery import Delivery
from kiosk.engine.health import Health
from kiosk.engine.inbox import DeviceFault, Item
from kiosk.journal import Journal, JournalUnwritable
from kiosk.journal.db import Failure
from kiosk.journal.records import SessionOutcome

log = logging.getLogger("paykiosk.engine")


class JournalGuard:
    """The engine's collaborator for journal failures; ``report`` queues the journal's fault
    for the engine (on the engine's loop)."""

    def __init__(
        self,
        journal: Journal,
        acceptor: BillAcceptor,
        delivery: Delivery,
        health: Health,
        report: Callable[[Item], None],
    ) -> None:
        self.journal, self.acceptor, self.delivery = journal, acceptor, delivery
        self.health, self.report = health, report
        self._pending_cases: list[AcceptorEvent] = []  # staff cases not yet in the journal

    def open_case(self, event: AcceptorEvent) -> None:
        """A staff case for a note of unknown fate: opened now, or when the journal is back."""
        self._pending_cases.append(event)
        self._open_cases()

    def _open_cases(self) -> None:
        while self._pending_cases:
            event = self._pending_cases[0]
            reference = self.journal.cases.open(
                event.kind.value, amount=event.value, detail=event.detail, note_id=event.note
            )
            self._pending_cases.pop(0)
            log.error("acceptor %s: staff case %s", event.kind.value, reference)

    def recover(self, outcome: SessionOutcome = SessionOutcome.CLOSED_AFTER_RESTART) -> None:
        """Close the sessions a crash (or a failed write) left open into their credits, and
        open the staff cases a failed write held back."""
        try:
            self._open_cases()
            for credit in self.journal.sessions.close_open(outcome):
                log.info("session %s closed into credit %s", credit.session_id, credit.id)
        except JournalUnwritable as error:
            self.failed(error)  # again when the journal can be written
        else:
            self.delivery.wake()

    def failed(self, error: JournalUnwritable) -> None:
        """Out of service until a probe write lands (see :class:`Health`); a journal SQLite
        finds damaged stays out of service until its integrity check passes (a probe write
        could land beside the damage and bring it back, only to fail again)."""
        self.acceptor.inhibit()
        if error.failure is Failure.DAMAGED:
            self.health.damaged(str(error))
            return
        if not self.health.journal_failed:
            log.critical("journal unwritable: %s", error)
            self.health.journal_failed = True
            self.report(DeviceFault(FaultSource.JOURNAL, f"unwritable ({error})"))

    def log(self, kind: str, detail: str) -> None:
        try:
            self.journal.log(kind, detail)
        except JournalUnwritable as error:
            self.failed(error)
