"""The console view (``--no-ui``, the console demo) says every notice and outcome in words:
no raw vocabulary such as ``note_returned`` reaches a member."""

from __future__ import annotations

import pytest

from kiosk.app.console import describe
from kiosk.core.events import CreditOutcome, HistoryView, Notice
from kiosk.core.faults import Fault, FaultSource
from kiosk.core.session import State
from kiosk.core.view import BucketView, MovePreview, SessionView

NOTICE_STATES = {
    Notice.CARD_UNREADABLE: State.UNKNOWN_CARD,
    Notice.MONEY_NOT_CHARGEABLE: State.CHOOSE_MONEY,
    Notice.NOTE_RETURNED: State.ACCEPTING,
    Notice.NOTE_REJECTED: State.ACCEPTING,
    Notice.HISTORY_UNAVAILABLE: State.HISTORY,
    Notice.MOVE_AT_LIMIT: State.MOVE_AMOUNT,
}
BUCKETS = [BucketView("base", 1000, 10, 50_000, 49_000, True)]


@pytest.mark.parametrize("notice", list(Notice))
def test_every_notice_is_a_sentence(notice: Notice) -> None:
    view = SessionView(
        NOTICE_STATES[notice],
        member_name="生協 太郎",
        buckets=BUCKETS,
        bucket="base",
        notice=notice,
        notice_amount=5000,
        history=HistoryView("base", loading=False),
        move=MovePreview("base", "cafeteria", 3000, 3000, 3000, 0),
    )
    plain = describe(view)
    with_no_notice = describe(SessionView(**{**view.__dict__, "notice": None}))
    assert plain != with_no_notice, f"{notice} is not told"
    assert notice.value not in plain and "_" not in plain


@pytest.mark.parametrize("outcome", list(CreditOutcome))
def test_every_outcome_is_a_sentence(outcome: CreditOutcome) -> None:
    view = SessionView(State.DONE, bucket="base", credited=3000, outcome=outcome, reference="K01-1")
    text = describe(view)
    assert "_" not in text
    no_credit = (CreditOutcome.NOTHING_TAKEN, CreditOutcome.NOTE_HELD)
    assert ("¥3,000" in text) is (outcome not in no_credit)
    if outcome is CreditOutcome.REFUSED:
        assert "K01-1" in text  # the staff case reference to show at the store


def test_a_note_still_inside_the_machine_is_told() -> None:
    view = SessionView(State.DONE, bucket="base", outcome=CreditOutcome.NOTE_HELD, held=10000)
    text = describe(view)
    assert "¥10,000 note is still inside the machine" in text and "taken" not in text


@pytest.mark.parametrize("state", list(State))
def test_every_state_is_a_sentence(state: State) -> None:
    text = describe(
        SessionView(state, bucket="base", fault=Fault(FaultSource.DOOR, "cash-box door open"))
    )
    assert "_" not in text and " " in text
