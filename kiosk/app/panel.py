"""The kiosk's front panel on GPIO: LEDs and buzzer follow the session; the cash-box door and
the service key take the kiosk out of service."""

from __future__ import annotations

from collections.abc import Callable

from hardware.gpio import GpioEvent, GpioEventKind, KioskGpio, Sound, Status
from kiosk.core.events import CreditOutcome
from kiosk.core.session import State
from kiosk.core.view import SessionView
from kiosk.engine.loop import Engine

_ERRORS = {State.UNKNOWN_CARD, State.ACCOUNT_SUSPENDED, State.WALLET_UNAVAILABLE}


_ERROR_OUTCOMES = (CreditOutcome.REFUSED, CreditOutcome.KIOSK_FAULT)


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
        if last is None or (last.state == view.state and last.inserted == view.inserted):
            return
        if view.state is State.LOOKING_UP:
            self.gpio.beep(Sound.TOUCH)
        elif view.inserted > last.inserted:
            self.gpio.beep(Sound.NOTE)
        elif (
            view.state in _ERRORS
            or view.state is State.OUT_OF_SERVICE
            or (view.state is State.DONE and view.outcome in _ERROR_OUTCOMES)
        ):
            self.gpio.beep(Sound.ERROR)

    def switch(self, event: GpioEvent) -> None:
        """On the GPIO thread: hand the switch change to the engine."""
        kind = event.kind
        if kind in (GpioEventKind.DOOR_OPEN, GpioEventKind.DOOR_CLOSED):
            open_ = kind is GpioEventKind.DOOR_OPEN
            self.engine.inbox.device_fault("door", "cash-box door open" if open_ else None)
        elif kind in (GpioEventKind.SERVICE_KEY_ON, GpioEventKind.SERVICE_KEY_OFF):
            on = kind is GpioEventKind.SERVICE_KEY_ON
            self.engine.inbox.device_fault("service", "staff service" if on else None)
            if self.on_key is not None:
                self.on_key(on)
