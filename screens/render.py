"""``paykiosk screens --out DIR``: every sample screen (``screens.samples``) rendered offscreen
to PNG files named ``<sample>-<lang>-<width>x<height>.png`` — for a look, and for the README."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from kiosk.session import State
from screens.front import FrontSettings, configure_kivy
from screens.i18n import LANGUAGES
from screens.layout_check import layout_problems
from screens.samples import SAMPLES


def parse_size(text: str) -> tuple[int, int]:
    """``800x480`` → (800, 480)."""
    width, _, height = text.lower().partition("x")
    if not (width.isdigit() and height.isdigit()) or int(width) < 320 or int(height) < 240:
        raise ValueError(f"a size is WIDTHxHEIGHT, at least 320x240, got {text!r}")
    return int(width), int(height)


def render(
    out: Path,
    sizes: Sequence[tuple[int, int]] = ((800, 480),),
    langs: Sequence[str] = LANGUAGES,
    names: Sequence[str] | None = None,
    problems: list[str] | None = None,
) -> list[Path]:
    """Render the samples (all, or ``names``) in each size and language; returns the files,
    and adds each screen's layout problems (:mod:`screens.layout_check`) to ``problems``.
    Opens Kivy's window offscreen unless ``SDL_VIDEODRIVER`` says otherwise: call it in a
    process that has no Kivy window yet."""
    unknown = sorted(set(names or ()) - SAMPLES.keys())
    if unknown:
        raise ValueError(f"no sample screen {unknown[0]!r}; there are {', '.join(SAMPLES)}")
    os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
    os.environ.setdefault("TZ", "Asia/Tokyo")  # the samples' times are the co-op's (JST)
    time.tzset()
    largest = max(sizes, key=lambda s: s[0] * s[1])  # the offscreen framebuffer only shrinks
    configure_kivy(FrontSettings(fullscreen=False, size=largest, kiosk_id="K01", sound=False))
    from kivy.clock import Clock
    from kivy.core.window import Window

    from kiosk.inbox import Inbox
    from screens.app import KioskApp

    out.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="paykiosk-render-"))
    app = KioskApp(Inbox(), kiosk_id="K01")
    written: list[Path] = []
    steps: list[Callable[[], None]] = []
    for size in sizes:

        def resize(size: tuple[int, int] = size) -> None:
            Window.size = size

        steps.append(resize)
        for name in names or SAMPLES:
            for lang in langs:

                def show(name: str = name, lang: str = lang) -> None:
                    app.texts.lang = lang
                    view = SAMPLES[name]
                    if view.state is State.ACCEPTING and view.inserted:  # its countdown too
                        view = replace(view, deadline=time.monotonic() + 25.5)
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
