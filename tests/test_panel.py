"""The front panel wired to the real engine: the door and the service key take the kiosk out
of service; the LEDs follow; the buzzer and the speaker sound the one cue rule on the engine's
own views. GPIO on gpiozero's mock pins (the one part that cannot be real)."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory, MockPin

from hardware.gpio import GpioConfig, KioskGpio, Status
from hardware.id003.sim.process import SimulatorProcess
from kiosk.app.panel import Panel
from kiosk.core.events import MoveOutcome
from kiosk.core.faults import Fault, FaultSource
from kiosk.core.session import State
from kiosk.core.view import SessionView
from screens.sounds import Wav, sound_for
from tests.support.common import wait_until
from tests.support.engine import EngineHarness
from tests.support.wallet import Sandbox


@pytest.fixture
def panel(
    tmp_path: Path, sim: SimulatorProcess, wallet: Sandbox
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


def beeps(buzzer: MockPin) -> int:
    """Beeps since the pin's states were last cleared (each beep turns the buzzer on once)."""
    return sum(1 for s in buzzer.states if s.state)


def speaker(views: list[SessionView]) -> list[Wav]:
    """What the speaker would play over these views (the same rule the buzzer sounds)."""
    return [w for w in (sound_for(a, b) for a, b in pairwise(views)) if w is not None]


def test_door_open_takes_the_kiosk_out_of_service_and_back(panel) -> None:  # type: ignore[no-untyped-def]
    harness, gpio, factory = panel
    factory.pin(22).clear_states()
    seen = len(harness.views) - 1
    factory.pin(6).drive_high()  # door opened
    view = harness.wait_state(State.OUT_OF_SERVICE)
    assert view.fault == Fault(FaultSource.DOOR, "cash-box door open")
    assert gpio.status is Status.FAULT and harness.sim.device.inhibited
    factory.pin(6).drive_low()  # door shut
    harness.wait_state(State.IDLE)
    wait_until(lambda: gpio.status is Status.READY, 5, "ready LED again")
    # nobody was at the kiosk: staff opening the door hear no error, from either device
    assert beeps(factory.pin(22)) == 0
    assert speaker(harness.views[seen:]) == []


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


def test_a_refused_move_sounds_the_error_on_the_buzzer_and_the_speaker(  # type: ignore[no-untyped-def]
    panel, wallet: Sandbox
) -> None:
    harness, _, factory = panel
    user = wallet.member({"base": 3000})
    harness.touch(wallet.card_of(user))
    harness.wait_state(State.ACCOUNT)
    harness.call(lambda e: e.move_money())
    harness.wait_state(State.MOVE_ROUTE)
    harness.call(lambda e: e.move_route("base", "cafeteria"))
    harness.wait_state(State.MOVE_AMOUNT)
    harness.call(lambda e: e.move_all())
    harness.wait_view(lambda v: v.move is not None and v.move.amount == 3000, what="all")
    harness.call(lambda e: e.move_review())
    harness.wait_state(State.MOVE_CONFIRM)
    base = wallet.store.one(
        "SELECT a.id FROM accounts a JOIN moneys m ON m.id = a.money_id"
        " WHERE a.user_id = ? AND m.bucket = 'base'",
        (user,),
    )
    assert base is not None
    wallet.store.record_payment(base["id"], base["id"], 2500, "lunch")  # spent meanwhile
    buzzer = factory.pin(22)
    buzzer.clear_states()
    seen = len(harness.views) - 1
    harness.call(lambda e: e.move_confirm())
    moved = harness.wait_state(State.MOVED)
    assert moved.move_result is not None and moved.move_result.outcome is MoveOutcome.REFUSED
    wait_until(lambda: beeps(buzzer) >= 3, 10, "the buzzer's error: three beeps")
    assert speaker(harness.views[seen:]) == [Wav.ERROR]
