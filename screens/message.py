"""One screen for what is not a charge: an unknown or unreadable card, a stopped account, the
wallet out of reach, the kiosk out of service (with its reason as small print)."""

from __future__ import annotations

from kivy.uix.boxlayout import BoxLayout

from kiosk.events import Notice
from kiosk.session import State
from kiosk.view import SessionView
from screens.base import KioskScreen
from screens.widgets import ALERT, MUTED, KioskButton, Text


class MessageScreen(KioskScreen):
    screen_name = "message"

    def fill(self, view: SessionView, body: BoxLayout, buttons: BoxLayout) -> None:
        _ = self._
        state = view.state
        small = ""
        if state is State.OUT_OF_SERVICE:
            headline = _("Out of service")
            text = _("Sorry, this kiosk cannot take cash now.")
            small = view.fault or ""
        elif state is State.ACCOUNT_SUSPENDED:
            headline = _("This account is stopped")
            text = _("Please ask at the co-op store.")
        elif state is State.WALLET_UNAVAILABLE:
            headline = _("The e-money service cannot be reached")
            text = _("No cash was taken. Please try again later.")
            small = view.detail
        elif view.notice is Notice.CARD_UNREADABLE:
            headline = _("This card could not be read")
            text = _("Please touch it again, or ask at the co-op store.")
        else:
            headline = _("This card is not registered")
            text = _("Please ask at the co-op store.")
        body.add_widget(Text(headline, size=34, bold=True, color=ALERT))
        body.add_widget(Text(text, size=24))
        if small:
            body.add_widget(Text(small, size=15, height=28, color=MUTED))
        if state is not State.OUT_OF_SERVICE:
            buttons.add_widget(KioskButton(_("OK"), self.host.intents.acknowledge))
