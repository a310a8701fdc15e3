"""Every member flow through the touch UI on the production path (``runner.run`` with the Kivy
front), with simulated touches, against the real engine, the wallet sandbox (HTTPS), the
ID-003 acceptor simulator (pty) and the FeliCa card emulator (nfcpy udp). Each flow asserts
what the member sees: the screen, amounts, money names and the stable button labels.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hardware.id003.simulator import AcceptorSimulator
from kiosk.session import State
from tests.ui_support import KioskUI
from tests.wallet_support import Sandbox

NAME = "テスト 会員"  # every member tests/wallet_support.py makes
MONEY = {"base": "ベース", "cafeteria": "学食", "textbook": "教科書"}


def member(wallet: Sandbox, **balances: int | None) -> tuple[str, str]:
    user = wallet.member({"base": 3_200, "cafeteria": 1_500, "textbook": 700, **balances})
    return user, wallet.card_of(user)


@pytest.mark.parametrize("bucket", ["base", "cafeteria", "textbook"])
def test_charging_a_money_shows_the_live_total_and_the_new_balance(
    tmp_path: Path, sim: AcceptorSimulator, wallet: Sandbox, bucket: str
) -> None:
    user, card = member(wallet)
    before = wallet.balance(user, bucket)
    ui = KioskUI(tmp_path, sim, wallet)

    async def scenario(ui: KioskUI) -> None:
        await ui.ready()
        await ui.touch_card(card)
        texts = await ui.wait_screen("account")
        await ui.wait_text(NAME)
        texts = ui.texts()
        for name, amount in (("ベース", "¥3,200"), ("学食", "¥1,500"), ("教科書", "¥700")):
            assert name in texts and amount in texts, texts
        await ui.shot("account")
        await ui.press("チャージ")
        await ui.wait_screen("choose_money")
        await ui.shot("choose")
        await ui.press(MONEY[bucket])
        texts = await ui.wait_screen("insert_notes")
        assert "¥0" in texts and not ui.has_button("完了"), texts
        for note, total in ((1_000, "¥1,000"), (5_000, "¥6,000"), (2_000, "¥8,000")):
            await ui.feed(note)
            await ui.wait_label(total)
            assert not ui.has_button("キャンセル"), "cancel while notes are in"
        await ui.shot("inserted")
        await ui.press("完了")
        await ui.wait_screen("done")
        await ui.wait_text(f"¥{before + 8_000:,}")  # the new balance
        texts = ui.texts()
        assert any("¥8,000" in t for t in texts) and any(MONEY[bucket] in t for t in texts), texts
        await ui.shot("done")
        assert wallet.balance(user, bucket) == before + 8_000
        assert sim.stacked == [1_000, 5_000, 2_000]
        await ui.press("OK")
        await ui.wait_screen("attract")
        await ui.wait_state(State.IDLE)

    assert ui.run(scenario, f"charge-{bucket}") == 0
