"""Kiosk GPIO on gpiozero: status LEDs, buzzer, service key and door switches, acceptor power.

Pins come from :class:`GpioConfig` (gpiozero pin names: ``17``, ``"GPIO17"``, ``"BOARD11"``).
The pin factory is the seam: the one named by ``GpioConfig.pin_factory`` (else by
``GPIOZERO_PIN_FACTORY``; ``"mock"`` for gpiozero's mock pins), else on a Raspberry Pi the first
of lgpio, rpigpio, pigpio that loads (none loading is an error saying what to install), else,
off a Pi, mock pins with a warning; or the factory passed in.
Switch listeners run on gpiozero's thread (with mock pins: the thread that drives the pin), so
an asyncio engine hands events over with ``loop.call_soon_threadsafe``.
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
import threading
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from gpiozero import LED, Button, Buzzer, Device, DigitalOutputDevice
from gpiozero.exc import BadPinFactory
from gpiozero.pins import Factory
from gpiozero.pins.mock import MockFactory

from hardware.gpio_pins import DOOR_CLOSED_WHEN_PRESSED, MOCK, PI_FACTORIES, PIN_NAMES
from hardware.listeners import notify

log = logging.getLogger("paykiosk.gpio")

Pin = int | str


class Status(StrEnum):
    OFF = "off"
    READY = "ready"  # green steady
    BUSY = "busy"  # green blinking
    FAULT = "fault"  # red blinking (a fast green blink when there is no red LED)


class Sound(StrEnum):
    TOUCH = "touch"  # one short beep
    NOTE = "note"  # two short beeps: a note was accepted
    ERROR = "error"  # three long beeps


class GpioEventKind(StrEnum):
    SERVICE_KEY_ON = "service_key_on"  # staff mode requested
    SERVICE_KEY_OFF = "service_key_off"
    DOOR_OPEN = "door_open"  # cash-box door open: out of service
    DOOR_CLOSED = "door_closed"


@dataclass(frozen=True)
class GpioEvent:
    kind: GpioEventKind
    at: float  # time.monotonic()

    def __str__(self) -> str:
        return self.kind.value


GpioListener = Callable[[GpioEvent], None]
Blink = tuple[float, float]  # on, off seconds (forever)
_LEDS: dict[Status, tuple[bool | Blink, bool | Blink]] = {  # status → (ready LED, fault LED)
    Status.OFF: (False, False),
    Status.READY: (True, False),
    Status.BUSY: ((0.25, 0.25), False),
    Status.FAULT: (False, (0.5, 0.5)),
}
_FAULT_ON_ONE_LED: Blink = (0.1, 0.1)
_SOUNDS: dict[Sound, tuple[float, float, int]] = {  # on, off seconds, beeps
    Sound.TOUCH: (0.08, 0.0, 1),
    Sound.NOTE: (0.06, 0.08, 2),
    Sound.ERROR: (0.3, 0.15, 3),
}


@dataclass(frozen=True)
class GpioConfig:
    enabled: bool = True
    pin_factory: str | None = None  # None: lgpio/rpigpio/pigpio on a Pi, else mock; or "mock"
    led_ready: Pin | None = None  # green status LED
    led_fault: Pin | None = None  # red status LED
    buzzer: Pin | None = None  # active buzzer
    service_key: Pin | None = None  # key switch to ground (internal pull-up): closed = staff
    door_switch: Pin | None = None  # switch to ground, closed while the door is shut
    door_closed_when_pressed: bool = DOOR_CLOSED_WHEN_PRESSED
    acceptor_power: Pin | None = None  # relay output that cuts the acceptor's supply when active
    acceptor_power_active_high: bool = True
    bounce_time: float | None = 0.05  # seconds, for the two switches

    def __post_init__(self) -> None:
        used: dict[str, str] = {}
        for name in PIN_NAMES:
            pin = getattr(self, name)
            if pin is None:
                continue
            key = str(pin).upper().removeprefix("GPIO")
            if key in used:
                raise ValueError(f"gpio.{name}: pin {pin} is already gpio.{used[key]}")
            used[key] = name


DEVICE_TREE_MODEL = Path("/proc/device-tree/model")
INSTALL_HINT = (
    "install lgpio in the kiosk's venv (apt-get install swig liblgpio-dev, then "
    "pip install lgpio), or make the venv with --system-site-packages and "
    'apt-get install python3-lgpio; to run without GPIO set [gpio] pin_factory = "mock"'
)


def raspberry_pi_model(model_file: Path = DEVICE_TREE_MODEL) -> str | None:
    """The board's model from the device tree if it is a Raspberry Pi, else None."""
    try:
        model = model_file.read_bytes().decode(errors="replace").strip("\x00 \n")
    except OSError:
        return None
    return model if "Raspberry Pi" in model else None


def make_pin_factory(
    name: str | None = None,
    *,
    model_file: Path = DEVICE_TREE_MODEL,
    environ: Mapping[str, str] | None = None,
) -> Factory:
    """The gpiozero pin factory for the kiosk.

    ``name`` (``[gpio] pin_factory``), else ``GPIOZERO_PIN_FACTORY`` in ``environ``: that
    factory (``"mock"``: gpiozero's mock pins), and :class:`BadPinFactory` if it cannot load.
    Neither set: the factory already set on gpiozero's ``Device`` for the whole process, if
    any; else on a Raspberry Pi (``model_file``) the first of :data:`PI_FACTORIES` that loads,
    and :class:`BadPinFactory` saying what to install if none does; off a Pi, mock pins with a
    warning.
    """
    environ = os.environ if environ is None else environ
    source = "[gpio] pin_factory" if name else "GPIOZERO_PIN_FACTORY"
    chosen = name or environ.get("GPIOZERO_PIN_FACTORY") or None
    if chosen:
        if chosen.lower() == MOCK:
            log.warning("GPIO on gpiozero's mock pins (%s): no real pin is driven", source)
            return MockFactory()
        entry = _factory_entry(chosen, source)
        try:
            return _load(entry)
        except Exception as error:
            raise BadPinFactory(
                f"{source} = {chosen!r}: the pin factory cannot load "
                f"({type(error).__name__}: {error}); {INSTALL_HINT}"
            ) from error
    if Device.pin_factory is not None:  # chosen for the whole process (gpiozero's own seam)
        return Device.pin_factory
    model = raspberry_pi_model(model_file)
    if model is None:
        log.warning("no GPIO on this machine (not a Raspberry Pi): using gpiozero's mock pins")
        return MockFactory()
    failures: list[str] = []
    for candidate in PI_FACTORIES:
        try:
            return _load(_factory_entry(candidate, "gpiozero"))
        except Exception as error:
            failures.append(f"{candidate}: {type(error).__name__}: {error}")
    raise BadPinFactory(
        f"{model}: no GPIO pin factory could be loaded ({'; '.join(failures)}); {INSTALL_HINT}"
    )


def _factory_entry(name: str, source: str) -> importlib.metadata.EntryPoint:
    """The named gpiozero pin factory's entry point (names are case-insensitive, as in
    gpiozero)."""
    entries = importlib.metadata.entry_points(group="gpiozero_pin_factories")
    for entry in entries:
        if entry.name == name.lower():
            return entry
    known = ", ".join(sorted(entry.name for entry in entries))
    raise ValueError(f"{source} {name!r} is not a gpiozero pin factory (one of {known})")


def _load(entry: importlib.metadata.EntryPoint) -> Factory:
    """Import and make the factory: raises whatever its library raises when it cannot."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # gpiozero's own fallback warnings
        return entry.load()()


class KioskGpio:
    """The kiosk's GPIO devices. With ``enabled=False`` (or no pins) every call is a no-op."""

    def __init__(
        self,
        config: GpioConfig,
        factory: Factory | None = None,
        *,
        model_file: Path = DEVICE_TREE_MODEL,
    ) -> None:
        """``factory``: the pin factory to use, else chosen at :meth:`start` (see
        :func:`make_pin_factory`; ``model_file`` is where a Pi's model is read)."""
        self.config = config
        self.factory = factory
        self.model_file = model_file
        self._listeners: list[GpioListener] = []
        self._lock = threading.Lock()
        self._status = Status.OFF
        self._ready: LED | None = None
        self._fault: LED | None = None
        self._buzzer: Buzzer | None = None
        self._key: Button | None = None
        self._door: Button | None = None
        self._power: DigitalOutputDevice | None = None

    def add_listener(self, listener: GpioListener) -> None:
        self._listeners.append(listener)

    def start(self) -> None:
        """Claim the pins, then report the switches' current state (one event each)."""
        config = self.config
        if not config.enabled:
            log.info("GPIO disabled by configuration")
            return
        if self.factory is None:
            self.factory = make_pin_factory(config.pin_factory, model_file=self.model_file)
        factory = self.factory
        if config.led_ready is not None:
            self._ready = LED(config.led_ready, pin_factory=factory)
        if config.led_fault is not None:
            self._fault = LED(config.led_fault, pin_factory=factory)
        if config.buzzer is not None:
            self._buzzer = Buzzer(config.buzzer, pin_factory=factory)
        if config.acceptor_power is not None:
            self._power = DigitalOutputDevice(
                config.acceptor_power,
                active_high=config.acceptor_power_active_high,
                initial_value=False,
                pin_factory=factory,
            )
        switch: dict[str, Any] = {
            "pull_up": True,
            "bounce_time": config.bounce_time,
            "pin_factory": factory,
        }
        if config.service_key is not None:
            self._key = Button(config.service_key, **switch)
            self._key.when_pressed = lambda: self._emit(GpioEventKind.SERVICE_KEY_ON)
            self._key.when_released = lambda: self._emit(GpioEventKind.SERVICE_KEY_OFF)
        if config.door_switch is not None:
            self._door = Button(config.door_switch, **switch)
            self._door.when_pressed = lambda: self._door_changed()
            self._door.when_released = lambda: self._door_changed()
        log.info("GPIO started with %s", type(factory).__name__)
        self.set_status(self._status)
        if self._key is not None:
            on = self._key.is_pressed
            self._emit(GpioEventKind.SERVICE_KEY_ON if on else GpioEventKind.SERVICE_KEY_OFF)
        if self._door is not None:
            self._door_changed()

    def close(self) -> None:
        """Release every pin (outputs go back to inputs: the relay must default to power on)."""
        for name in ("_ready", "_fault", "_buzzer", "_key", "_door", "_power"):
            device = getattr(self, name)
            if device is not None:
                device.close()
                setattr(self, name, None)

    # ---- outputs ---------------------------------------------------------------------
    @property
    def status(self) -> Status:
        return self._status

    def set_status(self, status: Status) -> None:
        """Show ready / busy / fault (or nothing) on the status LED(s)."""
        with self._lock:
            self._status = status
            ready, fault = _LEDS[status]
            if self._fault is None and status is Status.FAULT:
                ready = _FAULT_ON_ONE_LED
            _show(self._ready, ready)
            _show(self._fault, fault)

    def beep(self, sound: Sound) -> None:
        """Play a beep pattern in the background (a new one cuts the current one short)."""
        if self._buzzer is not None:
            on, off, count = _SOUNDS[sound]
            self._buzzer.beep(on_time=on, off_time=off, n=count, background=True)

    def power_cycle_acceptor(self, off_time: float = 3.0) -> bool:
        """Cut the bill acceptor's power for ``off_time`` seconds, in the background. Returns
        False when no power output is configured."""
        if self._power is None:
            return False
        log.warning("power-cycling the bill acceptor (%.1f s off)", off_time)
        self._power.blink(on_time=off_time, off_time=0.0, n=1, background=True)
        return True

    # ---- inputs ----------------------------------------------------------------------
    @property
    def service_key_on(self) -> bool | None:
        """None when there is no service key switch."""
        return None if self._key is None else bool(self._key.is_pressed)

    @property
    def door_open(self) -> bool | None:
        """None when there is no door switch."""
        if self._door is None:
            return None
        return bool(self._door.is_pressed) != self.config.door_closed_when_pressed

    def _door_changed(self) -> None:
        kind = GpioEventKind.DOOR_OPEN if self.door_open else GpioEventKind.DOOR_CLOSED
        self._emit(kind)

    def _emit(self, kind: GpioEventKind) -> None:
        event = GpioEvent(kind, time.monotonic())
        log.info("gpio event: %s", event)
        notify(self._listeners, event, log)


def _show(led: LED | None, how: bool | Blink) -> None:
    if led is None:
        return
    if how is True:
        led.on()
    elif how is False:
        led.off()
    else:
        led.blink(on_time=how[0], off_time=how[1], background=True)
