"""The member's touch UI: a Kivy App whose ScreenManager shows one screen per session state.

The engine's listener calls :meth:`KioskApp.show` with each :class:`kiosk.core.view.SessionView`
(on the loop both run on, see docs/platform.md); presses go back as the engine's member
intents. The language is presentation only: the toggle re-renders the current view and counts
as activity; an idle kiosk goes back to the first language for the next member.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.app import App
from kivy.core.window import Window
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk.core.faults import STARTING
from kiosk.core.session import State
from kiosk.core.view import LANGUAGES, SessionView
from kiosk.staff.view import Desk, StaffIntents, StaffView
from screens.account import AccountScreen
from screens.attract import AttractScreen
from screens.base import KioskScreen
from screens.choose import ChooseMoneyScreen
from screens.done import DoneScreen
from screens.fonts import register_default_font
from screens.history import HistoryScreen
from screens.i18n import Texts
from screens.insert import InsertNotesScreen
from screens.intents import Intents
from screens.message import MessageScreen
from screens.move import MoveAmountScreen, MoveConfirmScreen, MoveRouteScreen
from screens.moved import MovedScreen
from screens.staff_app import CLOSED_VIEW, NoDesk, add_staff_screens, staff_screen_for
from screens.staff_base import StaffScreen
from screens.unknown_card import UnknownCardScreen

SCREENS: tuple[type[KioskScreen], ...] = (
    AttractScreen,
    AccountScreen,
    HistoryScreen,
    ChooseMoneyScreen,
    InsertNotesScreen,
    DoneScreen,
    MessageScreen,
    UnknownCardScreen,
    MoveRouteScreen,
    MoveAmountScreen,
    MoveConfirmScreen,
    MovedScreen,
)

SCREEN_FOR_STATE: dict[State, type[KioskScreen]] = {
    State.IDLE: AttractScreen,
    State.LOOKING_UP: AttractScreen,
    State.ACCOUNT: AccountScreen,
    State.HISTORY: HistoryScreen,
    State.CHOOSE_MONEY: ChooseMoneyScreen,
    State.ACCEPTING: InsertNotesScreen,
    State.CREDITING: DoneScreen,
    State.DONE: DoneScreen,
    State.MOVE_ROUTE: MoveRouteScreen,
    State.MOVE_AMOUNT: MoveAmountScreen,
    State.MOVE_CONFIRM: MoveConfirmScreen,
    State.MOVING: MovedScreen,
    State.MOVED: MovedScreen,
    State.UNKNOWN_CARD: UnknownCardScreen,
    State.ACCOUNT_SUSPENDED: MessageScreen,
    State.WALLET_UNAVAILABLE: MessageScreen,
    State.OUT_OF_SERVICE: MessageScreen,
}

FIRST_VIEW = SessionView(State.OUT_OF_SERVICE, fault=STARTING)

# Called with (previous view, new view) after each view is shown: sounds, benchmarks.
ViewObserver = Callable[[SessionView, SessionView], None]


class KioskApp(App):
    title = "Pay Spot"

    def __init__(
        self,
        intents: Intents,
        *,
        portal_url: str,  # the configuration's: screens hold no default of theirs
        lang: str = LANGUAGES[0],
        kiosk_id: str = "",
        staff: StaffIntents | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.intents = intents
        self.staff = staff  # the staff desk (None: the staff screens' presses do nothing)
        self.staff_view = CLOSED_VIEW
        self.staff_screens: dict[str, StaffScreen] = {}
        self.kiosk_id = kiosk_id
        self.portal_url = portal_url
        self.observers: list[ViewObserver] = []
        self.texts = Texts(lang)
        self.view = FIRST_VIEW
        self.manager: ScreenManager | None = None
        self.screens: dict[str, KioskScreen] = {}

    def build(self) -> ScreenManager:
        register_default_font()
        manager = ScreenManager(transition=NoTransition())
        for screen_type in SCREENS:
            screen = screen_type(self)
            self.screens[screen.name] = screen
            manager.add_widget(screen)
        self.staff_screens = add_staff_screens(self, manager)
        self.manager = manager
        Window.bind(on_resize=self._resized)
        self._show_current()
        return manager

    def on_stop(self) -> None:
        Window.unbind(on_resize=self._resized)

    def _resized(self, *_: object) -> None:
        self._show_current()

    def _show_current(self) -> None:
        if self.staff_view.desk is Desk.CLOSED:
            self.show(self.view)
        else:
            self.show_staff(self.staff_view)

    # ---- what the engine calls ------------------------------------------------------------
    def show(self, view: SessionView) -> None:
        """Render the session's latest view (the engine's listener)."""
        if view.state is State.IDLE and self.view.state is not State.IDLE:
            self.texts.lang = LANGUAGES[0]  # the next member starts in the first language
        previous, self.view = self.view, view
        if self.manager is None or self.staff_view.desk is not Desk.CLOSED:
            return  # not built yet (shown by build()), or under the staff menu till it closes
        screen = self.screens[SCREEN_FOR_STATE[view.state].screen_name]
        screen.show(view)
        self.manager.current = screen.name
        for observer in self.observers:
            observer(previous, view)

    def warm_up(self) -> None:
        """Draw every screen once with made-up members into an off-screen buffer, in both
        languages, then the current view again: the fonts, textures and (on software GL) the
        compiled shaders the first member's screens need exist before that member comes."""
        from kivy.uix.label import Label

        from screens.samples import SAMPLES

        lang = self.texts.lang
        for self.texts.lang in LANGUAGES:
            for view in SAMPLES.values():
                screen = self.screens[SCREEN_FOR_STATE[view.state].screen_name]
                screen.show(view)
                for widget in screen.walk():
                    if isinstance(widget, Label):
                        widget.texture_update()
                screen.export_as_image()
        self.texts.lang = lang
        for screen in self.screens.values():  # nothing made up stays, not even off screen
            screen.stop_timers()
            screen.clear_widgets()
            screen.view = None
        self.show(self.view)

    def show_staff(self, view: StaffView) -> None:
        """Render the staff desk's latest view (the desk's listener); CLOSED shows the member's
        latest view again."""
        self.staff_view = view
        if self.manager is None:
            return
        if view.desk is Desk.CLOSED:
            self.show(self.view)
            return
        screen = staff_screen_for(self.staff_screens, view)
        screen.show(view)
        self.manager.current = screen.name

    @property
    def staff_intents(self) -> StaffIntents:
        return self.staff if self.staff is not None else NoDesk()

    @property
    def current_screen(self) -> KioskScreen | StaffScreen:
        assert self.manager is not None
        name = self.manager.current
        return self.screens[name] if name in self.screens else self.staff_screens[name]

    # ---- what the screens call ------------------------------------------------------------
    def toggle_language(self) -> None:
        self.texts.lang = self.texts.other()
        self._show_current()
        if self.staff_view.desk is Desk.CLOSED:
            self.intents.activity()
        else:
            self.staff_intents.staff_activity()
