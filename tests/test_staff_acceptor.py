"""The acceptor's staff functions on the running kiosk (real engine, the acceptor simulator on a
pty, the wallet sandbox, the Kivy front driven by touches): a note switched off is handed back
to members, the test mode hands every note back and counts nothing, a reset brings a failed
acceptor back into service; and ``staff notes`` from a shell."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from hardware.id003.sim.process import SimulatorProcess
from kiosk.config.settings import Config, load
from kiosk.core.session import State
from kiosk.journal import Journal
from kiosk.sim.config import write_sandbox_config
from kiosk.staff.access import StaffAccess
from kiosk.staff.view import Desk
from tests.support.common import one_line_error
from tests.support.kiosk_process import run_kiosk
from tests.support.staff_menu import PIN, STAFF, STAFF_IDM, desk, desk_at, kiosk, touch_pin
from tests.support.ui import KioskUI
from tests.support.wallet import Sandbox

pytestmark = pytest.mark.timeout(150)


def rows(config: Config, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(config.journal_path) as db:
        return db.execute(sql).fetchall()


async def staff_in(ui: KioskUI) -> None:
    await ui.touch_card(STAFF_IDM)
    await desk_at(ui, Desk.PIN)
    await touch_pin(ui, PIN)
    await desk_at(ui, Desk.MENU)


def switch(ui: KioskUI, value: int, on: bool) -> str:
    """The label of a note's switch, as the acceptor screen shows it now."""
    label = ui.t("{note}: on") if on else ui.t("{note}: off")
    return label.format(note=f"¥{value:,}")


def test_a_note_switched_off_goes_back_to_members_and_the_test_mode_counts_nothing(
    tmp_path: Path, sim: SimulatorProcess, wallet: Sandbox
) -> None:
    member_id = wallet.member({"base": 1_000})
    member = wallet.card_of(member_id)
    ui = kiosk(tmp_path, sim, wallet)

    async def scenario(ui: KioskUI) -> None:
        await ui.ready()
        await staff_in(ui)
        await ui.press(ui.t("Status"))
        status = {row.label: row for row in (await desk_at(ui, Desk.STATUS)).status}
        assert status["Bill acceptor"].value.startswith("online, i(JPN)100-SS")
        assert status["Currency table"].value == "¥1,000 ¥2,000 ¥5,000 ¥10,000"
        assert status["Card reader"].value == "online"
        assert status["Wallet"].value.startswith("reachable, last answer in ")
        assert status["Wallet"].value.endswith("s from ours")
        assert not [row for row in status.values() if row.alert]
        await ui.wait_text(ui.t("Currency table"))
        await ui.shot("status")
        await ui.press(ui.t("Back"))
        await ui.press(ui.t("Bill acceptor"))
        view = await desk_at(ui, Desk.ACCEPTOR)
        assert view.acceptor is not None and view.acceptor.state == "online"
        assert view.acceptor.version.startswith("i(JPN)")
        await ui.press(switch(ui, 2_000, on=True))  # touch ¥2,000 "on": it goes off
        await ui.until(lambda: not dict(desk(ui).view.acceptor.notes)[2_000], "¥2,000 off")
        await ui.wait_text(switch(ui, 2_000, on=False))
        await ui.press(ui.t("Test notes"))
        await desk_at(ui, Desk.ACCEPTOR_TEST)
        await ui.sim_until(lambda d: not d.inhibited, "the acceptor takes test notes")
        for value in (1_000, 10_000, 2_000):
            await ui.sim_until(lambda d: not d.busy, "the unit free")
            assert sim.insert(value)
            count = len(desk(ui).view.acceptor.tested) + 1
            await ui.until(lambda n=count: len(desk(ui).view.acceptor.tested) == n, "tested")
        tested = desk(ui).view.acceptor.tested
        assert [(t.value, t.outcome) for t in tested] == [
            (None, "rejected"),  # refused before escrow: the unit does not say which note
            (10_000, "returned"),
            (1_000, "returned"),
        ]
        await ui.wait_text(ui.t("recognised, handed back"))
        await ui.shot("acceptor-test")
        await ui.sim_until(lambda d: not d.busy, "the last note handed back")
        assert sim.stacked == [] and sim.device.counters.returned == 3
        await ui.press(ui.t("End the test"))
        await desk_at(ui, Desk.ACCEPTOR)
        await ui.sim_until(lambda d: d.inhibited, "no notes once the test ended")
        await ui.press(ui.t("Back"))
        await desk_at(ui, Desk.MENU)
        await ui.press(ui.t("Close"))
        await desk_at(ui, Desk.CLOSED)

        await ui.start_charging(member, "ベース")
        shown = ui.view
        assert shown is not None and shown.notes_off == (2_000,), shown
        await ui.sim_until(lambda d: not d.busy and not d.inhibited, "taking notes")
        assert sim.insert(2_000)  # the unit itself refuses it now
        await ui.sim_until(lambda d: d.counters.returned == 4, "the ¥2,000 note handed back")
        await ui.feed(1_000)
        await ui.wait_label("¥1,000")
        await ui.press("完了")
        await ui.wait_shown(State.DONE)

    assert ui.run(scenario, "staff-acceptor") == 0
    assert sim.stacked == [1_000]
    assert wallet.balance(member_id, "base") == 2_000
    notes = rows(ui.config, "SELECT value, state FROM notes")
    assert notes == [(1_000, "stacked")]  # no test note ever reached the ledger
    events = "\n".join(str(r) for r in rows(ui.config, "SELECT detail FROM events"))
    assert f"{STAFF}: ¥2,000 notes switched off" in events
    assert f"{STAFF}: acceptor test started" in events
    assert f"{STAFF}: acceptor test ended (2 notes checked)" in events


def test_a_reset_at_the_staff_menu_brings_a_failed_acceptor_back_into_service(
    tmp_path: Path, sim: SimulatorProcess, wallet: Sandbox
) -> None:
    member_id = wallet.member({"base": 0})
    member = wallet.card_of(member_id)
    ui = kiosk(tmp_path, sim, wallet)

    async def scenario(ui: KioskUI) -> None:
        await ui.ready()
        sim.control(lambda d, now: setattr(d, "failure_code", 0xA2))
        await ui.wait_shown(State.OUT_OF_SERVICE)
        await staff_in(ui)
        await ui.press(ui.t("Bill acceptor"))
        view = await desk_at(ui, Desk.ACCEPTOR)
        assert view.acceptor is not None and "stacker_motor" in view.acceptor.state
        await ui.shot("acceptor-failed")
        await ui.press(ui.t("Reset the acceptor"))
        await ui.until(
            lambda: desk(ui).view.acceptor and desk(ui).view.acceptor.state == "online",
            "the acceptor ready after the reset",
        )
        assert sim.device.failure_code is None
        await ui.press(ui.t("Back"))
        await ui.press(ui.t("Close"))
        await ui.start_charging(member, "ベース")  # in service again
        await ui.feed(5_000)
        await ui.wait_label("¥5,000")
        await ui.press("完了")
        await ui.wait_shown(State.DONE)

    assert ui.run(scenario, "staff-reset") == 0
    assert sim.stacked == [5_000]
    assert wallet.balance(member_id, "base") == 5_000
    assert f"{STAFF}: acceptor reset" in str(rows(ui.config, "SELECT detail FROM events"))


def test_staff_notes_from_a_shell_lists_and_switches_notes(tmp_path: Path, wallet: Sandbox) -> None:
    config = write_sandbox_config(tmp_path, wallet.info, str(tmp_path / "acc"), "udp:127.0.0.1:9")
    journal = Journal(config.parent / "data" / "journal.sqlite3", "T01")
    try:
        StaffAccess(journal, load(config).staff).set_pin(STAFF, "4821")
    finally:
        journal.close()

    listed = run_kiosk(config, "staff", "notes")
    assert listed.returncode == 0, listed.stderr
    assert [line.split() for line in listed.stdout.splitlines()] == [
        ["¥1,000", "on"],
        ["¥2,000", "on"],
        ["¥5,000", "on"],
        ["¥10,000", "on"],
    ]
    off = run_kiosk(config, "staff", "notes", "--off", "2000", "--by", STAFF)
    assert off.returncode == 0, off.stderr
    assert "¥2,000 notes switched off" in off.stdout and " ¥2,000  off (handed back)" in off.stdout
    again = run_kiosk(config, "staff", "notes", "--off", "¥2,000", "--by", STAFF)
    assert "¥2,000 notes were off" in again.stdout

    one_line_error(run_kiosk(config, "staff", "notes", "--off", "3000", "--by", STAFF), "3000")
    one_line_error(run_kiosk(config, "staff", "notes", "--off", "1000"), "--by")
    for value in ("1000", "5000"):
        assert run_kiosk(config, "staff", "notes", "--off", value, "--by", STAFF).returncode == 0
    last = run_kiosk(config, "staff", "notes", "--off", "10000", "--by", STAFF)
    one_line_error(last, "at least one note must stay on")
    back = run_kiosk(config, "staff", "notes", "--on", "2000", "--by", STAFF)
    assert "¥2,000 notes switched on" in back.stdout
