"""The staff menu's tools: the journal's recent events, "restart the app?", and the speaker
(the voice on or off, the volume)."""

from __future__ import annotations

from datetime import datetime

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout

from kiosk.staff.view import StaffView
from screens.staff_base import StaffScreen
from screens.widgets import ALERT, INK, MUTED, NEUTRAL, KioskButton, Text, unit

EVENT_ROWS = 9  # what fits at 800×480 with the header and the buttons


class EventsScreen(StaffScreen):
    """The newest events first: time, kind, detail (as journaled: English, masked card ids)."""

    screen_name = "staff_events"

    def title(self, view: StaffView) -> str:
        return self._("Recent events")

    def fill(self, view: StaffView, body: BoxLayout, buttons: BoxLayout) -> None:
        _ = self._
        u = unit()
        if not view.events:
            body.add_widget(Text(_("No events yet."), size=22, color=MUTED))
        else:
            table = GridLayout(cols=3, size_hint_y=None, spacing=(10 * u, 0))
            table.row_force_default = True
            table.row_default_height = 30 * u
            rows = view.events[:EVENT_ROWS]
            table.height = 30 * u * len(rows)
            for event in rows:
                at = datetime.fromtimestamp(event.at).strftime("%m-%d %H:%M:%S")
                colour = ALERT if event.kind == "fault" else INK
                table.add_widget(
                    Text(at, size=16, halign="left", color=MUTED, size_hint_x=None, width=150 * u)
                )
                table.add_widget(
                    Text(event.kind, size=16, halign="left", size_hint_x=None, width=110 * u)
                )
                table.add_widget(
                    Text(event.detail, size=16, halign="left", color=colour, shorten=True)
                )
            body.add_widget(table)
            body.add_widget(BoxLayout())
        buttons.add_widget(KioskButton(_("Back"), self.desk.staff_back, color=NEUTRAL))


class RestartScreen(StaffScreen):
    """Confirm before the app stops (systemd starts it again)."""

    screen_name = "staff_restart"

    def title(self, view: StaffView) -> str:
        return self._("Restart the app")

    def fill(self, view: StaffView, body: BoxLayout, buttons: BoxLayout) -> None:
        _ = self._
        body.add_widget(BoxLayout())
        body.add_widget(Text(_("Restart the kiosk app now?"), size=28, bold=True, height=56))
        body.add_widget(
            Text(
                _(
                    "It stops and starts again in about half a minute; members cannot use the"
                    " kiosk meanwhile. Nothing in the journal is lost."
                ),
                size=20,
            )
        )
        body.add_widget(BoxLayout())
        buttons.add_widget(KioskButton(_("Back"), self.desk.staff_back, color=NEUTRAL))
        buttons.add_widget(KioskButton(_("Restart now"), self.desk.staff_restart, color=ALERT))


class SpeakerScreen(StaffScreen):
    """The voice guidance on or off and the speaker's volume (journaled: kept over a restart).
    Each change is heard at once: the kiosk says a prompt at the new setting."""

    screen_name = "staff_speaker"

    def title(self, view: StaffView) -> str:
        return self._("Voice and volume")

    def fill(self, view: StaffView, body: BoxLayout, buttons: BoxLayout) -> None:
        _ = self._
        u = unit()
        speaker = view.speaker
        body.add_widget(BoxLayout())
        if speaker is not None:
            voice = _("Voice guidance: on") if speaker.voice else _("Voice guidance: off")
            row = BoxLayout(size_hint_y=None, height=70 * u, spacing=12 * u)
            row.add_widget(Text(voice, size=26, bold=True, halign="left"))
            if speaker.voice:
                switch = KioskButton(_("Switch off"), lambda: self.desk.staff_voice(False))
            else:
                switch = KioskButton(_("Switch on"), lambda: self.desk.staff_voice(True))
            switch.size_hint_x = 0.45
            row.add_widget(switch)
            body.add_widget(row)
            volume = BoxLayout(size_hint_y=None, height=70 * u, spacing=12 * u)
            label = _("Volume: {value} %").format(value=speaker.volume)
            volume.add_widget(Text(label, size=26, bold=True, halign="left"))
            down = KioskButton("−", lambda: self.desk.staff_volume(-1), color=NEUTRAL)
            up = KioskButton("+", lambda: self.desk.staff_volume(+1), color=NEUTRAL)
            for button in (down, up):
                button.size_hint_x = 0.2
                volume.add_widget(button)
            body.add_widget(volume)
        body.add_widget(BoxLayout())
        buttons.add_widget(KioskButton(_("Back"), self.desk.staff_back, color=NEUTRAL))
