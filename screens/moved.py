"""The end of a マネー移動: moving (a moment), then moved with both new balances, a receipt
reference and its QR code; or why nothing moved; or that it is being processed (the result
shows at the member's next touch)."""

from __future__ import annotations

from datetime import datetime

from kivy.uix.boxlayout import BoxLayout

from kiosk.core.events import MoveNews, MoveOutcome, MoveRefusal, MoveSettled
from kiosk.core.money import yen
from kiosk.core.session import State
from kiosk.core.view import MovePreview, SessionView
from screens.base import KioskScreen
from screens.i18n import Texts
from screens.qr import beside_receipt
from screens.widgets import ALERT, KioskButton, Text

REFUSALS = {
    MoveRefusal.NOT_ENOUGH: "There is not that much money to move.",
    MoveRefusal.OVER_CAP: "The money you are moving to cannot hold that much.",
    MoveRefusal.ACCOUNT_STOPPED: "Your account is suspended: please ask at the co-op store.",
    MoveRefusal.NOT_ALLOWED: "This move is not possible: please ask at the co-op store.",
}


def move_receipt_text(
    move: MovePreview, result: MoveSettled, kiosk_id: str, names: dict[str, str], _: Texts
) -> str:
    """The receipt in the QR code: kiosk, time, the move, the new balances, the reference."""
    lines = [_("Pay Spot receipt")]
    if kiosk_id:
        lines.append(_("Kiosk {kiosk}").format(kiosk=kiosk_id))
    if result.at is not None:
        lines.append(datetime.fromtimestamp(result.at).astimezone().strftime("%Y-%m-%d %H:%M %Z"))
    lines.append(f"{names[move.source]} → {names[move.target]} {yen(move.amount)}")
    if result.outcome is MoveOutcome.MOVED:
        lines.append(_("Moved"))
        for bucket, balance in (
            (move.source, result.source_balance),
            (move.target, result.target_balance),
        ):
            if balance is not None:
                lines.append(f"{names[bucket]} {yen(balance)}")
    else:
        lines.append(_("Being processed"))
    if result.reference:
        lines.append(_("Reference: {reference}").format(reference=result.reference))
    return "\n".join(lines)


def earlier_move_line(screen: KioskScreen, news: MoveNews) -> tuple[str, bool]:
    """One line on the account screen about an earlier move; True: in the alert colour."""
    _ = screen._
    what = _("Move of {amount} to {target}").format(
        amount=yen(news.amount), target=screen.money_name(news.target)
    )
    if news.outcome is MoveOutcome.MOVED:
        return _("{what}: done").format(what=what), False
    if news.outcome is MoveOutcome.REFUSED:
        return _("{what}: could not be made; nothing was moved").format(what=what), True
    return _("{what}: being processed").format(what=what), False


class MovedScreen(KioskScreen):
    screen_name = "moved"

    def fill(self, view: SessionView, body: BoxLayout, buttons: BoxLayout) -> None:
        _ = self._
        move, result = view.move, view.move_result
        if view.state is State.MOVING or move is None or result is None:
            body.add_widget(Text(_("Moving… please wait"), size=34, bold=True))
            if move is not None:
                body.add_widget(Text(yen(move.amount), size=44))
            return
        column = body
        if result.outcome in (MoveOutcome.MOVED, MoveOutcome.BEING_PROCESSED) and result.reference:
            names = {b: self.money_name(b) for b in (move.source, move.target)}
            receipt = move_receipt_text(move, result, self.host.kiosk_id, names, _)
            column = beside_receipt(body, receipt, _("Scan this code to keep a receipt."))
        self._say(move, result, column)
        buttons.add_widget(KioskButton(_("OK"), self.host.intents.acknowledge))

    def _say(self, move: MovePreview, result: MoveSettled, body: BoxLayout) -> None:
        _ = self._
        route = f"{self.money_name(move.source)} → {self.money_name(move.target)}"
        if result.outcome is MoveOutcome.MOVED:
            body.add_widget(Text(_("Moved"), size=34, bold=True, height=56))
            body.add_widget(Text(f"{route}  {yen(move.amount)}", size=28, bold=True, height=48))
            for bucket, balance in (
                (move.source, result.source_balance),
                (move.target, result.target_balance),
            ):
                if balance is not None:
                    body.add_widget(
                        Text(f"{self.money_name(bucket)}  {yen(balance)}", size=24, height=40)
                    )
        elif result.outcome is MoveOutcome.REFUSED:
            body.add_widget(Text(_("Nothing was moved."), size=34, bold=True, color=ALERT))
            body.add_widget(Text(f"{route}  {yen(move.amount)}", size=28))
            refusal = result.refusal or MoveRefusal.NOT_ALLOWED
            body.add_widget(Text(_(REFUSALS[refusal]), size=24))
        elif result.outcome is MoveOutcome.NOT_STARTED:
            body.add_widget(Text(_("Nothing was moved."), size=34, bold=True, color=ALERT))
            body.add_widget(
                Text(_("The move could not be started. Please try again later."), size=24)
            )
        else:
            body.add_widget(Text(_("Your move is being processed."), size=34, bold=True))
            body.add_widget(Text(f"{route}  {yen(move.amount)}", size=28))
            body.add_widget(
                Text(_("You will see the result the next time you touch your card."), size=22)
            )
        if result.reference and result.outcome is not MoveOutcome.REFUSED:
            body.add_widget(
                Text(
                    _("Reference: {reference}").format(reference=result.reference),
                    size=26,
                    height=42,
                    bold=True,
                )
            )
