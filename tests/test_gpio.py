"""Kiosk GPIO on gpiozero's mock pins: switches in, LEDs / buzzer / acceptor power out."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory, MockPin

from hardware.gpio import GpioConfig, GpioEventKind, KioskGpio, Sound, Status
from tests.support import EventLog, wait_until

PINS = GpioConfig(
    led_ready=17,
    led_fault=27,
    buzzer=22,
    service_key=5,
    door_switch=6,
    acceptor_power=26,
    bounce_time=None,
)
SETTLE = 0.5  # after a finite pattern ends: time for a (wrong) extra cycle to show up


@pytest.fixture
def factory() -> MockFactory:
    return MockFactory()


def started(config: GpioConfig, factory: MockFactory) -> tuple[KioskGpio, EventLog]:
    gpio = KioskGpio(config, factory)
    events = EventLog()
    gpio.add_listener(events)
    gpio.start()
    return gpio, events


@pytest.fixture
def kiosk(factory: MockFactory) -> Iterator[tuple[KioskGpio, EventLog]]:
    gpio, events = started(PINS, factory)
    yield gpio, events
    gpio.close()


def states(pin: MockPin) -> list[bool]:
    return [bool(s.state) for s in pin.states]


def kinds(events: EventLog) -> list[GpioEventKind]:
    return [e.kind for e in events.events]


# ---- inputs --------------------------------------------------------------------------
def test_switch_states_are_reported_at_start(kiosk: tuple[KioskGpio, EventLog]) -> None:
    gpio, events = kiosk
    # Both switches open (pulled up): key off, and the door reads open (fail-safe wiring).
    assert kinds(events) == [GpioEventKind.SERVICE_KEY_OFF, GpioEventKind.DOOR_OPEN]
    assert gpio.service_key_on is False and gpio.door_open is True


def test_service_key_turns_staff_mode_on_and_off(
    kiosk: tuple[KioskGpio, EventLog], factory: MockFactory
) -> None:
    gpio, events = kiosk
    key = factory.pin(5)
    key.drive_low()  # key turned: contact closes to ground
    events.wait(GpioEventKind.SERVICE_KEY_ON)
    assert gpio.service_key_on is True
    key.drive_high()
    events.wait(GpioEventKind.SERVICE_KEY_OFF, 2)
    assert kinds(events)[2:] == [GpioEventKind.SERVICE_KEY_ON, GpioEventKind.SERVICE_KEY_OFF]


def test_door_switch_drives_door_events(
    kiosk: tuple[KioskGpio, EventLog], factory: MockFactory
) -> None:
    gpio, events = kiosk
    door = factory.pin(6)
    door.drive_low()  # door shut: the switch is held closed
    events.wait(GpioEventKind.DOOR_CLOSED)
    assert gpio.door_open is False
    door.drive_high()  # door opened
    events.wait(GpioEventKind.DOOR_OPEN, 2)
    assert gpio.door_open is True
    assert kinds(events)[2:] == [GpioEventKind.DOOR_CLOSED, GpioEventKind.DOOR_OPEN]


def test_door_switch_wired_the_other_way(factory: MockFactory) -> None:
    config = GpioConfig(door_switch=6, door_closed_when_pressed=False, bounce_time=None)
    gpio, events = started(config, factory)
    try:
        assert kinds(events) == [GpioEventKind.DOOR_CLOSED]
        factory.pin(6).drive_low()
        events.wait(GpioEventKind.DOOR_OPEN)
        assert gpio.door_open is True
    finally:
        gpio.close()


# ---- outputs -------------------------------------------------------------------------
def test_status_leds(kiosk: tuple[KioskGpio, EventLog], factory: MockFactory) -> None:
    gpio, _ = kiosk
    green, red = factory.pin(17), factory.pin(27)
    assert states(green)[-1] is False and states(red)[-1] is False

    gpio.set_status(Status.BUSY)
    green.clear_states()
    wait_until(lambda: len(green.states) >= 3, 10, "the ready LED to blink")
    assert not any(states(red))

    gpio.set_status(Status.FAULT)
    red.clear_states()
    wait_until(lambda: len(red.states) >= 3, 10, "the fault LED to blink")
    assert states(green)[-1] is False

    gpio.set_status(Status.READY)
    green.clear_states()
    time.sleep(SETTLE)
    assert states(green) == [True] and states(red)[-1] is False  # steady, no blinking
    assert gpio.status is Status.READY


def test_fault_blinks_the_only_led(factory: MockFactory) -> None:
    gpio, _ = started(GpioConfig(led_ready=17), factory)
    try:
        gpio.set_status(Status.FAULT)
        green = factory.pin(17)
        green.clear_states()
        wait_until(lambda: len(green.states) >= 3, 10, "the only LED to blink")
    finally:
        gpio.close()


@pytest.mark.parametrize(("sound", "beeps"), [(Sound.TOUCH, 1), (Sound.NOTE, 2), (Sound.ERROR, 3)])
def test_buzzer_patterns(
    kiosk: tuple[KioskGpio, EventLog], factory: MockFactory, sound: Sound, beeps: int
) -> None:
    gpio, _ = kiosk
    buzzer = factory.pin(22)
    buzzer.clear_states()
    gpio.beep(sound)
    wait_until(lambda: len(buzzer.states) >= 1 + 2 * beeps, 10, f"{beeps} beeps")
    time.sleep(SETTLE)
    assert states(buzzer) == [False] + [True, False] * beeps


def test_acceptor_power_cycle(kiosk: tuple[KioskGpio, EventLog], factory: MockFactory) -> None:
    gpio, _ = kiosk
    relay = factory.pin(26)
    relay.clear_states()
    assert gpio.power_cycle_acceptor(off_time=0.05)
    wait_until(lambda: len(relay.states) >= 3, 10, "power cut and restored")
    time.sleep(SETTLE)
    assert states(relay) == [False, True, False]


def test_acceptor_power_relay_active_low(factory: MockFactory) -> None:
    config = GpioConfig(acceptor_power=26, acceptor_power_active_high=False)
    gpio, _ = started(config, factory)
    try:
        relay = factory.pin(26)
        relay.clear_states()
        assert gpio.power_cycle_acceptor(off_time=0.05)
        wait_until(lambda: len(relay.states) >= 3, 10, "power cut and restored")
        assert states(relay) == [True, False, True]
    finally:
        gpio.close()


# ---- configuration -------------------------------------------------------------------
def test_disabled_gpio_claims_no_pins_and_does_nothing(factory: MockFactory) -> None:
    gpio, events = started(GpioConfig(**{**PINS.__dict__, "enabled": False}), factory)
    gpio.set_status(Status.FAULT)
    gpio.beep(Sound.ERROR)
    assert gpio.power_cycle_acceptor() is False
    assert gpio.door_open is None and gpio.service_key_on is None
    assert not events.events and not factory.pins
    gpio.close()


def test_mock_pins_are_used_off_the_pi() -> None:
    model = Path("/proc/device-tree/model")
    if model.exists() and "Raspberry Pi" in model.read_text(errors="replace"):
        pytest.skip("on a Pi the real pin factory is used")
    gpio = KioskGpio(GpioConfig(led_ready=17))
    gpio.start()
    try:
        assert isinstance(gpio.factory, MockFactory)
        gpio.set_status(Status.READY)
        assert gpio.factory.pin(17).state
    finally:
        gpio.close()


def test_config_rejects_a_pin_used_twice() -> None:
    with pytest.raises(ValueError, match=r"gpio.buzzer: pin GPIO17 is already gpio.led_ready"):
        GpioConfig(led_ready=17, buzzer="GPIO17")
