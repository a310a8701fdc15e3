"""The real start path (``kiosk.app.runner.run`` from a config file): the devices' first reports
reach the engine, so a kiosk that boots with the cash-box door open or the service key on comes
up out of service and takes no note until the switch is back. GPIO on gpiozero's mock pins (the
one part that cannot be real here); everything else as in production."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory

from hardware.felica.sim import free_udp_port
from hardware.id003.sim.process import SimulatorProcess
from kiosk.app import runner
from kiosk.app.cli import main
from kiosk.config.settings import load
from kiosk.core.session import State
from kiosk.core.view import SessionView
from kiosk.engine.loop import Engine
from kiosk.sim.config import write_sandbox_config
from tests.support.gpio_pins import DOOR, GPIO, KEY, SwitchPin
from tests.support.wallet import Sandbox


@pytest.fixture
def pins(monkeypatch: pytest.MonkeyPatch) -> Iterator[MockFactory]:
    """The pin factory the kiosk finds off a Pi, set up before it boots."""
    monkeypatch.delenv("GPIOZERO_PIN_FACTORY", raising=False)
    factory = MockFactory(pin_class=SwitchPin)
    Device.pin_factory = factory
    yield factory
    factory.reset()
    Device.pin_factory = None


class Boot:
    """``runner.run`` on this thread's loop, with the test's steps as a second task."""

    def __init__(self, tmp_path: Path, sim: SimulatorProcess, wallet: Sandbox) -> None:
        path = write_sandbox_config(
            tmp_path, wallet.info, sim.path, f"udp:127.0.0.1:{free_udp_port()}", extra=GPIO
        )
        self.config = load(path)
        self.sim, self.views, self.engine = sim, list[SessionView](), None

    def attach(self, engine: Engine) -> None:
        self.engine = engine
        engine.listeners.append(self.views.append)

    async def until(self, predicate: Callable[[SessionView], bool], what: str) -> SessionView:
        for _ in range(400):
            if self.views and predicate(self.views[-1]):
                return self.views[-1]
            await asyncio.sleep(0.025)
        raise AssertionError(f"waited for {what}; last view {self.views[-1:]}")

    async def sim_until(self, predicate: Callable[..., bool], what: str) -> None:
        assert await asyncio.to_thread(self.sim.wait_for, predicate, 5), what

    def run(self, steps: Callable[[Boot], object]) -> None:
        async def main() -> None:
            kiosk = asyncio.create_task(runner.run(self.config, attach=self.attach))
            try:
                await steps(self)  # type: ignore[misc]
            finally:
                kiosk.cancel()
                assert await kiosk == 0

        asyncio.run(main())


async def _refuses_notes_until(boot: Boot, fault: str, release: Callable[[], None]) -> None:
    view = await boot.until(lambda v: fault in str(v.fault), fault)
    assert view.state is State.OUT_OF_SERVICE
    await boot.sim_until(lambda d: d.status.code != 0x1B, "acceptor initialised")  # not INITIALIZE
    await asyncio.sleep(0.5)  # the acceptor came online meanwhile: still out of service
    assert boot.views[-1].state is State.OUT_OF_SERVICE
    assert boot.sim.insert(1000)  # a member feeds a note anyway
    await boot.sim_until(lambda d: not d.busy, "the note is handed back")
    assert boot.sim.stacked == [] and boot.sim.device.inhibited
    release()
    await boot.until(lambda v: v.state is State.IDLE, "in service")


def test_booting_with_the_door_open_is_out_of_service_until_it_closes(
    tmp_path: Path, sim: SimulatorProcess, wallet: Sandbox, pins: MockFactory
) -> None:
    pins.pin(DOOR).open_switch()  # the door is open
    pins.pin(KEY).open_switch()  # key off

    async def steps(boot: Boot) -> None:
        await _refuses_notes_until(boot, "door open", pins.pin(DOOR).close_switch)

    Boot(tmp_path, sim, wallet).run(steps)


def test_booting_with_the_service_key_on_is_out_of_service_until_it_is_off(
    tmp_path: Path, sim: SimulatorProcess, wallet: Sandbox, pins: MockFactory
) -> None:
    pins.pin(DOOR).close_switch()  # door shut
    pins.pin(KEY).close_switch()  # key on

    async def steps(boot: Boot) -> None:
        await _refuses_notes_until(boot, "staff service", pins.pin(KEY).open_switch)

    Boot(tmp_path, sim, wallet).run(steps)


def test_a_pin_factory_that_cannot_load_is_a_clear_error_not_a_traceback(
    tmp_path: Path, sim: SimulatorProcess, wallet: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_sandbox_config(
        tmp_path,
        wallet.info,
        sim.path,
        f"udp:127.0.0.1:{free_udp_port()}",
        extra=GPIO + 'pin_factory = "pigpio"\n',  # its library is not installed here
    )
    assert main(["--config", str(path)]) == 78  # kiosk.config.settings.EXIT_CONFIG (EX_CONFIG)
    error = capsys.readouterr().err
    assert "configuration error: [gpio]" in error and "pigpio" in error
    assert "Traceback" not in error


def test_an_engine_task_that_dies_ends_the_run_for_a_restart(
    tmp_path: Path, sim: SimulatorProcess, wallet: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def a_bug(*args: object) -> None:
        raise RuntimeError("a bug in the lookup")

    monkeypatch.setattr("kiosk.engine.loop.look_up_member", a_bug)
    path = write_sandbox_config(tmp_path, wallet.info, sim.path, f"udp:127.0.0.1:{free_udp_port()}")
    views: list[SessionView] = []

    def attach(engine: Engine) -> None:
        engine.listeners.append(views.append)
        attach.engine = engine  # type: ignore[attr-defined]

    async def main() -> int:
        kiosk = asyncio.create_task(runner.run(load(path), attach=attach))
        for _ in range(400):
            if views and views[-1].state is State.IDLE:
                break
            await asyncio.sleep(0.025)
        attach.engine.inbox.card_touched("0123456789ABCDEF")  # type: ignore[attr-defined]
        return await asyncio.wait_for(kiosk, 15)  # not hung in "looking up" forever

    assert asyncio.run(main()) == 1  # systemd (Restart=always) starts it again
