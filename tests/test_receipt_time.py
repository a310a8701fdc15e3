"""The receipt's time: the engine's views of a finished charge carry the wall-clock time the
charge ended, the same on every view of that done screen, and none once the next one starts;
and times are shown in the co-op's time zone (``[kiosk] time_zone``, Asia/Tokyo by default) on
a machine whose TZ is UTC: the receipt on the touch screen, the real process's journal report."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hardware.felica.sim import free_udp_port
from hardware.id003.sim.process import SimulatorProcess
from kiosk.core.session import State
from kiosk.journal import Journal
from kiosk.sim.config import write_sandbox_config
from tests.support.engine import EngineHarness
from tests.support.kiosk_process import run_kiosk
from tests.support.ui import KioskUI
from tests.support.wallet import Sandbox


def test_a_done_view_carries_when_the_charge_ended(
    tmp_path: Path, sim: SimulatorProcess, wallet: Sandbox
) -> None:
    kiosk = EngineHarness(tmp_path, sim, wallet, idle_finish_s=5.0)
    try:
        user = wallet.member({"base": 1000})
        kiosk.start_charging(wallet.card_of(user))
        assert kiosk.views[-1].finished_at is None
        kiosk.feed(1000)
        kiosk.wait_view(lambda v: v.inserted == 1000, what="1,000 in")
        before = time.time()
        kiosk.call(lambda e: e.finish())
        done = kiosk.wait_state(State.DONE)
        after = time.time()
        assert done.finished_at is not None and before <= done.finished_at <= after
        seen = len(kiosk.views)
        time.sleep(0.05)
        kiosk.call(lambda e: e.activity())  # a touch on the done screen: a new view
        again = kiosk.wait_view(lambda v: len(kiosk.views) > seen, what="the view again")
        assert again.state is State.DONE and again.finished_at == done.finished_at
        kiosk.call(lambda e: e.acknowledge())
        assert kiosk.wait_state(State.IDLE).finished_at is None
    finally:
        kiosk.stop()


# 2026-11-23 14:10 UTC: a top-up at 23:10 in Japan, which a kiosk on the machine's UTC showed as
# 14:10 (and its receipt as UTC).
TOP_UP_AT = datetime(2026, 11, 23, 14, 10, tzinfo=UTC).timestamp()


@pytest.fixture
def machine_in_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The machine's TZ is UTC (for this process and the kiosks it starts), and back to what it
    was afterwards (a kiosk run in this process sets its own)."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("machine_in_utc")
def test_the_journal_report_shows_the_co_ops_time_on_a_machine_in_utc(
    tmp_path: Path, sim: SimulatorProcess, wallet: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_sandbox_config(
        tmp_path, wallet.info, sim.path, f"udp:127.0.0.1:{free_udp_port()}"
    )
    (tmp_path / "data").mkdir()
    journal = Journal(tmp_path / "data" / "journal.sqlite3", "T01")
    with monkeypatch.context() as clock:  # the event's instant, as the journal records it
        clock.setattr(time, "time", lambda: TOP_UP_AT)
        journal.log("staff", "collection recorded")
    journal.close()

    result = run_kiosk(config, "journal")  # the real process, TZ=UTC in its environment
    assert result.returncode == 0, result.stderr
    assert "2026-11-23 23:10:00 staff: collection recorded" in result.stdout, result.stdout
    assert "14:10" not in result.stdout


@pytest.mark.usefixtures("machine_in_utc")
def test_the_receipt_shows_japan_time_on_a_machine_in_utc(
    tmp_path: Path, sim: SimulatorProcess, wallet: Sandbox
) -> None:
    from screens.qr import QRCode

    card = wallet.card_of(wallet.member({"base": 1000}))
    seen: dict[str, object] = {}

    async def scenario(ui: KioskUI) -> None:
        await ui.ready()
        await ui.touch_card(card)
        await ui.wait_shown(State.ACCOUNT)
        await ui.press("チャージ")
        await ui.wait_shown(State.CHOOSE_MONEY)
        await ui.press("ベース")
        await ui.wait_shown(State.ACCEPTING)
        await ui.feed(1000)
        await ui.wait_label("¥1,000")
        await ui.press("完了")
        await ui.wait_shown(State.DONE)
        codes = [w for w in ui.app.current_screen.walk() if isinstance(w, QRCode)]
        seen.update(receipt=codes[0].text, at=ui.view.finished_at if ui.view else None)

    assert KioskUI(tmp_path, sim, wallet).run(scenario, "receipt-time") == 0
    assert isinstance(seen["at"], float)
    japan = datetime.fromtimestamp(seen["at"], ZoneInfo("Asia/Tokyo"))
    assert japan.strftime("%Y-%m-%d %H:%M JST") in str(seen["receipt"]).split("\n"), seen
