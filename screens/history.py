"""A first, plain history page: one money's latest lines, more, back. (Paging by money and a
richer layout belong to the full UI.)"""

from __future__ import annotations

from kivy.uix.boxlayout import BoxLayout

from kiosk.events import Notice
from kiosk.money import yen
from kiosk.view import SessionView
from screens.base import KioskScreen
from screens.widgets import ALERT, NEUTRAL, KioskButton, Text

KINDS = {
    "topup": "Charge",
    "payment": "Payment",
    "exchange_outflow": "Transfer out",
    "exchange_inflow": "Transfer in",
    "cashback": "Cashback",
    "expire": "Expired",
}
LINES = 5  # what fits on a 480-line display


class HistoryScreen(KioskScreen):
    screen_name = "history"

    def title(self, view: SessionView) -> str:
        bucket = view.history.bucket if view.history else None
        return self._("History: {money}").format(money=self.money_name(bucket))

    def fill(self, view: SessionView, body: BoxLayout, buttons: BoxLayout) -> None:
        _ = self._
        history = view.history
        if view.notice is Notice.HISTORY_UNAVAILABLE:
            body.add_widget(Text(_("The history cannot be shown now."), size=24, color=ALERT))
        elif history is None or (history.loading and not history.entries):
            body.add_widget(Text(_("Loading…"), size=24))
        else:
            for entry in history.entries[-LINES:]:
                kind = _(KINDS[entry.kind]) if entry.kind in KINDS else entry.kind
                line = f"{entry.done_at[:10]}   {kind}   {yen(entry.amount)}"
                body.add_widget(Text(line, size=20, halign="left"))
        intents = self.host.intents
        buttons.add_widget(KioskButton(_("Back"), intents.back, color=NEUTRAL))
        if history is not None and history.next_cursor:
            buttons.add_widget(KioskButton(_("More"), intents.more_history, color=NEUTRAL))
