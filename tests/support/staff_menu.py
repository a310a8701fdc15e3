"""The staff menu on the running kiosk (``tests.support.ui.KioskUI``): a staff member on record
with a PIN and a staff card, the kiosk set up for them, the desk the menu runs on, and the PIN
typed with touches."""

from __future__ import annotations

from pathlib import Path

from hardware.id003.sim.process import Simulator
from kiosk.config.settings import Config
from kiosk.journal import Journal
from kiosk.staff.access import StaffAccess
from kiosk.staff.desk import StaffDesk
from kiosk.staff.view import Desk, StaffView
from tests.support.ui import KioskUI
from tests.support.wallet import Sandbox

PIN = "48151623"  # digits found nowhere else in these files
STAFF_IDM = "0116A1B2C3D4E5F6"
STAFF = "suzuki"
FAST_STAFF = "\n[staff]\nmax_pin_attempts = 5\nlockout_minutes = 15\nmenu_timeout_s = {timeout}\n"
USB = "usb"  # [staff] export_dir, under the test's folder


def staff_on_record(config: Config) -> None:
    """Suzuki with a PIN and a staff card, as ``staff set-pin`` and ``staff add-card`` leave."""
    journal = Journal(config.journal_path, config.kiosk.id)
    try:
        access = StaffAccess(journal, config.staff)
        access.set_pin(STAFF, PIN, by="test")
        access.add_card(STAFF, STAFF_IDM, by="test")
    finally:
        journal.close()


def kiosk(
    tmp_path: Path, sim: Simulator, wallet: Sandbox, timeout: float = 120.0, extra: str = ""
) -> KioskUI:
    staff = FAST_STAFF.format(timeout=timeout) + f'export_dir = "{tmp_path / USB}"\n'
    ui = KioskUI(tmp_path, sim, wallet, extra=staff + extra)
    staff_on_record(ui.config)
    return ui


def desk(ui: KioskUI) -> StaffDesk:
    staff = ui.app.staff
    assert isinstance(staff, StaffDesk)
    return staff


async def desk_at(ui: KioskUI, where: Desk, timeout: float = 10.0) -> StaffView:
    view: StaffView = await ui.until(
        lambda: desk(ui).view if desk(ui).view.desk is where else None, f"desk {where}", timeout
    )
    return view


async def touch_pin(ui: KioskUI, pin: str) -> None:
    """Type ``pin`` on the PIN pad and press OK, with touches."""
    for digit in pin:
        await ui.press(digit)
        await ui.until(lambda: desk(ui).view.pin_digits > 0, "a digit taken")
    await ui.press("OK")
