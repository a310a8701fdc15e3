"""The front panel's pin names and gpiozero's pin factories: one list for the GPIO driver
(:mod:`hardware.gpio`) and the kiosk's configuration check. Pure: no gpiozero import (checking
a configuration loads no GPIO library)."""

from __future__ import annotations

# The panel's devices, each on one pin (``[gpio]`` keys, ``GpioConfig`` fields).
PIN_NAMES = ("led_ready", "led_fault", "buzzer", "service_key", "door_switch", "acceptor_power")
MOCK = "mock"
# Tried in gpiozero's order on a Pi when none is named. gpiozero's last resort, its experimental
# "native" factory, is used only when named: a kiosk should not run on it by accident.
PI_FACTORIES = ("lgpio", "rpigpio", "pigpio")
# gpiozero's own pin factories (plugins add theirs as entry points); "mock": no real pins.
FACTORIES = (*PI_FACTORIES, "native", MOCK)
DOOR_CLOSED_WHEN_PRESSED = True  # the door switch's default: a broken wire reads "door open"
