"""The kiosk's front panel on GPIO: the LEDs follow the session, the buzzer sounds the one cue
rule (:mod:`kiosk.core.cues`); the cash-box door and the service key take the kiosk out of
service."""

from __future__ import annotations

from collections.abc import Callable

from hardware.gpio import GpioEvent, GpioEventKind, KioskGpio, Sound, Status
from kiosk.core.cues import Cue, cue_for
from kiosk.core.faults import FaultSource
from kiosk.core.session import State
from kiosk.core.view import SessionView
from kiosk.engine.loop import Engine

# What the buzzer plays for each cue (the rule is kiosk.core.cues'). Its beeps ask for
# attention; it has no pattern for success: that shows on the screen (and in the speaker).
BUZZER: dict[Cue, Sound | None] = {
    Cue.CARD_READ: Sound.TOUCH,
    Cue.COUNTED: Sound.NOTE,
    Cue.DONE: None,
    Cue.ERROR: Sound.ERROR,
}


class Panel:
    """Connects a :class:`KioskGpio` to the engine (both directions)."""

    def __init__(self, gpio: KioskGpio, engine: Engine) -> None:
        self.gpio, self.engine = gpio, engine
        self._last: SessionView | None = None
        self.on_key: Callable[[bool], None] | None = None  # the staff menu's (GPIO thread)
        engine.listeners.append(self.show)
        gpio.add_listener(self.switch)

    def show(self, view: SessionView) -> None:
        last, self._last = self._last, view
        if view.state is State.OUT_OF_SERVICE:
            self.gpio.set_status(Status.FAULT)
        elif view.state is State.IDLE:
            self.gpio.set_status(Status.READY)
        else:
            self.gpio.set_status(Status.BUSY)
        cue = cue_for(last, view) if last is not None else None  # the first view: no sound
        sound = BUZZER[cue] if cue is not None else None
        if sound is not None:
            self.gpio.beep(sound)

    def switch(self, event: GpioEvent) -> None:
        """On the GPIO thread: hand the switch change to the engine."""
        kind = event.kind
        if kind in (GpioEventKind.DOOR_OPEN, GpioEventKind.DOOR_CLOSED):
            open_ = kind is GpioEventKind.DOOR_OPEN
            self.engine.inbox.device_fault(
                FaultSource.DOOR, "cash-box door open" if open_ else None
            )
        elif kind in (GpioEventKind.SERVICE_KEY_ON, GpioEventKind.SERVICE_KEY_OFF):
            on = kind is GpioEventKind.SERVICE_KEY_ON
            self.engine.inbox.device_fault(FaultSource.SERVICE_KEY, "staff service" if on else None)
            if self.on_key is not None:
                self.on_key(on)
