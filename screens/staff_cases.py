"""Open staff cases (credits refused for good, notes that could not be settled) and one case:
send it again now, or settle it by hand (refunded in cash, credited by hand elsewhere) — the
actions the desk allows for it (:attr:`kiosk.staff.view.CaseView.actions`), no others."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout

from kiosk.core.money import yen
from kiosk.staff.view import CaseAction, CaseView, StaffView
from screens.staff_base import N_, StaffScreen
from screens.widgets import ALERT, INK, MUTED, NEUTRAL, KioskButton, Text, unit

CASE_KINDS = {
    "refused_credit": N_("Credit refused"),
    "refused_move": N_("Move refused (no cash)"),
    "uncredited_note": N_("Note not credited"),
    "unresolved_note": N_("Note not settled"),
    "journal_file": N_("Journal file restored"),
    "wallet_mismatch": N_("Wallet ledger differs"),
}
ACTIONS = {
    CaseAction.RETRY: N_("Retry now"),
    CaseAction.REFUNDED: N_("Refunded in cash"),
    CaseAction.CREDITED_MANUALLY: N_("Credited by hand"),
    CaseAction.NO_MONEY_INVOLVED: N_("Checked: no money involved"),
}
CREDIT_STATES = {
    "pending": N_("waiting to be sent"),
    "sent": N_("sent, answer unknown"),
    "confirmed": N_("credited"),
    "refused": N_("refused"),
}
LINES = 5  # case rows that fit the body of a 480-line display


def kind_name(translate: Callable[[str], str], case: CaseView) -> str:
    """What staff read for a case's kind (an unknown kind as the journal names it)."""
    return translate(CASE_KINDS[case.kind]) if case.kind in CASE_KINDS else case.kind


class CasesScreen(StaffScreen):
    """A row per open case, each with a button to open it."""

    screen_name = "staff_cases"

    def title(self, view: StaffView) -> str:
        return self._("Staff cases")

    def kind(self, case: CaseView) -> str:
        return kind_name(self._, case)

    def fill(self, view: StaffView, body: BoxLayout, buttons: BoxLayout) -> None:
        _ = self._
        u = unit()
        if view.message:
            body.add_widget(Text(self.said(view), size=20, height=34, halign="left", color=MUTED))
        if not view.cases:
            body.add_widget(Text(_("No open cases"), size=28, color=MUTED))
        else:
            lines = BoxLayout(orientation="vertical", spacing=6 * u)
            for case in view.cases[:LINES]:
                lines.add_widget(self._line(case))
            if len(view.cases) > LINES:
                more = _("…and {count} more (paykiosk staff cases)").format(
                    count=len(view.cases) - LINES
                )
                lines.add_widget(Text(more, size=16, height=28, halign="left", color=MUTED))
            lines.add_widget(BoxLayout())
            body.add_widget(lines)
        buttons.add_widget(KioskButton(_("Back"), self.desk.staff_back, color=NEUTRAL))

    def _line(self, case: CaseView) -> BoxLayout:
        u = unit()
        row = BoxLayout(size_hint_y=None, height=50 * u, spacing=8 * u)
        amount = yen(case.amount) if case.amount is not None else "—"
        for text, width, colour in (
            (case.reference, 210, INK),
            (self.kind(case), 170, INK),
            (amount, 100, INK),
        ):
            cell = Text(text, size=16, halign="left", color=colour, size_hint_x=None)
            cell.width = width * u
            row.add_widget(cell)
        row.add_widget(Text(case.member or "", size=16, halign="left", color=MUTED))
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
    """One case's details and a button for each action the desk allows for it."""

    screen_name = "staff_case"

    def title(self, view: StaffView) -> str:
        reference = view.case.reference if view.case is not None else ""
        return self._("Case {reference}").format(reference=reference)

    def fill(self, view: StaffView, body: BoxLayout, buttons: BoxLayout) -> None:
        _ = self._
        u = unit()
        case = view.case
        if case is None:
            body.add_widget(Text(_("No open cases"), size=28, color=MUTED))
            buttons.add_widget(KioskButton(_("Back"), self.desk.staff_back, color=NEUTRAL))
            return
        state = case.credit_state
        rows: list[tuple[str, str]] = [
            (_("Kind"), kind_name(_, case)),
            (_("Amount"), yen(case.amount) if case.amount is not None else "—"),
            (_("Member"), case.member or "—"),
            (_("Card"), case.card_tag or "—"),
            (_("Opened"), datetime.fromtimestamp(case.opened_at).strftime("%Y-%m-%d %H:%M")),
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
        for action in case.actions:
            if action is CaseAction.RETRY:
                pressed = partial(desk.staff_retry, reference)
            else:
                pressed = partial(desk.staff_resolve, reference, action)
            buttons.add_widget(KioskButton(_(ACTIONS[action]), pressed, size=20))
