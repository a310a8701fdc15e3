"""Every member flow through the touch UI on the production path (``runner.run`` with the Kivy
front), with simulated touches, against the real engine, the wallet sandbox (HTTPS), the
ID-003 acceptor simulator (pty) and the FeliCa card emulator (nfcpy udp). Each flow asserts
what the member sees: the screen, amounts, money names and the stable button labels.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
from functools import partial
from pathlib import Path

import pytest

from hardware.id003.sim.process import SimulatorProcess
from kiosk.core.events import Notice
from kiosk.core.session import State
from tests.support.ui import KioskUI
from tests.support.wallet import Sandbox

NAME = "テスト 会員"  # every member tests/support/wallet.py makes
pytestmark = pytest.mark.timeout(120)  # a wedged loop fails the test, not the whole run
MONEY = {"base": "ベース", "cafeteria": "学食", "textbook": "教科書"}


def member(wallet: Sandbox, **balances: int | None) -> tuple[str, str]:
    user = wallet.member({"base": 3_200, "cafeteria": 1_500, "textbook": 700, **balances})
    return user, wallet.card_of(user)


@pytest.mark.parametrize("bucket", ["base", "cafeteria", "textbook"])
def test_charging_a_money_shows_the_live_total_and_the_new_balance(
    tmp_path: Path, sim: SimulatorProcess, wallet: Sandbox, bucket: str
) -> None:
    user, card = member(wallet)
    before = wallet.balance(user, bucket)
    ui = KioskUI(tmp_path, sim, wallet)

    async def scenario(ui: KioskUI) -> None:
        await ui.ready()
        await ui.touch_card(card)
        await ui.wait_shown(State.ACCOUNT)
        texts = await ui.wait_text(NAME)
        for name, amount in (("ベース", "¥3,200"), ("学食", "¥1,500"), ("教科書", "¥700")):
            assert name in texts and amount in texts, texts
        await ui.shot("account")
        await ui.press("チャージ")
        await ui.wait_shown(State.CHOOSE_MONEY)
        await ui.shot("choose")
        await ui.press(MONEY[bucket])
        texts = await ui.wait_shown(State.ACCEPTING)
        assert "¥0" in texts and not ui.has_button("完了"), texts
        for note, total in ((1_000, "¥1,000"), (5_000, "¥6,000"), (2_000, "¥8,000")):
            await ui.feed(note)
            await ui.wait_label(total)
            assert not ui.has_button("キャンセル"), "cancel while notes are in"
        await ui.shot("inserted")
        await ui.press("完了")
        await ui.wait_shown(State.DONE)
        await ui.wait_text(f"¥{before + 8_000:,}")  # the new balance
        texts = ui.texts()
        assert any("¥8,000" in t for t in texts) and any(MONEY[bucket] in t for t in texts), texts
        await ui.shot("done")
        assert wallet.balance(user, bucket) == before + 8_000
        assert sim.stacked == [1_000, 5_000, 2_000]
        await ui.press("OK")
        await ui.wait_shown(State.IDLE)

    assert ui.run(scenario, f"charge-{bucket}") == 0


def test_a_note_that_does_not_fit_comes_back_and_the_money_fills_to_its_cap(
    tmp_path: Path, sim: SimulatorProcess, wallet: Sandbox
) -> None:
    user, card = member(wallet, base=45_500)  # base money's cap is ¥50,000: ¥4,500 fits

    async def scenario(ui: KioskUI) -> None:
        await ui.ready()
        await ui.touch_card(card)
        await ui.wait_shown(State.ACCOUNT)
        await ui.press("チャージ")
        await ui.wait_text("¥4,500")  # how much more fits, on the money's button
        await ui.press("ベース")
        await ui.wait_shown(State.ACCEPTING)
        await ui.wait_text("¥2,000")  # the largest note taken
        await ui.feed(1_000)
        await ui.wait_label("¥1,000")
        await ui.feed(5_000)  # ¥3,500 left: does not fit
        await ui.until(
            lambda: ui.view and ui.view.notice in (Notice.NOTE_REJECTED, Notice.NOTE_RETURNED),
            "the note handed back",
        )
        await ui.sim_until(lambda d: not d.busy, "the ¥5,000 note back out")
        texts = ui.texts()
        handed_back = {
            ui.t("A note was not accepted: please take it back."),
            *(t for t in texts if "¥5,000" in t),
        }
        assert handed_back & set(texts), f"nothing says a note came back: {texts}"
        assert "¥1,000" in texts and any("¥2,000" in t for t in texts), texts
        await ui.shot("handed-back")
        assert sim.stacked == [1_000]
        await ui.feed(2_000)
        await ui.wait_label("¥3,000")
        await ui.wait_text("¥1,000")  # ¥1,500 left: the largest note now
        await ui.feed(1_000)
        await ui.wait_label("¥4,000")
        await ui.sim_until(lambda d: d.inhibited, "no more notes taken")  # ¥500 left
        await ui.wait_text(ui.t("This money cannot be charged any further."))
        assert [t for t in ui.texts() if "¥" in t] == ["¥4,000"], ui.texts()  # no note offered
        await ui.shot("full")
        await ui.press("完了")
        await ui.wait_shown(State.DONE)
        await ui.wait_text("¥49,500")
        assert any("¥4,000" in t for t in ui.texts()), ui.texts()
        assert wallet.balance(user, "base") == 49_500
        assert sim.stacked == [1_000, 2_000, 1_000]

    assert KioskUI(tmp_path, sim, wallet).run(scenario, "cap") == 0


def test_cancel_before_any_note_ends_the_session_and_takes_nothing(
    tmp_path: Path, sim: SimulatorProcess, wallet: Sandbox
) -> None:
    user, card = member(wallet)

    async def scenario(ui: KioskUI) -> None:
        from kivy.clock import Clock

        await ui.start_charging(card, "学食")
        assert Clock._max_fps == 30  # [ui] maxfps while a member is here
        await ui.sim_until(lambda d: not d.inhibited, "notes taken")
        assert ui.has_button("キャンセル") and not ui.has_button("完了"), ui.texts()
        await ui.shot("empty")
        await ui.press("キャンセル")
        await ui.wait_shown(State.IDLE)
        assert Clock._max_fps == 10  # [ui] idle_fps on the attract screen: idle CPU
        await ui.sim_until(lambda d: d.inhibited, "no more notes taken")
        assert sim.insert(1_000)  # a note fed now goes back
        await ui.sim_until(lambda d: not d.busy, "the note handed back")
        assert sim.stacked == [] and wallet.balance(user, "cafeteria") == 1_500
        await ui.wait_shown(State.IDLE)

    assert KioskUI(tmp_path, sim, wallet).run(scenario, "cancel") == 0


def seed_payments(wallet: Sandbox, user: str, bucket: str, amounts: list[int]) -> None:
    """Purchases in the member's history (oldest first), as the sandbox's seed makes them."""
    money, shop = wallet.moneys[bucket], wallet.info["shop_id"]
    accounts = "SELECT id FROM accounts WHERE user_id = ? AND money_id = ?"
    mine, till = (
        wallet.store.one(accounts, (user, money)),
        wallet.store.one(accounts, (shop, money)),
    )
    assert mine is not None and till is not None
    for amount in amounts:
        wallet.store.record_payment(mine["id"], till["id"], amount, "テスト 購入")


def test_history_pages_through_every_purchase_newest_first(
    tmp_path: Path, sim: SimulatorProcess, wallet: Sandbox
) -> None:
    user, card = member(wallet, base=20_000)
    amounts = list(range(101, 115))  # 14 purchases: ¥101 oldest … ¥114 newest
    seed_payments(wallet, user, "base", amounts)
    pages: list[list[int]] = []

    def amounts_shown(texts: list[str]) -> list[int]:
        """The purchases on screen, in the order shown (however the sign is written)."""
        shown = [int(n.replace(",", "")) for t in texts for n in re.findall(r"¥([\d,]+)", t)]
        return [a for a in shown if a in amounts]

    ui = KioskUI(tmp_path, sim, wallet)

    def next_page(before: list[int]) -> list[int]:
        shown = amounts_shown(ui.texts())
        return shown if shown and shown != before else []

    async def scenario(ui: KioskUI) -> None:
        await ui.ready()
        await ui.touch_card(card)
        await ui.wait_shown(State.ACCOUNT)
        await ui.wait_text(f"¥{20_000 - sum(amounts):,}")
        await ui.press(ui.t("History"))
        await ui.wait_shown(State.HISTORY)
        await ui.until(lambda: amounts_shown(ui.texts()), "purchases")
        pages.append(amounts_shown(ui.texts()))
        await ui.shot("page-1")
        while ui.has_button(ui.t("More")):
            before = amounts_shown(ui.texts())
            await ui.press(ui.t("More"))
            await ui.until(partial(next_page, before), "the next page")
            pages.append(amounts_shown(ui.texts()))
            await ui.shot(f"page-{len(pages)}")
            assert len(pages) < 6, pages
        await ui.press("学食")  # another money's history: none of these purchases
        await ui.until(
            lambda: (
                (h := ui.view and ui.view.history) and h.bucket == "cafeteria" and not h.loading
            ),
            "the cafeteria history",
        )
        await ui.frames(2)
        assert not amounts_shown(ui.texts()), ui.texts()
        await ui.shot("cafeteria")
        await ui.press(ui.t("Back"))
        await ui.wait_shown(State.ACCOUNT)
        await ui.wait_text(NAME)

    assert ui.run(scenario, "history") == 0
    newest_first = list(reversed(amounts))
    assert pages[0] == newest_first[:6], pages  # the newest purchase first
    assert [a for page in pages for a in page] == newest_first, pages  # each one, once


def test_each_error_screen_tells_its_own_story_and_ok_goes_back(
    tmp_path: Path, sim: SimulatorProcess, wallet: Sandbox
) -> None:
    _, card = member(wallet)
    _, stopped = member(wallet)
    wallet.store.set_user_status(wallet.store.user_by_card(stopped) or "", "suspended")
    stories: dict[str, list[str]] = {}

    async def error_screen(ui: KioskUI, story: str, state: State) -> None:
        stories[story] = await ui.wait_shown(state)
        assert ui.has_button("OK") and not ui.has_button("チャージ"), stories[story]
        await ui.shot(story)
        await ui.press("OK")
        await ui.wait_shown(State.IDLE)

    async def scenario(ui: KioskUI) -> None:
        await ui.ready()
        await ui.touch_card("0123456789ABCDEF")  # on no member's account
        await error_screen(ui, "unregistered", State.UNKNOWN_CARD)
        assert ui.engine is not None
        ui.engine.inbox.card_unreadable()  # what the reader reports for a card it cannot read
        await error_screen(ui, "unreadable", State.UNKNOWN_CARD)
        await ui.touch_card(stopped)
        await error_screen(ui, "stopped", State.ACCOUNT_SUSPENDED)
        wallet.faults(refuse=True)
        await ui.touch_card(card)
        await error_screen(ui, "wallet-down", State.WALLET_UNAVAILABLE)
        wallet.clear_faults()
        await ui.touch_card(card)  # the same member again, the wallet back
        await ui.wait_shown(State.ACCOUNT)
        await ui.wait_text(NAME)
        assert ui.has_button("チャージ"), ui.texts()
        await ui.shot("wallet-up")
        assert sim.stacked == [] and sim.control(lambda d, now: d.inhibited)  # took no note

    assert KioskUI(tmp_path, sim, wallet).run(scenario, "errors") == 0
    texts = {story: tuple(t for t in shown if t != "English") for story, shown in stories.items()}
    assert len(set(texts.values())) == len(texts), texts  # four different screens


def test_an_acceptor_power_cut_mid_session_credits_the_notes_in_and_goes_out_of_service(
    tmp_path: Path, sim: SimulatorProcess, wallet: Sandbox
) -> None:
    user, card = member(wallet)

    async def scenario(ui: KioskUI) -> None:
        await ui.start_charging(card, "ベース")
        await ui.feed(2_000)
        await ui.wait_label("¥2,000")
        sim.power_cut()
        await ui.wait_state(State.DONE, timeout=15)
        await ui.wait_shown(State.DONE)
        await ui.wait_text("¥5,200")  # the new balance
        assert any("¥2,000" in t for t in ui.texts()), ui.texts()
        assert wallet.balance(user, "base") == 5_200
        await ui.shot("credited")
        await ui.press("OK")
        texts = await ui.wait_shown(State.OUT_OF_SERVICE)
        assert not ui.has_button("OK") and not ui.has_button("チャージ"), texts
        await ui.shot("out-of-service")
        await ui.touch_card(card)  # no session while out of service
        await asyncio.sleep(2)
        assert ui.view and ui.view.state is State.OUT_OF_SERVICE
        assert ui.texts() == texts, "the out-of-service screen changed"
        sim.power_on()
        await ui.wait_shown(State.IDLE, timeout=15)
        assert sim.stacked == [2_000]

    assert KioskUI(tmp_path, sim, wallet).run(scenario, "power-cut") == 0


def test_switching_to_english_mid_session_keeps_the_session(
    tmp_path: Path, sim: SimulatorProcess, wallet: Sandbox
) -> None:
    user, card = member(wallet)

    async def scenario(ui: KioskUI) -> None:
        await ui.start_charging(card, "教科書")
        await ui.feed(1_000)
        await ui.wait_label("¥1,000")
        await ui.press("English")
        await ui.wait_text("日本語")  # the toggle back
        texts = await ui.wait_shown(State.ACCEPTING)  # the same screen, the same session
        assert "¥1,000" in texts and "Done" in texts, texts
        assert not any("完了" in t or "教科書" in t for t in texts), texts
        await ui.shot("english")
        await ui.feed(5_000)
        await ui.wait_label("¥6,000")
        await ui.press("Done")
        await ui.wait_shown(State.DONE)
        await ui.wait_text("¥6,700")
        texts = ui.texts()
        assert any("Textbook" in t and "¥6,000" in t for t in texts), texts
        await ui.shot("done")
        assert wallet.balance(user, "textbook") == 6_700
        await ui.press("OK")
        await ui.wait_shown(State.IDLE)
        await ui.wait_text("English")  # the next member starts in Japanese

    assert KioskUI(tmp_path, sim, wallet).run(scenario, "english") == 0


def test_sigterm_while_notes_are_in_credits_them_and_closes_the_app(
    tmp_path: Path, sim: SimulatorProcess, wallet: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    user, card = member(wallet)
    ui = KioskUI(tmp_path, sim, wallet)

    async def scenario(ui: KioskUI) -> None:
        await ui.start_charging(card, "学食")
        for note, total in ((1_000, "¥1,000"), (2_000, "¥3,000")):
            await ui.feed(note)
            await ui.wait_label(total)
        await ui.shot("notes-in")
        os.kill(os.getpid(), signal.SIGTERM)
        assert await ui.kiosk_ended() == 0

    assert ui.run(scenario, "sigterm") == 0
    assert wallet.balance(user, "cafeteria") == 4_500
    assert sim.stacked == [1_000, 2_000]
    done = [v for v in ui.views if v.state is State.DONE]
    assert done and done[-1].credited == 3_000, ui.views[-3:]
    troubles = [r for r in caplog.records if r.name.startswith("paykiosk") and r.levelno >= 40]
    assert not troubles, [r.getMessage() for r in troubles]  # e.g. the screen did not close
