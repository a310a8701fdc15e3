"""Which money to charge: each with its balance and how much more fits; a money the view says
cannot be charged now is shown but cannot be pressed."""

from __future__ import annotations

from functools import partial

from kivy.uix.boxlayout import BoxLayout

from kiosk.core.events import Notice
from kiosk.core.money import yen
from kiosk.core.view import BucketView, SessionView
from screens.base import KioskScreen
from screens.widgets import ALERT, NEUTRAL, KioskButton, Text


class ChooseMoneyScreen(KioskScreen):
    screen_name = "choose_money"

    def title(self, view: SessionView) -> str:
        return self._("Which money would you like to charge?")

    def describe(self, bucket: BucketView) -> str:
        _ = self._
        balance = _("Balance {amount}").format(amount=yen(bucket.balance))
        if not bucket.chargeable:
            room = _("cannot be charged now")
        elif bucket.room is None:
            room = _("no limit")
        else:
            room = _("up to {amount} more").format(amount=yen(bucket.room))
        return f"{self.money_name(bucket.bucket)}   {balance}   ({room})"

    def fill(self, view: SessionView, body: BoxLayout, buttons: BoxLayout) -> None:
        _ = self._
        intents = self.host.intents
        for bucket in view.buckets:
            body.add_widget(
                KioskButton(
                    self.describe(bucket),
                    partial(intents.choose_money, bucket.bucket),
                    size=22,
                    enabled=bucket.chargeable,
                )
            )
        if view.notice is Notice.MONEY_NOT_CHARGEABLE:
            body.add_widget(
                Text(_("That money cannot be charged now."), size=18, height=32, color=ALERT)
            )
        buttons.add_widget(KioskButton(_("Back"), intents.back, color=NEUTRAL))
        buttons.add_widget(KioskButton(_("Finish"), intents.cancel, color=NEUTRAL))
