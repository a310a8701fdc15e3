"""Taking notes: the total so far, the largest note still taken, a note handed back. Finish
once something is in; cancel only while nothing is."""

from __future__ import annotations

from kivy.uix.boxlayout import BoxLayout

from kiosk.core.events import Notice
from kiosk.core.money import yen
from kiosk.core.view import SessionView
from screens.base import KioskScreen
from screens.widgets import ALERT, INK, MUTED, NEUTRAL, KioskButton, Text


class InsertNotesScreen(KioskScreen):
    screen_name = "insert_notes"

    def title(self, view: SessionView) -> str:
        return self._("Charge {money}").format(money=self.money_name(view.bucket))

    def fill(self, view: SessionView, body: BoxLayout, buttons: BoxLayout) -> None:
        _ = self._
        body.add_widget(Text(_("Insert your notes"), size=30, bold=True, height=50))
        body.add_widget(Text(_("Inserted"), size=20, color=MUTED, height=30))
        body.add_widget(Text(yen(view.inserted), size=56, bold=True))
        if view.largest_note:
            largest = _("Largest note taken now: {amount}").format(amount=yen(view.largest_note))
        else:
            largest = _("This money cannot be charged any further.")
        # A note the acceptor refused is most often one that no longer fits: the largest note
        # still taken is then what the member needs to read.
        refused = view.notice is Notice.NOTE_REJECTED
        body.add_widget(
            Text(largest, size=20, height=34, color=ALERT if refused else INK, bold=refused)
        )
        if view.notes_off:
            off = _("{notes} notes are not taken here.").format(
                notes=" ".join(yen(v) for v in view.notes_off)
            )
            body.add_widget(Text(off, size=20, height=34, color=MUTED))
        if view.notice in (Notice.NOTE_RETURNED, Notice.NOTE_REJECTED):
            if view.notice is Notice.NOTE_REJECTED:
                message = _("A note was not accepted: please take it back.")
            elif view.notice_amount:
                message = _("Your {amount} note was handed back: please take it.").format(
                    amount=yen(view.notice_amount)
                )
            else:
                message = _("A note was handed back: please take it.")
            body.add_widget(Text(message, size=20, height=34, color=ALERT, bold=True))
        intents = self.host.intents
        if view.inserted:
            buttons.add_widget(KioskButton(_("Done"), intents.finish))
        else:
            buttons.add_widget(KioskButton(_("Cancel"), intents.cancel, color=NEUTRAL))
