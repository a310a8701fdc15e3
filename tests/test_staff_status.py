"""``paykiosk staff status`` beside the real kiosk process: whether it runs (never taking its
lock), credits waiting for a wallet that is down and their age, devices at fault, the journal;
and マネー移動 moves being processed, shown beside the cash credits and never counted as cash."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kiosk.config.settings import load
from kiosk.journal import Journal
from kiosk.sim.config import write_sandbox_config
from kiosk.staff.commands.status import status_text
from kiosk.staff.status_rows import status_rows
from tests.support.common import wait_until
from tests.support.kiosk_process import run_kiosk
from tests.support.rig import CRASH_TIMING, make_rig
from tests.support.wallet import Sandbox, cash_and_moves


def status(config: Path) -> str:
    result = run_kiosk(config, "staff", "status")
    assert result.returncode == 0 and result.stderr == "", result
    return result.stdout


@pytest.mark.slow
def test_status_follows_the_running_kiosk_its_waiting_credits_and_its_faults(
    tmp_path: Path, wallet: Sandbox
) -> None:
    with make_rig(tmp_path, wallet, CRASH_TIMING) as rig:
        config = rig.kiosk.config
        first = status(config)
        assert "NOT RUNNING" in first and "journal: ok" in first, first
        assert "credits: 0 waiting" in first and "staff cases open: 0" in first, first

        user, card = rig.member()
        rig.kiosk.start()
        rig.kiosk.wait_ready()
        assert rig.kiosk.process is not None
        assert f"running (pid {rig.kiosk.process.pid})" in status(config)

        wallet.faults(unavailable_for=user)  # the credit waits for the wallet
        rig.start_session(card)
        rig.feed(1000)
        wait_until(lambda: "credits: 1 waiting" in status(config), 30, "the credit waiting")
        shown = status(config)
        assert re.search(r"1 waiting for the wallet, the oldest for \d+ (s|min)", shown), shown
        assert "cash box: 1 note, ¥1,000" in shown, shown

        rig.sim.control(lambda d, now: setattr(d, "stacker_open", True))
        wait_until(lambda: "acceptor: FAULT" in status(config), 20, "the acceptor's fault")
        rig.sim.control(lambda d, now: setattr(d, "stacker_open", False))
        wait_until(lambda: "acceptor: ok since" in status(config), 20, "the fault cleared")

        rig.kiosk.kill()  # SIGKILL: the lock file still names its pid
        assert "NOT RUNNING" in status(config)
        wallet.faults(unavailable_for="")
        rig.kiosk.start()  # the status never held the lock: the kiosk starts
        rig.kiosk.wait_ready()
        wait_until(lambda: "credits: 0 waiting" in status(config), 30, "the credit delivered")


def test_moves_being_processed_are_shown_beside_the_cash_credits_never_as_cash(
    tmp_path: Path, wallet: Sandbox
) -> None:
    config_path = write_sandbox_config(tmp_path, wallet.info, str(tmp_path / "acc"), "udp:x:9")
    config = load(config_path)
    journal = Journal(config.kiosk.data_dir / "journal.sqlite3", "T01")
    try:
        made = cash_and_moves(journal)
        now = journal.credits.get(made.move_waiting).created_at + 125
        text = status_text(config, journal, now)
        rows = {row.label: row for row in status_rows(config, journal, now)}
    finally:
        journal.close()
    assert "credits: 1 waiting for the wallet, the oldest for 2 min; 1 confirmed, 0 refused" in (
        text
    ), text
    assert (
        "moves (マネー移動, no cash): 1 being processed, the oldest for 2 min; 1 moved,"
        " 1 refused (nothing moved)"
    ) in text, text
    assert rows["Credits waiting"].value == "1 (2 min)" and rows["Credits waiting"].alert
    assert rows["Credits confirmed / refused"].value == "1 / 0"
    assert rows["Moves being processed"].value == "1 (2 min)"
    assert rows["Moves being processed"].alert
    assert rows["Staff cases open"].value == "0"  # a refused move opens no case
