"""The end of a charge: crediting (a moment), then the amount, the new balance or the staff
reference, and OK. A charge that took cash also shows a receipt as a QR code beside the text
(a short plain text the member keeps on their phone)."""

from __future__ import annotations

from datetime import datetime

from kivy.uix.boxlayout import BoxLayout

from kiosk.core.events import CreditOutcome
from kiosk.core.money import yen
from kiosk.core.session import State
from kiosk.core.view import SessionView
from screens.base import KioskScreen
from screens.i18n import Texts
from screens.qr import beside_receipt
from screens.widgets import ALERT, KioskButton, Text


def receipt_text(view: SessionView, kiosk_id: str, money: str, _: Texts) -> str:
    """The receipt in the QR code: kiosk, time, money and amount, what became of it, reference."""
    lines = [_("Pay Spot receipt")]
    if kiosk_id:
        lines.append(_("Kiosk {kiosk}").format(kiosk=kiosk_id))
    if view.finished_at is not None:
        local = datetime.fromtimestamp(view.finished_at).astimezone()
        lines.append(local.strftime("%Y-%m-%d %H:%M %Z").strip())
    lines.append(f"{money} {yen(view.credited)}")
    if view.outcome is CreditOutcome.CONFIRMED:
        lines.append(_("Charged"))
        if view.new_balance is not None:
            lines.append(_("New balance: {amount}").format(amount=yen(view.new_balance)))
    elif view.outcome is CreditOutcome.REFUSED:
        lines.append(_("Not credited"))
    elif view.outcome is CreditOutcome.KIOSK_FAULT:
        lines.append(_("To be credited once the kiosk is repaired"))
    else:
        lines.append(_("Being credited"))
    if view.reference:
        lines.append(_("Reference: {reference}").format(reference=view.reference))
    return "\n".join(lines)


def has_receipt(view: SessionView) -> bool:
    """A charge that took cash: confirmed, refused (a staff case), or pending with a reference."""
    if view.state is not State.DONE or not view.credited:
        return False
    if view.outcome in (CreditOutcome.CONFIRMED, CreditOutcome.REFUSED):
        return True
    return view.outcome is CreditOutcome.BEING_CREDITED and view.reference is not None


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
        column = body
        if has_receipt(view):
            receipt = receipt_text(view, self.host.kiosk_id, money, _)
            column = beside_receipt(body, receipt, _("Scan this code to keep a receipt."))
        self._say(view, money, column)
        buttons.add_widget(KioskButton(_("OK"), self.host.intents.acknowledge))

    def _say(self, view: SessionView, money: str, body: BoxLayout) -> None:
        _ = self._
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
        elif outcome is CreditOutcome.KIOSK_FAULT:
            body.add_widget(
                Text(_("We took {amount}.").format(amount=yen(view.credited)), size=34, bold=True)
            )
            body.add_widget(
                Text(
                    _(
                        "This kiosk cannot record your charge just now. It will be credited to"
                        " {money} once the kiosk is repaired; nothing is lost."
                    ).format(money=money),
                    size=22,
                )
            )
            body.add_widget(Text(_("Please tell the co-op store."), size=22, color=ALERT))
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
                    size=26,
                    height=42,
                    bold=True,  # what the member tells the store
                )
            )
