"""What the staff menu on the touch screen shows, and what its buttons ask for.

The desk (``kiosk/staff/desk.py``) decides everything; the screens render a :class:`StaffView`
snapshot and call :class:`StaffIntents`, as the member's screens do with ``SessionView`` and the
engine's inbox. A PIN never reaches a view: only how many digits have been typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from kiosk.core.money import DENOMINATIONS
from kiosk.journal.cases import CaseSummary
from kiosk.journal.cashbox import CashboxCount, Collection
from kiosk.staff.credentials import PIN_MIN


class Desk(StrEnum):
    """Where the staff menu is."""

    CLOSED = "closed"  # the member's screens
    CHOOSE_NAME = "choose_name"  # service key turned: who is entering
    PIN = "pin"  # the PIN pad (after a staff card or a chosen name)
    LOCKED = "locked"  # too many wrong PINs: entry refused until ``locked_until``
    MENU = "menu"
    STATUS = "status"
    CASHBOX = "cashbox"  # notes since the last collection, fill
    COUNT = "count"  # collection: staff enter the notes they counted
    RECORD = "record"  # the collection's record, with a QR code of it
    CASES = "cases"  # open staff cases
    CASE = "case"  # one case: retry now, or resolve by hand
    EVENTS = "events"  # the journal's recent events
    RESTART = "restart"  # "restart the app?": confirm or back
    ACCEPTOR = "acceptor"  # the acceptor: its state, the notes switched on/off, reset
    ACCEPTOR_TEST = "acceptor_test"  # notes fed are checked and handed back, never counted


@dataclass(frozen=True)
class StatusRow:
    label: str  # msgid (the screens translate it)
    value: str  # as is (figures, names, times)
    alert: bool = False


@dataclass(frozen=True)
class EventRow:
    """One of the journal's operational events, as staff read it."""

    at: float  # wall clock
    kind: str
    detail: str


@dataclass(frozen=True)
class TestedNote:
    """A note fed in the acceptor's test mode, as the acceptor saw it."""

    value: int | None  # None: a note it could not recognise
    outcome: str  # "returned" (recognised, handed back) or "rejected"
    reason: str = ""  # the acceptor's reject reason, as it names it


@dataclass(frozen=True)
class AcceptorPanel:
    """The acceptor as staff see it."""

    state: str  # "online", "offline", "resetting" or the fault it reports (as the driver says)
    online: bool
    version: str
    notes: tuple[tuple[int, bool], ...]  # every note value the kiosk knows: switched on?
    currency: tuple[int, ...] = ()  # the notes of the unit's currency table (empty: offline)
    testing: bool = False
    tested: tuple[TestedNote, ...] = ()  # newest first


@dataclass(frozen=True)
class StaffView:
    desk: Desk
    staff: str = ""  # who is in (menu on), or whose PIN is asked
    via: str = ""  # "card" or "key": how they came
    names: tuple[str, ...] = ()  # CHOOSE_NAME: staff members with a PIN
    pin_digits: int = 0  # PIN: digits typed so far (never the digits)
    pin_length: int = PIN_MIN  # the shortest PIN the desk takes (OK enabled from here)
    message: str = ""  # msgid: what went wrong or what was done
    message_arg: str = ""  # the message's {value}, if it has one
    locked_until: float | None = None  # wall clock
    out_of_service: bool = False  # staff's own "out of service" switch
    status: tuple[StatusRow, ...] = ()
    cashbox: CashboxCount | None = None
    capacity: int = 0  # notes the stacker holds
    fill_percent: int = 0
    near_full: bool = False
    removals: int = 0  # cash box taken out without a collection since the last one
    denominations: tuple[int, ...] = DENOMINATIONS
    counted: tuple[tuple[int, int], ...] = ()  # COUNT: (value, notes) typed so far
    record: Collection | None = None
    record_text: str = ""  # the summary shown and put in the QR code
    cases: tuple[CaseSummary, ...] = ()
    case: CaseSummary | None = None
    events: tuple[EventRow, ...] = ()  # EVENTS: newest first
    acceptor: AcceptorPanel | None = None  # ACCEPTOR, ACCEPTOR_TEST
    deadline: float | None = None  # monotonic: the menu closes itself then


class StaffIntents(Protocol):
    """What the staff screens may ask of the desk."""

    def staff_name(self, name: str) -> None: ...
    def staff_digit(self, digit: str) -> None: ...
    def staff_erase(self) -> None: ...
    def staff_enter(self) -> None: ...
    def staff_open(self, desk: Desk) -> None: ...
    def staff_back(self) -> None: ...
    def staff_close(self) -> None: ...
    def staff_count(self, value: int, delta: int) -> None: ...
    def staff_count_save(self) -> None: ...
    def staff_case(self, reference: str) -> None: ...
    def staff_retry(self, reference: str) -> None: ...
    def staff_resolve(self, reference: str, resolution: str) -> None: ...
    def staff_service(self, out_of_service: bool) -> None: ...
    def staff_export(self) -> None: ...
    def staff_restart(self) -> None: ...
    def staff_note(self, value: int, on: bool) -> None: ...
    def staff_acceptor_reset(self) -> None: ...
    def staff_test(self, on: bool) -> None: ...
    def staff_activity(self) -> None: ...
