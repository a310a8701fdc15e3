"""What is not a charge and not a card problem: a stopped account, the wallet out of reach, the
kiosk out of service. Each says what to do next; out of service gives a reason members
understand (matched on the fault's source), with the fault's text as small print for staff."""

from __future__ import annotations

from typing import NamedTuple, assert_never

from kivy.uix.boxlayout import BoxLayout

from hardware.acceptor import EventKind
from kiosk.core.faults import Fault, FaultSource
from kiosk.core.session import State
from kiosk.core.view import SessionView
from screens.base import KioskScreen
from screens.i18n import Texts
from screens.widgets import ALERT, INK, MUTED, KioskButton, Text


class Reason(NamedTuple):
    """Why the kiosk is out of service and what to do next, in the member's words."""

    why: str
    then: str
    alarm: bool = True  # something is wrong (red); False: staff's own doing, or a start/stop


def fault_reason(fault: Fault | None, _: Texts) -> Reason:
    """The member's reason for an out-of-service ``fault`` (matched on its source)."""
    if fault is None:  # not expected: the engine always names one
        return Reason(
            _("Sorry, this kiosk cannot take cash now."),
            _("Please use another kiosk, or ask at the co-op store."),
        )
    match fault.source:
        case FaultSource.ACCEPTOR if fault.kind is None:  # not online yet
            return _starting(_)
        case FaultSource.SCREEN:  # the display's first frame: only ever drawn as it clears
            return _starting(_)
        case FaultSource.ACCEPTOR if fault.kind is EventKind.STACKER_FULL:
            return Reason(
                _("The cash box is full."), _("Please use another kiosk, or tell the co-op store.")
            )
        case FaultSource.ACCEPTOR:
            return Reason(
                _("The note reader is not available."),
                _("Please use another kiosk, or ask at the co-op store."),
            )
        case FaultSource.CARD_READER:
            return Reason(
                _("The card reader is not available."),
                _("Please use another kiosk, or ask at the co-op store."),
            )
        case FaultSource.DOOR | FaultSource.SERVICE_KEY | FaultSource.STAFF_MENU:
            return Reason(
                _("Under maintenance by staff."),
                _("Please wait a little, or use another kiosk."),
                False,
            )
        case FaultSource.STAFF_SWITCH:  # staff's own switch: planned, and it may last
            return Reason(
                _("Staff have taken this kiosk out of service."),
                _("Please use another kiosk."),
                False,
            )
        case FaultSource.JOURNAL | FaultSource.JOURNAL_CHECK | FaultSource.DISK | FaultSource.CLOCK:
            return Reason(
                _("This kiosk needs maintenance."),
                _("Please use another kiosk, or tell the co-op store."),
            )
        case FaultSource.STOPPING:  # a restart or a shutdown
            return Reason(
                _("This kiosk is stopping."),
                _("Please wait a little, or use another kiosk."),
                False,
            )
        case _:
            assert_never(fault.source)


def _starting(_: Texts) -> Reason:
    return Reason(_("Starting… please wait."), _("The kiosk will be ready in a moment."), False)


class MessageScreen(KioskScreen):
    screen_name = "message"

    def fill(self, view: SessionView, body: BoxLayout, buttons: BoxLayout) -> None:
        _ = self._
        state = view.state
        small, colour = "", ALERT
        if state is State.OUT_OF_SERVICE:
            headline = _("Out of service")
            text, then, alarm = fault_reason(view.fault, _)
            small = str(view.fault or "")
            colour = ALERT if alarm else INK
        elif state is State.ACCOUNT_SUSPENDED:
            headline = _("This account is suspended")
            text = _("This card cannot be charged now.")
            then = _("Please bring this card to the co-op store.")
        else:  # the wallet could not be reached
            headline = _("The e-money service cannot be reached")
            text = _("No cash was taken. Please try again later.")
            then = _("If this keeps happening, please tell the co-op store.")
            small = view.detail
        body.add_widget(Text(headline, size=34, bold=True, color=colour, height=64))
        body.add_widget(Text(text, size=28, bold=state is State.OUT_OF_SERVICE))
        body.add_widget(Text(then, size=24))
        if small:
            body.add_widget(Text(small, size=15, height=28, color=MUTED))
        if state is not State.OUT_OF_SERVICE:
            buttons.add_widget(KioskButton(_("OK"), self.host.intents.acknowledge))
