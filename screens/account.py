"""The member's account: name, balance per money, points, what is still being credited, how
earlier moves (マネー移動) went; charge, move money, history, finish."""

from __future__ import annotations

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout

from kiosk.core.money import yen
from kiosk.core.view import SessionView
from screens.base import KioskScreen
from screens.moved import earlier_move_line
from screens.widgets import ALERT, MUTED, NEUTRAL, KioskButton, Text, unit


class AccountScreen(KioskScreen):
    screen_name = "account"

    def title(self, view: SessionView) -> str:
        return self._("{name}").format(name=view.member_name)

    def fill(self, view: SessionView, body: BoxLayout, buttons: BoxLayout) -> None:
        _ = self._
        u = unit()
        table = GridLayout(cols=2, size_hint_y=None, row_default_height=42 * u, spacing=4 * u)
        table.row_force_default = True
        table.height = 44 * u * len(view.buckets)
        for bucket in view.buckets:
            table.add_widget(Text(self.money_name(bucket.bucket), size=24, halign="left"))
            table.add_widget(Text(yen(bucket.balance), size=28, halign="right", bold=True))
        body.add_widget(table)
        body.add_widget(
            Text(
                _("Points: {points}").format(points=f"{view.points:,}"),
                size=20,
                height=36,
                color=MUTED,
                halign="right",
            )
        )
        if view.being_credited:
            body.add_widget(
                Text(
                    _("Being credited: {amount}").format(amount=yen(view.being_credited)),
                    size=20,
                    height=36,
                    color=ALERT,
                    halign="right",
                )
            )
        for news in view.moves:
            line, alert = earlier_move_line(self, news)
            body.add_widget(
                Text(line, size=20, height=36, color=ALERT if alert else MUTED, halign="right")
            )
        body.add_widget(BoxLayout())  # the rest of the body stays empty
        intents = self.host.intents
        buttons.add_widget(
            KioskButton(
                _("Charge"), intents.charge, enabled=any(b.chargeable for b in view.buckets)
            )
        )
        if view.move_routes:
            buttons.add_widget(KioskButton(_("Move money"), intents.move_money))
        buttons.add_widget(KioskButton(_("History"), intents.show_history, color=NEUTRAL))
        buttons.add_widget(KioskButton(_("Finish"), intents.cancel, color=NEUTRAL))
