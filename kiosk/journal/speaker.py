"""The speaker as staff set it from the menu: the voice on or off, and the volume. Kept in the
journal so it holds across restarts (and power cuts) and every change says who made it; what
staff never set is the configuration's (``[ui] voice``, ``volume``)."""

from __future__ import annotations

import time
from dataclasses import replace

from kiosk.core.cues import SpeakerSettings
from kiosk.journal.db import Database

VOLUME_STEP = 10  # the menu's − and + buttons


class Speaker:
    """The staff's speaker settings over the configuration's defaults."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def settings(self, defaults: SpeakerSettings) -> SpeakerSettings:
        found = self.db.query("SELECT name, value FROM speaker")
        rows = {r["name"]: int(r["value"]) for r in found}
        current = defaults
        if "voice" in rows:
            current = replace(current, voice=bool(rows["voice"]))
        if "volume" in rows:
            current = replace(current, volume=max(0, min(100, rows["volume"])))
        return current

    def set_voice(self, on: bool, who: str, defaults: SpeakerSettings) -> SpeakerSettings:
        """Switch the voice on or off (journaled with ``who``); the settings now."""
        return self._set("voice", int(on), "voice " + ("on" if on else "off"), who, defaults)

    def set_volume(self, volume: int, who: str, defaults: SpeakerSettings) -> SpeakerSettings:
        """Set the volume (clamped to 0-100; journaled with ``who``); the settings now."""
        volume = max(0, min(100, volume))
        return self._set("volume", volume, f"volume {volume} %", who, defaults)

    def _set(
        self, name: str, value: int, what: str, who: str, defaults: SpeakerSettings
    ) -> SpeakerSettings:
        now = time.time()
        with self.db.write() as tx:
            tx.execute(
                "INSERT INTO speaker (name, value, by, at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value, by = excluded.by, "
                "at = excluded.at",
                (name, value, who, now),
            )
            tx.execute(
                "INSERT INTO events (at, kind, detail) VALUES (?, ?, ?)",
                (now, "staff", f"{who}: speaker {what}"),
            )
        return self.settings(defaults)
