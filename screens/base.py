"""What every screen has: a header with its title and the language toggle, a body and a row of
buttons. A screen renders one :class:`kiosk.view.SessionView` at a time (``show``) and turns
presses into the engine's member intents; it decides nothing about money."""

from __future__ import annotations

from typing import Protocol

from kivy.graphics import Color, Rectangle
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen

from kiosk.inbox import Inbox
from kiosk.view import SessionView
from screens.i18n import Texts
from screens.widgets import BACKGROUND, HEADER, NEUTRAL, WHITE, KioskButton, Text, unit

# What the screens call a money (msgids; the catalogs translate them).
MONEY_NAMES = {"base": "Base", "cafeteria": "Cafeteria", "textbook": "Textbook"}
LANGUAGE_NAMES = {"ja": "日本語", "en": "English"}  # each in its own language, never translated


class Host(Protocol):
    """What a screen needs from the app."""

    texts: Texts
    intents: Inbox
    kiosk_id: str
    portal_url: str

    def toggle_language(self) -> None: ...


class KioskScreen(Screen):
    """Header (title, language toggle), body, buttons. Subclasses implement ``fill``."""

    screen_name = ""

    def __init__(self, host: Host) -> None:
        super().__init__(name=self.screen_name)
        self.host = host
        self.view: SessionView | None = None
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
        self.view = view
        u = unit()
        self.clear_widgets()
        page = BoxLayout(orientation="vertical", spacing=8 * u, padding=(0, 0, 0, 12 * u))
        header = BoxLayout(size_hint_y=None, height=52 * u, padding=(12 * u, 6 * u), spacing=8 * u)
        with header.canvas.before:
            Color(*HEADER)
            band = Rectangle()
        header.bind(pos=lambda w, p: setattr(band, "pos", p))
        header.bind(size=lambda w, s: setattr(band, "size", s))
        header.add_widget(Text(self.title(view), size=22, color=WHITE, halign="left", bold=True))
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

    def fill(self, view: SessionView, body: BoxLayout, buttons: BoxLayout) -> None:
        raise NotImplementedError
