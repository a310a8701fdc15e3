"""Touch UI latency: card event → account screen drawn, note counted → new total drawn.

    python -m bench.ui_latency [--count 100] [--maxfps N]

In this process: ``kiosk.app.runner.run`` with the Kivy front (offscreen SDL, 800×480, the
config's maxfps 30 in a session and idle_fps 10 on the attract screen) on one asyncio loop,
against the wallet sandbox (HTTPS), the acceptor simulator (pty) and the card emulator,
driven by tests/support/ui.py's harness. "Drawn" is the end of the buffer swap
(``Window.flip``) of the first frame after the app showed the view.

  card event → account drawn    from the engine's ``card_touched`` entry point (the udp card
                                touch itself is bench/card_latency.py's) to the frame: the
                                wallet lookup at the sandbox, building the screen, the frame.
  note counted → total drawn    from the engine publishing the view whose ``inserted`` went up
                                to the frame.
  insert → total drawn          from ``sim.insert``: adds the simulated acceptor's escrow and
                                stacking (tests/support/common.py FAST_TIMING) and the 100 ms poll.

Goals: p50 < 80 ms for card event → account drawn and note counted → total drawn.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import io
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bench.rig import endless_simulator
from bench.stats import describe_ms
from kiosk.core.events import CreditOutcome
from kiosk.core.session import State
from kiosk.core.view import SessionView
from tests.support.wallet import start_sandbox, stop_sandbox

if TYPE_CHECKING:
    from tests.support.ui import KioskUI

NOTE = 1_000
SLOW_S = 0.080  # the goal for the p50


async def front_made(ui: KioskUI) -> None:
    """Until the runner has made the front: Kivy must not be imported before it configures
    Kivy (the clock takes maxfps when first imported), and ``ui.ready`` imports the app. The
    engine's console lines go where this process's stdout goes now (see :func:`quiet`)."""
    from kiosk.app.console import ConsoleView

    await ui.until(lambda: ui.front is not None, "the front made", 30)
    assert ui.engine is not None
    for listener in ui.engine.listeners:
        if isinstance(listener, ConsoleView):
            listener.out = sys.stdout


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """The kiosk's console lines (one per view) kept out of the figures; the last ones are
    printed if the run fails."""
    console = io.StringIO()
    try:
        with contextlib.redirect_stdout(console):
            yield
    except BaseException:
        print("the kiosk's last lines:", *console.getvalue().splitlines()[-30:], sep="\n  ")
        raise


def offscreen_kivy() -> None:
    """Kivy's settings for an in-process bench, before Kivy is first imported: SDL's offscreen
    driver, a window of 800×480, Kivy's home and logs in a temp dir, our command line alone."""
    os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
    os.environ.setdefault("KIVY_WINDOW", "sdl2")
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="paykiosk-bench-kivy-"))
    os.environ.setdefault("KCFG_KIVY_LOG_LEVEL", "error")  # not the fresh home's upgrade notes
    # The kiosk's display, even under pytest (tests/conftest.py opens test windows larger).
    os.environ["KCFG_GRAPHICS_WIDTH"], os.environ["KCFG_GRAPHICS_HEIGHT"] = "800", "480"


@dataclass
class Timeline:
    """When each view was published by the engine, shown by the app, and when frames were
    drawn (``time.perf_counter``)."""

    published: list[tuple[float, SessionView]] = field(default_factory=list)
    shown: list[tuple[float, SessionView]] = field(default_factory=list)
    flips: list[float] = field(default_factory=list)

    def attach(self, ui: KioskUI) -> None:
        """Listen to the engine (first, before the app renders), the app and the window."""
        from kivy.core.window import Window

        assert ui.engine is not None
        ui.engine.listeners.insert(0, lambda v: self.published.append((time.perf_counter(), v)))
        ui.app.observers.append(lambda _, v: self.shown.append((time.perf_counter(), v)))
        flip = Window.flip

        def timed_flip() -> None:
            flip()
            self.flips.append(time.perf_counter())

        Window.flip = timed_flip

    def first_flip_after(self, at: float) -> float | None:
        index = bisect.bisect_right(self.flips, at)
        return self.flips[index] if index < len(self.flips) else None


async def drawn(ui: KioskUI, line: Timeline, after: float) -> float:
    """The end of the first frame drawn after ``after``."""
    return await ui.until(  # type: ignore[no-any-return]
        lambda: line.first_flip_after(after), "a frame drawn", 5
    )


async def shown_where(
    ui: KioskUI,
    log: list[tuple[float, SessionView]],
    start: int,
    what: str,
    test: Callable[[SessionView], bool],
) -> float:
    """The time of the first entry of ``log`` from ``start`` on whose view passes ``test``."""

    def found() -> float | None:
        for at, view in log[start:]:
            if test(view):
                return at
        return None

    return await ui.until(found, what, 15)  # type: ignore[no-any-return]


@dataclass
class Figures:
    card: list[float] = field(default_factory=list)  # card event → account drawn
    lookup: list[float] = field(default_factory=list)  # card event → account view published
    account_frame: list[float] = field(default_factory=list)  # account published → drawn
    counted: list[float] = field(default_factory=list)  # note counted → total drawn
    inserted: list[float] = field(default_factory=list)  # sim.insert → total drawn
    idle_fps: int = 0  # the frame rate the kiosk kept on the attract screen


async def one_session(ui: KioskUI, line: Timeline, card: str, figures: Figures) -> None:
    """A card event, the account screen, base money, one note, finish, OK: timed."""
    engine, sim = ui.engine, ui.sim
    assert engine is not None
    await ui.wait_shown(State.IDLE, 30)
    await ui.sim_until(lambda d: not d.busy and d.inhibited, "the acceptor idle", 30)
    await ui.frames(2)
    published, shown = len(line.published), len(line.shown)
    start = time.perf_counter()
    engine.inbox.card_touched(card)

    def is_account(view: SessionView) -> bool:
        return view.state is State.ACCOUNT

    at_shown = await shown_where(ui, line.shown, shown, "the account shown", is_account)
    at_published = await shown_where(ui, line.published, published, "account", is_account)
    at_drawn = await drawn(ui, line, at_shown)
    figures.card.append(at_drawn - start)
    figures.lookup.append(at_published - start)
    figures.account_frame.append(at_drawn - at_published)

    engine.inbox.charge()
    await ui.wait_shown(State.CHOOSE_MONEY)
    engine.inbox.choose_money("base")
    await ui.wait_shown(State.ACCEPTING)
    await ui.sim_until(lambda d: not d.busy and not d.inhibited, "taking notes")
    await ui.frames(2)
    published, shown = len(line.published), len(line.shown)
    start = time.perf_counter()
    assert sim.insert(NOTE), f"the unit took no note: {sim.status}"

    def counted(view: SessionView) -> bool:
        return view.state is State.ACCEPTING and view.inserted == NOTE

    at_shown = await shown_where(ui, line.shown, shown, "the total shown", counted)
    at_published = await shown_where(ui, line.published, published, "counted", counted)
    at_drawn = await drawn(ui, line, at_shown)
    figures.counted.append(at_drawn - at_published)
    figures.inserted.append(at_drawn - start)

    engine.inbox.finish()
    view = await ui.wait_state(State.DONE, 30)
    assert view.outcome is CreditOutcome.CONFIRMED, view
    engine.inbox.acknowledge()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100, help="card events and notes, each")
    parser.add_argument("--maxfps", type=int, help="[ui] maxfps (default: the config's, 30)")
    args = parser.parse_args()
    offscreen_kivy()
    from tests.support.ui import SIZE, KioskUI

    figures = Figures()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        sandbox = start_sandbox(tmp / "sandbox")
        sim = endless_simulator(tmp / "acc")
        try:
            cards = [sandbox.card_of(sandbox.member({})) for _ in range(args.count)]
            (tmp / "kiosk").mkdir()
            extra = f"\n[ui]\nmaxfps = {args.maxfps}\n" if args.maxfps else ""
            ui = KioskUI(tmp / "kiosk", sim, sandbox, extra=extra)

            async def scenario(ui: KioskUI) -> None:
                await front_made(ui)
                await ui.ready(30)
                line = Timeline()
                line.attach(ui)
                for card in cards:
                    await one_session(ui, line, card, figures)
                await ui.wait_shown(State.IDLE, 30)
                from kivy.clock import Clock

                figures.idle_fps = round(Clock._max_fps)  # on the attract screen: idle_fps

            with quiet():
                status = ui.run(scenario, "bench-latency", timeout=120 + 10 * args.count)
        finally:
            sim.stop()
            stop_sandbox(sandbox)
    assert status == 0, f"the kiosk ended with {status}"
    width, height = SIZE
    maxfps = figures.idle_fps
    print(
        f"ui latency: {args.count} card events and {args.count} notes, offscreen SDL"
        f" {width}×{height}, fps on the attract screen {maxfps}"
        " (goal p50 < 80 ms for the first two)"
    )
    print(f"  card event → account drawn:   {describe_ms(figures.card)}")
    print(f"    card event → account view:  {describe_ms(figures.lookup)}  (the wallet lookup)")
    print(f"    account view → drawn:       {describe_ms(figures.account_frame)}")
    print(f"  note counted → total drawn:   {describe_ms(figures.counted)}")
    print(
        f"  insert → total drawn:         {describe_ms(figures.inserted)}"
        "  (with the simulated acceptor's escrow, stacking and 100 ms poll)"
    )
    slow = [sum(v > SLOW_S for v in f) for f in (figures.card, figures.counted)]
    print(f"  over {SLOW_S * 1000:.0f} ms: {slow[0]} card events, {slow[1]} notes counted")


if __name__ == "__main__":
    main()
