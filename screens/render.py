"""``paykiosk screens --out DIR``: every sample screen (``screens.samples``, and the staff
menu's ``screens.staff_samples`` as ``staff_<name>``) rendered offscreen to PNG files named
``<sample>-<lang>-<width>x<height>.png`` — for a look, and for docs/touch-screen.md."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from kiosk.core.session import State
from kiosk.core.view import LANGUAGES, SessionView
from kiosk.staff.view import StaffView
from screens.front import FrontSettings, configure_kivy
from screens.layout_check import layout_problems
from screens.samples import SAMPLES

STAFF_PREFIX = "staff_"


def all_samples() -> dict[str, SessionView | StaffView]:
    """The member's samples by name, then the staff menu's as ``staff_<name>`` (imported here:
    a collection record's text is made in the time zone set when first imported)."""
    from screens.staff_samples import STAFF_SAMPLES

    views: dict[str, SessionView | StaffView] = dict(SAMPLES)
    views.update({STAFF_PREFIX + name: view for name, view in STAFF_SAMPLES.items()})
    return views


def parse_size(text: str) -> tuple[int, int]:
    """``800x480`` → (800, 480)."""
    width, _, height = text.lower().partition("x")
    if not (width.isdigit() and height.isdigit()) or int(width) < 320 or int(height) < 240:
        raise ValueError(f"a size is WIDTHxHEIGHT, at least 320x240, got {text!r}")
    return int(width), int(height)


class Unheard:
    """The member's intents, going nowhere: the rendered samples are pictures."""

    def _ignore(self, *args: object, **kwargs: object) -> None:
        pass

    charge = choose_money = show_history = more_history = back = finish = cancel = _ignore
    acknowledge = move_money = move_route = move_add = move_all = move_clear = _ignore
    move_review = move_confirm = activity = _ignore


def render(
    out: Path,
    front: FrontSettings,
    sizes: Sequence[tuple[int, int]] = (),
    langs: Sequence[str] = LANGUAGES,
    names: Sequence[str] | None = None,
    problems: list[str] | None = None,
) -> list[Path]:
    """Render the samples (all, or ``names``) in each size and language, as a kiosk with the
    settings ``front`` shows them (its id, its portal; no ``sizes``: its window size); returns
    the files, and adds each screen's layout problems (:mod:`screens.layout_check`) to
    ``problems``.
    Opens Kivy's window offscreen unless ``SDL_VIDEODRIVER`` says otherwise: call it in a
    process that has no Kivy window yet."""
    os.environ.setdefault("TZ", "Asia/Tokyo")  # the samples' times are the co-op's (JST)
    time.tzset()
    samples = all_samples()
    unknown = sorted(set(names or ()) - samples.keys())
    if unknown:
        raise ValueError(f"no sample screen {unknown[0]!r}; there are {', '.join(samples)}")
    os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
    sizes = sizes or (front.size,)
    largest = max(sizes, key=lambda s: s[0] * s[1])  # the offscreen framebuffer only shrinks
    configure_kivy(replace(front, fullscreen=False, size=largest, sound=False))
    from kivy.clock import Clock
    from kivy.core.window import Window

    from screens.app import KioskApp
    from screens.staff_app import CLOSED_VIEW

    out.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="paykiosk-render-"))
    app = KioskApp(Unheard(), kiosk_id=front.kiosk_id, portal_url=front.portal_url)
    written: list[Path] = []
    steps: list[Callable[[], None]] = []
    for size in sizes:

        def resize(size: tuple[int, int] = size) -> None:
            Window.size = size

        steps.append(resize)
        for name in names or samples:
            for lang in langs:

                def show(name: str = name, lang: str = lang) -> None:
                    app.texts.lang = lang
                    view = samples[name]
                    if isinstance(view, StaffView):
                        app.show_staff(view)
                        return
                    if view.state is State.ACCEPTING and view.inserted:  # its countdown too
                        view = replace(view, deadline=time.monotonic() + 25.5)
                    app.show_staff(CLOSED_VIEW)  # the member's screens again
                    app.show(view)

                def shoot(name: str = name, lang: str = lang, size: Any = size) -> None:
                    shot = Window.screenshot(name=str(scratch / "shot.png"))
                    target = out / f"{name}-{lang}-{size[0]}x{size[1]}.png"
                    shutil.move(shot, target)
                    written.append(target)
                    if problems is not None:
                        found = layout_problems(app.current_screen, size)
                        problems.extend(f"{target.name}: {problem}" for problem in found)

                steps += [show, shoot]

    def step(_dt: float) -> None:
        if not steps:
            app.stop()
            return
        steps.pop(0)()
        Clock.schedule_once(step, 0.05)  # the change is drawn before the next step

    # Scheduled once the app runs: before that, Kivy's clock may still hold an old time.
    app.bind(on_start=lambda *_: Clock.schedule_once(step, 0.2))
    app.run()
    shutil.rmtree(scratch, ignore_errors=True)
    return written
