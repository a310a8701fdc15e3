"""The simulated acceptor's behaviour, driven with explicit time (no pty, no clock)."""

from __future__ import annotations

from hardware.id003.codes import Command, RejectReason, Status
from hardware.id003.frames import Frame
from hardware.id003.sim.device import SimulatedDevice, Timing

STATUS = Frame(Command.STATUS_REQUEST)


def _ready(device: SimulatedDevice, now: float = 0.0) -> float:
    """Power-up → RESET → enabled; returns the time it is idle."""
    assert device.handle(STATUS, now) == Frame(Status.POWER_UP)
    assert device.handle(Frame(Command.RESET), now) == Frame(Status.ACK)
    assert device.handle(STATUS, now) == Frame(Status.INITIALIZE)
    assert device.handle(Frame(Command.SET_INHIBIT, b"\x00"), now) == Frame(
        Command.SET_INHIBIT, b"\x00"
    )
    assert device.handle(Frame(Command.SET_DENOMINATION, b"\x00\x00"), now)
    now += device.timing.initialize
    assert device.handle(STATUS, now) == Frame(Status.IDLING)
    return now


def _escrowed(device: SimulatedDevice, value: int, now: float) -> float:
    assert device.insert(device.code_of(value), now)
    assert device.handle(STATUS, now).code == Status.ACCEPTING
    now += device.timing.accepting
    assert device.handle(STATUS, now) == Frame(Status.ESCROW, bytes((device.code_of(value),)))
    return now


def test_undecided_escrow_is_rejected_after_the_timeout() -> None:
    device = SimulatedDevice()
    now = _escrowed(device, 1000, _ready(device))
    assert device.handle(STATUS, now + 9.9).code == Status.ESCROW
    assert device.handle(STATUS, now + 10.0) == Frame(Status.REJECTING, bytes((0x79,)))
    assert device.handle(STATUS, now + 11.0) == Frame(Status.IDLING)
    assert device.counters.returned == 1 and device.counters.stacked == []


def test_stack_2_reaches_vend_valid_later_than_stack_1_and_repeats_until_ack() -> None:
    timing = Timing(stack_1=0.2, stack_2=0.6)
    for command, delay in ((Command.STACK_1, 0.2), (Command.STACK_2, 0.6)):
        device = SimulatedDevice(timing=timing)
        now = _escrowed(device, 5000, _ready(device))
        assert device.handle(Frame(command), now) == Frame(Status.ACK)
        assert device.handle(STATUS, now + delay - 0.01).code == Status.STACKING
        assert device.handle(STATUS, now + delay).code == Status.VEND_VALID
        assert device.handle(STATUS, now + delay + 120).code == Status.VEND_VALID
        assert device.counters.stacked == [5000]
        assert device.handle(Frame(Command.ACK), now + delay + 120) is None
        assert device.handle(STATUS, now + delay + 120).code == Status.STACKED
        assert device.handle(STATUS, now + delay + 121) == Frame(Status.IDLING)
        assert device.counters.stacked == [5000]


def test_refusals_inhibit_mask_and_unknown_notes() -> None:
    device = SimulatedDevice(timing=Timing(accepting=0, rejecting=0.1))
    now = _ready(device)
    device.handle(Frame(Command.SET_DENOMINATION, b"\x01\x00"), now)  # 0x61 (¥1000) refused
    assert device.insert(0x61, now)
    assert device.handle(STATUS, now) == Frame(Status.REJECTING, bytes((RejectReason.INHIBITED,)))
    now += 0.2
    assert device.insert(None, now)
    assert device.handle(STATUS, now) == Frame(Status.REJECTING, bytes((0x76,)))
    now += 0.2
    device.handle(Frame(Command.SET_INHIBIT, b"\x01"), now)
    assert device.handle(STATUS, now) == Frame(Status.DISABLED)
    assert device.insert(0x62, now)
    assert device.handle(STATUS, now).data == bytes((RejectReason.INHIBITED,))
    assert device.counters.stacked == []


def test_commands_out_of_place_are_invalid_and_settings_read_back() -> None:
    device = SimulatedDevice()
    now = _ready(device)
    assert device.handle(Frame(Command.STACK_2), now) == Frame(Status.INVALID_COMMAND)
    assert device.handle(Frame(0x77), now) == Frame(Status.INVALID_COMMAND)
    assert device.handle(Frame(Command.GET_INHIBIT), now) == Frame(Command.GET_INHIBIT, b"\x00")
    reply = device.handle(Frame(Command.CURRENCY_ASSIGN_REQUEST), now)
    assert reply is not None and reply.data == device.currency_data


def test_cash_box_capacity_gives_stacker_full() -> None:
    device = SimulatedDevice(capacity=1)
    now = _escrowed(device, 2000, _ready(device))
    device.handle(Frame(Command.STACK_2), now)
    now += 1
    device.handle(Frame(Command.ACK), now)
    now += 1
    assert device.handle(STATUS, now) == Frame(Status.STACKER_FULL)
    assert not device.insert(0x61, now)
    assert device.collect() == [2000]
    assert device.handle(STATUS, now) == Frame(Status.IDLING)


def test_power_cut_statuses_and_reset_outcomes() -> None:
    device = SimulatedDevice(timing=Timing(stack_2=1.0))
    now = _escrowed(device, 10000, _ready(device))
    device.power_cut()
    assert device.handle(STATUS, now) is None  # no power, no answer
    device.power_on()
    assert device.handle(STATUS, now) == Frame(Status.POWER_UP_BILL_IN_ACCEPTOR)
    device.handle(Frame(Command.RESET), now)
    assert device.counters.returned == 1 and device.counters.stacked == []

    now += 1
    device.handle(Frame(Command.SET_INHIBIT, b"\x00"), now)
    now += device.timing.initialize
    now = _escrowed(device, 2000, now)
    device.handle(Frame(Command.STACK_2), now)
    device.power_cut()
    device.power_on()
    assert device.handle(STATUS, now) == Frame(Status.POWER_UP_BILL_IN_STACKER)
    device.handle(Frame(Command.RESET), now)
    assert device.counters.stacked == [2000]
    device.power_cut()  # a clean unit
    device.power_on()
    assert device.handle(STATUS, now) == Frame(Status.POWER_UP)
