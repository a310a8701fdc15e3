"""What is not a charge and not a card problem: a stopped account, the wallet out of reach, the
kiosk out of service. Each says what to do next; out of service gives a reason members
understand, with the engine's fault text as small print for staff."""

from __future__ import annotations

import re

from kivy.uix.boxlayout import BoxLayout

from hardware.acceptor import EventKind
from kiosk.core.session import State
from kiosk.core.view import SessionView
from screens.base import KioskScreen
from screens.i18n import Texts
from screens.widgets import ALERT, MUTED, KioskButton, Text

# Faults reach the view as "source: detail" (kiosk/core/faults.py): the acceptor's with its event
# kind ("acceptor: stacker_open", "acceptor: starting"), others as "door: …"
# (kiosk/engine/health.py, kiosk/app/panel.py, kiosk/app/runner.py: "card reader: …").
_NOTE_READER = {"acceptor", *(k.value for k in EventKind)}
_STAFF = {"door", "service"}  # the cash-box door, the service key
_MACHINE = {"journal", "disk", "clock"}


def fault_reason(fault: str | None, _: Texts) -> tuple[str, str]:
    """(why, what to do next) for an out-of-service fault text, in the member's words."""
    words = re.findall(r"[a-z_]+", (fault or "").lower())
    first = words[0] if words else ""
    if "starting" in words[:2]:
        return _("Starting… please wait."), _("The kiosk will be ready in a moment.")
    if first in _STAFF:
        return _("Under maintenance by staff."), _("Please wait a little, or use another kiosk.")
    if first in _MACHINE:
        return (
            _("This kiosk needs maintenance."),
            _("Please use another kiosk, or tell the co-op store."),
        )
    if first == "kiosk":  # the kiosk itself is stopping (a restart or a shutdown)
        return _("This kiosk is stopping."), _("Please wait a little, or use another kiosk.")
    if EventKind.STACKER_FULL.value in words[:2] or "full" in words[1:3]:
        return _("The cash box is full."), _("Please use another kiosk, or tell the co-op store.")
    if words[:2] == ["card", "reader"]:
        return (
            _("The card reader is not available."),
            _("Please use another kiosk, or ask at the co-op store."),
        )
    if first in _NOTE_READER:
        return (
            _("The note reader is not available."),
            _("Please use another kiosk, or ask at the co-op store."),
        )
    return (
        _("Sorry, this kiosk cannot take cash now."),
        _("Please use another kiosk, or ask at the co-op store."),
    )


class MessageScreen(KioskScreen):
    screen_name = "message"

    def fill(self, view: SessionView, body: BoxLayout, buttons: BoxLayout) -> None:
        _ = self._
        state = view.state
        small = ""
        if state is State.OUT_OF_SERVICE:
            headline = _("Out of service")
            text, then = fault_reason(view.fault, _)
            small = view.fault or ""
        elif state is State.ACCOUNT_SUSPENDED:
            headline = _("This account is stopped")
            text = _("This card cannot be charged now.")
            then = _("Please ask at the co-op store, with this card.")
        else:  # the wallet could not be reached
            headline = _("The e-money service cannot be reached")
            text = _("No cash was taken. Please try again later.")
            then = _("If this keeps happening, please tell the co-op store.")
            small = view.detail
        body.add_widget(Text(headline, size=34, bold=True, color=ALERT, height=64))
        body.add_widget(Text(text, size=28, bold=state is State.OUT_OF_SERVICE))
        body.add_widget(Text(then, size=24))
        if small:
            body.add_widget(Text(small, size=15, height=28, color=MUTED))
        if state is not State.OUT_OF_SERVICE:
            buttons.add_widget(KioskButton(_("OK"), self.host.intents.acknowledge))
