"""What a member should hear when the view changes: one rule, :func:`cue_for`, for every device
that sounds (the panel's buzzer, the screens' speaker). Each device maps a :class:`Cue` to what
it can play, or to nothing; none decides for itself *when* to sound."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kiosk.core.events import CreditOutcome, MoveOutcome, Notice
from kiosk.core.session import State
from kiosk.core.view import SessionView


@dataclass(frozen=True)
class SpeakerSettings:
    """How the speaker sounds: the voice's prompts on or off, the volume (0-100)."""

    voice: bool
    volume: int


class Cue(StrEnum):
    CARD_READ = "card_read"  # a card was read: the member is being looked up
    COUNTED = "counted"  # a note was counted
    DONE = "done"  # the charge or the move went through
    ERROR = "error"  # something went wrong in front of the member


_ERROR_STATES = {State.UNKNOWN_CARD, State.ACCOUNT_SUSPENDED, State.WALLET_UNAVAILABLE}
# A member is using the kiosk: going out of service from here is an error they must notice.
# Elsewhere no one is (idle, start-up) or they are done (a receipt): staff's key, the door, the
# staff menu or a fault on an idle kiosk make no sound.
_IN_USE = {
    State.LOOKING_UP,
    State.ACCOUNT,
    State.HISTORY,
    State.CHOOSE_MONEY,
    State.ACCEPTING,
    State.MOVE_ROUTE,
    State.MOVE_AMOUNT,
    State.MOVE_CONFIRM,
}
_ERROR_NOTICES = {
    Notice.NOTE_RETURNED,
    Notice.NOTE_REJECTED,
    Notice.HISTORY_UNAVAILABLE,
    Notice.MONEY_NOT_CHARGEABLE,
}  # not MOVE_AT_LIMIT: the amount stops there, nothing is wrong
_CREDIT_CUES = {
    CreditOutcome.CONFIRMED: Cue.DONE,
    CreditOutcome.REFUSED: Cue.ERROR,
    CreditOutcome.NOTE_HELD: Cue.ERROR,
    CreditOutcome.KIOSK_FAULT: Cue.ERROR,
}  # being credited, nothing taken: no sound
_MOVE_CUES = {
    MoveOutcome.MOVED: Cue.DONE,
    MoveOutcome.REFUSED: Cue.ERROR,
    MoveOutcome.NOT_STARTED: Cue.ERROR,
}  # being processed: no sound
_TAKING = {State.ACCEPTING, State.CREDITING}


def cue_for(previous: SessionView, view: SessionView) -> Cue | None:
    """The cue the change from ``previous`` to ``view`` makes, if any (an error first)."""
    if view is previous:
        return None  # the same view again (the language toggle)
    entered = view.state is not previous.state
    if entered and view.state in _ERROR_STATES:
        return Cue.ERROR
    if entered and view.state is State.OUT_OF_SERVICE and previous.state in _IN_USE:
        return Cue.ERROR
    if view.notice in _ERROR_NOTICES and (
        view.notice is not previous.notice or view.notice_amount != previous.notice_amount
    ):
        return Cue.ERROR
    if view.state is State.DONE and view.outcome is not previous.outcome:
        return _CREDIT_CUES.get(view.outcome) if view.outcome else None
    if entered and view.state is State.MOVED and view.move_result is not None:
        return _MOVE_CUES.get(view.move_result.outcome)
    if entered and view.state is State.LOOKING_UP:
        return Cue.CARD_READ
    if view.state in _TAKING and previous.state in _TAKING and view.inserted > previous.inserted:
        return Cue.COUNTED
    return None
