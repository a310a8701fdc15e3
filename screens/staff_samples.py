"""Sample staff views with made-up staff, notes and cases: every staff screen (each desk state
but CLOSED), for the staff screen tests and ``paykiosk screens`` (``staff_<name>`` files)."""

from __future__ import annotations

from datetime import date

from kiosk.core.cues import SpeakerSettings
from kiosk.staff.cashbox_report import summary_text
from kiosk.staff.day_close import DayClose, Tally, day_text
from kiosk.staff.view import (
    AcceptorPanel,
    ArchiveRow,
    CaseView,
    CashboxCount,
    Collection,
    Desk,
    EventRow,
    StaffView,
    StatusRow,
    TestedNote,
    case_actions,
)

AT = 1_796_087_700.0  # 2026-12-01 10:15 JST
BOX = CashboxCount({1_000: 132, 2_000: 3, 5_000: 41, 10_000: 27})
NEAR_FULL_BOX = CashboxCount({1_000: 402, 2_000: 5, 5_000: 88, 10_000: 61})
RECORD = Collection(
    id=12,
    at=AT,
    who="佐藤",
    expected=BOX,
    counted=CashboxCount({1_000: 131, 2_000: 3, 5_000: 41, 10_000: 27}),
    note="counted at the kiosk",
)


def _case(
    reference: str,
    kind: str,
    amount: int | None,
    detail: str,
    credit_state: str | None = None,
    member: str | None = None,
    card_tag: str | None = None,
) -> CaseView:
    """An open case as the desk shows it, with the actions it allows for its kind."""
    opened = AT - 86_400
    return CaseView(
        reference, kind, amount, opened, detail, member, card_tag, credit_state, case_actions(kind)
    )


REFUSED = _case(
    "K01-20261130-0001",
    "refused_credit",
    3_000,
    "wallet: account suspended (403)",
    "refused",
    "山田 花子",
    "0123…ef",
)
UNCREDITED = _case(
    "K01-20261130-0002",
    "uncredited_note",
    1_000,
    "note stacked after the session ended",
    card_tag="0456…a1",
)
UNRESOLVED = _case(
    "K01-20261201-0003", "unresolved_note", None, "power lost while a note was in escrow"
)
MOVE_REFUSED = _case(
    "K01-20261130-0004",
    "refused_move",
    1_500,
    "mismatch: another transaction returned",
    "refused",
    "山田 花子",
    "0123…ef",
)
JOURNAL_FILE = _case(
    "K01-20261201-0005", "journal_file", None, "file removed; restored from the open connection"
)
CASES = (REFUSED, UNCREDITED, UNRESOLVED)

EVENTS = (
    EventRow(
        AT + 300,
        "staff",
        "佐藤: collection #12: expected ¥131,000 (134 notes), counted"
        " ¥131,000 (134 notes), discrepancy none",
    ),
    EventRow(AT + 240, "staff", "entry: 佐藤 (card)"),
    EventRow(AT + 200, "fault", "acceptor: cleared"),
    EventRow(AT + 120, "fault", "acceptor: jam in the acceptor"),
    EventRow(AT + 60, "acceptor", "stacked ¥1,000"),
    EventRow(AT, "acceptor", "escrow ¥1,000"),
)
FIRMWARE = "i(JPN)100-SS ID003-05V000-00 01JAN26"
NOTES_ON = ((1_000, True), (2_000, False), (5_000, True), (10_000, True))
ACCEPTOR = AcceptorPanel("online", True, FIRMWARE, NOTES_ON)
TESTED = (
    TestedNote(None, "rejected", "inhibited"),
    TestedNote(None, "rejected", "denomination"),
    TestedNote(10_000, "returned"),
    TestedNote(1_000, "returned"),
)

DAY = DayClose(
    kiosk_id="K01",
    day=date(2026, 12, 7),
    zone="Asia/Tokyo",
    start=1_796_569_200.0,
    end=1_796_655_600.0,
    notes={1_000: 41, 2_000: 2, 5_000: 9, 10_000: 12},
    cash={"base": Tally(38, 203_000), "cafeteria": Tally(9, 47_000)},
    confirmed={"base": Tally(37, 198_000), "cafeteria": Tally(9, 47_000)},
    moves={("base", "cafeteria"): Tally(3, 4_500)},
    refused=Tally(0, 0),
    open_at_end=Tally(1, 5_000),
    open_credits=(("K01-20261207-0001", "base", 5_000),),
    cases_opened=0,
    cases_settled=1,
    collections=((1_796_608_800.0, "佐藤", 152_000, 0),),
    cashbox_at_end={1_000: 12, 2_000: 0, 5_000: 3, 10_000: 5},
)

ARCHIVES = (
    ArchiveRow("2026-09", 18_204, 2_310_144),
    ArchiveRow("2026-08", 17_655, 2_240_512),
    ArchiveRow("2026-07", 17_011, 2_195_456, "damaged"),
    ArchiveRow("2026-06", 16_980, 2_154_496),
    ArchiveRow("2026-05", 15_402, 1_953_792),
    ArchiveRow("2026-04", 9_310, 1_183_744),
)

STAFF_SAMPLES: dict[str, StaffView] = {
    "choose_name": StaffView(
        Desk.CHOOSE_NAME, via="key", names=("佐藤", "鈴木", "高橋", "田中", "Smith")
    ),
    "pin": StaffView(Desk.PIN, staff="佐藤", via="card", pin_digits=3),
    "pin_wrong": StaffView(
        Desk.PIN,
        staff="鈴木",
        via="key",
        message="Wrong PIN: {value} tries left",
        message_arg="3",
    ),
    "locked": StaffView(Desk.LOCKED, via="key", locked_until=AT + 15 * 60),
    "menu": StaffView(Desk.MENU, staff="佐藤", via="card", cases=CASES),
    "menu_near_full": StaffView(
        Desk.MENU,
        staff="佐藤",
        via="key",
        near_full=True,
        out_of_service=True,
        message="The kiosk is out of service",
    ),
    "status": StaffView(
        Desk.STATUS,
        staff="佐藤",
        status=(
            StatusRow("Credits waiting", "2 (oldest 14 min)", alert=True),
            StatusRow("Credits confirmed / refused", "1,204 / 3"),
            StatusRow("Moves being processed", "0"),
            StatusRow("Staff cases open", "3", alert=True),
            StatusRow("Reconciliation with the wallet", "2026-11-30: agreed, 52 matched"),
            StatusRow("Cash box", "203 notes, ¥613,000, 20 %"),
            StatusRow("Cash box taken out without a collection", "no"),
            StatusRow("Journal", "ok, schema 11, 38.4 MB"),
            StatusRow("Journal archive", "2026-12-01 04:00: 27,512 rows moved"),
            StatusRow("Months archived", "14 since 2025-09, 61.2 MB"),
            StatusRow("Free disk", "12,340 MB"),
            StatusRow("Device", "acceptor: ok since 2026-12-01 09:02:11"),
            StatusRow("Device", "reader: no answer (2026-12-01 10:14:52)", alert=True),
            StatusRow("Bill acceptor", f"online, {FIRMWARE}"),
            StatusRow("Currency table", "¥1,000 ¥2,000 ¥5,000 ¥10,000"),
            StatusRow("Card reader", "OFFLINE", alert=True),
            StatusRow("Wallet", "reachable, last answer in 84 ms"),
            StatusRow("Clock", "2026-12-01 10:15:00 JST"),
        ),
    ),
    "cashbox": StaffView(Desk.CASHBOX, staff="佐藤", cashbox=BOX, capacity=1_000, fill_percent=20),
    "cashbox_near_full": StaffView(
        Desk.CASHBOX,
        staff="佐藤",
        cashbox=NEAR_FULL_BOX,
        capacity=600,
        fill_percent=93,
        near_full=True,
        removals=1,
    ),
    "count": StaffView(
        Desk.COUNT,
        staff="佐藤",
        cashbox=BOX,
        counted=((1_000, 131), (2_000, 3), (5_000, 0), (10_000, 27)),
    ),
    "record": StaffView(
        Desk.RECORD, staff="佐藤", record=RECORD, record_text=summary_text(RECORD, "K01")
    ),
    "cases": StaffView(
        Desk.CASES,
        staff="佐藤",
        cases=CASES,
        message="Case {value} resolved",
        message_arg="K01-20261128-0004",
    ),
    "cases_empty": StaffView(Desk.CASES, staff="佐藤"),
    "case": StaffView(Desk.CASE, staff="佐藤", cases=CASES, case=REFUSED),
    "case_move": StaffView(Desk.CASE, staff="佐藤", cases=CASES, case=MOVE_REFUSED),
    "case_journal_file": StaffView(Desk.CASE, staff="佐藤", cases=CASES, case=JOURNAL_FILE),
    "case_note": StaffView(
        Desk.CASE,
        staff="佐藤",
        cases=CASES,
        case=UNCREDITED,
        message="Not done: {value}",
        message_arg="case K01-20261130-0002 is already resolved",
    ),
    "events": StaffView(Desk.EVENTS, staff="佐藤", events=EVENTS),
    "restart": StaffView(Desk.RESTART, staff="佐藤"),
    "menu_exported": StaffView(
        Desk.MENU, staff="佐藤", message="Exported {value} files", message_arg="4"
    ),
    "acceptor": StaffView(Desk.ACCEPTOR, staff="佐藤", acceptor=ACCEPTOR),
    "acceptor_fault": StaffView(
        Desk.ACCEPTOR,
        staff="佐藤",
        acceptor=AcceptorPanel("failure stacker_motor", True, FIRMWARE, NOTES_ON),
        message="The acceptor is resetting",
    ),
    "acceptor_test": StaffView(
        Desk.ACCEPTOR_TEST,
        staff="佐藤",
        acceptor=AcceptorPanel("online", True, FIRMWARE, NOTES_ON, testing=True, tested=TESTED),
    ),
    "acceptor_test_empty": StaffView(
        Desk.ACCEPTOR_TEST,
        staff="佐藤",
        acceptor=AcceptorPanel("online", True, FIRMWARE, NOTES_ON, testing=True),
    ),
    "day_close": StaffView(
        Desk.DAY_CLOSE,
        staff="佐藤",
        day="2026-12-07",
        last_day=False,
        record_text=day_text(DAY),
        message="Exported {value} files",
        message_arg="1",
    ),
    "speaker": StaffView(Desk.SPEAKER, staff="佐藤", speaker=SpeakerSettings(True, 80)),
    "archives": StaffView(
        Desk.ARCHIVES,
        staff="佐藤",
        archives=ARCHIVES,
        message="Month {value} exported",
        message_arg="2026-08",
    ),
    "archives_checking": StaffView(
        Desk.ARCHIVES, staff="佐藤", busy=True, message="Checking the archives…"
    ),
    "archives_empty": StaffView(Desk.ARCHIVES, staff="佐藤"),
    "speaker_off": StaffView(Desk.SPEAKER, staff="佐藤", speaker=SpeakerSettings(False, 0)),
}
