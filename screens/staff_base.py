"""What every staff screen has: the member screens' header (title, time left, language
toggle), a body and a row of buttons. A staff screen renders one
:class:`kiosk.staff.desk_view.StaffView` (``show``) and turns presses into the desk's
:class:`~kiosk.staff.desk_view.StaffIntents`; it decides nothing about money or access."""

from __future__ import annotations

import math
import time
from typing import Any, Protocol

from kivy.clock import Clock
from kivy.graphics import Color, Rectangle
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen

from kiosk.staff.desk_view import StaffIntents, StaffView
from screens.base import COUNTDOWN_FROM_S, HURRY, HURRY_S, LANGUAGE_NAMES
from screens.i18n import Texts
from screens.widgets import BACKGROUND, HEADER, NEUTRAL, WHITE, KioskButton, Text, set_bold, unit


def N_(msgid: str) -> str:
    """Marks a msgid the desk sends (a message, a status label): the catalog test finds it."""
    return msgid


# What the desk says (``StaffView.message``) and the status table's labels: the screens
# translate them; one the catalogs lack is shown as the desk sent it (English).
DESK_MESSAGES = (
    N_("Wrong PIN: {value} tries left"),
    N_("The kiosk is out of service"),
    N_("The kiosk is in service"),
    N_("Not done: {value}"),
    N_("Case {value} is being sent again"),
    N_("Case {value} resolved"),
    N_("Case {value} is no longer open"),
    N_("Exported {value} files"),
    N_("Export failed: {value}"),
)
STATUS_LABELS = (
    N_("Credits waiting"),
    N_("Credits confirmed / refused"),
    N_("Staff cases open"),
    N_("Cash box"),
    N_("Cash box taken out without a collection"),
    N_("Journal"),
    N_("Free disk"),
    N_("Device"),
    N_("Clock"),
)


class StaffHost(Protocol):
    """What a staff screen needs from the app."""

    texts: Texts

    @property
    def staff_intents(self) -> StaffIntents: ...

    def toggle_language(self) -> None: ...


class StaffScreen(Screen):
    """Header, body, buttons, as :class:`screens.base.KioskScreen` lays them out; subclasses
    implement ``fill``. Timers end when the screen re-renders or leaves."""

    screen_name = ""

    def __init__(self, host: StaffHost) -> None:
        super().__init__(name=self.screen_name)
        self.host = host
        self.view: StaffView | None = None
        self.timers: list[Any] = []
        self.countdown: Text | None = None
        with self.canvas.before:
            Color(*BACKGROUND)
            self._background = Rectangle(pos=self.pos, size=self.size)
        self.bind(pos=self._paint, size=self._paint)

    def _paint(self, *_: object) -> None:
        self._background.pos, self._background.size = self.pos, self.size

    @property
    def _(self) -> Texts:
        return self.host.texts

    @property
    def desk(self) -> StaffIntents:
        return self.host.staff_intents

    def said(self, view: StaffView) -> str:
        """The desk's message, translated, with its value."""
        if not view.message:
            return ""
        return self._(view.message).replace("{value}", view.message_arg)

    def show(self, view: StaffView) -> None:
        """Render ``view`` from scratch (in the current language and window size)."""
        self.stop_timers()
        self.view = view
        u = unit()
        self.clear_widgets()
        page = BoxLayout(orientation="vertical", spacing=8 * u, padding=(0, 0, 0, 12 * u))
        header = BoxLayout(size_hint_y=None, height=58 * u, padding=(12 * u, 4 * u), spacing=8 * u)
        with header.canvas.before:
            Color(*HEADER)
            band = Rectangle()
        header.bind(pos=lambda w, p: setattr(band, "pos", p))
        header.bind(size=lambda w, s: setattr(band, "size", s))
        header.add_widget(Text(self.title(view), size=22, color=WHITE, halign="left", bold=True))
        self.countdown = None
        if view.deadline is not None:
            self.countdown = Text("", size=18, color=WHITE, size_hint_x=None, width=150 * u)
            header.add_widget(self.countdown)
            self._tick_on_the_second()
        header.add_widget(
            KioskButton(
                LANGUAGE_NAMES[self._.other()],
                self.host.toggle_language,
                size=18,
                color=NEUTRAL,
                size_hint_x=None,
                width=130 * u,
            )
        )
        page.add_widget(header)
        body = BoxLayout(orientation="vertical", spacing=6 * u, padding=(24 * u, 0))
        buttons = BoxLayout(size_hint_y=None, height=72 * u, spacing=16 * u, padding=(24 * u, 0))
        self.fill(view, body, buttons)
        page.add_widget(body)
        if buttons.children:
            page.add_widget(buttons)
        self.add_widget(page)

    def title(self, view: StaffView) -> str:
        return self._("Staff menu")

    def fill(self, view: StaffView, body: BoxLayout, buttons: BoxLayout) -> None:
        raise NotImplementedError

    # ---- the menu's time left (it closes itself at the deadline) -------------------------
    def _tick_on_the_second(self) -> None:
        self._tick()
        view = self.view
        if self.countdown is None or view is None or view.deadline is None:
            return
        self.timers = [event for event in self.timers if event.is_triggered]
        offset = (view.deadline - time.monotonic()) % 1.0
        self.timers.append(
            Clock.schedule_once(lambda _dt: self._tick_on_the_second(), offset + 0.05)
        )

    def _tick(self) -> None:
        label, view = self.countdown, self.view
        if label is None or view is None or view.deadline is None:
            return
        left = max(0, math.ceil(view.deadline - time.monotonic()))
        label.text = (
            self._("{seconds} s left").format(seconds=left) if left <= COUNTDOWN_FROM_S else ""
        )
        label.color = HURRY if left <= HURRY_S else WHITE
        set_bold(label, left <= HURRY_S)

    def stop_timers(self) -> None:
        for event in self.timers:
            event.cancel()
        self.timers.clear()

    def on_pre_leave(self, *_: object) -> None:
        self.stop_timers()
