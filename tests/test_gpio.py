"""Kiosk GPIO on gpiozero's mock pins: switches in, LEDs / buzzer / acceptor power out."""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from gpiozero import Device
from gpiozero.exc import BadPinFactory
from gpiozero.pins.mock import MockFactory, MockPin

import hardware.gpio
from hardware.gpio import GpioConfig, GpioEventKind, KioskGpio, Sound, Status
from tests.support.common import EventLog, wait_until

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


# ---- the pin factory -----------------------------------------------------------------
PI_4 = b"Raspberry Pi 4 Model B Rev 1.4\x00"  # as /proc/device-tree/model reads on a Pi 4


@pytest.fixture
def no_factory_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither GPIOZERO_PIN_FACTORY nor a process-wide factory: the kiosk must choose."""
    monkeypatch.delenv("GPIOZERO_PIN_FACTORY", raising=False)
    monkeypatch.setattr(Device, "pin_factory", None)


def model_file(tmp_path: Path, model: bytes | None) -> Path:
    """A stand-in for /proc/device-tree/model (None: absent, as on a PC)."""
    path = tmp_path / "model"
    if model is not None:
        path.write_bytes(model)
    return path


def needs_no_real_gpio_library() -> None:
    if any(importlib.util.find_spec(name) for name in ("lgpio", "RPi", "pigpio")):
        pytest.skip("a real GPIO library is installed here: a real factory might load")


def start_on(model: Path, config: GpioConfig) -> KioskGpio:
    gpio = KioskGpio(config, model_file=model)
    gpio.start()
    return gpio


@pytest.mark.usefixtures("no_factory_in_env")
@pytest.mark.parametrize("model", [None, b"Hardkernel ODROID-C4\x00"], ids=["pc", "other-board"])
def test_mock_pins_are_used_off_the_pi(
    tmp_path: Path, model: bytes | None, caplog: pytest.LogCaptureFixture
) -> None:
    gpio = start_on(model_file(tmp_path, model), GpioConfig(led_ready=17))
    try:
        assert isinstance(gpio.factory, MockFactory)
        assert "(not a Raspberry Pi): using gpiozero's mock pins" in caplog.text
        gpio.set_status(Status.READY)
        assert gpio.factory.pin(17).state
    finally:
        gpio.close()


@pytest.mark.usefixtures("no_factory_in_env")
def test_on_a_pi_no_real_pin_factory_is_an_error_not_mock_pins(tmp_path: Path) -> None:
    needs_no_real_gpio_library()
    gpio = KioskGpio(GpioConfig(led_ready=17), model_file=model_file(tmp_path, PI_4))
    with pytest.raises(BadPinFactory) as caught:
        gpio.start()
    message = str(caught.value)
    assert message.startswith("Raspberry Pi 4 Model B Rev 1.4: no GPIO pin factory")
    for hint in ("lgpio:", "pip install lgpio", "swig liblgpio-dev", "python3-lgpio"):
        assert hint in message
    assert "--system-site-packages" in message and 'pin_factory = "mock"' in message
    assert gpio.factory is None and gpio.status is Status.OFF
    gpio.close()


@pytest.mark.usefixtures("no_factory_in_env")
def test_on_a_pi_mock_pins_when_the_config_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = GpioConfig(led_ready=17, pin_factory="mock")
    gpio = start_on(model_file(tmp_path, PI_4), config)
    try:
        assert isinstance(gpio.factory, MockFactory)
        assert "mock pins ([gpio] pin_factory)" in caplog.text
        gpio.set_status(Status.READY)
        assert gpio.factory.pin(17).state
    finally:
        gpio.close()


@pytest.mark.usefixtures("no_factory_in_env")
def test_on_a_pi_mock_pins_when_the_environment_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "mock")
    gpio = start_on(model_file(tmp_path, PI_4), GpioConfig(led_ready=17))
    try:
        assert isinstance(gpio.factory, MockFactory)
        assert "mock pins (GPIOZERO_PIN_FACTORY)" in caplog.text
    finally:
        gpio.close()


@pytest.mark.usefixtures("no_factory_in_env")
def test_on_a_pi_the_first_factory_that_loads_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    needs_no_real_gpio_library()
    # "mock" stands in for a real factory that loads, after lgpio that cannot.
    monkeypatch.setattr(hardware.gpio, "PI_FACTORIES", ("lgpio", "mock"))
    gpio = start_on(model_file(tmp_path, PI_4), GpioConfig(led_ready=17))
    try:
        assert isinstance(gpio.factory, MockFactory)
    finally:
        gpio.close()


@pytest.mark.usefixtures("no_factory_in_env")
@pytest.mark.parametrize("model", [None, PI_4], ids=["pc", "pi"])
def test_a_named_factory_that_cannot_load_is_an_error_anywhere(
    tmp_path: Path, model: bytes | None
) -> None:
    needs_no_real_gpio_library()
    gpio = KioskGpio(
        GpioConfig(led_ready=17, pin_factory="lgpio"), model_file=model_file(tmp_path, model)
    )
    with pytest.raises(
        BadPinFactory, match=r"\[gpio\] pin_factory = 'lgpio': .* swig liblgpio-dev"
    ):
        gpio.start()


def test_an_unknown_factory_name_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "lgpoi")
    gpio = KioskGpio(GpioConfig(led_ready=17), model_file=model_file(tmp_path, PI_4))
    with pytest.raises(ValueError, match=r"GPIOZERO_PIN_FACTORY 'lgpoi' is not a gpiozero pin"):
        gpio.start()


def test_config_rejects_a_pin_used_twice() -> None:
    with pytest.raises(ValueError, match=r"gpio.buzzer: pin GPIO17 is already gpio.led_ready"):
        GpioConfig(led_ready=17, buzzer="GPIO17")
