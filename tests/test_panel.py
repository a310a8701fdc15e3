"""The front panel wired to the real engine: the door and the service key take the kiosk out
of service; the LEDs follow. GPIO on gpiozero's mock pins (the one part that cannot be real)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from hardware.gpio import GpioConfig, KioskGpio, Status
from hardware.id003.sim.simulator import AcceptorSimulator
from kiosk.app.panel import Panel
from kiosk.core.faults import Fault, FaultSource
from kiosk.core.session import State
from tests.support.common import wait_until
from tests.support.engine import EngineHarness
from tests.support.wallet import Sandbox


@pytest.fixture
def panel(
    tmp_path: Path, sim: AcceptorSimulator, wallet: Sandbox
) -> Iterator[tuple[EngineHarness, KioskGpio, MockFactory]]:
    factory = MockFactory()
    harness = EngineHarness(tmp_path, sim, wallet)
    gpio = KioskGpio(
        GpioConfig(
            led_ready=17, led_fault=27, buzzer=22, service_key=5, door_switch=6, bounce_time=None
        ),
        factory,
    )
    assert harness.engine is not None
    Panel(gpio, harness.engine)
    gpio.start()
    factory.pin(6).drive_low()  # the door is shut
    harness.wait_state(State.IDLE)
    wait_until(lambda: gpio.status is Status.READY, 5, "ready LED")
    yield harness, gpio, factory
    harness.stop()  # no more LED changes from the engine's thread…
    gpio.close()  # …before the pins are released


def test_door_open_takes_the_kiosk_out_of_service_and_back(panel) -> None:  # type: ignore[no-untyped-def]
    harness, gpio, factory = panel
    factory.pin(6).drive_high()  # door opened
    view = harness.wait_state(State.OUT_OF_SERVICE)
    assert view.fault == Fault(FaultSource.DOOR, "cash-box door open")
    assert gpio.status is Status.FAULT and harness.sim.device.inhibited
    factory.pin(6).drive_low()  # door shut
    harness.wait_state(State.IDLE)
    wait_until(lambda: gpio.status is Status.READY, 5, "ready LED again")


def test_the_service_key_holds_the_kiosk_out_of_service(panel, wallet: Sandbox) -> None:  # type: ignore[no-untyped-def]
    harness, gpio, factory = panel
    factory.pin(5).drive_low()  # staff turn the service key
    key = Fault(FaultSource.SERVICE_KEY, "staff service")
    harness.wait_view(lambda v: v.fault == key, what="staff service")
    factory.pin(6).drive_high()  # and open the cash-box door
    harness.wait_view(lambda v: v.fault is not None and v.fault.source is FaultSource.DOOR)
    factory.pin(6).drive_low()  # door shut: the key still holds the kiosk out of service
    view = harness.wait_view(lambda v: v.fault == key, what="key holds")
    assert view.state is State.OUT_OF_SERVICE and gpio.status is Status.FAULT
    harness.touch(wallet.card_of(wallet.member({})))  # a member touches: no session
    harness.sim.insert(1000)  # and feeds a note: handed back, not taken
    assert harness.sim.wait_for(lambda d: not d.busy, 5)
    assert harness.sim.stacked == [] and harness.sim.device.inhibited
    assert harness.views[-1].state is State.OUT_OF_SERVICE
    factory.pin(5).drive_high()  # key off: back in service
    harness.wait_state(State.IDLE)
    wait_until(lambda: gpio.status is Status.READY, 5, "ready LED again")


def test_a_member_sees_busy_and_hears_the_touch(panel, wallet: Sandbox) -> None:  # type: ignore[no-untyped-def]
    harness, gpio, factory = panel
    user = wallet.member({})
    harness.touch(wallet.card_of(user))
    harness.wait_state(State.ACCOUNT)
    assert gpio.status is Status.BUSY
    assert any(s.state for s in factory.pin(22).states)  # the buzzer sounded
