"""The simulator's text commands (`paykiosk acceptor-sim`, the demo's console)."""

from __future__ import annotations

from hardware.id003.codes import Command, Status
from hardware.id003.device import SimulatedDevice
from hardware.id003.frames import Frame
from hardware.id003.sim_console import run_command
from hardware.id003.simulator import AcceptorSimulator


def _enabled(sim: AcceptorSimulator) -> None:
    """Reset and enable the unit as a host would (straight on the model, no pty)."""

    def setup(device: SimulatedDevice, now: float) -> None:
        assert device.handle(Frame(Command.RESET), now) == Frame(Status.ACK)
        device.handle(Frame(Command.SET_INHIBIT, b"\x00"), now)

    sim.control(setup)
    assert sim.wait_for(lambda d: d.status == Frame(Status.IDLING), 2), sim.status


def _host(sim: AcceptorSimulator, command: int) -> Frame | None:
    return sim.control(lambda d, now: d.handle(Frame(command), now))


def _escrowed(sim: AcceptorSimulator, value: int) -> None:
    code = sim.device.code_of(value)
    assert sim.wait_for(lambda d: d.status == Frame(Status.ESCROW, bytes((code,))), 2), sim.status


def test_pause_armed_for_the_next_note(sim: AcceptorSimulator) -> None:
    _enabled(sim)
    assert run_command(sim, "pause 0.3") == "the next note pauses 0.3 s while stacking"
    assert sim.device.pause_next == 0.3
    assert run_command(sim, "insert 5000") == "note fed"
    _escrowed(sim, 5000)
    assert _host(sim, Command.STACK_2) == Frame(Status.ACK)
    assert sim.wait_for(lambda d: d.status.code == Status.PAUSE, 2)
    assert sim.wait_for(lambda d: d.status.code == Status.STACKING, 2)
    assert sim.wait_for(lambda d: d.status.code == Status.VEND_VALID, 2)
    assert sim.stacked == [5000]


def test_pause_while_stacking(sim: AcceptorSimulator) -> None:
    sim.device.timing.stack_2 = 1.0
    _enabled(sim)
    run_command(sim, "insert 1000")
    _escrowed(sim, 1000)
    _host(sim, Command.STACK_2)
    assert run_command(sim, "pause") == "PAUSE for 1 s"  # the default
    assert sim.status == Frame(Status.PAUSE)
    assert sim.device.pause_next is None
    assert sim.wait_for(lambda d: d.status.code == Status.VEND_VALID, 3)
