"""The member's touch UI: a Kivy App whose ScreenManager shows one screen per session state.

The engine's listener calls :meth:`KioskApp.show` with each :class:`kiosk.core.view.SessionView`
(on the loop both run on, see docs/platform.md); presses go back as the engine's member
intents. The language is presentation only: the toggle re-renders the current view and counts
as activity; an idle kiosk goes back to the first language for the next member.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from importlib import import_module
from typing import Any

from kivy.app import App
from kivy.core.window import Window
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk.core.faults import STARTING
from kiosk.core.session import State
from kiosk.core.view import LANGUAGES, SessionView
from kiosk.staff.view import Desk, StaffIntents, StaffView
from screens.base import KioskScreen
from screens.fonts import register_default_font
from screens.i18n import Texts
from screens.intents import Intents
from screens.staff_app import CLOSED_VIEW, NoDesk, staff_screen_type
from screens.staff_base import StaffScreen

# Each member screen by its name: module and class. A screen's module is imported, and the
# screen made, when it is first shown (or by the warm-up once the kiosk is up): the start draws
# the first screens without waiting for the others.
SCREENS: dict[str, tuple[str, str]] = {
    "attract": ("screens.attract", "AttractScreen"),
    "account": ("screens.account", "AccountScreen"),
    "history": ("screens.history", "HistoryScreen"),
    "choose_money": ("screens.choose", "ChooseMoneyScreen"),
    "insert_notes": ("screens.insert", "InsertNotesScreen"),
    "done": ("screens.done", "DoneScreen"),
    "message": ("screens.message", "MessageScreen"),
    "unknown_card": ("screens.unknown_card", "UnknownCardScreen"),
    "move_route": ("screens.move", "MoveRouteScreen"),
    "move_amount": ("screens.move", "MoveAmountScreen"),
    "move_confirm": ("screens.move", "MoveConfirmScreen"),
    "moved": ("screens.moved", "MovedScreen"),
}

# The name of the screen that shows each state.
SCREEN_FOR_STATE: dict[State, str] = {
    State.IDLE: "attract",
    State.LOOKING_UP: "attract",
    State.ACCOUNT: "account",
    State.HISTORY: "history",
    State.CHOOSE_MONEY: "choose_money",
    State.ACCEPTING: "insert_notes",
    State.CREDITING: "done",
    State.DONE: "done",
    State.MOVE_ROUTE: "move_route",
    State.MOVE_AMOUNT: "move_amount",
    State.MOVE_CONFIRM: "move_confirm",
    State.MOVING: "moved",
    State.MOVED: "moved",
    State.UNKNOWN_CARD: "unknown_card",
    State.ACCOUNT_SUSPENDED: "message",
    State.WALLET_UNAVAILABLE: "message",
    State.OUT_OF_SERVICE: "message",
}


def screen_type(name: str) -> type[KioskScreen]:
    """The class of the member screen called ``name`` (its module imported now)."""
    module, attribute = SCREENS[name]
    found = getattr(import_module(module), attribute)
    if not (isinstance(found, type) and issubclass(found, KioskScreen)):
        raise TypeError(f"{module}.{attribute} is not a member screen")
    return found


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
        self.manager = ScreenManager(transition=NoTransition())
        Window.bind(on_resize=self._resized)
        self._show_current()  # makes the first view's screen, and only it
        return self.manager

    def screen(self, name: str) -> KioskScreen:
        """The member screen called ``name``, made (and added to the manager) when first
        needed."""
        screen = self.screens.get(name)
        if screen is None:
            assert self.manager is not None, "the app is not built yet"
            screen = self.screens[name] = screen_type(name)(self)
            self.manager.add_widget(screen)
        return screen

    def staff_screen(self, desk: Desk) -> StaffScreen:
        """The staff screen of ``desk`` (not CLOSED), made when first needed."""
        kind = staff_screen_type(desk)
        screen = self.staff_screens.get(kind.screen_name)
        if screen is None:
            assert self.manager is not None, "the app is not built yet"
            screen = self.staff_screens[kind.screen_name] = kind(self)
            self.manager.add_widget(screen)
        return screen

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
        screen = self.screen(SCREEN_FOR_STATE[view.state])
        screen.show(view)
        self.manager.current = screen.name
        for observer in self.observers:
            observer(previous, view)

    def warm_up(self) -> None:
        """Every warm-up step at once (see :meth:`warm_up_steps`)."""
        for _ in self.warm_up_steps():
            pass

    def warm_up_steps(self) -> Iterator[str]:
        """Make every member screen not made yet, then render each with made-up members, in
        both languages, its texts drawn into textures: the modules, widgets and font faces (one
        per size) the first member's screens need exist before that member comes. One screen or
        one sample per step (it yields what it did): the caller runs them while the kiosk
        waits, never all at once. The screen on display is never touched, nor the language;
        what a sample made is cleared at once. (Nothing is drawn off-screen: the first frames,
        the attract and out-of-service screens, use every GL shader the others use.)"""
        from kivy.uix.label import Label

        from screens.samples import SAMPLES

        for name in SCREENS:
            if name not in self.screens:
                self.screen(name)
                yield name
        for lang in LANGUAGES:
            for sample, view in SAMPLES.items():
                screen = self.screen(SCREEN_FOR_STATE[view.state])
                if self.manager is not None and screen.name == self.manager.current:
                    continue
                shown = self.texts.lang
                self.texts.lang = lang
                try:
                    screen.show(view)
                    for widget in screen.walk():
                        if isinstance(widget, Label):
                            widget.texture_update()
                finally:
                    self.texts.lang = shown
                    screen.stop_timers()  # nothing made up stays, not even off screen
                    screen.clear_widgets()
                    screen.view = None
                yield f"{sample} ({lang})"

    def show_staff(self, view: StaffView) -> None:
        """Render the staff desk's latest view (the desk's listener); CLOSED shows the member's
        latest view again."""
        self.staff_view = view
        if self.manager is None:
            return
        if view.desk is Desk.CLOSED:
            self.show(self.view)
            return
        screen = self.staff_screen(view.desk)
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
