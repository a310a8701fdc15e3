"""What the soak and UI benchmarks share: an acceptor simulator whose cash box never fills."""

from __future__ import annotations

from pathlib import Path

from hardware.id003.sim.device import SimulatedDevice
from hardware.id003.sim.simulator import AcceptorSimulator
from tests.support.common import FAST_TIMING


def endless_simulator(link: Path) -> AcceptorSimulator:
    """A started simulator on a pty (``link`` points at it), fast timing, a huge cash box."""
    return AcceptorSimulator(
        SimulatedDevice(timing=FAST_TIMING, capacity=10**6), link=str(link)
    ).start()
