"""When Kivy's loop draws: rarely while nobody is at the kiosk, often in a session, and at once
when the engine sends a new view.

Kivy's clock sleeps ``1/fps`` between frames and checks the rate only when it wakes
(``Clock._max_fps`` is read on every idle wait). At the attract screen's 10 fps a card touch
waited up to 100 ms for the frame that shows its account screen: half the latency goal. The
pacer hands Kivy a sleep it can cut short and a readiness check that says "now" once a view
is new, so the next frame starts as soon as the loop is free. Both replace private attributes
of the clock (``_async_lib``, once ``App.async_run`` has set it, and ``_check_ready``);
Kivy is pinned to 2.3.x and tests/test_ui_pacing.py fails if either stops working.
"""

from __future__ import annotations

import asyncio
from typing import Any

from kiosk.core.session import State
from kiosk.core.view import SessionView
from kiosk.staff.view import Desk, StaffView

RESTING = (State.IDLE, State.OUT_OF_SERVICE)


class WakeableSleep:
    """``asyncio`` for Kivy's clock, with a ``sleep`` that ``wake`` ends early."""

    def __init__(self) -> None:
        self._waiter: asyncio.Future[None] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        loop = asyncio.get_running_loop()
        self._waiter = waiter = loop.create_future()
        timer = loop.call_later(seconds, _finish, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            self._waiter = None

    def wake(self) -> None:
        if self._waiter is not None:
            _finish(self._waiter)


def _finish(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class FramePacer:
    """An observer of the app's views (``previous, view``): sets the frame rate for the view
    and asks for a frame at once. ``install`` from the app's ``on_start``."""

    def __init__(self, idle_fps: float, active_fps: float) -> None:
        from kivy.clock import Clock  # after the front has configured Kivy

        self._fps_before = Clock._max_fps
        self.idle_fps = idle_fps
        self.active_fps = active_fps
        self._sleep = WakeableSleep()
        self._due = False
        self._installed = False

    def install(self) -> None:
        from kivy.clock import Clock

        original = Clock._check_ready

        def check_ready(fps: float, min_sleep: float, undershoot: float) -> tuple[bool, float]:
            if self._due:
                self._due = False
                return True, 0.0
            ready: tuple[bool, float] = original(fps, min_sleep, undershoot)
            return ready

        def take_sleep(_dt: float) -> None:
            Clock._async_lib = self._sleep
            self._installed = True

        Clock._check_ready = check_ready
        # On the first frame: App.async_run sets the clock's async library after on_start.
        Clock.schedule_once(take_sleep, 0)

    def uninstall(self) -> None:
        """Kivy's clock as it was (the next app in this process starts from it)."""
        from kivy.clock import Clock

        Clock.__dict__.pop("_check_ready", None)
        if Clock._async_lib is self._sleep:
            Clock._async_lib = asyncio
        Clock._max_fps = self._fps_before
        self._installed = False

    def __call__(self, previous: SessionView, view: SessionView) -> None:
        from kivy.clock import Clock

        Clock._max_fps = float(self.idle_fps if view.state in RESTING else self.active_fps)
        self.frame_now()

    def staff_view(self, view: StaffView) -> None:
        """The staff menu's views: quick frames while it is open."""
        from kivy.clock import Clock

        if view.desk is not Desk.CLOSED:
            Clock._max_fps = float(self.active_fps)
        self.frame_now()

    def frame_now(self) -> None:
        """The next frame as soon as the loop is free, whatever the frame rate."""
        if self._installed:
            self._due = True
            self._sleep.wake()
