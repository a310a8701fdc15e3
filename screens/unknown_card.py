"""A card the wallet does not know: the steps a co-op member takes to link it (numbered, short)
and a QR code of the co-op portal where they start. A card that could not be read at all gets
what to do instead: touch again, hold still, else ask at the store."""

from __future__ import annotations

from kivy.uix.anchorlayout import AnchorLayout
from kivy.uix.boxlayout import BoxLayout

from kiosk.core.events import Notice
from kiosk.core.view import SessionView
from screens.base import KioskScreen
from screens.qr import QRCode
from screens.widgets import ALERT, KioskButton, Text, unit

PORTAL_QR = 180  # units: an address is a small code (~33 modules), 5 px a module at 800×480
PORTAL_COLUMN = PORTAL_QR + 40  # units: the code and, under it, the portal's address


class UnknownCardScreen(KioskScreen):
    screen_name = "unknown_card"

    def fill(self, view: SessionView, body: BoxLayout, buttons: BoxLayout) -> None:
        if view.notice is Notice.CARD_UNREADABLE:
            self._unreadable(body)
        else:
            self._not_linked(body)
        buttons.add_widget(KioskButton(self._("OK"), self.host.intents.acknowledge))

    def _unreadable(self, body: BoxLayout) -> None:
        _ = self._
        body.add_widget(Text(_("This card could not be read"), size=34, bold=True, color=ALERT))
        body.add_widget(
            Text(_("Touch your card again and hold it still until the screen changes."), size=24)
        )
        body.add_widget(
            Text(_("If it still cannot be read, please ask at the co-op store."), size=22)
        )

    def _not_linked(self, body: BoxLayout) -> None:
        _ = self._
        u = unit()
        steps = (
            _("Register your email address"),
            _("Sign up on the univcoop app or portal"),
            _("Log in to your member page"),
            _("Authenticate with Pokepay"),
        )
        row = BoxLayout(spacing=16 * u)
        column = BoxLayout(orientation="vertical", spacing=4 * u)
        column.add_widget(
            Text(_("This card is not registered"), size=28, bold=True, color=ALERT, halign="left")
        )
        column.add_widget(Text(_("To use it, register once:"), size=19, height=32, halign="left"))
        for number, step in enumerate(steps, 1):
            column.add_widget(Text(f"{number}. {step}", size=20, height=33, halign="left"))
        column.add_widget(Text(_("Then touch your card again."), size=22, bold=True, halign="left"))
        row.add_widget(column)
        row.add_widget(self._portal())
        body.add_widget(row)

    def _portal(self) -> BoxLayout:
        u = unit()
        url = self.host.portal_url
        side = BoxLayout(orientation="vertical", size_hint_x=None, width=PORTAL_COLUMN * u)
        box = AnchorLayout(size_hint_y=None, height=PORTAL_QR * u)
        box.add_widget(QRCode(url, side=PORTAL_QR))
        side.add_widget(BoxLayout())
        side.add_widget(box)
        address = Text(url, size=16, size_hint_y=None)
        # A long address wraps (inside words too): its box grows with its lines.
        address.bind(texture_size=lambda label, size: setattr(label, "height", size[1] + 8 * u))
        side.add_widget(address)
        side.add_widget(BoxLayout())
        return side
