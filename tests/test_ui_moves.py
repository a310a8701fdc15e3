"""マネー移動 through the touch UI on the production path (``runner.run`` with the Kivy front),
with simulated touches, against the real engine and the wallet sandbox (HTTPS): what the member
sees at each step, and what the wallet holds afterwards."""

from __future__ import annotations

from pathlib import Path

import pytest

from hardware.id003.sim.process import SimulatorProcess
from kiosk.core.session import State
from tests.support.ui import KioskUI
from tests.support.wallet import Sandbox

pytestmark = pytest.mark.timeout(120)


def _set_balance(wallet: Sandbox, user: str, bucket: str, balance: int) -> None:
    """The member's money changes elsewhere (a register, the member page) meanwhile."""
    with wallet.store.transaction() as db:
        db.execute(
            "UPDATE accounts SET money_balance = ? WHERE user_id = ? AND money_id ="
            " (SELECT id FROM moneys WHERE bucket = ?)",
            (balance, user, bucket),
        )


def _moves_at_the_wallet(wallet: Sandbox, user: str) -> int:
    row = wallet.store.one(
        "SELECT COUNT(*) AS n FROM transactions t JOIN accounts a ON a.id = t.sender_account"
        " WHERE t.type = 'exchange' AND a.user_id = ?",
        (user,),
    )
    assert row is not None
    return int(row["n"])


async def _all_of_base_to_textbook(ui: KioskUI, card: str, amount: str) -> None:
    """Touch, マネー移動, base → textbook, 全額 (``amount``), 次へ: at the confirmation."""
    await ui.touch_card(card)
    await ui.wait_shown(State.ACCOUNT)
    await ui.press("マネー移動")
    await ui.press("ベース → 教科書")
    await ui.press("全額")
    await ui.wait_label(amount)
    await ui.press("次へ")
    await ui.wait_shown(State.MOVE_CONFIRM)


def test_a_member_moves_base_money_to_cafeteria_money_and_cancels_a_second_move(
    tmp_path: Path, sim: SimulatorProcess, wallet: Sandbox
) -> None:
    user = wallet.member({"base": 3_200, "cafeteria": 1_500, "textbook": 700})
    card = wallet.card_of(user)

    async def scenario(ui: KioskUI) -> None:
        await ui.ready()
        await ui.touch_card(card)
        await ui.wait_shown(State.ACCOUNT)
        await ui.press("マネー移動")
        texts = await ui.wait_shown(State.MOVE_ROUTE)
        assert "ベース → 学食   (最大 ¥3,200)" in texts, texts
        await ui.press("ベース → 学食")
        await ui.wait_shown(State.MOVE_AMOUNT)
        await ui.press("+¥1,000")
        await ui.wait_label("¥1,000")
        await ui.press("+¥500")
        await ui.wait_label("¥1,500")
        await ui.shot("amount")
        await ui.press("次へ")
        texts = await ui.wait_shown(State.MOVE_CONFIRM)
        for amount in ("¥3,200", "¥1,700", "¥1,500", "¥3,000"):  # before and after, both
            assert amount in texts, texts
        assert wallet.balance(user, "base") == 3_200, "nothing moves before 確定"
        await ui.shot("confirm")
        await ui.press("確定")
        await ui.wait_shown(State.MOVED)
        texts = await ui.wait_text("移動しました")
        assert "ベース  ¥1,700" in texts and "学食  ¥3,000" in texts, texts
        assert any(t.startswith("受付番号: ") for t in texts), texts
        await ui.shot("moved")
        assert (wallet.balance(user, "base"), wallet.balance(user, "cafeteria")) == (1_700, 3_000)
        await ui.press("OK")
        await ui.wait_shown(State.IDLE)
        # a second move, cancelled at the confirmation: nothing moves
        await _all_of_base_to_textbook(ui, card, "¥1,700")
        await ui.press("キャンセル")
        await ui.wait_shown(State.ACCOUNT)
        await ui.press("終了")
        await ui.wait_shown(State.IDLE)

    assert KioskUI(tmp_path, sim, wallet).run(scenario, "move") == 0
    assert (wallet.balance(user, "base"), wallet.balance(user, "textbook")) == (1_700, 700)
    assert _moves_at_the_wallet(wallet, user) == 1


def test_a_move_over_the_cap_stops_at_the_room_and_a_refused_one_moves_nothing(
    tmp_path: Path, sim: SimulatorProcess, wallet: Sandbox
) -> None:
    # cafeteria money's cap is ¥30,000: ¥600 of room; base has ¥20,000
    user = wallet.member({"base": 20_000, "cafeteria": 29_400})
    card = wallet.card_of(user)

    async def scenario(ui: KioskUI) -> None:
        await ui.ready()
        await ui.touch_card(card)
        await ui.wait_shown(State.ACCOUNT)
        await ui.press("マネー移動")
        await ui.press("ベース → 学食")
        await ui.wait_shown(State.MOVE_AMOUNT)
        await ui.press("+¥5,000")
        texts = await ui.wait_text("移動できるのは最大 ¥600 です")
        assert "¥600" in texts and not ui.has_button("+¥100"), texts  # nothing more fits
        await ui.shot("at-the-cap")
        await ui.press("次へ")
        await ui.wait_shown(State.MOVE_CONFIRM)
        _set_balance(wallet, user, "cafeteria", 29_900)  # charged elsewhere meanwhile
        await ui.press("確定")
        await ui.wait_shown(State.MOVED)
        texts = await ui.wait_text("移動していません。")
        assert "移動先のマネーの上限を超えるため移動できません。" in texts, texts
        await ui.shot("over-the-cap")
        await ui.press("OK")
        await ui.wait_shown(State.IDLE)
        # not enough: the member spends base money between the confirmation and 確定
        await _all_of_base_to_textbook(ui, card, "¥20,000")
        _set_balance(wallet, user, "base", 500)
        await ui.press("確定")
        texts = await ui.wait_text("移動元の残高が足りません。")
        await ui.shot("not-enough")
        await ui.press("OK")
        await ui.wait_shown(State.IDLE)

    assert KioskUI(tmp_path, sim, wallet).run(scenario, "move-refused") == 0
    assert (wallet.balance(user, "base"), wallet.balance(user, "cafeteria")) == (500, 29_900)
    assert wallet.balance(user, "textbook") == 0 and _moves_at_the_wallet(wallet, user) == 0
