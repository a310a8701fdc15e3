"""The driver and the simulator talking real bytes through a pseudo-terminal."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hardware.acceptor import EventKind, NoteState
from hardware.id003.codes import Command, Status
from hardware.id003.driver import Id003Acceptor
from hardware.id003.sim.device import SimulatedDevice
from hardware.id003.sim.simulator import AcceptorSimulator
from kiosk.journal.notes import JournalNotes
from tests.support.common import FAST_DRIVER, FAST_TIMING, EventLog, accepting_journal, wait_until

NOTES = [1000, 2000, 5000, 10000]


@pytest.fixture
def sim(sim_thread: AcceptorSimulator) -> AcceptorSimulator:
    """A thread of this process: these tests reach into the simulator (see conftest.py)."""
    return sim_thread


def _sent(sim: AcceptorSimulator, code: int) -> int:
    return sum(1 for t in sim.trace if t.direction == "rx" and t.frame.code == code)


def _idle(sim: AcceptorSimulator) -> None:
    assert sim.wait_for(lambda d: not d.busy, 5), sim.status


def feed(sim: AcceptorSimulator, value: int | None) -> None:
    """Feed a note once the unit is free to take one."""
    _idle(sim)
    assert sim.insert(value), sim.status


def test_every_denomination_is_stacked_and_counted_once(
    sim: AcceptorSimulator, acceptor: Id003Acceptor, ledger: JournalNotes, events: EventLog
) -> None:
    assert acceptor.denominations == NOTES
    for value in NOTES:
        feed(sim, value)
        _idle(sim)
    stacked = events.wait(EventKind.STACKED, 4)
    assert [e.value for e in stacked] == NOTES
    assert [e.value for e in events.of(EventKind.ESCROW)] == NOTES
    assert ledger.stacked_values() == NOTES == sim.stacked
    # each by STACK-2 (never STACK-1); a STACK-2 sent again after a reply came late is the
    # protocol's own retry, and the unit stacked each note once (sim.stacked above)
    assert _sent(sim, Command.STACK_2) >= 4 and _sent(sim, Command.STACK_1) == 0


def test_note_is_returned_when_the_ledger_says_no(
    sim: AcceptorSimulator, acceptor: Id003Acceptor, ledger: JournalNotes, events: EventLog
) -> None:
    ledger.gate.open(ledger.gate.session_id or 0, 4999)  # a ¥10,000 note does not fit
    feed(sim, 10000)
    assert events.wait(EventKind.RETURNED)[0].value == 10000
    feed(sim, 1000)
    events.wait(EventKind.STACKED)
    _idle(sim)
    assert sim.stacked == [1000] == ledger.stacked_values()
    assert sim.device.counters.returned == 1


def test_inhibited_acceptor_rejects_notes_and_counts_nothing(
    sim: AcceptorSimulator, ledger: JournalNotes, events: EventLog
) -> None:
    driver = Id003Acceptor(sim.path, ledger, FAST_DRIVER)
    driver.add_listener(events)
    driver.start()
    try:
        assert driver.wait_online(5)
        assert sim.device.inhibited
        feed(sim, 1000)
        rejected = events.wait(EventKind.REJECTED)
        assert rejected[0].detail == "inhibited"
        _idle(sim)
        assert not events.of(EventKind.ESCROW) and not events.of(EventKind.STACKED)
        assert sim.stacked == [] and ledger.all() == []
    finally:
        driver.stop()


def test_only_the_enabled_subset_is_taken(
    sim: AcceptorSimulator, acceptor: Id003Acceptor, ledger: JournalNotes, events: EventLog
) -> None:
    acceptor.enable({1000, 2000})
    assert sim.wait_for(lambda d: d.settings[Command.SET_DENOMINATION] == b"\xfc\xff", 2)
    feed(sim, 5000)
    assert events.wait(EventKind.REJECTED)[0].detail == "inhibited"
    _idle(sim)
    feed(sim, 2000)
    assert events.wait(EventKind.STACKED)[0].value == 2000
    _idle(sim)
    acceptor.inhibit()
    assert sim.wait_for(lambda d: d.inhibited, 2)
    feed(sim, 1000)
    events.wait(EventKind.REJECTED, 2)
    _idle(sim)
    assert sim.stacked == [2000] == ledger.stacked_values()


def test_repeated_vend_valid_counts_once_and_lost_acks_are_resent(
    sim: AcceptorSimulator, acceptor: Id003Acceptor, ledger: JournalNotes, events: EventLog
) -> None:
    sim.faults.lose_acks = 3
    feed(sim, 5000)
    _idle(sim)
    assert _sent(sim, Command.ACK) == 4  # three lost on the wire, the fourth got through
    vend_valid_replies = sum(
        1 for t in sim.trace if t.direction == "tx" and t.frame.code == Status.VEND_VALID
    )
    assert vend_valid_replies >= 4
    assert [e.value for e in events.of(EventKind.STACKED)] == [5000]
    assert ledger.stacked_values() == [5000] == sim.stacked


def test_jam_before_vend_valid_becomes_an_unresolved_note(
    sim: AcceptorSimulator, acceptor: Id003Acceptor, ledger: JournalNotes, events: EventLog
) -> None:
    sim.control(lambda d, now: setattr(d, "jam_next", "before_vend"))
    feed(sim, 10000)
    jam = events.wait(EventKind.JAM)[0]
    assert (jam.value, jam.detail) == (10000, "stacker")
    assert not events.of(EventKind.STACKED)
    sim.control(lambda d, now: d.clear_jam(now))
    assert events.wait(EventKind.UNRESOLVED_NOTE)[0].value == 10000
    events.wait(EventKind.CLEARED)
    assert sim.stacked == [] and ledger.stacked_values() == []
    assert [n.state for n in ledger.all()] == [NoteState.UNRESOLVED]
    sim.insert(1000)  # and the unit works again
    assert events.wait(EventKind.STACKED)[0].value == 1000


def test_jam_after_vend_valid_keeps_the_credit(
    sim: AcceptorSimulator, acceptor: Id003Acceptor, ledger: JournalNotes, events: EventLog
) -> None:
    sim.control(lambda d, now: setattr(d, "jam_next", "after_vend"))
    feed(sim, 2000)
    events.wait(EventKind.JAM)
    assert [e.value for e in events.of(EventKind.STACKED)] == [2000]
    sim.control(lambda d, now: d.clear_jam(now))
    events.wait(EventKind.CLEARED)
    assert not events.of(EventKind.UNRESOLVED_NOTE)
    assert ledger.stacked_values() == [2000] == sim.stacked


def test_power_cut_with_note_in_stacker_is_counted_once(
    sim: AcceptorSimulator, acceptor: Id003Acceptor, ledger: JournalNotes, events: EventLog
) -> None:
    sim.device.timing.stack_2 = 1.0
    feed(sim, 5000)
    assert sim.wait_for(lambda d: d.status.code == Status.STACKING, 3)
    sim.power_cut()
    events.wait(EventKind.OFFLINE)
    sim.power_on()
    power_up = events.wait(EventKind.POWER_UP, 2)[-1]
    assert (power_up.value, power_up.detail) == (5000, "note in stacker counted")
    events.wait(EventKind.ONLINE, 2)
    _idle(sim)
    assert ledger.stacked_values() == [5000] == sim.stacked
    assert [e.value for e in events.of(EventKind.STACKED)] == [5000]


def test_power_cut_with_note_in_acceptor_is_returned(
    sim: AcceptorSimulator, acceptor: Id003Acceptor, ledger: JournalNotes, events: EventLog
) -> None:
    # Cut the power the moment the note is recorded: STACK-2 never reaches the unit.
    record = ledger.escrow

    def escrow_then_power_cut(code: int, value: int):  # type: ignore[no-untyped-def]
        note = record(code, value)
        sim.power_cut()
        return note

    ledger.escrow = escrow_then_power_cut  # type: ignore[method-assign]
    feed(sim, 10000)
    events.wait(EventKind.OFFLINE)
    sim.power_on()
    power_up = events.wait(EventKind.POWER_UP, 2)[-1]
    assert (power_up.value, power_up.detail) == (10000, "note in acceptor returned")
    events.wait(EventKind.ONLINE, 2)
    assert sim.stacked == [] and sim.device.counters.returned == 1
    assert [n.state for n in ledger.all()] == [NoteState.RETURNED]
    assert not events.of(EventKind.STACKED)


def test_unplugged_adapter_goes_offline_and_comes_back(
    sim: AcceptorSimulator, acceptor: Id003Acceptor, ledger: JournalNotes, events: EventLog
) -> None:
    sim.unplug()
    events.wait(EventKind.OFFLINE)
    assert not acceptor.online and acceptor.denominations == []
    sim.plug()
    events.wait(EventKind.ONLINE, 2, timeout=10)
    assert sim.wait_for(lambda d: not d.inhibited, 3)  # the wanted state is re-applied
    feed(sim, 1000)
    assert events.wait(EventKind.STACKED)[0].value == 1000
    assert len(events.of(EventKind.OFFLINE)) == 1


def test_silent_unit_goes_offline_and_recovers(
    sim: AcceptorSimulator, acceptor: Id003Acceptor, events: EventLog
) -> None:
    sim.faults.silent = True
    assert "no reply" in events.wait(EventKind.OFFLINE)[0].detail
    sim.faults.silent = False
    events.wait(EventKind.ONLINE, 2, timeout=10)


def test_wire_faults_are_survived(
    sim: AcceptorSimulator, acceptor: Id003Acceptor, ledger: JournalNotes, events: EventLog
) -> None:
    sim.faults.reply_delay = 0.06  # under the 100 ms response timeout
    sim.faults.drop_replies = 2  # with one corrupt reply: three failures, the 4th attempt works
    sim.faults.corrupt_replies = 1
    sim.faults.garbage = b"\x00\xfc\xff\x13\xfc\x02"
    feed(sim, 2000)
    assert events.wait(EventKind.STACKED)[0].value == 2000
    _idle(sim)
    assert not events.of(EventKind.OFFLINE)
    assert ledger.stacked_values() == [2000] == sim.stacked


@pytest.mark.parametrize(
    ("fault", "kind", "detail"),
    [
        (lambda d: setattr(d, "stacker_open", True), EventKind.STACKER_OPEN, ""),
        (lambda d: setattr(d, "capacity", 0), EventKind.STACKER_FULL, ""),
        (lambda d: setattr(d, "failure_code", 0xA2), EventKind.FAILURE, "stacker_motor"),
    ],
    ids=["stacker-open", "stacker-full", "failure"],
)
def test_error_states_are_reported_and_cleared(
    sim: AcceptorSimulator, acceptor: Id003Acceptor, events: EventLog, fault, kind, detail
) -> None:  # type: ignore[no-untyped-def]
    sim.control(lambda d, now: fault(d))
    assert events.wait(kind)[0].detail == detail
    assert not sim.insert(1000)  # the unit takes nothing while in error
    sim.control(
        lambda d, now: (
            setattr(d, "stacker_open", False),
            setattr(d, "capacity", 99),
            setattr(d, "failure_code", None),
        )
    )
    events.wait(EventKind.CLEARED)


def test_cheat_attempt_is_reported(
    sim: AcceptorSimulator, acceptor: Id003Acceptor, events: EventLog
) -> None:
    sim.control(lambda d, now: setattr(d, "cheat_next", True))
    feed(sim, 10000)
    events.wait(EventKind.CHEATED)
    _idle(sim)
    assert sim.stacked == [] and not events.of(EventKind.STACKED)


def test_currency_table_comes_from_the_unit(tmp_path: Path, events: EventLog) -> None:
    euro = bytes.fromhex("61000000 62E00500 63E00101 64E00201 65E00501 66E00102 67E00202")
    device = SimulatedDevice(currency=euro, timing=FAST_TIMING)
    with AcceptorSimulator(device, link=str(tmp_path / "eur")) as sim:
        journal = accepting_journal(tmp_path / "eur.sqlite3")
        driver = Id003Acceptor(sim.path, journal.notes, FAST_DRIVER)
        driver.add_listener(events)
        driver.start()
        try:
            assert driver.wait_online(5)
            assert driver.denominations == [5, 10, 20, 50, 100, 200]
            driver.enable({20})
            assert sim.wait_for(lambda d: not d.inhibited, 2)
            feed(sim, 20)
            assert events.wait(EventKind.STACKED)[0].value == 20
        finally:
            driver.stop()
            journal.close()


def test_wrong_settings_echo_keeps_the_unit_offline(tmp_path: Path, events: EventLog) -> None:
    class BadEcho(SimulatedDevice):
        def handle(self, frame, now):  # type: ignore[no-untyped-def]
            reply = super().handle(frame, now)
            if frame.code == Command.SET_INHIBIT and reply is not None:
                return type(reply)(reply.code, b"\x07")
            return reply

    with AcceptorSimulator(BadEcho(timing=FAST_TIMING), link=str(tmp_path / "bad")) as sim:
        journal = accepting_journal(tmp_path / "bad.sqlite3")
        driver = Id003Acceptor(sim.path, journal.notes, FAST_DRIVER)
        driver.add_listener(events)
        driver.start()
        try:
            assert "set_inhibit" in events.wait(EventKind.OFFLINE, timeout=10)[0].detail
            assert not driver.wait_online(1)
        finally:
            driver.stop()
            journal.close()


def test_stop_leaves_the_unit_inhibited(sim: AcceptorSimulator, acceptor: Id003Acceptor) -> None:
    assert not sim.device.inhibited
    acceptor.stop()
    wait_until(lambda: sim.device.inhibited, 2, "inhibit on stop")


def test_failed_ledger_write_withholds_the_ack_until_it_succeeds(
    sim: AcceptorSimulator, acceptor: Id003Acceptor, ledger: JournalNotes, events: EventLog
) -> None:
    failures = {"left": 3}
    record = ledger.stacked

    def flaky_stacked(note_id: int) -> None:
        if failures["left"]:
            failures["left"] -= 1
            raise OSError("disk full")
        record(note_id)

    ledger.stacked = flaky_stacked  # type: ignore[method-assign]
    feed(sim, 5000)
    assert "disk full" in events.wait(EventKind.LEDGER_FAILED)[0].detail
    assert events.wait(EventKind.STACKED)[0].value == 5000
    _idle(sim)
    # Each ACK is written only after a successful write: one ACK for three failed writes.
    assert _sent(sim, Command.ACK) == 1
    assert ledger.stacked_values() == [5000] == sim.stacked
    assert len(events.of(EventKind.LEDGER_FAILED)) == 1


def test_decision_slower_than_the_escrow_timeout_hands_the_note_back(
    sim: AcceptorSimulator, acceptor: Id003Acceptor, ledger: JournalNotes, events: EventLog
) -> None:
    sim.device.timing.escrow_timeout = 0.3
    record = ledger.escrow

    def slow_escrow(code: int, value: int):  # type: ignore[no-untyped-def]
        time.sleep(0.6)
        return record(code, value)

    ledger.escrow = slow_escrow  # type: ignore[method-assign]
    feed(sim, 1000)
    wait_until(lambda: bool(ledger.all()) and not ledger.all()[0].state.is_open, 5)
    _idle(sim)
    # The unit rejected it (0x79) while we were deciding; the late STACK-2 was refused.
    assert sim.stacked == [] and ledger.stacked_values() == []
    assert ledger.all()[0].state in (NoteState.RETURNED, NoteState.REJECTED)
    handed_back = events.of(EventKind.RETURNED) + events.of(EventKind.REJECTED)
    assert [e.value for e in handed_back] == [1000]
    assert not events.of(EventKind.STACKED)
    assert not events.of(EventKind.OFFLINE)


def test_error_the_unit_starts_in_is_reported(
    sim: AcceptorSimulator, ledger: JournalNotes, events: EventLog
) -> None:
    sim.control(lambda d, now: setattr(d, "stacker_open", True))
    driver = Id003Acceptor(sim.path, ledger, FAST_DRIVER)
    driver.add_listener(events)
    driver.start()
    try:
        events.wait(EventKind.ONLINE)
        events.wait(EventKind.STACKER_OPEN)
        sim.control(lambda d, now: setattr(d, "stacker_open", False))
        events.wait(EventKind.CLEARED)
    finally:
        driver.stop()
