"""Crash and fault tests of the real ``paykiosk --no-ui`` process.

The kiosk runs against the acceptor simulator (pty), the card emulator (nfcpy udp) and the
wallet sandbox (HTTPS). It is SIGKILLed at points of the money path, restarted, and the
sandbox balance is checked against the notes that really reached the cash box: 0 lost,
0 credited twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hardware.id003.codes import Command, Status
from kiosk.core.crashpoints import POINTS
from tests.support.common import wait_until
from tests.support.rig import CRASH_TIMING, Rig, make_rig
from tests.support.wallet import ROOT, Sandbox

pytestmark = pytest.mark.slow


@pytest.fixture
def rig(tmp_path: Path, wallet: Sandbox) -> Iterator[Rig]:
    with make_rig(tmp_path, wallet, CRASH_TIMING) as running:
        yield running


def _exactly_once(rig: Rig, user: str, before: int) -> None:
    in_box = sum(rig.sim.stacked)
    assert rig.wallet.balance(user, "base") == before + in_box, rig.kiosk.output[-30:]
    journal = rig.kiosk.journal()
    try:
        assert journal.cashbox.matches_notes()
        assert journal.notes.stacked_values() == rig.sim.stacked
        assert journal.cases.list() == []
    finally:
        journal.close()


def test_every_checkpoint_is_in_the_code_once() -> None:
    source = "\n".join(p.read_text() for p in (ROOT / "kiosk").rglob("*.py"))
    for point in POINTS:
        assert source.count(f'checkpoint("{point}")') == 1, point


@pytest.mark.parametrize("point", POINTS)
def test_killed_at_a_checkpoint(rig: Rig, point: str) -> None:
    user, card = rig.member({"base": 500})
    rig.kiosk.start(freeze_at=point)
    rig.start_session(card)
    rig.feed(1000)
    if not point.startswith("credit"):
        rig.kiosk.wait_frozen()
    else:
        assert rig.sim.wait_for(lambda d: not d.busy, 10)
        rig.feed(5000)
        rig.kiosk.wait_frozen()
    rig.restart_and_settle()
    if point == "escrow_recorded":  # STACK-2 never went out: the unit handed the note back
        assert rig.sim.stacked == [] and rig.sim.device.counters.returned == 1
    else:
        assert rig.sim.stacked, "no note reached the cash box"
    _exactly_once(rig, user, 500)


@pytest.mark.parametrize("command", [Command.STACK_2, Command.ACK], ids=["stack-sent", "acked"])
def test_killed_as_a_command_goes_out(rig: Rig, command: int) -> None:
    user, card = rig.member()
    rig.kiosk.start()
    rig.start_session(card)
    rig.feed(2000)
    rig.feed_killed_on(command, 10000)
    rig.restart_and_settle()
    assert rig.sim.stacked == [2000, 10000]
    _exactly_once(rig, user, 0)


@pytest.mark.parametrize(
    "fault", ["latency_ms", "hold_after_commit_ms"], ids=["topup-in-flight", "committed-no-answer"]
)
def test_killed_while_the_topup_is_out(rig: Rig, fault: str) -> None:
    user, card = rig.member()
    rig.kiosk.start()
    rig.start_session(card)
    rig.wallet.faults(**{fault: 20_000})
    rig.feed(5000)
    if fault == "latency_ms":  # the request is at the server, not yet carried out
        wait_until(lambda: _credit_state(rig) == "sent", 20, "credit sent")
    else:  # carried out, the answer not yet sent
        wait_until(lambda: rig.wallet.balance(user, "base") == 5000, 20, "commit")
    rig.kiosk.kill()
    rig.restart_and_settle()
    _exactly_once(rig, user, 0)


def test_acceptor_power_cut_during_a_note(rig: Rig) -> None:
    user, card = rig.member()
    rig.sim.control(lambda d, now: setattr(d.timing, "stack_2", 1.0))
    rig.kiosk.start()
    rig.start_session(card)
    rig.feed(1000)
    assert rig.sim.wait_for(lambda d: d.status.code == Status.STACKING, 10)
    rig.sim.power_cut()
    wait_until(
        lambda: any("out of service" in line for line in rig.kiosk.output), 15, "out of service"
    )
    rig.sim.power_on()
    rig.kiosk.wait_settled(timeout=40)
    assert rig.sim.stacked == [1000]
    _exactly_once(rig, user, 0)


def test_wallet_down_for_a_whole_session_then_back(rig: Rig) -> None:
    user, card = rig.member({"base": 100})
    rig.kiosk.start()
    rig.start_session(card)
    rig.wallet.faults(refuse=True)
    rig.feed(1000)
    wait_until(
        lambda: any("being credited" in line for line in rig.kiosk.output), 30, "being credited"
    )
    assert rig.wallet.balance(user, "base") == 100
    rig.wallet.faults(refuse=False)
    rig.kiosk.wait_settled(timeout=60)
    _exactly_once(rig, user, 100)


def test_suspended_between_touch_and_credit_becomes_a_staff_case(rig: Rig) -> None:
    user, card = rig.member()
    rig.kiosk.start()
    rig.start_session(card)
    rig.wallet.store.set_user_status(user, "suspended")
    rig.feed(2000)
    wait_until(
        lambda: any("reference T01-" in line for line in rig.kiosk.output), 30, "the reference"
    )
    rig.kiosk.wait_settled()
    journal = rig.kiosk.journal()
    try:
        [case] = journal.cases.list()
        assert (case.kind, case.amount) == ("refused_credit", 2000)
    finally:
        journal.close()
    assert rig.wallet.balance(user, "base") == 0 and rig.sim.stacked == [2000]


def test_503_storms_and_dropped_answers_over_many_sessions(rig: Rig) -> None:
    members = [rig.member() for _ in range(6)]  # one card each: no same-card bounce rule
    rig.kiosk.start()
    for session, (_, card) in enumerate(members):
        rig.wallet.clear_faults()  # the member's lookup gets through…
        rig.start_session(card)
        # …then the storm: half the calls answer 503, every other session loses an answer
        rig.wallet.faults(rate_503=0.5, drop_after_commit=session % 2)
        rig.feed([1000, 2000, 5000][session % 3])
        rig.wait_output(("done:", "¥"), count=session + 1)  # confirmed or being credited
    rig.wallet.clear_faults()
    rig.kiosk.wait_settled(timeout=60)
    assert len(rig.sim.stacked) == 6
    output = "\n".join(rig.kiosk.output)  # stdout + stderr of every session, warnings included
    for secret in [card for _, card in members] + [rig.wallet.info["client_secret"]]:
        assert secret not in output
    credited = [rig.wallet.balance(user, "base") for user, _ in members]
    assert credited == [[1000, 2000, 5000][i % 3] for i in range(6)] == rig.sim.stacked


def _credit_state(rig: Rig) -> str | None:
    journal = rig.kiosk.journal()
    try:
        row = journal.db.one("SELECT state FROM credits ORDER BY id DESC LIMIT 1")
        return row["state"] if row else None
    finally:
        journal.close()


@pytest.mark.parametrize("reader", ["nfcpy", "pcsc"])
def test_a_charge_and_a_crash_with_each_card_reader_backend(
    tmp_path: Path, wallet: Sandbox, reader: str, request: pytest.FixtureRequest
) -> None:
    """The same money path whichever reader the member touches: a charge end to end, then a
    SIGKILL right after a note's stacked record (before its ACK), restart, settled once."""
    if reader == "pcsc":
        request.getfixturevalue("pcscd")
    with make_rig(tmp_path, wallet, CRASH_TIMING, reader=reader) as rig:
        user, card = rig.member({"base": 500})
        rig.kiosk.start(freeze_at="stacked_before_ack")
        rig.kiosk.wait_ready()
        assert any(
            line.endswith(("Virtual PCD 00 00", "udp")) or "card reader online" in line
            for line in rig.kiosk.output
        )
        rig.start_session(card)
        rig.feed(1000)
        rig.kiosk.wait_frozen()
        rig.restart_and_settle()
        _exactly_once(rig, user, 500)
        rig.start_session(card)  # and an ordinary charge after the restart
        rig.feed(5000)
        rig.kiosk.wait_settled()
        _exactly_once(rig, user, 500)
        assert rig.wallet.balance(user, "base") == 6500
