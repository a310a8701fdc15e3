"""Kivy apps run offscreen from sample views, for the screen tests: the sizes they render at, an
inbox that records what the screens post, an app run step by step, and a check that a screenshot
is the whole screen."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from kiosk.config.settings import DEFAULT_PORTAL_URL
from kiosk.engine.inbox import Inbox, Item

SIZES = [(800, 480), (1280, 800)]


class RecordingInbox(Inbox):
    """The engine's real inbox, recording what the screens post instead of queueing it."""

    def __init__(self) -> None:
        super().__init__()
        self.posted: list[Item] = []

    def post(self, item: Item) -> None:
        self.posted.append(item)


def run_app(inbox: Inbox, size: tuple[int, int], steps: Sequence[Callable[[Any], object]]) -> None:
    """Run a fresh KioskApp; each step gets the app, one step per 0.1 s (after a redraw); a
    step that returns False is called again 0.1 s later (a wait).

    The time-out is measured on the monotonic clock: Kivy's clock keeps the time of its last
    tick, so after a long pause between apps an event scheduled before the first tick is
    already overdue. Nothing of this app stays scheduled after it (a stale step would stop the
    next test's app)."""
    from kivy.clock import Clock
    from kivy.core.window import Window

    from screens.app import KioskApp

    Window.size = size
    app = KioskApp(inbox, portal_url=DEFAULT_PORTAL_URL)
    errors: list[BaseException] = []
    queue = list(steps)
    events: list[Any] = []

    def step(_dt: float) -> None:
        try:
            if not queue:
                app.stop()
                return
            if queue[0](app) is not False:
                queue.pop(0)
        except BaseException as error:  # surfaced after run()
            errors.append(error)
            app.stop()
            return
        events.append(Clock.schedule_once(step, 0.1))

    deadline = time.monotonic() + 90  # a stuck app, not a slow one

    def give_up(_dt: float) -> None:
        if time.monotonic() > deadline:
            errors.append(TimeoutError("the app did not finish its steps"))
            app.stop()

    def start(*_: object) -> None:
        events.append(Clock.schedule_once(step, 0.1))
        events.append(Clock.schedule_interval(give_up, 1.0))

    app.bind(on_start=start)
    app.run()
    for event in events:
        event.cancel()
    if errors:
        raise errors[0]


def assert_painted(png: str, size: tuple[int, int]) -> None:
    """The whole screenshot is the screen: header colour top left, background bottom right."""
    from kivy.core.image import Image

    from screens.widgets import BACKGROUND, HEADER

    image = Image.load(png, keep_data=True)
    assert tuple(image.size) == size
    w, h = size
    for (x, y), colour in (((4, 4), HEADER), ((w - 4, h - 4), BACKGROUND)):
        pixel = image.read_pixel(x, y)  # y counts from the top
        assert all(abs(a - b) < 0.02 for a, b in zip(pixel[:3], colour[:3], strict=True)), (
            f"{png} at {x},{y}: {pixel} is not {colour}"
        )
