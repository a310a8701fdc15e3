"""The touch UI as the kiosk's front: Kivy set up for a kiosk window, then the app run on the
engine's asyncio loop (``App.async_run``) until the runner stops it.

Kivy reads its settings when first imported, so :func:`configure_kivy` runs before any other
Kivy import; :class:`KioskFront` imports the app only after it. Its settings are plain values:
the composition root makes them from the configuration (``kiosk/app/settings.py``), and checks
the Japanese font before a front is made.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.core.view import SessionView
from kiosk.staff.view import Desk
from screens.intents import Intents
from screens.pacing import RESTING, FramePacer

if TYPE_CHECKING:
    from kiosk.core.cues import SpeakerSettings
    from kiosk.staff.desk import StaffDesk
    from screens.app import KioskApp
    from screens.sounds import Sounds

log = logging.getLogger("paykiosk.ui")


@dataclass(frozen=True)
class FrontSettings:
    kiosk_id: str
    lang: str  # the first language (an idle kiosk's)
    portal_url: str  # where an unknown card's member registers (a QR code)
    maxfps: int  # the main loop's wake-ups while a member uses the kiosk
    idle_fps: int  # on the attract and out-of-service screens: idle CPU
    sound: bool
    voice: bool = True  # spoken prompts (with sound only)
    volume: int = 80  # 0-100
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
        # Mesa makes only the last folder of this path and its own "mesa_shader_cache" in it:
        # without the folder it disabled its cache, and every start compiled the shaders again
        caches.mkdir(exist_ok=True)
        os.environ.setdefault("MESA_SHADER_CACHE_DIR", str(caches))
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


WARM_UP_PAUSE_S = 0.05  # between two warm-up steps: what is queued (a card, a note) goes first
WARM_UP_WAIT_S = 1.0  # a member at the kiosk: the warm-up looks again this much later


class KioskFront:
    """Runs the app beside the engine; ``stop`` ends it. The engine's views go to the app.

    At start the app makes only the screen of the view it shows first; once the first frame is
    on the display (:meth:`up`), the other screens are made and warmed one step at a time while
    nobody uses the kiosk (``app.warm_up_steps``): the attract screen comes without waiting for
    them, and a screen a member needs before its turn is made at once."""

    def __init__(
        self, intents: Intents, settings: FrontSettings, make_app: AppFactory = kiosk_app
    ) -> None:
        configure_kivy(settings)
        self.settings = settings
        self.app = make_app(intents, settings)
        self.pacer = FramePacer(settings.idle_fps, settings.maxfps)
        self.app.observers.append(self.pacer)
        self.app.observers.append(self._trim_when_resting)
        self.sounds: Sounds | None = None
        self._wire_sounds()
        self._up = asyncio.Event()
        self._warmed = asyncio.Event()
        self._warm_up: Iterator[str] | None = None
        self._warming: asyncio.TimerHandle | None = None

    def show(self, view: SessionView) -> None:
        """The engine's listener (called on the loop the app runs on)."""
        self.app.show(view)

    async def run(self) -> None:
        self.app.bind(on_start=lambda *_: self._started())
        if self.sounds is not None:
            self.sounds.start()  # the sound player opens on its own thread, beside the window
        try:
            await self.app.async_run(async_lib="asyncio")
        finally:
            from screens import widgets

            if self._warming is not None:
                self._warming.cancel()
            self.pacer.uninstall()
            widgets.on_press_sound = None  # the presses' sound belongs to this app only
            if self.sounds is not None:
                self.sounds.stop()

    async def up(self) -> None:
        """Returns once the app's first frame is on the display (never, if it fails first)."""
        await self._up.wait()

    async def warmed(self) -> None:
        """Returns once every screen is made and warmed: the kiosk at rest from then on."""
        await self._warmed.wait()

    def stop(self) -> None:
        self.app.stop()

    def attach_staff(self, desk: StaffDesk) -> None:
        """The staff menu: its views go to the app (and pace the frames), its intents to it."""
        self.app.staff = desk
        desk.listeners.append(self.app.show_staff)
        desk.listeners.append(self.pacer.staff_view)
        if self.sounds is not None:
            sounds = self.sounds
            settings = desk.speaker_settings()  # as staff left them (journaled), at start
            sounds.set_voice(settings.voice)
            sounds.set_volume(settings.volume)

            def heard(settings: SpeakerSettings) -> None:
                sounds.set_voice(settings.voice)
                sounds.set_volume(settings.volume)
                sounds.sample()  # staff hear the new setting at once

            desk.speaker_listeners.append(heard)

    def _started(self) -> None:
        from kivy.core.window import Window

        self.pacer.install()
        Window.bind(on_flip=self._first_frame)

    def _first_frame(self, window: object) -> None:
        from kivy.core.window import Window

        Window.unbind(on_flip=self._first_frame)
        # What exists now (modules, Kivy, the first screens) lives as long as the kiosk: out of
        # the garbage collector's passes, so that the warm-up's own collections below (and the
        # sessions' later) scan only what is new.
        gc.freeze()
        self._up.set()
        self._warm_up = self.app.warm_up_steps()
        self._warm_later(WARM_UP_PAUSE_S)

    def _warm_later(self, seconds: float) -> None:
        self._warming = asyncio.get_running_loop().call_later(seconds, self._warm_step)

    def _warm_step(self) -> None:
        """One warm-up step while the kiosk rests (attract or out of service, no staff menu);
        after the last one, what exists lives as long as the kiosk."""
        self._warming = None
        if self._warm_up is None:
            return
        if self.app.view.state not in RESTING or self.app.staff_view.desk is not Desk.CLOSED:
            self._warm_later(WARM_UP_WAIT_S)  # a member's (or staff's) frames come first
            return
        done = next(self._warm_up, None)
        if done is not None:
            # a sample's widgets are garbage in cycles: collected a step at a time (ms each),
            # not in one long pass at the end that a member's touch would wait for
            gc.collect()
            log.debug("warmed up: %s", done)
            self._warm_later(WARM_UP_PAUSE_S)
            return
        self._warm_up = None
        self._settle()

    def _settle(self) -> None:
        """Every screen warmed: the heap trimmed, and what exists now lives as long as the
        kiosk, kept out of the garbage collector's full passes (they run on the loop the engine
        shares)."""
        from screens.heap import trim_heap

        trim_heap()
        gc.freeze()
        self._warmed.set()

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

        home = self.settings.kivy_home
        self.sounds = player = Sounds(
            texts=self.app.texts,
            voice=self.settings.voice,
            volume=self.settings.volume,
            # the voice's sentences, rendered once, in the data dir's cache (none: no voice)
            cache_dir=home.parent / "cache" / "voice" if home is not None else None,
        )
        self.app.observers.append(player)
        widgets.on_press_sound = player.touch
