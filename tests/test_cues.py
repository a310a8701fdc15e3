"""The one cue rule (``kiosk.core.cues``): which changes of view a member hears, and that the
panel's buzzer and the screens' speaker both sound it (each maps every cue, to a sound or to
none). The devices themselves are tested on the real engine in tests/test_panel.py."""

from __future__ import annotations

from typing import Any

import pytest

from hardware.acceptor import EventKind
from hardware.gpio import Sound
from kiosk.app.panel import BUZZER
from kiosk.core.cues import Cue, cue_for
from kiosk.core.events import CreditOutcome, MoveOutcome, MoveRefusal, MoveSettled, Notice
from kiosk.core.faults import STARTING, Fault, FaultSource
from kiosk.core.session import State
from kiosk.core.view import BucketView, SessionView
from screens.sounds import SPEAKER, Wav

BUCKETS = [BucketView("base", 1_000, 0, 50_000, 49_000, True)]
ACCEPTING = SessionView(State.ACCEPTING, bucket="base", largest_note=10_000)
ACCOUNT = SessionView(State.ACCOUNT, member_name="A", buckets=BUCKETS)
CREDITING = SessionView(State.CREDITING, bucket="base", inserted=1_000)
DONE = SessionView(State.DONE, bucket="base", credited=1_000, outcome=CreditOutcome.CONFIRMED)
MOVING = SessionView(State.MOVING)
MOVED = SessionView(State.MOVED, move_result=MoveSettled(MoveOutcome.MOVED))
BROKEN = SessionView(
    State.OUT_OF_SERVICE, fault=Fault(FaultSource.ACCEPTOR, "jam acceptor", EventKind.JAM)
)
SWITCHED_OFF = SessionView(
    State.OUT_OF_SERVICE, fault=Fault(FaultSource.STAFF_SWITCH, "taken out of service by staff")
)


def at(view: SessionView, **changes: Any) -> SessionView:
    return SessionView(**{**view.__dict__, **changes})


RETURNED = at(ACCEPTING, notice=Notice.NOTE_RETURNED, notice_amount=5_000)
REFUSED = MoveSettled(MoveOutcome.REFUSED, MoveRefusal.NOT_ENOUGH)

CHANGES: list[tuple[str, SessionView, SessionView, Cue | None]] = [
    ("card read", SessionView(State.IDLE), SessionView(State.LOOKING_UP), Cue.CARD_READ),
    ("member found", SessionView(State.LOOKING_UP), ACCOUNT, None),
    ("note counted", ACCEPTING, at(ACCEPTING, inserted=1_000), Cue.COUNTED),
    ("time left only", at(ACCEPTING, inserted=1_000), at(ACCEPTING, inserted=1_000, deadline=5.0),
     None),
    ("a note late in flight", CREDITING, at(CREDITING, inserted=2_000), Cue.COUNTED),
    ("note returned", ACCEPTING, RETURNED, Cue.ERROR),
    ("the same notice again", RETURNED, at(RETURNED, deadline=9.0), None),
    ("another note returned", RETURNED, at(RETURNED, notice_amount=10_000), Cue.ERROR),
    ("charged", CREDITING, DONE, Cue.DONE),
    ("the receipt again", DONE, at(DONE, deadline=3.0), None),
    ("credit refused", CREDITING, at(DONE, outcome=CreditOutcome.REFUSED), Cue.ERROR),
    ("note held", CREDITING, at(DONE, outcome=CreditOutcome.NOTE_HELD), Cue.ERROR),
    ("kiosk fault", CREDITING, at(DONE, outcome=CreditOutcome.KIOSK_FAULT), Cue.ERROR),
    ("being credited", CREDITING, at(DONE, outcome=CreditOutcome.BEING_CREDITED), None),
    ("unknown card", SessionView(State.LOOKING_UP), SessionView(State.UNKNOWN_CARD), Cue.ERROR),
    ("wallet down", SessionView(State.LOOKING_UP), SessionView(State.WALLET_UNAVAILABLE),
     Cue.ERROR),
    ("history unavailable", ACCOUNT,
     at(ACCOUNT, state=State.HISTORY, notice=Notice.HISTORY_UNAVAILABLE), Cue.ERROR),
    ("out of service in front of a member", ACCEPTING, BROKEN, Cue.ERROR),
    ("out of service while looking up", SessionView(State.LOOKING_UP), BROKEN, Cue.ERROR),
    # the buzzer used to beep an error here; the speaker did not: nobody is there to hear it
    ("out of service on an idle kiosk", SessionView(State.IDLE), BROKEN, None),
    ("staff switch the kiosk off", SessionView(State.IDLE), SWITCHED_OFF, None),
    ("out of service after the receipt", DONE, BROKEN, None),
    ("still starting", SessionView(State.OUT_OF_SERVICE, fault=STARTING), BROKEN, None),
    ("the same view (language)", ACCOUNT, ACCOUNT, None),
    ("moved", MOVING, MOVED, Cue.DONE),
    ("the move's receipt again", MOVED, at(MOVED, deadline=3.0), None),
    # the speaker used to sound an error here; the buzzer did not
    ("move refused", MOVING, at(MOVED, move_result=REFUSED), Cue.ERROR),
    ("move not started", MOVING,
     at(MOVED, move_result=MoveSettled(MoveOutcome.NOT_STARTED)), Cue.ERROR),
    ("move being processed", MOVING,
     at(MOVED, move_result=MoveSettled(MoveOutcome.BEING_PROCESSED)), None),
    ("move at the limit: it stops, nothing is wrong", SessionView(State.MOVE_AMOUNT),
     SessionView(State.MOVE_AMOUNT, notice=Notice.MOVE_AT_LIMIT), None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("previous", "view", "cue"), [pytest.param(*c[1:], id=c[0]) for c in CHANGES]
)
def test_which_cue_a_change_makes(
    previous: SessionView, view: SessionView, cue: Cue | None
) -> None:
    assert cue_for(previous, view) is cue


def test_each_device_sounds_every_cue_or_says_it_stays_quiet() -> None:
    assert BUZZER.keys() == SPEAKER.keys() == set(Cue)
    # an error is never silent, on either device
    assert (BUZZER[Cue.ERROR], SPEAKER[Cue.ERROR]) == (Sound.ERROR, Wav.ERROR)
    assert (BUZZER[Cue.COUNTED], SPEAKER[Cue.COUNTED]) == (Sound.NOTE, Wav.COUNTED)
    # the buzzer beeps at the reader; the screen answers a card at once, so the speaker is quiet
    assert (BUZZER[Cue.CARD_READ], SPEAKER[Cue.CARD_READ]) == (Sound.TOUCH, None)
    # the buzzer has no success pattern: its beeps ask for attention
    assert (BUZZER[Cue.DONE], SPEAKER[Cue.DONE]) == (None, Wav.DONE)
