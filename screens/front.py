"""The touch UI as the kiosk's front: Kivy set up for a kiosk window, then the app run on the
engine's asyncio loop (``App.async_run``) until the runner stops it.

Kivy reads its settings when first imported, so :func:`configure_kivy` runs before any other
Kivy import; :class:`KioskFront` imports the app only after it. Its settings are plain values:
the composition root makes them from the configuration (``kiosk/app/settings.py``), and checks
the Japanese font before a front is made.
"""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.core.view import SessionView
from screens.intents import Intents
from screens.pacing import RESTING, FramePacer

if TYPE_CHECKING:
    from kiosk.staff.desk import StaffDesk
    from screens.app import KioskApp

log = logging.getLogger("paykiosk.ui")


@dataclass(frozen=True)
class FrontSettings:
    kiosk_id: str
    lang: str  # the first language (an idle kiosk's)
    portal_url: str  # where an unknown card's member registers (a QR code)
    maxfps: int  # the main loop's wake-ups while a member uses the kiosk
    idle_fps: int  # on the attract and out-of-service screens: idle CPU
    sound: bool
    fullscreen: bool = True  # fill the display it is given; False: a window of ``size``
    size: tuple[int, int] = (800, 480)  # the window when not fullscreen
    kivy_home: Path | None = None  # Kivy's config and logs (default: left to Kivy)


def configure_kivy(settings: FrontSettings) -> None:
    """Kivy's settings for a kiosk: no cursor, no window chrome, no Escape exit, no screensaver,
    the main loop's rate. Must run before ``kivy.core.window`` is imported."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")  # our command line is not Kivy's
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")  # Kivy logs through ours, stderr left alone
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    if not log.isEnabledFor(logging.INFO):  # Kivy's start-up chatter only with -v
        os.environ.setdefault("KCFG_KIVY_LOG_LEVEL", "warning")
    # The runner owns SIGTERM/SIGINT (a stop closes the session into its credit first).
    os.environ.setdefault("SDL_NO_SIGNAL_HANDLERS", "1")
    if settings.kivy_home is not None:
        settings.kivy_home.mkdir(parents=True, exist_ok=True)
        os.environ.setdefault("KIVY_HOME", str(settings.kivy_home))
        # Mesa's shader cache and fontconfig's cache beside it, in the data dir: the one place
        # the unit lets the kiosk write (Mesa otherwise picks the user's passwd home).
        caches = settings.kivy_home.parent / "cache"
        os.environ.setdefault("XDG_CACHE_HOME", str(caches))
        os.environ.setdefault("MESA_SHADER_CACHE_DIR", str(caches / "mesa_shader_cache"))
    from screens.heap import tune_process

    tune_process()
    from kivy.config import Config

    _quieten_kivy()
    graphics = {
        "fullscreen": "auto" if settings.fullscreen else "0",
        "borderless": "1" if settings.fullscreen else "0",
        "show_cursor": "0" if settings.fullscreen else "1",
        "maxfps": str(settings.maxfps),
        "allow_screensaver": "0",
        "multisamples": "0",  # flat rectangles and text: MSAA would only double the buffers
        "resizable": "0" if settings.fullscreen else "1",
    }
    size = settings.size
    if settings.fullscreen:
        from screens.display import display_size

        size = display_size() or size
        log.info("display %d×%d", *size)
    graphics["width"], graphics["height"] = map(str, size)
    for key, value in graphics.items():
        Config.set("graphics", key, value)
    Config.set("kivy", "exit_on_escape", "0")
    Config.set("kivy", "pause_on_minimize", "0")
    # A touch panel reports through SDL; Kivy's extra probe of /dev/input doubles touches.
    for name in list(Config.options("input")) if Config.has_section("input") else []:
        Config.remove_option("input", name)
    Config.set("input", "mouse", "mouse,disable_multitouch")


def _quieten_kivy() -> None:
    """No traceback for an optional multitouch library a kiosk does not use (``libmtdev``)."""
    logging.getLogger("kivy").addFilter(lambda record: "MTDev" not in str(record.msg))


AppFactory = Callable[[Intents, FrontSettings], "KioskApp"]


def kiosk_app(intents: Intents, settings: FrontSettings) -> KioskApp:
    from screens.app import KioskApp

    return KioskApp(
        intents, lang=settings.lang, kiosk_id=settings.kiosk_id, portal_url=settings.portal_url
    )


class KioskFront:
    """Runs the app beside the engine; ``stop`` ends it. The engine's views go to the app."""

    def __init__(
        self, intents: Intents, settings: FrontSettings, make_app: AppFactory = kiosk_app
    ) -> None:
        configure_kivy(settings)
        self.settings = settings
        self.app = make_app(intents, settings)
        self.pacer = FramePacer(settings.idle_fps, settings.maxfps)
        self.app.observers.append(self.pacer)
        self.app.observers.append(self._trim_when_resting)
        self._wire_sounds()

    def show(self, view: SessionView) -> None:
        """The engine's listener (called on the loop the app runs on)."""
        self.app.show(view)

    async def run(self) -> None:
        # What exists once the app has started lives as long as the kiosk: keep it out of the
        # garbage collector's full passes, which run on the loop the engine shares.
        self.app.bind(on_start=lambda *_: self._settle())
        try:
            await self.app.async_run(async_lib="asyncio")
        finally:
            from screens import widgets

            self.pacer.uninstall()
            widgets.on_press_sound = None  # the presses' sound belongs to this app only

    def stop(self) -> None:
        self.app.stop()

    def attach_staff(self, desk: StaffDesk) -> None:
        """The staff menu: its views go to the app (and pace the frames), its intents to it."""
        self.app.staff = desk
        desk.listeners.append(self.app.show_staff)
        desk.listeners.append(self.pacer.staff_view)

    def _settle(self) -> None:
        """Once the window is up: every screen drawn once off-screen (the first member waits
        for no font or shader), then what exists lives as long as the kiosk."""
        from screens.heap import trim_heap

        self.pacer.install()
        self.app.warm_up()
        trim_heap()
        gc.freeze()

    def _trim_when_resting(self, previous: SessionView, view: SessionView) -> None:
        if view.state in RESTING and previous.state not in RESTING:
            from kivy.clock import Clock

            from screens.heap import trim_heap

            # After the attract screen is drawn: what the session's screens freed goes back.
            Clock.schedule_once(lambda _dt: trim_heap(), 1.0)

    def _wire_sounds(self) -> None:
        if not self.settings.sound:
            return
        from screens import widgets
        from screens.sounds import Sounds

        player = Sounds()
        self.app.observers.append(player)
        widgets.on_press_sound = player.touch
