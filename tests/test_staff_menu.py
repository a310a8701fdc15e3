"""The staff menu on the running kiosk (``runner.run`` with the Kivy front, the real engine,
the wallet sandbox, the acceptor simulator and the card emulator): a staff card or the service
key and a PIN, the kiosk out of service while the menu is open, the lockout (also after a
restart), a collection counted at the kiosk, a case resolved there, the menu's time-out; no PIN
in any log line or journal row."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory

from hardware.card import mask_card_id
from hardware.id003.sim.process import SimulatorProcess
from kiosk.config.settings import Config
from kiosk.core.faults import FaultSource
from kiosk.core.session import State
from kiosk.journal import Journal
from kiosk.staff.view import Desk
from tests.support.gpio_pins import DOOR, GPIO, KEY, SwitchPin
from tests.support.staff_menu import (
    FAST_STAFF,
    PIN,
    STAFF,
    STAFF_IDM,
    USB,
    desk,
    desk_at,
    kiosk,
    touch_pin,
)
from tests.support.ui import KioskUI
from tests.support.wallet import Sandbox, stacked_credit

pytestmark = pytest.mark.timeout(150)
WRONG = "90909090"  # not the PIN on record


def type_pin(ui: KioskUI, pin: str) -> None:
    for digit in pin:
        desk(ui).staff_digit(digit)
    desk(ui).staff_enter()


def journal_text(config: Config) -> str:
    with sqlite3.connect(config.journal_path) as db:
        rows = db.execute("SELECT * FROM events").fetchall()
        rows += db.execute("SELECT * FROM staff_attempts").fetchall()
    return "\n".join(map(str, rows))


def test_a_staff_card_and_its_pin_open_the_menu_and_the_kiosk_is_out_of_service_meanwhile(
    tmp_path: Path, sim: SimulatorProcess, wallet: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    member = wallet.card_of(wallet.member({"base": 1_000}))
    ui = kiosk(tmp_path, sim, wallet)

    async def scenario(ui: KioskUI) -> None:
        await ui.ready()
        await ui.touch_card(STAFF_IDM)
        view = await desk_at(ui, Desk.PIN)
        assert (view.staff, view.via) == (STAFF, "card")
        await ui.wait_state(State.OUT_OF_SERVICE)
        await ui.sim_until(lambda d: d.inhibited, "no notes while staff are in")
        assert sim.insert(1_000)  # a note fed now goes back
        await ui.sim_until(lambda d: not d.busy, "the note handed back")
        assert sim.stacked == []
        for digit in PIN[:3]:
            await ui.press(digit)
        await ui.until(lambda: desk(ui).view.pin_digits == 3, "three digits")
        assert not ui.has_button("OK")  # too short yet
        texts = ui.texts()
        assert "● ● ●" in " ".join(texts) and not any(PIN[:3] in t for t in texts), texts
        for digit in PIN[3:]:
            await ui.press(digit)
        await ui.press("OK")
        await desk_at(ui, Desk.MENU)
        await ui.shot("menu")
        desk(ui).staff_close()
        await desk_at(ui, Desk.CLOSED)
        await ui.wait_shown(State.IDLE)
        await ui.touch_card(member)  # members are served again
        await ui.wait_shown(State.ACCOUNT)

    assert ui.run(scenario, "staff-card") == 0
    text = journal_text(ui.config) + caplog.text
    assert PIN not in text and STAFF_IDM not in text
    assert f"{STAFF}: staff menu closed (closed by staff)" in text
    assert mask_card_id(STAFF_IDM) in text  # the attempt, with the masked card


def test_five_wrong_pins_lock_staff_entry_and_the_lock_holds_after_a_restart(
    tmp_path: Path, sim: SimulatorProcess, wallet: Sandbox
) -> None:
    ui = kiosk(tmp_path, sim, wallet)

    async def wrong_five(ui: KioskUI) -> None:
        await ui.ready()
        await ui.touch_card(STAFF_IDM)
        for left in (4, 3, 2, 1):
            await desk_at(ui, Desk.PIN)
            type_pin(ui, WRONG)
            view = await ui.until(lambda: desk(ui).view.message and desk(ui).view, "refused")
            assert view.message_arg == str(left), view
        type_pin(ui, WRONG)
        locked = await desk_at(ui, Desk.LOCKED)
        assert locked.locked_until is not None
        desk(ui).staff_close()
        await ui.wait_shown(State.IDLE)

    assert ui.run(wrong_five, "staff-lock") == 0

    async def after_restart(ui: KioskUI) -> None:
        await ui.ready()
        await ui.touch_card(STAFF_IDM)
        await desk_at(ui, Desk.LOCKED)  # the right PIN is not even asked for

    again = KioskUI(tmp_path, sim, wallet, extra=FAST_STAFF.format(timeout=120))
    assert again.run(after_restart, "staff-lock-2") == 0


@pytest.fixture
def key_pins(monkeypatch: pytest.MonkeyPatch) -> Iterator[MockFactory]:
    monkeypatch.delenv("GPIOZERO_PIN_FACTORY", raising=False)
    factory = MockFactory(pin_class=SwitchPin)
    Device.pin_factory = factory
    factory.pin(DOOR).close_switch()  # the cash-box door is shut
    factory.pin(KEY).open_switch()  # the service key off
    yield factory
    factory.reset()
    Device.pin_factory = None


def test_the_service_key_asks_who_and_a_pin_and_turning_it_back_closes_the_menu(
    tmp_path: Path, sim: SimulatorProcess, wallet: Sandbox, key_pins: MockFactory
) -> None:
    ui = kiosk(tmp_path, sim, wallet, extra=GPIO)

    async def scenario(ui: KioskUI) -> None:
        await ui.ready()
        key = key_pins.pin(KEY)
        key.close_switch()
        view = await desk_at(ui, Desk.CHOOSE_NAME)
        assert view.names == (STAFF,)
        desk(ui).staff_name(STAFF)
        await desk_at(ui, Desk.PIN)
        type_pin(ui, PIN)
        await desk_at(ui, Desk.MENU)
        key.open_switch()
        await desk_at(ui, Desk.CLOSED)
        await ui.wait_shown(State.IDLE)

    assert ui.run(scenario, "staff-key") == 0
    assert "suzuki: staff menu closed (the service key turned off)" in journal_text(ui.config)


def test_staff_taking_the_kiosk_out_of_service_tell_members_calmly_until_they_switch_it_back(
    tmp_path: Path, sim: SimulatorProcess, wallet: Sandbox
) -> None:
    ui = kiosk(tmp_path, sim, wallet)

    async def scenario(ui: KioskUI) -> None:
        await ui.ready()
        await ui.touch_card(STAFF_IDM)
        await desk_at(ui, Desk.PIN)
        type_pin(ui, PIN)
        await desk_at(ui, Desk.MENU)
        desk(ui).staff_service(True)
        desk(ui).staff_close()
        await desk_at(ui, Desk.CLOSED)
        texts = await ui.wait_shown(State.OUT_OF_SERVICE)  # the menu closed, the switch holds
        view = ui.view
        assert view is not None and view.fault is not None
        assert view.fault.source is FaultSource.STAFF_SWITCH
        assert ui.t("Staff have taken this kiosk out of service.") in texts
        assert ui.t("Please use another kiosk.") in texts
        await ui.touch_card(STAFF_IDM)  # staff switch it back
        await desk_at(ui, Desk.PIN)
        type_pin(ui, PIN)
        await desk_at(ui, Desk.MENU)
        desk(ui).staff_service(False)
        desk(ui).staff_close()
        await ui.wait_shown(State.IDLE)

    assert ui.run(scenario, "staff-switch") == 0
    assert f"{STAFF}: kiosk out of service (staff menu)" in journal_text(ui.config)


def test_a_collection_counted_at_the_kiosk_records_the_discrepancy_and_starts_a_new_period(
    tmp_path: Path, sim: SimulatorProcess, wallet: Sandbox
) -> None:
    member = wallet.card_of(wallet.member({"base": 1_000}))
    ui = kiosk(tmp_path, sim, wallet)

    async def scenario(ui: KioskUI) -> None:
        await ui.start_charging(member, "ベース")
        for note in (1_000, 5_000, 1_000):
            await ui.feed(note)
        await ui.wait_label("¥7,000")
        await ui.press("完了")
        await ui.wait_shown(State.DONE)
        await ui.press("OK")
        await ui.wait_shown(State.IDLE)
        await ui.touch_card(STAFF_IDM)
        await desk_at(ui, Desk.PIN)
        await touch_pin(ui, PIN)
        await desk_at(ui, Desk.MENU)
        await ui.press(ui.t("Cash box"))
        box = await desk_at(ui, Desk.CASHBOX)
        assert box.cashbox is not None and box.cashbox.total == 7_000
        await ui.wait_text("¥7,000")
        await ui.press(ui.t("Collection"))
        await desk_at(ui, Desk.COUNT)
        await ui.press_in_row("¥1,000", "+")  # staff found one ¥1,000 note and the ¥5,000
        await ui.until(lambda: dict(desk(ui).view.counted)[1_000] == 1, "one ¥1,000 counted")
        await ui.press_in_row("¥5,000", "+")
        await ui.until(lambda: dict(desk(ui).view.counted)[5_000] == 1, "one ¥5,000 counted")
        await ui.press(ui.t("Save"))
        record = await desk_at(ui, Desk.RECORD)
        assert record.record is not None and record.record.discrepancy == -1_000
        assert "discrepancy: -¥1,000 (¥1,000 -1)" in record.record_text
        await ui.wait_text("-¥1,000")
        await ui.shot("record")
        await ui.press(ui.t("Back to menu"))
        await desk_at(ui, Desk.MENU)
        await ui.press(ui.t("Cash box"))
        box = await desk_at(ui, Desk.CASHBOX)
        assert box.cashbox is not None and box.cashbox.total == 0  # a new period
        await ui.press(ui.t("Back"))
        await desk_at(ui, Desk.MENU)
        await ui.press(ui.t("Close"))
        await ui.wait_shown(State.IDLE)

    assert ui.run(scenario, "staff-collect") == 0
    journal = Journal(ui.config.journal_path, ui.config.kiosk.id)
    try:
        last = journal.cashbox.last_collection()
        assert last is not None and last.who == STAFF
        assert last.counted is not None and last.counted.total == 6_000
        assert last.expected.total == 7_000 == sum(sim.stacked)
    finally:
        journal.close()


def test_a_refused_credit_resolved_at_the_kiosk_is_never_credited_later(
    tmp_path: Path, sim: SimulatorProcess, wallet: Sandbox
) -> None:
    ui = kiosk(tmp_path, sim, wallet)
    user = wallet.member(status="suspended")
    journal = Journal(ui.config.journal_path, ui.config.kiosk.id)
    try:
        credit = stacked_credit(journal, wallet, user, 2_000, "T…00", "停止 花子")
    finally:
        journal.close()

    async def scenario(ui: KioskUI) -> None:
        await ui.ready()
        cases = await ui.until(lambda: _open_cases(ui.config), "the refused credit's case", 20)
        reference = cases[0]
        wallet.store.set_user_status(user, "active")  # a retry would now go through
        await ui.touch_card(STAFF_IDM)
        await desk_at(ui, Desk.PIN)
        type_pin(ui, PIN)
        await desk_at(ui, Desk.MENU)
        await ui.press(ui.t("Staff cases ({count})").format(count=1))
        listed = await desk_at(ui, Desk.CASES)
        assert [c.reference for c in listed.cases] == [reference]
        await ui.press(ui.t("Open"))
        await desk_at(ui, Desk.CASE)
        await ui.wait_text(reference)
        await ui.press(ui.t("Refunded in cash"))
        done = await desk_at(ui, Desk.CASES)
        assert done.cases == () and done.message_arg == reference

    assert ui.run(scenario, "staff-case") == 0
    assert wallet.balance(user, "base") == 0  # refunded in cash, never credited as well
    journal = Journal(ui.config.journal_path, ui.config.kiosk.id)
    try:
        assert journal.credits.get(credit.id).state == "refused"
        assert journal.cases.list() == []
    finally:
        journal.close()


def _open_cases(config: Config) -> list[str]:
    with sqlite3.connect(config.journal_path) as db:
        return [r[0] for r in db.execute("SELECT reference FROM cases WHERE state = 'open'")]


def test_the_menu_closes_itself_when_left_untouched_and_a_language_touch_keeps_it_open(
    tmp_path: Path, sim: SimulatorProcess, wallet: Sandbox
) -> None:
    ui = kiosk(tmp_path, sim, wallet, timeout=10.0)  # the shortest [staff] menu_timeout_s

    async def scenario(ui: KioskUI) -> None:
        await ui.ready()
        await ui.touch_card(STAFF_IDM)
        await desk_at(ui, Desk.PIN)
        type_pin(ui, PIN)
        first = (await desk_at(ui, Desk.MENU)).deadline
        assert first is not None
        await asyncio.sleep(6)
        await ui.press("English")  # a touch on the language: the menu's time starts over
        await ui.until(lambda: desk(ui).view.deadline != first, "the menu's time restarted")
        await asyncio.sleep(first - time.monotonic() + 1)  # past the first deadline
        assert desk(ui).view.desk is Desk.MENU
        await desk_at(ui, Desk.CLOSED, timeout=15)
        await ui.wait_shown(State.IDLE)
        await ui.sim_until(lambda d: d.inhibited and not d.busy, "idle again")

    assert ui.run(scenario, "staff-timeout") == 0
    assert "staff menu closed (untouched for a while)" in journal_text(ui.config)


async def into_menu(ui: KioskUI) -> None:
    await ui.ready()
    await ui.touch_card(STAFF_IDM)
    await desk_at(ui, Desk.PIN)
    await touch_pin(ui, PIN)
    await desk_at(ui, Desk.MENU)


def test_the_export_writes_csv_to_the_usb_stick_and_says_so_when_it_is_not_there(
    tmp_path: Path, sim: SimulatorProcess, wallet: Sandbox
) -> None:
    ui = kiosk(tmp_path, sim, wallet)

    async def scenario(ui: KioskUI) -> None:
        await into_menu(ui)
        await ui.press(ui.t("Export CSV"))  # no stick yet: the folder is not there
        failed = await ui.until(lambda: desk(ui).view.message and desk(ui).view, "a message")
        assert failed.message == "Export failed: {value}" and "not there" in failed.message_arg
        (tmp_path / USB).mkdir()
        await ui.press(ui.t("Export CSV"))
        await ui.until(lambda: desk(ui).view.message_arg == "4", "four files written")
        await ui.wait_text(ui.t("Exported {value} files").format(value=4))
        await ui.press(ui.t("Events"))
        events = await desk_at(ui, Desk.EVENTS)
        assert events.events[0].detail.startswith(f"{STAFF}: exported to ")
        await ui.wait_text(f"{STAFF}: exported to")

    assert ui.run(scenario, "staff-export") == 0
    names = sorted(f.name for f in (tmp_path / USB).iterdir())
    kinds = ("-cases.csv", "-cash-ledger.csv", "-collections.csv", "-credits.csv")
    assert len(names) == 4 and all(any(n.endswith(k) for n in names) for k in kinds), names


def test_restart_from_the_menu_stops_the_kiosk_cleanly_for_systemd_to_start_again(
    tmp_path: Path, sim: SimulatorProcess, wallet: Sandbox
) -> None:
    ui = kiosk(tmp_path, sim, wallet)

    async def scenario(ui: KioskUI) -> None:
        await into_menu(ui)
        await ui.press(ui.t("Restart the app"))
        await desk_at(ui, Desk.RESTART)
        await ui.press(ui.t("Back"))  # not yet
        await desk_at(ui, Desk.MENU)
        await ui.press(ui.t("Restart the app"))
        await ui.press(ui.t("Restart now"))
        assert await ui.kiosk_ended() == 0  # a clean stop; Restart=always starts it again

    assert ui.run(scenario, "staff-restart") == 0
    assert f"{STAFF}: restart of the app (staff menu)" in journal_text(ui.config)


def test_staff_switch_the_voice_off_and_turn_it_down_and_it_stays_so_after_a_restart(
    tmp_path: Path, sim: SimulatorProcess, wallet: Sandbox
) -> None:
    ui = kiosk(tmp_path, sim, wallet, extra="\n[ui]\nvoice = true\nvolume = 80\n")

    async def scenario(ui: KioskUI) -> None:
        await ui.ready()
        assert ui.front is not None and ui.front.sounds is not None
        sounds = ui.front.sounds
        assert (sounds.voice, sounds.volume) == (True, 80)  # the configuration's
        await ui.touch_card(STAFF_IDM)
        await desk_at(ui, Desk.PIN)
        await touch_pin(ui, PIN)
        await desk_at(ui, Desk.MENU)
        await ui.press("音声と音量")
        view = await desk_at(ui, Desk.SPEAKER)
        assert view.speaker is not None and view.speaker.volume == 80
        assert "音声案内: オン" in ui.texts() and "音量: 80 %" in ui.texts()
        await ui.press("オフにする")
        await ui.wait_text("音声案内: オフ")
        await ui.press("−")
        await ui.wait_text("音量: 70 %")
        await ui.press("−")
        await ui.wait_text("音量: 60 %")
        await ui.shot("speaker")
        assert (sounds.voice, sounds.volume) == (False, 60)  # the speaker follows at once
        await ui.press("戻る")
        await desk_at(ui, Desk.MENU)
        desk(ui).staff_close()
        await ui.wait_shown(State.IDLE)

    assert ui.run(scenario, "staff-speaker") == 0
    text = journal_text(ui.config)
    assert f"{STAFF}: speaker voice off" in text and f"{STAFF}: speaker volume 60 %" in text

    async def after_restart(ui: KioskUI) -> None:
        await ui.ready()
        assert ui.front is not None and ui.front.sounds is not None
        assert (ui.front.sounds.voice, ui.front.sounds.volume) == (False, 60)

    again = KioskUI(tmp_path, sim, wallet, extra="\n[ui]\nvoice = true\nvolume = 80\n")
    assert again.run(after_restart, "staff-speaker-2") == 0


def test_staff_close_the_day_at_the_kiosk_and_take_it_on_the_usb_stick(
    tmp_path: Path, sim: SimulatorProcess, wallet: Sandbox
) -> None:
    member = wallet.card_of(wallet.member({"base": 1_000}))
    ui = kiosk(tmp_path, sim, wallet)
    (tmp_path / USB).mkdir()

    async def scenario(ui: KioskUI) -> None:
        await ui.start_charging(member, "ベース")
        await ui.feed(1_000)
        await ui.wait_label("¥1,000")
        await ui.press("完了")
        await ui.wait_shown(State.DONE, timeout=30)
        await ui.press("OK")
        await ui.wait_shown(State.IDLE)
        await ui.touch_card(STAFF_IDM)
        await desk_at(ui, Desk.PIN)
        await touch_pin(ui, PIN)
        await desk_at(ui, Desk.MENU)
        await ui.press("金庫")
        await desk_at(ui, Desk.CASHBOX)
        await ui.press("日計")
        view = await desk_at(ui, Desk.DAY_CLOSE)
        assert view.last_day and "cash in: 1 note ¥1,000" in view.record_text
        assert "credited base: 1 × ¥1,000 confirmed" in view.record_text
        await ui.shot("day-close")
        await ui.press("CSV出力")
        await ui.wait_text("1 個のファイルを出力しました")
        # checked against the wallet's ledger (the session's sandbox: other tests' top-ups
        # under the same shop are there too, so only this kiosk's own credit is asserted)
        await ui.press("ウォレットと照合")
        view = await ui.until(
            lambda: (
                desk(ui).view
                if desk(ui).view.message == "Checked with the wallet: {value}"
                else None
            ),
            "the day checked against the wallet",
            timeout=60,
        )
        assert "reconciliation with the wallet (" in view.record_text
        assert "1 matched of" in view.record_text
        await ui.press("前日")
        view = await ui.until(
            lambda: desk(ui).view if not desk(ui).view.last_day else None, "the day before"
        )
        assert "cash in: 0 notes ¥0" in view.record_text
        desk(ui).staff_close()
        await ui.wait_shown(State.IDLE)

    assert ui.run(scenario, "staff-day-close", timeout=120) == 0
    written = list((tmp_path / USB).glob(f"paykiosk-{ui.config.kiosk.id}-day-*.csv"))
    assert len(written) == 1
    assert "notes,total,1,1000" in written[0].read_text(encoding="utf-8-sig")
    assert "daily close of" in journal_text(ui.config)
