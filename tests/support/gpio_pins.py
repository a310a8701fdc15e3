"""gpiozero's mock pins wired as the kiosk's front-panel switches (the one part of the kiosk that
cannot be real in a test): the pins the test configuration gives the door switch and the service
key, that ``[gpio]`` section, and a pin that behaves like a switch to ground."""

from __future__ import annotations

from gpiozero.pins.mock import MockPin

DOOR, KEY = 6, 5
GPIO = f"""
[gpio]
enabled = true
led_ready = 17
led_fault = 27
service_key = {KEY}
door_switch = {DOOR}
"""


class SwitchPin(MockPin):  # type: ignore[misc]
    """A pin wired to a switch to ground: a closed switch wins over the internal pull-up
    (gpiozero's mock pin goes high when the pull-up is set, whatever was driven before)."""

    closed = False

    def _set_pull(self, value: str) -> None:
        super()._set_pull(value)
        if self.closed:
            self.drive_low()

    def close_switch(self) -> None:
        self.closed = True
        self.drive_low()

    def open_switch(self) -> None:
        self.closed = False
        self.drive_high()
