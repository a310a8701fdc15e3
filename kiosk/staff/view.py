"""What the staff menu on the touch screen shows, and what its buttons ask for.

The desk (``kiosk/staff/desk.py``) decides everything; the screens render a :class:`StaffView`
snapshot and call :class:`StaffIntents`, as the member's screens do with ``SessionView`` and the
engine's inbox. A PIN never reaches a view: only how many digits have been typed. What staff
may do with a case comes with it (:attr:`CaseView.actions`): the screens offer those, and decide
nothing about money.

The cash box's count and a collection are the journal's own read-only records
(:class:`CashboxCount`, :class:`Collection`), named here so that screens import only this view.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from kiosk.core.cues import SpeakerSettings
from kiosk.core.money import DENOMINATIONS
from kiosk.journal.cases import RETRIABLE, SETTLED_AS
from kiosk.journal.cashbox import CashboxCount, Collection
from kiosk.staff.credentials import PIN_MIN

__all__ = [
    "ARCHIVE_LINES",
    "AcceptorPanel",
    "ArchiveRow",
    "CaseAction",
    "CaseView",
    "CashboxCount",
    "Collection",
    "Desk",
    "EventRow",
    "StaffIntents",
    "StaffView",
    "StatusRow",
    "TestedNote",
    "case_actions",
]


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
    SPEAKER = "speaker"  # the voice on or off, the volume
    DAY_CLOSE = "day_close"  # the daily close of one day (today first), with its QR code
    ARCHIVES = "archives"  # the journal's monthly archives, newest first: one to the USB stick


ARCHIVE_LINES = 5  # archive months on one page of ARCHIVES (a 480-line display)


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


class CaseAction(StrEnum):
    """What staff may do with a case at the touch screen. The resolutions' values are the
    journal's (``Cases.resolve``)."""

    RETRY = "retry"  # send a refused credit or move again, with its same request
    REFUNDED = "refunded"  # settled by hand: the cash given back
    CREDITED_MANUALLY = "credited_manually"  # settled by hand: credited elsewhere
    NO_MONEY_INVOLVED = "no_money_involved"  # checked: nothing to pay back


def case_actions(kind: str) -> tuple[CaseAction, ...]:
    """What staff may do with an open case of ``kind``, by the journal's case rules
    (:mod:`kiosk.journal.cases`): send it again if it is a refused credit or move, and settle
    it by hand as its kind allows (a move took no cash: never refunded)."""
    retry = (CaseAction.RETRY,) if kind in RETRIABLE else ()
    return retry + tuple(CaseAction(resolution) for resolution in SETTLED_AS.get(kind, ()))


@dataclass(frozen=True)
class CaseView:
    """One open staff case as staff see it, with what they may do about it now."""

    reference: str
    kind: str  # the journal's case kind (the screens name it)
    amount: int | None
    opened_at: float  # wall clock
    detail: str
    member: str | None = None  # the session's member name, if known
    card_tag: str | None = None  # masked card id
    credit_state: str | None = None  # None: no credit (a note case)
    actions: tuple[CaseAction, ...] = ()


@dataclass(frozen=True)
class ArchiveRow:
    """One month of the journal's archive as staff see it."""

    month: str  # 2026-06
    rows: int | None  # by its manifest (None: unreadable)
    size: int  # bytes
    # None: verified (its checksum file and manifest agree); else the kind of thing wrong
    # (kiosk.ops.archives.Fault's value: the screens name it)
    problem: str | None = None


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
    record_text: str = ""  # RECORD, DAY_CLOSE: the summary shown and put in the QR code
    day: str = ""  # DAY_CLOSE: the day (ISO date, the co-op's time zone)
    last_day: bool = True  # DAY_CLOSE: it is today (no next day to show)
    cases: tuple[CaseView, ...] = ()
    case: CaseView | None = None
    events: tuple[EventRow, ...] = ()  # EVENTS: newest first
    acceptor: AcceptorPanel | None = None  # ACCEPTOR, ACCEPTOR_TEST
    speaker: SpeakerSettings | None = None  # SPEAKER
    archives: tuple[ArchiveRow, ...] = ()  # ARCHIVES: newest first (empty while checked)
    archive_first: int = 0  # ARCHIVES: the index of the first row shown
    busy: bool = False  # ARCHIVES: being checked or exported (its buttons wait)
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
    def staff_resolve(self, reference: str, resolution: CaseAction) -> None: ...
    def staff_service(self, out_of_service: bool) -> None: ...
    def staff_export(self) -> None: ...
    def staff_restart(self) -> None: ...
    def staff_note(self, value: int, on: bool) -> None: ...
    def staff_acceptor_reset(self) -> None: ...
    def staff_test(self, on: bool) -> None: ...
    def staff_voice(self, on: bool) -> None: ...
    def staff_day(self, delta: int) -> None: ...
    def staff_day_export(self) -> None: ...
    def staff_day_reconcile(self) -> None: ...
    def staff_volume(self, delta: int) -> None: ...
    def staff_archive_page(self, delta: int) -> None: ...
    def staff_archive_export(self, month: str) -> None: ...
    def staff_activity(self) -> None: ...
