"""The staff screens in the app: one Kivy Screen per desk state, registered beside the member
screens, and a stand-in desk for an app run without one (screenshots, tests)."""

from __future__ import annotations

from kivy.uix.screenmanager import ScreenManager

from kiosk.staff.view import Desk, StaffView
from screens.staff_acceptor import AcceptorScreen, AcceptorTestScreen
from screens.staff_base import StaffHost, StaffScreen
from screens.staff_cases import CaseScreen, CasesScreen
from screens.staff_cash import CashboxScreen, CountScreen, RecordScreen
from screens.staff_entry import ChooseNameScreen, LockedScreen, PinScreen
from screens.staff_menu import MenuScreen, StatusScreen
from screens.staff_tools import EventsScreen, RestartScreen

SCREEN_FOR_DESK: dict[Desk, type[StaffScreen]] = {
    Desk.CHOOSE_NAME: ChooseNameScreen,
    Desk.PIN: PinScreen,
    Desk.LOCKED: LockedScreen,
    Desk.MENU: MenuScreen,
    Desk.STATUS: StatusScreen,
    Desk.CASHBOX: CashboxScreen,
    Desk.COUNT: CountScreen,
    Desk.RECORD: RecordScreen,
    Desk.CASES: CasesScreen,
    Desk.CASE: CaseScreen,
    Desk.EVENTS: EventsScreen,
    Desk.RESTART: RestartScreen,
    Desk.ACCEPTOR: AcceptorScreen,
    Desk.ACCEPTOR_TEST: AcceptorTestScreen,
}
CLOSED_VIEW = StaffView(Desk.CLOSED)


class NoDesk:
    """The desk of an app run without one: every press does nothing."""

    def staff_name(self, name: str) -> None: ...
    def staff_digit(self, digit: str) -> None: ...
    def staff_erase(self) -> None: ...
    def staff_enter(self) -> None: ...
    def staff_open(self, desk: Desk) -> None: ...
    def staff_back(self) -> None: ...
    def staff_close(self) -> None: ...
    def staff_count(self, value: int, delta: int) -> None: ...
    def staff_count_save(self) -> None: ...
    def staff_case(self, reference: str) -> None: ...
    def staff_retry(self, reference: str) -> None: ...
    def staff_resolve(self, reference: str, resolution: str) -> None: ...
    def staff_service(self, out_of_service: bool) -> None: ...
    def staff_export(self) -> None: ...
    def staff_restart(self) -> None: ...
    def staff_note(self, value: int, on: bool) -> None: ...
    def staff_acceptor_reset(self) -> None: ...
    def staff_test(self, on: bool) -> None: ...
    def staff_activity(self) -> None: ...


def add_staff_screens(host: StaffHost, manager: ScreenManager) -> dict[str, StaffScreen]:
    """Make each staff screen once and add it to ``manager``; returns them by name."""
    screens: dict[str, StaffScreen] = {}
    for screen_type in SCREEN_FOR_DESK.values():
        screen = screen_type(host)
        screens[screen.name] = screen
        manager.add_widget(screen)
    return screens


def staff_screen_for(screens: dict[str, StaffScreen], view: StaffView) -> StaffScreen:
    """The screen that shows ``view`` (not CLOSED)."""
    return screens[SCREEN_FOR_DESK[view.desk].screen_name]
