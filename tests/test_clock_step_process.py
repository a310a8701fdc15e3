"""The real ``paykiosk --no-ui`` process under a wall-clock step (libfaketime, Debian's
``faketime`` package): a credit waiting for its retry is delivered on time after the clock is
set back 400 s, as NTP does to a clock that ran fast. Only the wall clock moves. The wallet
sandbox's clock moves with it (its ``clock_offset_s`` fault): the two agree throughout, so the
wallet takes every request and the step alone is under test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hardware.felica.sim import EmulatedCard
from tests.support.clock import ClockRig, clock_rig
from tests.support.common import wait_until
from tests.support.wallet import Sandbox

pytestmark = pytest.mark.slow

STEP_S = 400


@pytest.fixture
def rig(tmp_path: Path, wallet: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[ClockRig]:
    with clock_rig(tmp_path, wallet, monkeypatch) as running:
        yield running


def test_a_credit_waiting_for_its_retry_is_delivered_on_time_after_the_clock_is_set_back(
    rig: ClockRig, wallet: Sandbox
) -> None:
    # the kiosk's clock runs 400 s fast, and so does the wallet's: they agree
    rig.set_clock(STEP_S)
    wallet.faults(clock_offset_s=float(STEP_S))
    user = wallet.member({"base": 0})
    rig.kiosk.start()
    rig.kiosk.wait_ready()
    assert rig.sim.wait_for(lambda d: not d.busy and d.inhibited, 15), rig.sim.status
    rig.card.touch(EmulatedCard(wallet.card_of(user)), hold=3.0)
    assert rig.sim.wait_for(lambda d: not d.inhibited, 15), "\n".join(rig.kiosk.output[-20:])
    wallet.faults(unavailable_for=user)  # this member's top-ups answer 503 for now
    assert rig.sim.insert(1000), rig.sim.status

    def waiting() -> bool:
        credit = rig.credit()
        return credit is not None and credit.attempts >= 1 and credit.last_error is not None

    wait_until(waiting, 30, "the credit's first attempt to fail")
    # NTP sets both clocks right: 400 s back; the wallet takes top-ups again
    rig.set_clock(0)
    wallet.faults(clock_offset_s=0.0, unavailable_for="")

    def confirmed() -> bool:
        credit = rig.credit()
        return credit is not None and credit.state == "confirmed"

    # the retry was due 1.5–2.5 s after the failure (then the wallet client's own retries)
    wait_until(confirmed, 20, "the credit to be delivered after the clock step")
    assert wallet.balance(user, "base") == 1000
