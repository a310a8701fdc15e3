"""The journal's monthly archives: a row per month (newest first) with its rows, its size and
whether it verified, and a button to put a verified month on the USB stick (its archive file,
checksum and CSV files); a page of older or newer months."""

from __future__ import annotations

from functools import partial

from kivy.uix.boxlayout import BoxLayout

from kiosk.staff.view import ARCHIVE_LINES, ArchiveRow, StaffView
from screens.staff_base import N_, StaffScreen, line
from screens.widgets import ALERT, INK, MUTED, NEUTRAL, KioskButton, Text, unit

# what is wrong with an archive (kiosk.ops.archives.Fault), in a word; `paykiosk journal
# --archives` says it in full
FAULTS = {
    "missing": N_("Missing"),
    "not_archive": N_("Not an archive"),
    "no_checksum": N_("No checksum file"),
    "damaged": N_("Damaged"),
}
ROW_HEIGHT = 48  # units: a 9 mm target; five rows, the message and the page line fit 480 lines


class ArchivesScreen(StaffScreen):
    """A page of archive months; Export on each verified one."""

    screen_name = "staff_archives"

    def title(self, view: StaffView) -> str:
        return self._("Monthly archives")

    def fill(self, view: StaffView, body: BoxLayout, buttons: BoxLayout) -> None:
        _ = self._
        u = unit()
        desk = self.desk
        if view.message:
            body.add_widget(line(self.said(view), color=MUTED))
        first = view.archive_first
        if view.archives:
            rows = BoxLayout(orientation="vertical", spacing=4 * u)
            for archive in view.archives[first : first + ARCHIVE_LINES]:
                rows.add_widget(self._row(archive, view.busy))
            if len(view.archives) > ARCHIVE_LINES:
                shown = _("Months {first}–{last} of {count}").format(
                    first=first + 1,
                    last=min(first + ARCHIVE_LINES, len(view.archives)),
                    count=len(view.archives),
                )
                rows.add_widget(Text(shown, size=16, height=28, halign="left", color=MUTED))
            rows.add_widget(BoxLayout())
            body.add_widget(rows)
        elif view.busy:
            body.add_widget(BoxLayout())
        else:
            body.add_widget(Text(_("No archives yet."), size=28, color=MUTED))
        buttons.add_widget(KioskButton(_("Back"), desk.staff_back, color=NEUTRAL))
        if len(view.archives) <= ARCHIVE_LINES:
            return  # one page
        newer = KioskButton(
            _("Newer"), partial(desk.staff_archive_page, -1), color=NEUTRAL, enabled=first > 0
        )
        older = KioskButton(
            _("Older"),
            partial(desk.staff_archive_page, +1),
            color=NEUTRAL,
            enabled=first + ARCHIVE_LINES < len(view.archives),
        )
        buttons.add_widget(newer)
        buttons.add_widget(older)

    def _row(self, archive: ArchiveRow, busy: bool) -> BoxLayout:
        _ = self._
        u = unit()
        row = BoxLayout(size_hint_y=None, height=ROW_HEIGHT * u, spacing=8 * u)
        rows = "—" if archive.rows is None else _("{count} rows").format(count=f"{archive.rows:,}")
        for text, width, bold in (
            (archive.month, 110, True),
            (rows, 150, False),
            (_size(archive.size), 110, False),
        ):
            cell = Text(text, size=18, halign="left", bold=bold, size_hint_x=None)
            cell.width = width * u
            row.add_widget(cell)
        if archive.problem is None:
            row.add_widget(Text(_("Verified"), size=18, halign="left", color=INK))
        else:
            fault = _(FAULTS[archive.problem]) if archive.problem in FAULTS else archive.problem
            row.add_widget(Text(fault, size=18, halign="left", color=ALERT, bold=True))
        row.add_widget(
            KioskButton(
                _("To USB"),
                partial(self.desk.staff_archive_export, archive.month),
                size=20,
                enabled=archive.problem is None and not busy,
                size_hint_x=None,
                width=150 * u,
            )
        )
        return row


def _size(size: int) -> str:
    return f"{size / 1_000:,.0f} kB" if size < 1_000_000 else f"{size / 1_000_000:,.1f} MB"
