"""What every screen has: a header with its title and the language toggle, a body and a row of
buttons. A screen renders one :class:`kiosk.view.SessionView` at a time (``show``) and turns
presses into the engine's member intents; it decides nothing about money."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any, Protocol

from kivy.clock import Clock
from kivy.graphics import Color, Rectangle
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen

from kiosk.inbox import Inbox
from kiosk.view import SessionView
from screens.i18n import Texts
from screens.widgets import (
    BACKGROUND,
    HEADER,
    NEUTRAL,
    WHITE,
    KioskButton,
    Text,
    set_bold,
    unit,
)

# What the screens call a money (msgids; the catalogs translate them).
MONEY_NAMES = {"base": "Base", "cafeteria": "Cafeteria", "textbook": "Textbook"}
LANGUAGE_NAMES = {"ja": "日本語", "en": "English"}  # each in its own language, never translated
# The time left shows in the last half minute: all the idle time while notes go in (30 s), the
# end of a browsing screen's minute. Earlier it would only hurry a member who is reading.
COUNTDOWN_FROM_S = 30.0
HURRY_S = 10.0  # the last seconds stand out
HURRY = (1.0, 0.85, 0.35, 1)  # warm yellow on the header's blue


class Host(Protocol):
    """What a screen needs from the app."""

    texts: Texts
    intents: Inbox
    kiosk_id: str
    portal_url: str

    def toggle_language(self) -> None: ...


class KioskScreen(Screen):
    """Header (title, time left, language toggle), body, buttons. Subclasses implement
    ``fill``; the clock timers a screen starts (``every``, ``once``) end when it re-renders or
    leaves, so a screen without a deadline or animation costs no CPU while it waits."""

    screen_name = ""

    def __init__(self, host: Host) -> None:
        super().__init__(name=self.screen_name)
        self.host = host
        self.view: SessionView | None = None
        self.timers: list[Any] = []  # kivy ClockEvents of the view on screen
        self.countdown: Text | None = None  # the header's time left, while a deadline is set
        with self.canvas.before:
            Color(*BACKGROUND)
            self._background = Rectangle(pos=self.pos, size=self.size)
        self.bind(pos=self._paint, size=self._paint)

    def _paint(self, *_: object) -> None:
        self._background.pos, self._background.size = self.pos, self.size

    @property
    def _(self) -> Texts:
        return self.host.texts

    def money_name(self, bucket: str | None) -> str:
        if bucket is None:
            return ""
        return self._(MONEY_NAMES[bucket]) if bucket in MONEY_NAMES else bucket

    def show(self, view: SessionView) -> None:
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
        if view.deadline is not None and self.counts_down(view):
            self.countdown = Text("", size=18, color=WHITE, size_hint_x=None, width=150 * u)
            header.add_widget(self.countdown)
            self._tick_on_the_second()
        other = self._.other()
        header.add_widget(
            KioskButton(
                LANGUAGE_NAMES[other],
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

    def title(self, view: SessionView) -> str:
        return self._("Pay Spot")

    def counts_down(self, view: SessionView) -> bool:
        """Whether the header shows the time left of ``view``'s deadline."""
        return True

    def _tick_on_the_second(self) -> None:
        """Tick now, and again just after the next whole second left, placed from the deadline:
        the number is never a second stale, and a late frame does not make later ticks late
        (a one-second interval would carry each delay on)."""
        self._tick()
        view = self.view
        if self.countdown is None or view is None or view.deadline is None:
            return
        self.timers = [event for event in self.timers if event.is_triggered]  # drop spent ones
        offset = (view.deadline - time.monotonic()) % 1.0
        self.once(offset + 0.05, self._tick_on_the_second)

    def _tick(self) -> None:
        """Update the time left (only that label: the screen is not rebuilt per second)."""
        label, view = self.countdown, self.view
        if label is None or view is None or view.deadline is None:
            return
        left = max(0, math.ceil(view.deadline - time.monotonic()))
        label.text = (
            self._("{seconds} s left").format(seconds=left) if left <= COUNTDOWN_FROM_S else ""
        )
        label.color = HURRY if left <= HURRY_S else WHITE
        set_bold(label, left <= HURRY_S)

    # ---- timers of the view on screen ------------------------------------------------------
    def every(self, seconds: float, action: Callable[[], None]) -> None:
        self.timers.append(Clock.schedule_interval(lambda _dt: action(), seconds))

    def once(self, seconds: float, action: Callable[[], None]) -> None:
        self.timers.append(Clock.schedule_once(lambda _dt: action(), seconds))

    def stop_timers(self) -> None:
        for event in self.timers:
            event.cancel()
        self.timers.clear()

    def on_pre_leave(self, *_: object) -> None:
        self.stop_timers()

    def fill(self, view: SessionView, body: BoxLayout, buttons: BoxLayout) -> None:
        raise NotImplementedError
