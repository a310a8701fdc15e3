"""The staff menu's acceptor functions: which notes the kiosk takes, the reset, and the test
mode in which every note fed is checked and handed back, never counted.

The test mode is the driver's (:meth:`~hardware.acceptor.BillAcceptor.test`): the ledger is not
even asked about a note, so nothing reaches the cash-box ledger, whatever the journal's gate
would say. The desk only starts it while no member's session is open.
"""

from __future__ import annotations

from hardware.acceptor import AcceptorEvent, BillAcceptor, EventKind
from kiosk.core.money import DENOMINATIONS
from kiosk.journal import Journal
from kiosk.staff.view import AcceptorPanel, TestedNote

TESTED_SHOWN = 6  # the newest notes of a test the screen lists
_STATE_EVENTS = {
    EventKind.ONLINE,
    EventKind.OFFLINE,
    EventKind.RESETTING,
    EventKind.JAM,
    EventKind.STACKER_FULL,
    EventKind.STACKER_OPEN,
    EventKind.FAILURE,
    EventKind.CLEARED,
}


class AcceptorTools:
    """On the desk's loop: the driver's events arrive through :meth:`heard`."""

    def __init__(self, acceptor: BillAcceptor, journal: Journal) -> None:
        self.acceptor, self.journal = acceptor, journal
        self.testing = False
        self.tested: list[TestedNote] = []
        self.state = "online" if acceptor.online else "offline"

    def panel(self) -> AcceptorPanel:
        off = self.journal.note_choice.disabled()
        notes = tuple((value, value not in off) for value in DENOMINATIONS)
        return AcceptorPanel(
            state=self.state,
            online=self.acceptor.online,
            version=self.acceptor.version,
            notes=notes,
            currency=tuple(self.acceptor.denominations),
            testing=self.testing,
            tested=tuple(self.tested[:TESTED_SHOWN]),
        )

    def switch(self, value: int, on: bool, who: str) -> bool:
        """Switch a note on or off (raises ``NoteChoiceRefused``); a test in progress takes
        the new choice at once (a member's session takes it at the next touch)."""
        changed = self.journal.note_choice.switch(value, on, who)
        if changed and self.testing:
            self.acceptor.test(self._taken())
        return changed

    def reset(self, who: str) -> bool:
        """Reset the unit; a test in progress ends. False if the unit is offline."""
        self.end_test(who)
        if not self.acceptor.reset():
            return False
        self.state = "resetting"
        self.journal.log("staff", f"{who}: acceptor reset")
        return True

    def start_test(self, who: str) -> bool:
        """Take notes to check them; False when the unit is offline or a member's session has
        its gate open (never while it has)."""
        if not self.acceptor.online or self.journal.gate.session_id is not None:
            return False
        self.testing, self.tested = True, []
        self.acceptor.test(self._taken())
        self.journal.log("staff", f"{who}: acceptor test started (notes handed back)")
        return True

    def end_test(self, who: str) -> None:
        if not self.testing:
            return
        self.testing = False
        self.acceptor.inhibit()
        checked = sum(1 for note in self.tested if note.outcome == "returned")
        self.journal.log("staff", f"{who}: acceptor test ended ({checked} notes checked)")

    def heard(self, event: AcceptorEvent) -> bool:
        """A driver event: True if what staff see changed."""
        kind = event.kind
        if kind in _STATE_EVENTS:
            cleared = kind in (EventKind.ONLINE, EventKind.CLEARED)
            self.state = "online" if cleared else f"{kind.value} {event.detail}".strip()
            if kind in (EventKind.OFFLINE, EventKind.RESETTING):
                self.testing = False  # the driver forgot it: notes are refused until enabled
            return True
        if not self.testing:
            return False
        if kind is EventKind.RETURNED:
            self.tested.insert(0, TestedNote(event.value, "returned"))
        elif kind is EventKind.REJECTED:
            self.tested.insert(0, TestedNote(event.value, "rejected", event.detail))
        else:
            return False
        return True

    def _taken(self) -> set[int]:
        return set(self.journal.note_choice.taken(self.acceptor.denominations))
