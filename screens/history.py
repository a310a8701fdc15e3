"""The member's history, one money and one page at a time: a tab per money, the page's lines
newest first (when, what, which money, how much), older page, back to the newest, back."""

from __future__ import annotations

from datetime import datetime, tzinfo
from functools import partial

from kivy.uix.boxlayout import BoxLayout

from kiosk.core.events import HistoryEntry, Notice
from kiosk.core.money import yen
from kiosk.core.view import SessionView
from screens.base import KioskScreen
from screens.widgets import ALERT, INK, MUTED, NEUTRAL, PRIMARY, KioskButton, Text, unit

KINDS = {
    "topup": "Charge",
    "payment": "Payment",
    "exchange_outflow": "Transfer out",
    "exchange_inflow": "Transfer in",
    "cashback": "Cashback",
    "expire": "Expired",
}
LINES = 6  # what fits on a 480-line display (kiosk.engine.history.PAGE_SIZE loads as many)


def when(iso: str, tz: tzinfo | None = None) -> str:
    """``YYYY-MM-DD HH:MM`` in the kiosk's time zone (``tz`` None: the system's)."""
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso[:16].replace("T", " ")
    if moment.tzinfo is not None:
        moment = moment.astimezone(tz)
    return moment.strftime("%Y-%m-%d %H:%M")


def signed(amount: int) -> str:
    """Money in with a plus, money out with a minus sign."""
    sign = "+" if amount > 0 else "−" if amount < 0 else ""
    return sign + yen(abs(amount))


def _newest_first(entries: tuple[HistoryEntry, ...]) -> list[HistoryEntry]:
    def key(entry: HistoryEntry) -> float:
        try:
            moment = datetime.fromisoformat(entry.done_at)
        except ValueError:
            return 0.0
        return moment.timestamp()

    return sorted(entries, key=key, reverse=True)  # stable: the wallet's order on a tie


class HistoryScreen(KioskScreen):
    screen_name = "history"

    def title(self, view: SessionView) -> str:
        bucket = view.history.bucket if view.history else None
        return self._("History: {money}").format(money=self.money_name(bucket))

    def fill(self, view: SessionView, body: BoxLayout, buttons: BoxLayout) -> None:
        _ = self._
        u = unit()
        history = view.history
        intents = self.host.intents
        tabs = BoxLayout(size_hint_y=None, height=50 * u, spacing=10 * u)
        for money in view.buckets:
            current = history is not None and money.bucket == history.bucket
            tabs.add_widget(
                KioskButton(
                    self.money_name(money.bucket),
                    partial(intents.show_history, money.bucket),
                    size=20,
                    color=PRIMARY if current else NEUTRAL,
                    bold=current,
                    size_hint_x=None,
                    width=150 * u,
                )
            )
        tabs.add_widget(BoxLayout())
        if history is not None and history.pages:
            page = _("Page {number}").format(number=history.pages)
            tabs.add_widget(Text(page, size=18, color=MUTED, size_hint_x=None, width=130 * u))
        body.add_widget(tabs)
        if view.notice is Notice.HISTORY_UNAVAILABLE:
            body.add_widget(Text(_("The history cannot be shown now."), size=24, color=ALERT))
        elif history is None or history.loading:
            body.add_widget(Text(_("Loading…"), size=24))
        elif not history.entries:
            body.add_widget(Text(_("No history yet."), size=24, color=MUTED))
        else:
            lines = BoxLayout(orientation="vertical", spacing=4 * u)
            for entry in _newest_first(history.entries)[:LINES]:
                lines.add_widget(self._line(entry))
            lines.add_widget(BoxLayout())  # a short page stays at the top
            body.add_widget(lines)
        buttons.add_widget(KioskButton(_("Back"), intents.back, color=NEUTRAL))
        if history is not None and (history.pages > 1 or (history.loading and history.pages)):
            newest = history.bucket
            buttons.add_widget(
                KioskButton(_("Newest"), partial(intents.show_history, newest), color=NEUTRAL)
            )
        if history is not None and history.next_cursor:
            buttons.add_widget(
                KioskButton(
                    _("More"), intents.more_history, color=NEUTRAL, enabled=not history.loading
                )
            )

    def _line(self, entry: HistoryEntry) -> BoxLayout:
        u = unit()
        kind = self._(KINDS[entry.kind]) if entry.kind in KINDS else entry.kind
        row = BoxLayout(size_hint_y=None, height=38 * u, spacing=8 * u)
        money = self.money_name(entry.bucket)
        for text, width, colour in (
            (when(entry.done_at), 200, INK),
            (kind, 170, INK),
            (money, 130, MUTED),
        ):
            cell = Text(text, size=19, halign="left", color=colour, size_hint_x=None)
            cell.width = width * u
            row.add_widget(cell)
        row.add_widget(Text(signed(entry.amount), size=21, halign="right", color=INK, bold=True))
        return row
