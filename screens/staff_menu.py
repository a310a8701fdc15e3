"""The staff menu (who is in, the functions as big buttons, the out-of-service switch) and the
status table the desk fills (labels translated here, values shown as they are)."""

from __future__ import annotations

from functools import partial

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout

from kiosk.staff.view import Desk, StaffView
from screens.staff_base import StaffScreen, line
from screens.widgets import ALERT, INK, MUTED, NEUTRAL, PRIMARY, KioskButton, Text, unit

STATUS_SPACE = 300  # units of body the status table may take (rows shrink to fit, 20 rows)


class MenuScreen(StaffScreen):
    """Who is in, the menu's functions, the out-of-service switch and Close."""

    screen_name = "staff_menu"

    def fill(self, view: StaffView, body: BoxLayout, buttons: BoxLayout) -> None:
        _ = self._
        u = unit()
        desk = self.desk
        body.add_widget(
            Text(_("Signed in: {name}").format(name=view.staff), size=22, height=40, halign="left")
        )
        if view.out_of_service:
            body.add_widget(line(_("Out of service for members (switched off by staff)")))
        if view.near_full:
            body.add_widget(line(_("The cash box is nearly full: please collect it."), bold=True))
        if view.message:
            body.add_widget(line(self.said(view), color=MUTED))
        grid = GridLayout(cols=4, spacing=12 * u)
        grid.add_widget(KioskButton(_("Status"), partial(desk.staff_open, Desk.STATUS), size=22))
        grid.add_widget(KioskButton(_("Cash box"), partial(desk.staff_open, Desk.CASHBOX), size=22))
        grid.add_widget(KioskButton(_("Collection"), partial(desk.staff_open, Desk.COUNT), size=22))
        cases = _("Staff cases ({count})").format(count=len(view.cases))
        grid.add_widget(KioskButton(cases, partial(desk.staff_open, Desk.CASES), size=22))
        if view.out_of_service:
            switch = KioskButton(
                _("Back in service"), partial(desk.staff_service, False), size=22, color=PRIMARY
            )
        else:
            switch = KioskButton(
                _("Take out of service"), partial(desk.staff_service, True), size=22, color=ALERT
            )
        grid.add_widget(switch)
        grid.add_widget(KioskButton(_("Events"), partial(desk.staff_open, Desk.EVENTS), size=22))
        acceptor = partial(desk.staff_open, Desk.ACCEPTOR)
        grid.add_widget(KioskButton(_("Bill acceptor"), acceptor, size=22))
        grid.add_widget(KioskButton(_("Export CSV"), desk.staff_export, size=22, color=NEUTRAL))
        body.add_widget(grid)
        restart = partial(desk.staff_open, Desk.RESTART)
        buttons.add_widget(KioskButton(_("Restart the app"), restart, color=NEUTRAL))
        speaker = partial(desk.staff_open, Desk.SPEAKER)
        buttons.add_widget(KioskButton(_("Voice and volume"), speaker, color=NEUTRAL))
        archives = partial(desk.staff_open, Desk.ARCHIVES)
        buttons.add_widget(KioskButton(_("Monthly archives"), archives, color=NEUTRAL))
        buttons.add_widget(KioskButton(_("Close"), desk.staff_close, color=NEUTRAL))

    def title(self, view: StaffView) -> str:
        return self._("Staff menu")


class StatusScreen(StaffScreen):
    """The desk's status rows: label, value, alert rows in the alert colour."""

    screen_name = "staff_status"

    def title(self, view: StaffView) -> str:
        return self._("Status")

    def fill(self, view: StaffView, body: BoxLayout, buttons: BoxLayout) -> None:
        _ = self._
        u = unit()
        rows = view.status
        if not rows:
            body.add_widget(Text(_("No status to show."), size=22, color=MUTED))
        else:
            height = min(40, STATUS_SPACE // len(rows))
            size = 20 if height >= 34 else 16 if height >= 24 else 13
            table = GridLayout(cols=2, size_hint_y=None, spacing=(12 * u, 0))
            table.row_force_default = True
            table.row_default_height = height * u
            table.height = height * u * len(rows)
            for row in rows:
                colour = ALERT if row.alert else INK
                label = Text(
                    _(row.label),
                    size=size,
                    halign="left",
                    color=colour,
                    size_hint_x=None,
                    width=330 * u,
                )
                table.add_widget(label)
                table.add_widget(
                    Text(row.value, size=size, halign="left", color=colour, bold=row.alert)
                )
            body.add_widget(table)
            body.add_widget(BoxLayout())
        buttons.add_widget(KioskButton(_("Back"), self.desk.staff_back, color=NEUTRAL))
