"""What the soak, storage and UI benchmarks share: an acceptor simulator whose cash box never
fills, and the real ``paykiosk --no-ui`` on the harness's devices."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from hardware.felica.sim import CardEmulator, free_udp_port
from hardware.id003.sim.device import SimulatedDevice
from hardware.id003.sim.simulator import AcceptorSimulator
from tests.support.common import FAST_TIMING
from tests.support.kiosk_process import KioskProcess, write_config
from tests.support.wallet import Sandbox, start_sandbox, stop_sandbox


def endless_simulator(link: Path) -> AcceptorSimulator:
    """A started simulator on a pty (``link`` points at it), fast timing, a huge cash box."""
    return AcceptorSimulator(
        SimulatedDevice(timing=FAST_TIMING, capacity=10**6), link=str(link)
    ).start()


@dataclass
class NoUiRig:
    """The real ``paykiosk --no-ui`` on the harness's devices, and the members' cards."""

    kiosk: KioskProcess
    sim: AcceptorSimulator
    card: CardEmulator
    sandbox: Sandbox
    members: list[str]
    cards: list[str]
    config: Path


@contextlib.contextmanager
def no_ui_rig(tmp: Path, members: int, money: str = "textbook") -> Iterator[NoUiRig]:
    """The wallet sandbox, an endless acceptor simulator, the card emulator and a kiosk
    configured for them (idle finish 1 s, ``money`` charged); all stopped at the end (the
    kiosk not started here)."""
    sandbox = start_sandbox(tmp / "sandbox")
    sim = endless_simulator(tmp / "acc")
    card = CardEmulator(free_udp_port())
    config = write_config(
        tmp, sandbox, sim.path, card.device_path, idle_finish_s=1.0, no_ui_money=money
    )
    kiosk = KioskProcess(config)
    people = [sandbox.member({}) for _ in range(members)]
    try:
        yield NoUiRig(
            kiosk, sim, card, sandbox, people, [sandbox.card_of(m) for m in people], config
        )
    finally:
        kiosk.stop()
        card.close()
        sim.stop()
        stop_sandbox(sandbox)
