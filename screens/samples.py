"""Sample views with made-up members: every screen a member can see, for the screen tests and
``paykiosk screens`` (renders them to PNG files, e.g. the pictures in docs/touch-screen.md)."""

from __future__ import annotations

from hardware.acceptor import EventKind
from kiosk.core.events import (
    CreditOutcome,
    HistoryEntry,
    HistoryView,
    MoveNews,
    MoveOutcome,
    MoveRefusal,
    MoveSettled,
    Notice,
)
from kiosk.core.faults import STARTING, Fault, FaultSource
from kiosk.core.session import MoveRoute, State
from kiosk.core.view import BucketView, MovePreview, SessionView

BUCKETS = [
    BucketView("base", 12_340, 120, 50_000, 37_660, True),
    BucketView("cafeteria", 3_000, 0, 30_000, 27_000, True),
    BucketView("textbook", 49_500, 0, 50_000, 500, False),
]
ROUTES = (MoveRoute("base", "cafeteria", 12_340), MoveRoute("base", "textbook", 500))
ACCOUNT = SessionView(
    State.ACCOUNT,
    member_name="山田 花子",
    buckets=BUCKETS,
    being_credited=2_000,
    move_routes=ROUTES,
)
MOVE = MovePreview("base", "cafeteria", 1_500, 12_340, 12_340, 3_000)
AT_LIMIT = MovePreview("base", "textbook", 500, 500, 12_340, 49_500)
MOVED_AT = 1_795_000_000.0  # a fixed time: the receipt's QR code is the same in every run

SAMPLES: dict[str, SessionView] = {
    "attract": SessionView(State.IDLE),
    "looking_up": SessionView(State.LOOKING_UP),
    "account": ACCOUNT,
    "choose_money": SessionView(
        State.CHOOSE_MONEY,
        member_name="山田 花子",
        buckets=BUCKETS,
        notice=Notice.MONEY_NOT_CHARGEABLE,
    ),
    "insert_empty": SessionView(State.ACCEPTING, bucket="cafeteria", largest_note=10_000),
    "insert_notes_off": SessionView(
        State.ACCEPTING, bucket="base", inserted=6_000, largest_note=10_000, notes_off=(2_000,)
    ),
    "insert_notes": SessionView(
        State.ACCEPTING,
        bucket="base",
        inserted=3_000,
        remaining=4_500,
        largest_note=2_000,
        notice=Notice.NOTE_RETURNED,
        notice_amount=5_000,
    ),
    "crediting": SessionView(State.CREDITING, bucket="base", inserted=3_000),
    "done": SessionView(
        State.DONE,
        bucket="base",
        credited=3_000,
        new_balance=15_340,
        outcome=CreditOutcome.CONFIRMED,
        reference="K01-C000042",
        finished_at=1_796_087_700.0,  # 2026-12-01 10:15 JST
    ),
    "done_refused": SessionView(
        State.DONE,
        bucket="base",
        credited=3_000,
        outcome=CreditOutcome.REFUSED,
        reference="K01-20261123-0001",
    ),
    "done_note_held": SessionView(
        State.DONE, bucket="base", outcome=CreditOutcome.NOTE_HELD, held=10_000
    ),
    "history": SessionView(
        State.HISTORY,
        member_name="山田 花子",
        buckets=BUCKETS,
        history=HistoryView(
            "base",
            (
                HistoryEntry("2026-11-20T12:00:00+09:00", "topup", "base", 5_000),
                HistoryEntry("2026-11-21T12:30:00+09:00", "payment", "base", -480),
            ),
            next_cursor="c2",
            loading=False,
            pages=1,
        ),
    ),
    "done_pending": SessionView(
        State.DONE,
        bucket="textbook",
        credited=10_000,
        outcome=CreditOutcome.BEING_CREDITED,
        reference="K01-C000043",
    ),
    "done_kiosk_fault": SessionView(
        State.DONE, bucket="base", credited=1_000, outcome=CreditOutcome.KIOSK_FAULT, held=5_000
    ),
    "done_nothing_taken": SessionView(
        State.DONE, bucket="base", outcome=CreditOutcome.NOTHING_TAKEN
    ),
    "card_not_linked": SessionView(State.UNKNOWN_CARD),
    "card_unreadable": SessionView(State.UNKNOWN_CARD, notice=Notice.CARD_UNREADABLE),
    "account_suspended": SessionView(State.ACCOUNT_SUSPENDED),
    "wallet_unavailable": SessionView(State.WALLET_UNAVAILABLE, detail="no answer in time"),
    "out_of_service": SessionView(
        State.OUT_OF_SERVICE,
        fault=Fault(FaultSource.ACCEPTOR, "stacker open", EventKind.STACKER_OPEN),
    ),
    "account_moves": SessionView(
        State.ACCOUNT,
        member_name="山田 花子",
        buckets=BUCKETS,
        moves=(
            MoveNews("base", "cafeteria", 2_000, MoveOutcome.MOVED, "K01-M000012"),
            MoveNews(
                "base", "textbook", 5_000, MoveOutcome.REFUSED, "K01-M000013", MoveRefusal.OVER_CAP
            ),
        ),
    ),
    "move_route": SessionView(State.MOVE_ROUTE, buckets=BUCKETS, move_routes=ROUTES),
    "move_amount": SessionView(State.MOVE_AMOUNT, buckets=BUCKETS, move=MOVE),
    "move_amount_limit": SessionView(
        State.MOVE_AMOUNT, buckets=BUCKETS, move=AT_LIMIT, notice=Notice.MOVE_AT_LIMIT
    ),
    "move_confirm": SessionView(State.MOVE_CONFIRM, buckets=BUCKETS, move=MOVE),
    "moving": SessionView(State.MOVING, move=MOVE),
    "moved": SessionView(
        State.MOVED,
        move=MOVE,
        move_result=MoveSettled(MoveOutcome.MOVED, None, 10_840, 4_500, "K01-M000014", MOVED_AT),
    ),
    "move_refused": SessionView(
        State.MOVED,
        move=MOVE,
        move_result=MoveSettled(MoveOutcome.REFUSED, MoveRefusal.NOT_ENOUGH, at=MOVED_AT),
    ),
    "move_processing": SessionView(
        State.MOVED,
        move=MOVE,
        move_result=MoveSettled(MoveOutcome.BEING_PROCESSED, reference="K01-M000015", at=MOVED_AT),
    ),
    "starting": SessionView(State.OUT_OF_SERVICE, fault=STARTING),
    "door_open": SessionView(
        State.OUT_OF_SERVICE, fault=Fault(FaultSource.DOOR, "cash-box door open")
    ),
    "service_key": SessionView(
        State.OUT_OF_SERVICE, fault=Fault(FaultSource.SERVICE_KEY, "staff service")
    ),
    "staff_switch": SessionView(
        State.OUT_OF_SERVICE,
        fault=Fault(FaultSource.STAFF_SWITCH, "taken out of service by staff"),
    ),
    "card_reader": SessionView(
        State.OUT_OF_SERVICE, fault=Fault(FaultSource.CARD_READER, "no poll for 5 s")
    ),
    "journal_failed": SessionView(
        State.OUT_OF_SERVICE, fault=Fault(FaultSource.JOURNAL, "unwritable (disk I/O error)")
    ),
}
