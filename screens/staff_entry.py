"""Staff entry: choose a name (after the service key), the PIN pad (dots for the digits typed,
never the digits), and the lockout after too many wrong PINs."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout

from kiosk.staff.view import StaffView
from screens.staff_base import StaffScreen
from screens.widgets import ALERT, MUTED, NEUTRAL, PRIMARY, KioskButton, Text, unit

DOT, EMPTY = "●", "○"
NAMES_SPACE = 260  # units of body for the names' buttons (16 names keep a 9 mm target)


def pin_dots(typed: int, length: int) -> str:
    """A dot per digit typed, an open one per digit still missing up to ``length``."""
    return " ".join([DOT] * typed + [EMPTY] * max(0, length - typed))


def clock_time(moment: float | None) -> str:
    """``HH:MM`` of a wall-clock time in the kiosk's time zone ("" for None)."""
    if moment is None:
        return ""
    return datetime.fromtimestamp(moment).astimezone().strftime("%H:%M")


class ChooseNameScreen(StaffScreen):
    """The service key was turned: a big button per staff member with a PIN."""

    screen_name = "staff_choose_name"

    def title(self, view: StaffView) -> str:
        return self._("Staff entry")

    def fill(self, view: StaffView, body: BoxLayout, buttons: BoxLayout) -> None:
        _ = self._
        u = unit()
        body.add_widget(Text(_("Who are you?"), size=24, height=44, halign="left", bold=True))
        if not view.names:
            body.add_widget(Text(_("No staff member has a PIN yet."), size=22, color=ALERT))
        else:
            cols = 3 if len(view.names) <= 12 else 4
            rows = -(-len(view.names) // cols)
            row = min(64.0, (NAMES_SPACE - (rows - 1) * 12) / rows)
            grid = GridLayout(cols=cols, spacing=12 * u, size_hint_y=None)
            grid.row_force_default = True
            grid.row_default_height = row * u
            grid.height = rows * row * u + (rows - 1) * 12 * u
            for name in view.names:
                grid.add_widget(KioskButton(name, partial(self.desk.staff_name, name), size=24))
            for _empty in range(rows * cols - len(view.names)):
                grid.add_widget(BoxLayout())
            body.add_widget(grid)
            body.add_widget(BoxLayout())
        buttons.add_widget(KioskButton(_("Cancel"), self.desk.staff_close, color=NEUTRAL))


class PinScreen(StaffScreen):
    """Who is entering and how they came, dots for the digits typed, the 3×4 pad."""

    screen_name = "staff_pin"

    def title(self, view: StaffView) -> str:
        return self._("Staff entry")

    def fill(self, view: StaffView, body: BoxLayout, buttons: BoxLayout) -> None:
        _ = self._
        u = unit()
        row = BoxLayout(spacing=24 * u)
        left = BoxLayout(orientation="vertical", spacing=6 * u)
        who = _("PIN for {name}").format(name=view.staff) if view.staff else _("Enter your PIN")
        left.add_widget(Text(who, size=24, height=48, halign="left", bold=True))
        how = {"card": _("With a staff card"), "key": _("With the service key")}.get(view.via)
        if how:
            left.add_widget(Text(how, size=20, height=36, halign="left", color=MUTED))
        left.add_widget(Text(pin_dots(view.pin_digits, view.pin_length), size=44, height=72))
        if view.message:
            left.add_widget(Text(self.said(view), size=20, color=ALERT, halign="left"))
        else:
            left.add_widget(BoxLayout())
        row.add_widget(left)
        row.add_widget(self._pad(view))
        body.add_widget(row)
        buttons.add_widget(KioskButton(_("Cancel"), self.desk.staff_close, color=NEUTRAL))

    def _pad(self, view: StaffView) -> GridLayout:
        u = unit()
        pad = GridLayout(cols=3, spacing=8 * u, size_hint_x=None, width=330 * u)
        for digit in "123456789":
            pad.add_widget(KioskButton(digit, partial(self.desk.staff_digit, digit), size=28))
        pad.add_widget(
            KioskButton(
                self._("Erase"),
                self.desk.staff_erase,
                size=28,
                color=NEUTRAL,
                enabled=view.pin_digits > 0,
            )
        )
        pad.add_widget(KioskButton("0", partial(self.desk.staff_digit, "0"), size=28))
        pad.add_widget(
            KioskButton(
                self._("OK"),
                self.desk.staff_enter,
                size=24,
                color=PRIMARY,
                bold=True,
                enabled=view.pin_digits >= view.pin_length,
            )
        )
        return pad


class LockedScreen(StaffScreen):
    """Too many wrong PINs: entry is refused until a time."""

    screen_name = "staff_locked"

    def title(self, view: StaffView) -> str:
        return self._("Staff entry")

    def fill(self, view: StaffView, body: BoxLayout, buttons: BoxLayout) -> None:
        _ = self._
        body.add_widget(BoxLayout())
        body.add_widget(
            Text(
                _("Staff entry is locked after too many wrong PINs."),
                size=28,
                height=100,
                bold=True,
                color=ALERT,
            )
        )
        if view.locked_until is not None:
            body.add_widget(
                Text(
                    _("Try again after {time}.").format(time=clock_time(view.locked_until)),
                    size=24,
                    height=50,
                )
            )
        body.add_widget(BoxLayout())
        buttons.add_widget(KioskButton(_("Close"), self.desk.staff_close, color=NEUTRAL))
