"""The end of a charge: crediting (a moment), then the amount, the new balance or the staff
reference, and OK."""

from __future__ import annotations

from kivy.uix.boxlayout import BoxLayout

from kiosk.events import CreditOutcome
from kiosk.money import yen
from kiosk.session import State
from kiosk.view import SessionView
from screens.base import KioskScreen
from screens.widgets import ALERT, MUTED, KioskButton, Text


class DoneScreen(KioskScreen):
    screen_name = "done"

    def fill(self, view: SessionView, body: BoxLayout, buttons: BoxLayout) -> None:
        _ = self._
        money = self.money_name(view.bucket)
        if view.state is State.CREDITING:
            body.add_widget(Text(_("Crediting… please wait"), size=34, bold=True))
            if view.inserted:
                body.add_widget(Text(yen(view.inserted), size=44))
            return
        outcome = view.outcome
        if outcome is CreditOutcome.CONFIRMED:
            body.add_widget(Text(_("Charged"), size=34, bold=True, height=56))
            body.add_widget(Text(f"{money}  {yen(view.credited)}", size=48, bold=True))
            if view.new_balance is not None:
                body.add_widget(
                    Text(
                        _("New balance: {amount}").format(amount=yen(view.new_balance)),
                        size=24,
                        height=40,
                    )
                )
        elif outcome is CreditOutcome.NOTHING_TAKEN:
            body.add_widget(Text(_("No money was taken: your note came back."), size=28))
        elif outcome is CreditOutcome.NOTE_HELD:
            body.add_widget(Text(_("Nothing has been credited yet."), size=28, bold=True))
        elif outcome is CreditOutcome.REFUSED:
            body.add_widget(
                Text(
                    _("We took {amount} but could not credit it.").format(
                        amount=yen(view.credited)
                    ),
                    size=28,
                    bold=True,
                    color=ALERT,
                )
            )
            body.add_widget(Text(_("Please show this reference at the co-op store."), size=22))
        else:  # being credited
            body.add_widget(
                Text(_("We took {amount}.").format(amount=yen(view.credited)), size=34, bold=True)
            )
            body.add_widget(
                Text(
                    _("It is being credited to {money}; nothing is lost.").format(money=money),
                    size=22,
                )
            )
        if view.held:
            body.add_widget(
                Text(
                    _("A {amount} note is still inside the machine: please ask the staff.").format(
                        amount=yen(view.held)
                    ),
                    size=22,
                    color=ALERT,
                )
            )
        if view.reference:
            body.add_widget(
                Text(
                    _("Reference: {reference}").format(reference=view.reference),
                    size=24,
                    height=40,
                    color=MUTED,
                )
            )
        buttons.add_widget(KioskButton(_("OK"), self.host.intents.acknowledge))
