"""Open staff cases (credits refused for good, notes that could not be settled) and one case:
send it again now, or settle it by hand (refunded in cash, credited by hand elsewhere)."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout

from kiosk.core.money import yen
from kiosk.journal.cases import RETRIABLE, SETTLED_AS, CaseSummary
from kiosk.staff.view import StaffView
from screens.staff_base import N_, StaffScreen
from screens.widgets import ALERT, INK, MUTED, NEUTRAL, KioskButton, Text, unit

CASE_KINDS = {
    "refused_credit": N_("Credit refused"),
    "refused_move": N_("Move refused (no cash)"),
    "uncredited_note": N_("Note not credited"),
    "unresolved_note": N_("Note not settled"),
    "journal_file": N_("Journal file restored"),
}
SETTLEMENTS = {
    "refunded": N_("Refunded in cash"),
    "credited_manually": N_("Credited by hand"),
    "no_money_involved": N_("Checked: no money involved"),
}
CREDIT_STATES = {
    "pending": N_("waiting to be sent"),
    "sent": N_("sent, answer unknown"),
    "confirmed": N_("credited"),
    "refused": N_("refused"),
}
LINES = 5  # case rows that fit the body of a 480-line display


class CasesScreen(StaffScreen):
    """A row per open case, each with a button to open it."""

    screen_name = "staff_cases"

    def title(self, view: StaffView) -> str:
        return self._("Staff cases")

    def kind(self, summary: CaseSummary) -> str:
        kind = summary.case.kind
        return self._(CASE_KINDS[kind]) if kind in CASE_KINDS else kind

    def fill(self, view: StaffView, body: BoxLayout, buttons: BoxLayout) -> None:
        _ = self._
        u = unit()
        if view.message:
            body.add_widget(Text(self.said(view), size=20, height=34, halign="left", color=MUTED))
        if not view.cases:
            body.add_widget(Text(_("No open cases"), size=28, color=MUTED))
        else:
            lines = BoxLayout(orientation="vertical", spacing=6 * u)
            for summary in view.cases[:LINES]:
                lines.add_widget(self._line(summary))
            if len(view.cases) > LINES:
                more = _("…and {count} more (paykiosk staff cases)").format(
                    count=len(view.cases) - LINES
                )
                lines.add_widget(Text(more, size=16, height=28, halign="left", color=MUTED))
            lines.add_widget(BoxLayout())
            body.add_widget(lines)
        buttons.add_widget(KioskButton(_("Back"), self.desk.staff_back, color=NEUTRAL))

    def _line(self, summary: CaseSummary) -> BoxLayout:
        u = unit()
        case = summary.case
        row = BoxLayout(size_hint_y=None, height=50 * u, spacing=8 * u)
        amount = yen(case.amount) if case.amount is not None else "—"
        for text, width, colour in (
            (case.reference, 210, INK),
            (self.kind(summary), 170, INK),
            (amount, 100, INK),
        ):
            cell = Text(text, size=16, halign="left", color=colour, size_hint_x=None)
            cell.width = width * u
            row.add_widget(cell)
        row.add_widget(Text(summary.member or "", size=16, halign="left", color=MUTED))
        row.add_widget(
            KioskButton(
                self._("Open"),
                partial(self.desk.staff_case, case.reference),
                size=20,
                size_hint_x=None,
                width=100 * u,
            )
        )
        return row


class CaseScreen(StaffScreen):
    """One case's details; retry now (a refused credit) or resolve it by hand."""

    screen_name = "staff_case"

    def title(self, view: StaffView) -> str:
        reference = view.case.case.reference if view.case is not None else ""
        return self._("Case {reference}").format(reference=reference)

    def fill(self, view: StaffView, body: BoxLayout, buttons: BoxLayout) -> None:
        _ = self._
        u = unit()
        summary = view.case
        if summary is None:
            body.add_widget(Text(_("No open cases"), size=28, color=MUTED))
            buttons.add_widget(KioskButton(_("Back"), self.desk.staff_back, color=NEUTRAL))
            return
        case = summary.case
        kind = _(CASE_KINDS[case.kind]) if case.kind in CASE_KINDS else case.kind
        state = summary.credit_state
        rows: list[tuple[str, str]] = [
            (_("Kind"), kind),
            (_("Amount"), yen(case.amount) if case.amount is not None else "—"),
            (_("Member"), summary.member or "—"),
            (_("Card"), summary.card_tag or "—"),
            (_("Opened"), datetime.fromtimestamp(case.created_at).strftime("%Y-%m-%d %H:%M")),
            (_("Detail"), case.detail or "—"),
        ]
        if state is not None:
            shown = _(CREDIT_STATES[state]) if state in CREDIT_STATES else state
            rows.insert(2, (_("Credit"), shown))
        table = GridLayout(cols=2, size_hint_y=None, spacing=(12 * u, 0))
        table.row_force_default = True
        table.row_default_height = 34 * u
        table.height = 34 * u * len(rows)
        for label, value in rows:
            table.add_widget(
                Text(label, size=20, halign="left", color=MUTED, size_hint_x=None, width=150 * u)
            )
            table.add_widget(Text(value, size=20, halign="left"))
        body.add_widget(table)
        if view.message:
            body.add_widget(Text(self.said(view), size=20, halign="left", color=ALERT))
        else:
            body.add_widget(BoxLayout())
        desk, reference = self.desk, case.reference
        buttons.add_widget(KioskButton(_("Back"), desk.staff_back, color=NEUTRAL, size=20))
        if case.kind in RETRIABLE:
            buttons.add_widget(
                KioskButton(_("Retry now"), partial(desk.staff_retry, reference), size=20)
            )
        for resolution in SETTLED_AS[case.kind]:
            buttons.add_widget(
                KioskButton(
                    _(SETTLEMENTS[resolution]),
                    partial(desk.staff_resolve, reference, resolution),
                    size=20,
                )
            )
