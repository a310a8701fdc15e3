"""What every staff screen has: the member screens' header (title, time left, language
toggle), a body and a row of buttons. A staff screen renders one
:class:`kiosk.staff.view.StaffView` (``show``) and turns presses into the desk's
:class:`~kiosk.staff.view.StaffIntents`; it decides nothing about money or access."""

from __future__ import annotations

from typing import Protocol

from kivy.uix.boxlayout import BoxLayout

from kiosk.staff.view import StaffIntents, StaffView
from screens.i18n import Texts
from screens.page import PageScreen
from screens.widgets import ALERT, Text


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
    N_("Checking with the wallet…"),
    N_("Checked with the wallet: {value}"),
    N_("Postponed: {value}"),
    N_("The acceptor is resetting"),
    N_("The acceptor is offline"),
    N_("Checking the archives…"),
    N_("Exporting {value}…"),
    N_("Month {value} exported"),
)
STATUS_LABELS = (
    N_("Credits waiting"),
    N_("Credits confirmed / refused"),
    N_("Moves being processed"),
    N_("Staff cases open"),
    N_("Reconciliation with the wallet"),
    N_("Cash box"),
    N_("Cash box taken out without a collection"),
    N_("Journal"),
    N_("Journal archive"),
    N_("Months archived"),
    N_("Free disk"),
    N_("Device"),
    N_("Bill acceptor"),
    N_("Currency table"),
    N_("Card reader"),
    N_("Wallet"),
    N_("Clock"),
)


class StaffHost(Protocol):
    """What a staff screen needs from the app."""

    texts: Texts

    @property
    def staff_intents(self) -> StaffIntents: ...

    def toggle_language(self) -> None: ...


def line(text: str, color: tuple[float, ...] = ALERT, bold: bool = False) -> Text:
    """One line of the body, left-aligned: a warning (the default), a note, a figure."""
    return Text(text, size=20, height=34, halign="left", color=color, bold=bold)


class StaffScreen(PageScreen[StaffView]):
    """A staff screen: the member screens' page (header with the menu's time left, body,
    buttons); subclasses implement ``fill``."""

    host: StaffHost

    def __init__(self, host: StaffHost) -> None:
        super().__init__(host)

    @property
    def desk(self) -> StaffIntents:
        return self.host.staff_intents

    def said(self, view: StaffView) -> str:
        """The desk's message, translated, with its value."""
        if not view.message:
            return ""
        return self._(view.message).replace("{value}", view.message_arg)

    def title(self, view: StaffView) -> str:
        return self._("Staff menu")

    def fill(self, view: StaffView, body: BoxLayout, buttons: BoxLayout) -> None:
        raise NotImplementedError

    def deadline(self, view: StaffView) -> float | None:
        return view.deadline
