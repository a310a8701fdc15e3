"""The cash box (notes since the last collection, fill), the collection's count (staff type in
the notes they took out) and its record (a summary, and a QR code of it to keep)."""

from __future__ import annotations

from functools import partial

from kivy.uix.anchorlayout import AnchorLayout
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.widget import Widget

from kiosk.core.money import yen
from kiosk.staff.view import Desk, StaffView
from screens.i18n import Texts
from screens.qr import QRCode, qr_fits
from screens.staff_base import StaffScreen, line
from screens.widgets import ALERT, INK, MUTED, NEUTRAL, KioskButton, Text, unit

RECORD_QR_SIDE = 280  # units: the record is longer than a receipt (a larger code version)


def qr_side(text: str, _: Texts) -> Widget:
    """The summary's QR code beside it; a summary too long for one says so (and is never lost:
    it is on the screen and in the CSV export)."""
    side = AnchorLayout(size_hint_x=None, width=RECORD_QR_SIDE * unit())
    if not text:
        return side
    if qr_fits(text):
        side.add_widget(QRCode(text, side=RECORD_QR_SIDE))
    else:
        side.add_widget(Text(_("Too long for a QR code: export it as CSV."), size=16))
    return side


class CashboxScreen(StaffScreen):
    """Notes and yen per denomination since the last collection, the total and the fill."""

    screen_name = "staff_cashbox"

    def title(self, view: StaffView) -> str:
        return self._("Cash box since the last collection")

    def fill(self, view: StaffView, body: BoxLayout, buttons: BoxLayout) -> None:
        _ = self._
        u = unit()
        count = view.cashbox
        table = GridLayout(cols=3, size_hint_y=None, spacing=(12 * u, 0))
        table.row_force_default = True
        table.row_default_height = 34 * u
        table.height = 34 * u * (len(view.denominations) + 1)
        for value in view.denominations:
            notes = count.of(value) if count is not None else 0
            table.add_widget(Text(yen(value), size=22, halign="left"))
            table.add_widget(Text(_("{count} notes").format(count=notes), size=22, halign="right"))
            table.add_widget(Text(yen(value * notes), size=22, halign="right"))
        notes = count.notes if count is not None else 0
        total = count.total if count is not None else 0
        table.add_widget(Text(_("Total"), size=22, halign="left", bold=True))
        table.add_widget(Text(_("{count} notes").format(count=notes), size=22, halign="right"))
        table.add_widget(Text(yen(total), size=24, halign="right", bold=True))
        body.add_widget(table)
        fill = _("{notes} of {capacity} notes ({percent} %)").format(
            notes=notes, capacity=view.capacity, percent=view.fill_percent
        )
        colour = ALERT if view.near_full else INK
        body.add_widget(Text(fill, size=20, height=34, halign="left", color=colour))
        if view.near_full:
            body.add_widget(line(_("The cash box is nearly full: please collect it."), bold=True))
        if view.removals:
            body.add_widget(
                Text(
                    _("Times taken out without a collection: {count}").format(count=view.removals),
                    size=20,
                    height=34,
                    halign="left",
                    color=ALERT,
                )
            )
        body.add_widget(BoxLayout())
        buttons.add_widget(KioskButton(_("Back"), self.desk.staff_back, color=NEUTRAL))
        day_close = partial(self.desk.staff_open, Desk.DAY_CLOSE)
        buttons.add_widget(KioskButton(_("Daily close"), day_close, color=NEUTRAL))
        buttons.add_widget(KioskButton(_("Collection"), partial(self.desk.staff_open, Desk.COUNT)))


class CountScreen(StaffScreen):
    """Collection: staff enter the notes they counted, per denomination; Save records it."""

    screen_name = "staff_count"

    def title(self, view: StaffView) -> str:
        return self._("Collection: count the notes")

    def fill(self, view: StaffView, body: BoxLayout, buttons: BoxLayout) -> None:
        _ = self._
        u = unit()
        counted = dict(view.counted)
        rows = BoxLayout(orientation="vertical", spacing=6 * u)
        for value in view.denominations:
            notes = counted.get(value, 0)
            row = BoxLayout(spacing=10 * u)
            row.add_widget(Text(yen(value), size=24, halign="left", bold=True, size_hint_x=0.8))
            row.add_widget(
                KioskButton(
                    "−",
                    partial(self.desk.staff_count, value, -1),
                    size=28,
                    color=NEUTRAL,
                    enabled=notes > 0,
                    size_hint_x=0.5,
                )
            )
            row.add_widget(Text(_("{count} notes").format(count=notes), size=24, size_hint_x=0.9))
            row.add_widget(
                KioskButton("+", partial(self.desk.staff_count, value, 1), size=28, size_hint_x=0.5)
            )
            row.add_widget(
                KioskButton(
                    "+10", partial(self.desk.staff_count, value, 10), size=24, size_hint_x=0.6
                )
            )
            row.add_widget(Text(yen(value * notes), size=22, halign="right", color=MUTED))
            rows.add_widget(row)
        body.add_widget(rows)
        total = sum(value * n for value, n in counted.items())
        notes = sum(counted.values())
        body.add_widget(
            Text(
                _("Counted: {amount} ({count} notes)").format(amount=yen(total), count=notes),
                size=24,
                height=44,
                halign="right",
                bold=True,
            )
        )
        buttons.add_widget(KioskButton(_("Back"), self.desk.staff_back, color=NEUTRAL))
        buttons.add_widget(KioskButton(_("Save"), self.desk.staff_count_save, bold=True))


class RecordScreen(StaffScreen):
    """The collection just recorded: its summary, and the same text as a QR code."""

    screen_name = "staff_record"

    def title(self, view: StaffView) -> str:
        return self._("Collection recorded")

    def fill(self, view: StaffView, body: BoxLayout, buttons: BoxLayout) -> None:
        _ = self._
        u = unit()
        row = BoxLayout(spacing=16 * u)
        column = BoxLayout(orientation="vertical", spacing=6 * u)
        column.add_widget(Text(view.record_text, size=16, halign="left"))
        record = view.record
        difference = record.discrepancy if record is not None else None
        if difference:
            column.add_widget(
                Text(
                    _("Difference: {amount}").format(
                        amount=("+" if difference > 0 else "−") + yen(abs(difference))
                    ),
                    size=22,
                    height=40,
                    halign="left",
                    color=ALERT,
                    bold=True,
                )
            )
        row.add_widget(column)
        row.add_widget(qr_side(view.record_text, _))
        body.add_widget(row)
        buttons.add_widget(KioskButton(_("Back to menu"), self.desk.staff_back, color=NEUTRAL))


class DayCloseScreen(StaffScreen):
    """One day's close (the journal's side, the co-op's day): its summary and the same text as
    a QR code; the day before or after; the CSV to the USB stick."""

    screen_name = "staff_day_close"

    def title(self, view: StaffView) -> str:
        return self._("Daily close: {day}").format(day=view.day)

    def fill(self, view: StaffView, body: BoxLayout, buttons: BoxLayout) -> None:
        _ = self._
        u = unit()
        if view.message:
            body.add_widget(line(self.said(view), color=MUTED))
        row = BoxLayout(spacing=16 * u)
        row.add_widget(Text(view.record_text, size=13, halign="left"))
        row.add_widget(qr_side(view.record_text, _))
        body.add_widget(row)
        desk = self.desk
        buttons.add_widget(KioskButton(_("Back"), desk.staff_back, color=NEUTRAL))
        buttons.add_widget(KioskButton(_("Day before"), lambda: desk.staff_day(-1), color=NEUTRAL))
        later = KioskButton(
            _("Day after"), lambda: desk.staff_day(+1), color=NEUTRAL, enabled=not view.last_day
        )
        buttons.add_widget(later)
        buttons.add_widget(KioskButton(_("Check with the wallet"), desk.staff_day_reconcile))
        buttons.add_widget(KioskButton(_("Export CSV"), desk.staff_day_export))
