"""What every member's screen has: a header with its title and the language toggle, a body and
a row of buttons (screens/page.py). A screen renders one :class:`kiosk.core.view.SessionView` at a
time (``show``) and turns presses into the engine's member intents; it decides nothing about
money."""

from __future__ import annotations

from typing import Protocol

from kivy.uix.boxlayout import BoxLayout

from kiosk.core.view import SessionView
from screens.i18n import Texts
from screens.intents import Intents
from screens.page import PageScreen

# What the screens call a money (msgids; the catalogs translate them).
MONEY_NAMES = {"base": "Base", "cafeteria": "Cafeteria", "textbook": "Textbook"}


class Host(Protocol):
    """What a screen needs from the app."""

    texts: Texts
    intents: Intents
    kiosk_id: str
    portal_url: str

    def toggle_language(self) -> None: ...


class KioskScreen(PageScreen[SessionView]):
    """A member's screen: the page's header (title, time left, language toggle), body and
    buttons; subclasses implement ``fill``."""

    host: Host

    def __init__(self, host: Host) -> None:
        super().__init__(host)

    def money_name(self, bucket: str | None) -> str:
        if bucket is None:
            return ""
        return self._(MONEY_NAMES[bucket]) if bucket in MONEY_NAMES else bucket

    def title(self, view: SessionView) -> str:
        return self._("Pay Spot")

    def counts_down(self, view: SessionView) -> bool:
        """Whether the header shows the time left of ``view``'s deadline."""
        return True

    def deadline(self, view: SessionView) -> float | None:
        return view.deadline if self.counts_down(view) else None

    def fill(self, view: SessionView, body: BoxLayout, buttons: BoxLayout) -> None:
        raise NotImplementedError
