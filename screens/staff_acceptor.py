"""The acceptor for staff: its state and firmware, which notes the kiosk takes (a switch per
note), the reset; and the test mode, in which every note fed is checked and handed back."""

from __future__ import annotations

from functools import partial

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout

from kiosk.core.money import yen
from kiosk.staff.view import AcceptorPanel, StaffView, TestedNote
from screens.staff_base import N_, StaffScreen, line
from screens.widgets import ALERT, INK, MUTED, NEUTRAL, PRIMARY, KioskButton, Text, unit

STATES = {"online": N_("Ready"), "offline": N_("Offline (reconnecting)")}
REASONS = {"inhibited": N_("switched off"), "denomination": N_("not a note it knows")}


class AcceptorScreen(StaffScreen):
    """State, firmware, a switch per note, Reset and Test notes."""

    screen_name = "staff_acceptor"

    def title(self, view: StaffView) -> str:
        return self._("Bill acceptor")

    def state(self, panel: AcceptorPanel) -> str:
        kind = panel.state.split(" ", 1)[0]
        if kind == "resetting":
            return self._("Resetting…")
        if kind in STATES:
            return self._(STATES[kind])
        return self._("Fault: {fault}").format(fault=panel.state)

    def fill(self, view: StaffView, body: BoxLayout, buttons: BoxLayout) -> None:
        _ = self._
        u = unit()
        desk = self.desk
        panel = view.acceptor
        if panel is None:
            body.add_widget(Text(_("No acceptor"), size=28, color=MUTED))
            buttons.add_widget(KioskButton(_("Back"), desk.staff_back, color=NEUTRAL))
            return
        fine = panel.state == "online"
        state = _("State: {state}").format(state=self.state(panel))
        body.add_widget(line(state, color=INK if fine else ALERT, bold=not fine))
        firmware = _("Firmware: {version}").format(version=panel.version or "—")
        body.add_widget(Text(firmware, size=16, height=28, halign="left", color=MUTED))
        body.add_widget(Text(_("Notes the kiosk takes"), size=22, height=44, halign="left"))
        switches = GridLayout(cols=len(panel.notes) or 1, spacing=12 * u, size_hint_y=None)
        switches.height = 84 * u
        for value, on in panel.notes:
            label = _("{note}: on") if on else _("{note}: off")
            switches.add_widget(
                KioskButton(
                    label.format(note=yen(value)),
                    partial(desk.staff_note, value, not on),
                    size=22,
                    color=PRIMARY if on else NEUTRAL,
                )
            )
        body.add_widget(switches)
        body.add_widget(
            Text(_("Switched-off notes are handed back to members."), size=16, height=30)
        )
        if view.message:
            body.add_widget(line(self.said(view), color=MUTED))
        body.add_widget(BoxLayout())
        buttons.add_widget(KioskButton(_("Back"), desk.staff_back, color=NEUTRAL))
        buttons.add_widget(
            KioskButton(_("Reset the acceptor"), desk.staff_acceptor_reset, color=ALERT)
        )
        buttons.add_widget(
            KioskButton(_("Test notes"), partial(desk.staff_test, True), enabled=fine)
        )


class AcceptorTestScreen(StaffScreen):
    """Notes fed now are checked and handed back; the newest results first."""

    screen_name = "staff_acceptor_test"

    def title(self, view: StaffView) -> str:
        return self._("Acceptor test")

    def result(self, note: TestedNote) -> tuple[str, str, bool]:
        value = yen(note.value) if note.value is not None else self._("A note")
        if note.outcome == "returned":
            return value, self._("recognised, handed back"), False
        reason = self._(REASONS[note.reason]) if note.reason in REASONS else note.reason
        return value, self._("refused ({reason}), handed back").format(reason=reason), True

    def fill(self, view: StaffView, body: BoxLayout, buttons: BoxLayout) -> None:
        _ = self._
        u = unit()
        panel = view.acceptor
        body.add_widget(
            Text(_("Insert notes to test the acceptor."), size=28, height=50, bold=True)
        )
        body.add_widget(
            Text(
                _("Every note is handed back. Nothing is counted or credited."),
                size=20,
                height=36,
                color=MUTED,
            )
        )
        tested = panel.tested if panel is not None else ()
        if not tested:
            body.add_widget(Text(_("No note yet."), size=22, color=MUTED))
        else:
            table = GridLayout(cols=2, size_hint_y=None, spacing=(12 * u, 0))
            table.row_force_default = True
            table.row_default_height = 34 * u
            table.height = 34 * u * len(tested)
            for note in tested:
                value, outcome, refused = self.result(note)
                colour = ALERT if refused else INK
                table.add_widget(
                    Text(value, size=22, halign="left", size_hint_x=None, width=200 * u)
                )
                table.add_widget(Text(outcome, size=20, halign="left", color=colour))
            body.add_widget(table)
            body.add_widget(BoxLayout())
        if panel is not None and panel.state != "online":
            body.add_widget(line(_("The acceptor is not ready: {state}").format(state=panel.state)))
        buttons.add_widget(
            KioskButton(_("End the test"), partial(self.desk.staff_test, False), color=NEUTRAL)
        )
