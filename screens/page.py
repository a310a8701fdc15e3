"""A page of the touch UI, for the member's screens and the staff menu alike: a header (title,
time left, language toggle), a body and a row of buttons. A page renders one view at a time
(``show``); the clock timers it starts (``every``, ``once``) end when it re-renders or leaves,
so a page without a deadline or animation costs no CPU while it waits."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

from kivy.clock import Clock
from kivy.graphics import Color, Rectangle
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen

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

LANGUAGE_NAMES = {"ja": "日本語", "en": "English"}  # each in its own language, never translated
# The time left shows in the last half minute: all the idle time while notes go in (30 s), the
# end of a browsing screen's minute. Earlier it would only hurry a member who is reading.
COUNTDOWN_FROM_S = 30.0
HURRY_S = 10.0  # the last seconds stand out
HURRY = (1.0, 0.85, 0.35, 1)  # warm yellow on the header's blue

V = TypeVar("V")


class PageHost(Protocol):
    """What every page needs from the app."""

    texts: Texts

    def toggle_language(self) -> None: ...


class PageScreen(Screen, Generic[V]):
    """Header, body, buttons; subclasses give ``title``, ``fill`` and, for a time left in the
    header, ``deadline``."""

    screen_name = ""

    def __init__(self, host: PageHost) -> None:
        super().__init__(name=self.screen_name)
        self.host = host
        self.view: V | None = None
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

    def title(self, view: V) -> str:
        raise NotImplementedError

    def deadline(self, view: V) -> float | None:
        """The monotonic time the header counts down to (None: no time left shown)."""
        return None

    def fill(self, view: V, body: BoxLayout, buttons: BoxLayout) -> None:
        raise NotImplementedError

    def show(self, view: V) -> None:
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
        if self.deadline(view) is not None:
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

    # ---- the time left ---------------------------------------------------------------------
    def _tick_on_the_second(self) -> None:
        """Tick now, and again just after the next whole second left, placed from the deadline:
        the number is never a second stale, and a late frame does not make later ticks late
        (a one-second interval would carry each delay on)."""
        self._tick()
        deadline = self._deadline_now()
        if self.countdown is None or deadline is None:
            return
        self.timers = [event for event in self.timers if event.is_triggered]  # drop spent ones
        offset = (deadline - time.monotonic()) % 1.0
        self.once(offset + 0.05, self._tick_on_the_second)

    def _tick(self) -> None:
        """Update the time left (only that label: the page is not rebuilt per second)."""
        label, deadline = self.countdown, self._deadline_now()
        if label is None or deadline is None:
            return
        left = max(0, math.ceil(deadline - time.monotonic()))
        label.text = (
            self._("{seconds} s left").format(seconds=left) if left <= COUNTDOWN_FROM_S else ""
        )
        label.color = HURRY if left <= HURRY_S else WHITE
        set_bold(label, left <= HURRY_S)

    def _deadline_now(self) -> float | None:
        return None if self.view is None else self.deadline(self.view)

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
