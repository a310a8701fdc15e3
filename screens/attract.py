"""Idle: invite a card touch; while the card is looked up, say so, and after a while that it
is still going on. An idle kiosk runs no timer here."""

from __future__ import annotations

import time

from kivy.uix.boxlayout import BoxLayout

from kiosk.core.session import State
from kiosk.core.view import SessionView
from screens.base import Host, KioskScreen
from screens.widgets import MUTED, PRIMARY, Text

STILL_WORKING_S = 2.0  # a lookup longer than this gets a "please wait"
DOTS = 5  # the progress: one dot moves along, a step a second
VOICE_CREDIT = 'Voice: HTS voice "Mei" © Nagoya Institute of Technology (CC BY 3.0), Open JTalk'


class AttractScreen(KioskScreen):
    screen_name = "attract"

    def __init__(self, host: Host) -> None:
        super().__init__(host)
        self.looking_since: float | None = None  # when this lookup started (monotonic)
        self.progress: Text | None = None
        self.please_wait: Text | None = None

    def counts_down(self, view: SessionView) -> bool:
        return False  # the lookup's deadline is the kiosk's, not the member's to meet

    def fill(self, view: SessionView, body: BoxLayout, buttons: BoxLayout) -> None:
        _ = self._
        if view.state is not State.LOOKING_UP:
            self.looking_since = self.progress = self.please_wait = None
            body.add_widget(Text(_("Touch your card"), size=44, bold=True))
            body.add_widget(Text(_("Charge your co-op e-money with cash"), size=22, color=MUTED))
            # the voice's licence (CC BY 3.0) asks for its credit where it is used
            body.add_widget(Text(_(VOICE_CREDIT), size=13, color=MUTED, height=24))
            return
        # A re-render (language, window size) of the same lookup goes on where it was.
        now = time.monotonic()
        if self.looking_since is None:
            self.looking_since = now
        body.add_widget(BoxLayout())
        body.add_widget(Text(_("Reading your card…"), size=36, height=60))
        self.progress = Text("", size=30, height=50, color=PRIMARY)
        body.add_widget(self.progress)
        self.please_wait = Text("", size=22, height=40, color=MUTED)
        body.add_widget(self.please_wait)
        body.add_widget(BoxLayout())
        self._step()
        self.every(1.0, self._step)
        wait = self.looking_since + STILL_WORKING_S - now
        if wait > 0:
            self.once(wait, self._still_working)
        else:
            self._still_working()

    def _step(self) -> None:
        if self.progress is None or self.looking_since is None:
            return
        at = int(time.monotonic() - self.looking_since) % DOTS
        self.progress.text = " ".join("●" if i == at else "○" for i in range(DOTS))

    def _still_working(self) -> None:
        if self.please_wait is not None:
            self.please_wait.text = self._("Still working, please wait…")

    def on_pre_leave(self, *args: object) -> None:
        super().on_pre_leave(*args)
        self.looking_since = None  # the next lookup starts from the beginning
