"""マネー移動, the member's three choices: which move (from which money to which), how much
(large steps, bounded by what the view says can move), and a confirmation with both balances
before and after. Nothing moves before 確定; every limit comes from the view."""

from __future__ import annotations

from functools import partial

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout

from kiosk.core.events import Notice
from kiosk.core.money import yen
from kiosk.core.view import MovePreview, SessionView
from screens.base import KioskScreen
from screens.widgets import ALERT, MUTED, NEUTRAL, KioskButton, Text, unit


class MoveRouteScreen(KioskScreen):
    screen_name = "move_route"

    def title(self, view: SessionView) -> str:
        return self._("Move money: where to?")

    def fill(self, view: SessionView, body: BoxLayout, buttons: BoxLayout) -> None:
        _ = self._
        intents = self.host.intents
        for route in view.move_routes:
            label = _("{source} → {target}   (up to {amount})").format(
                source=self.money_name(route.source),
                target=self.money_name(route.target),
                amount=yen(route.limit),
            )
            body.add_widget(
                KioskButton(label, partial(intents.move_route, route.source, route.target), size=24)
            )
        body.add_widget(
            Text(_("Move money between your own balances. No cash is used."), size=20, color=MUTED)
        )
        buttons.add_widget(KioskButton(_("Back"), intents.back, color=NEUTRAL))


def route_line(screen: KioskScreen, move: MovePreview) -> str:
    return f"{screen.money_name(move.source)} → {screen.money_name(move.target)}"


class MoveAmountScreen(KioskScreen):
    screen_name = "move_amount"

    def title(self, view: SessionView) -> str:
        return self._("How much would you like to move?")

    def fill(self, view: SessionView, body: BoxLayout, buttons: BoxLayout) -> None:
        _ = self._
        intents, move = self.host.intents, view.move
        if move is None:
            return
        u = unit()
        body.add_widget(Text(route_line(self, move), size=24, height=40))
        body.add_widget(Text(yen(move.amount), size=56, bold=True, height=76))
        at_limit = view.notice is Notice.MOVE_AT_LIMIT
        limit = _("The most you can move is {amount}") if at_limit else _("Up to {amount}")
        body.add_widget(
            Text(
                limit.format(amount=yen(move.limit)),
                size=20,
                height=34,
                color=ALERT if at_limit else MUTED,
            )
        )
        steps = GridLayout(cols=3, spacing=8 * u, size_hint_y=None, height=2 * 64 * u + 8 * u)
        for step in move.steps:
            steps.add_widget(
                KioskButton(
                    f"+{yen(step)}",
                    partial(intents.move_add, step),
                    color=NEUTRAL,
                    enabled=move.amount < move.limit,
                )
            )
        more = move.amount < move.limit
        steps.add_widget(KioskButton(_("All of it"), intents.move_all, color=NEUTRAL, enabled=more))
        steps.add_widget(
            KioskButton(_("Clear"), intents.move_clear, color=NEUTRAL, enabled=move.amount > 0)
        )
        body.add_widget(steps)
        buttons.add_widget(KioskButton(_("Back"), intents.back, color=NEUTRAL))
        buttons.add_widget(KioskButton(_("Next"), intents.move_review, enabled=move.amount > 0))


class MoveConfirmScreen(KioskScreen):
    screen_name = "move_confirm"

    def title(self, view: SessionView) -> str:
        return self._("Move {amount}?").format(amount=yen(view.move.amount if view.move else 0))

    def fill(self, view: SessionView, body: BoxLayout, buttons: BoxLayout) -> None:
        _ = self._
        intents, move = self.host.intents, view.move
        if move is None:
            return
        body.add_widget(balances_table(self, move, _("Now"), _("After")))
        body.add_widget(BoxLayout())
        buttons.add_widget(KioskButton(_("Cancel"), intents.cancel, color=NEUTRAL))
        buttons.add_widget(KioskButton(_("Confirm"), intents.move_confirm))


def balances_table(screen: KioskScreen, move: MovePreview, now: str, after: str) -> GridLayout:
    """Money | now | after, for the source and the target of a move."""
    u = unit()
    table = GridLayout(cols=3, size_hint_y=None, row_default_height=44 * u, spacing=4 * u)
    table.row_force_default = True
    table.height = 3 * 48 * u
    rows = (
        ("", now, after),
        (screen.money_name(move.source), yen(move.source_before), yen(move.source_after)),
        (screen.money_name(move.target), yen(move.target_before), yen(move.target_after)),
    )
    for index, (name, before, later) in enumerate(rows):
        head = index == 0
        table.add_widget(Text(name, size=24, halign="left"))
        table.add_widget(Text(before, size=20 if head else 28, halign="right", color=MUTED))
        table.add_widget(Text(later, size=20 if head else 28, halign="right", bold=not head))
    return table
