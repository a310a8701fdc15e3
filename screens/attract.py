"""Idle: invite a card touch; while the card is looked up, say so."""

from __future__ import annotations

from kivy.uix.boxlayout import BoxLayout

from kiosk.session import State
from kiosk.view import SessionView
from screens.base import KioskScreen
from screens.widgets import MUTED, Text


class AttractScreen(KioskScreen):
    screen_name = "attract"

    def fill(self, view: SessionView, body: BoxLayout, buttons: BoxLayout) -> None:
        _ = self._
        if view.state is State.LOOKING_UP:
            body.add_widget(Text(_("Reading your card…"), size=36))
            return
        body.add_widget(Text(_("Touch your card"), size=44, bold=True))
        body.add_widget(Text(_("Charge your co-op e-money with cash"), size=22, color=MUTED))
