"""The start line of a kiosk whose clock is off (``runner._check_wallet``, which pings): it
says the clock is wrong and by how much, from the wallet's ``Date`` header."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from hardware.felica.sim import EmulatedCard
from kiosk.app import runner
from kiosk.wallet.errors import CLOCK_TOLERANCE_S
from tests.support.clock import clock_rig
from tests.support.common import wait_until
from tests.support.wallet import TEN_MINUTES, Sandbox, skewed_client


def test_the_start_line_says_the_clock_is_wrong(
    wallet: Sandbox, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    async def go() -> None:
        async with skewed_client(wallet, -TEN_MINUTES) as client:
            await runner._check_wallet(client)

    with caplog.at_level(logging.WARNING, logger="paykiosk"):
        asyncio.run(go())
    line = (
        "wallet reachable, but this machine's clock is 600 s behind the wallet's: every request"
        " will be refused until the clock is set (check NTP)"
    )
    assert capsys.readouterr().out.strip() == line
    assert ("paykiosk", logging.ERROR, line) in caplog.record_tuples


@pytest.mark.parametrize("off_s", [0.0, CLOCK_TOLERANCE_S - 15])
def test_the_start_line_within_the_tolerance_is_plain(
    wallet: Sandbox, capsys: pytest.CaptureFixture[str], off_s: float
) -> None:
    async def go() -> None:
        async with skewed_client(wallet, off_s) as client:
            await runner._check_wallet(client)

    asyncio.run(go())
    assert capsys.readouterr().out.strip() == "wallet reachable"


@pytest.mark.slow
def test_the_real_kiosk_says_its_clock_is_wrong_at_start_and_to_staff(
    tmp_path: Path, wallet: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``paykiosk --no-ui`` whose clock is 600 s behind the wallet's (here the wallet's clock is
    moved, so no libfaketime is needed): the start line says so, the kiosk is out of service
    with the clock as the reason (a touch takes no cash), and it comes back by itself once the
    clocks agree."""
    wallet.faults(clock_offset_s=TEN_MINUTES)
    with clock_rig(tmp_path, wallet, monkeypatch, fake_clock=False) as rig:
        rig.kiosk.start()
        rig.kiosk.wait_ready()

        def printed(text: str) -> bool:
            return any(text in out for out in list(rig.kiosk.output))

        line = "wallet reachable, but this machine's clock is 600 s behind the wallet's"
        assert printed(line), "\n".join(rig.kiosk.output[-20:])
        reason = "out of service (clock: this machine's clock is 600 s behind the wallet's"
        wait_until(lambda: printed(reason), 15, "out of service for the clock")
        rig.card.touch(EmulatedCard(wallet.card_of(wallet.member())), hold=3.0)
        assert rig.sim.wait_for(lambda d: d.inhibited, 1)  # no cash was taken
        assert not printed("looking up the card")
        wallet.faults(clock_offset_s=0)  # the clock is set (here: the wallet's, to agree)
        wait_until(lambda: printed("ready: touch your card"), 30, "back in service by itself")
