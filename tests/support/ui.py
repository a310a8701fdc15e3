"""The touch UI on the production path, driven like a member would: ``kiosk.app.runner.run`` with
the Kivy front on this thread's asyncio loop, beside the test's scenario coroutine; the acceptor
simulator (pty), the card emulator (nfcpy udp) and the wallet sandbox (HTTPS) around it.

    def test_x(tmp_path, sim, wallet):
        async def scenario(ui: KioskUI) -> None:
            await ui.touch_card(card)
            await ui.press("チャージ")
            await ui.wait_text("¥3,000")
        assert KioskUI(tmp_path, sim, wallet).run(scenario) == 0

Presses are simulated touches on the button's centre; texts are the Labels shown on the current
screen. Screenshots go to $PAYKIOSK_SCREENSHOTS/flows (default /tmp/paykiosk-screens/flows).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hardware.felica.sim import CardEmulator, EmulatedCard, free_udp_port
from hardware.id003.sim.process import Simulator
from kiosk.app import runner
from kiosk.config.settings import load
from kiosk.core.session import State
from kiosk.core.view import SessionView
from kiosk.engine.loop import Engine
from kiosk.sim.config import write_sandbox_config
from tests.support.common import SHOTS as ALL_SHOTS
from tests.support.common import window_shot
from tests.support.wallet import Sandbox

if TYPE_CHECKING:
    from screens.app import KioskApp
    from screens.front import KioskFront

SHOTS = ALL_SHOTS / "flows"
SIZE = (800, 480)  # the kiosk's display
# The offscreen framebuffer never grows (docs/platform.md): open the window at the size
# tests/conftest.py asks for, whichever test opens it first, then shrink it to SIZE.
OPEN_SIZE = (
    int(os.environ.get("KCFG_GRAPHICS_WIDTH", SIZE[0])),
    int(os.environ.get("KCFG_GRAPHICS_HEIGHT", SIZE[1])),
)
HOLD_S = 3.0  # a card held this long is seen by a udp reader that polls once a second
SAME_CARD_GAP_S = 1.5  # the reader takes the same card back within 1 s as the same touch

Scenario = Callable[["KioskUI"], Awaitable[None]]


def shown(widget: Any) -> list[Any]:
    """Every Label (Buttons included) with text in the widget's tree."""
    from kivy.uix.label import Label

    return [w for w in widget.walk(restrict=True) if isinstance(w, Label) and w.text]


class KioskUI:
    """One kiosk run (``runner.run(config, no_ui=False, front=...)``) and what a member can do
    with it. ``config``: keyword arguments of :func:`write_sandbox_config`."""

    def __init__(self, tmp_path: Path, sim: Simulator, wallet: Sandbox, **config: Any) -> None:
        # The kiosk's own 30 s: a test looks at the screen between notes, and on a busy machine
        # (tests side by side) the next note may come 8 s later; a test of the idle finish sets
        # its own.
        config.setdefault("idle_finish_s", 30.0)
        config.setdefault("screen_timeout_s", 30.0)
        self.card = CardEmulator(free_udp_port())
        path = write_sandbox_config(
            tmp_path, wallet.info, sim.path, self.card.device_path, **config
        )
        self.config = load(path)
        self.sim, self.wallet = sim, wallet
        self.views: list[SessionView] = []
        self.engine: Engine | None = None
        self.front: KioskFront | None = None
        self.status: int | None = None  # what runner.run returned
        self._kiosk: asyncio.Task[int] | None = None
        self._last_card: tuple[str, float] | None = None  # card id, when its hold ends
        self._name = "flow"
        self._shot = 0

    # ---- running --------------------------------------------------------------------
    def run(self, scenario: Scenario, name: str = "flow", timeout: float = 60.0) -> int:
        """Run the kiosk and ``scenario`` side by side; the kiosk is stopped when the scenario
        ends (unless it stopped already). Returns runner.run's exit status."""
        self._name = name
        for old in SHOTS.glob(f"{name}-*.png"):
            old.unlink()
        try:
            return asyncio.run(self._main(scenario, timeout))
        finally:
            self.card.close()

    async def _main(self, scenario: Scenario, timeout: float) -> int:
        self._kiosk = asyncio.create_task(
            runner.run(self.config, no_ui=False, attach=self._attach, front=self._make_front)
        )
        try:
            await asyncio.wait_for(scenario(self), timeout)
        finally:
            if not self._kiosk.done() and self.engine is not None:
                self.engine.inbox.stop()
            try:
                self.status = await asyncio.wait_for(asyncio.shield(self._kiosk), 30)
            except TimeoutError:
                self._kiosk.cancel()
                raise AssertionError("the kiosk did not stop within 30 s") from None
        return self.status

    def _attach(self, engine: Engine) -> None:
        self.engine = engine
        engine.listeners.append(self.views.append)

    def _make_front(self, engine: Engine) -> KioskFront:
        from kiosk.app.settings import front_settings
        from screens.front import KioskFront

        # as runner.ui_front makes it, but a window of OPEN_SIZE
        settings = front_settings(self.config, fullscreen=False, size=OPEN_SIZE)
        self.front = KioskFront(engine.inbox, settings)
        from kivy.core.window import Window

        Window.size = SIZE
        return self.front

    async def kiosk_ended(self, timeout: float = 30.0) -> int:
        """Wait until runner.run returns (after a SIGTERM, say); its exit status."""
        assert self._kiosk is not None
        return await asyncio.wait_for(asyncio.shield(self._kiosk), timeout)

    # ---- what is on screen ------------------------------------------------------------
    @property
    def app(self) -> KioskApp:
        assert self.front is not None, "the front is not made yet"
        return self.front.app

    @property
    def screen(self) -> str:
        """The screen's name (``app.manager.current``), "" before the app is built."""
        if self.front is None or self.front.app.manager is None:
            return ""
        return str(self.front.app.manager.current)

    @property
    def view(self) -> SessionView | None:
        return self.views[-1] if self.views else None

    def texts(self) -> list[str]:
        if not self.screen:
            return []
        return [label.text for label in shown(self.app.current_screen)]

    def t(self, message: str) -> str:
        """A message id in the language on screen now (for texts outside the stable few)."""
        return self.app.texts(message)

    def _state(self) -> str:
        view = self.view
        return (
            f"screen {self.screen!r}, texts {self.texts()}, "
            f"last view {view.state.value if view else None}"
            f" (notice {view.notice if view else None}, fault {view.fault if view else None})"
        )

    async def until(self, check: Callable[[], Any], what: str, timeout: float = 10.0) -> Any:
        """Poll ``check`` every 20 ms until it gives something true; fail with the screen."""
        deadline = time.monotonic() + timeout
        while True:
            result = check()
            if result:
                return result
            if self._kiosk is not None and self._kiosk.done():
                kiosk = self._kiosk
                ended = "cancelled" if kiosk.cancelled() else kiosk.exception() or kiosk.result()
                raise AssertionError(f"the kiosk ended ({ended!r}) waiting for {what}")
            if time.monotonic() > deadline:
                raise AssertionError(f"waited {timeout} s for {what}; {self._state()}")
            await asyncio.sleep(0.02)

    async def wait_text(self, text: str, timeout: float = 10.0) -> list[str]:
        """Until a shown text contains ``text``; the texts then."""
        return await self.until(  # type: ignore[no-any-return]
            lambda: (t := self.texts()) and any(text in x for x in t) and t, repr(text), timeout
        )

    async def wait_label(self, text: str, timeout: float = 10.0) -> list[str]:
        """Until a shown text is exactly ``text`` (a total on its own line)."""
        return await self.until(  # type: ignore[no-any-return]
            lambda: (t := self.texts()) and text in t and t, f"a label {text!r}", timeout
        )

    async def wait_screen(self, name: str, timeout: float = 10.0) -> list[str]:
        """Until ``app.manager.current`` is ``name`` (after a frame); the texts then."""
        await self.until(lambda: self.screen == name, f"screen {name!r}", timeout)
        await self.frames(1)
        return self.texts()

    async def wait_state(self, state: State, timeout: float = 10.0) -> SessionView:
        return await self.until(  # type: ignore[no-any-return]
            lambda: self.view if self.view and self.view.state is state else None,
            f"state {state.value}",
            timeout,
        )

    async def wait_shown(self, state: State, timeout: float = 10.0) -> list[str]:
        """Until the session is in ``state`` and the app shows that state's screen."""
        from screens.app import SCREEN_FOR_STATE

        await self.wait_state(state, timeout)
        return await self.wait_screen(SCREEN_FOR_STATE[state], timeout)

    async def frames(self, count: int = 2) -> None:
        """Until Kivy has drawn ``count`` more frames (layouts done, the change painted)."""
        from kivy.clock import Clock

        start = Clock.frames_displayed
        await self.until(lambda: Clock.frames_displayed >= start + count, f"{count} frames", 5)

    def screenshot(self, step: str) -> Path:
        """The last frame drawn, as SHOTS/<flow>-<nn>-<step>.png (the path returned is this
        process's own copy)."""
        self._shot += 1
        return Path(window_shot(f"{self._name}-{self._shot:02d}-{step}", SHOTS))

    async def shot(self, step: str) -> Path:
        await self.frames(2)
        return self.screenshot(step)

    # ---- what a member does -----------------------------------------------------------
    def _button(self, text: str) -> Any:
        from kivy.uix.button import Button

        buttons = [w for w in shown(self.app.current_screen) if isinstance(w, Button)]
        exact = [b for b in buttons if b.text == text]
        found = exact or [b for b in buttons if b.text.startswith(text)]
        return found[0] if found and not found[0].disabled else None

    async def press(self, text: str, timeout: float = 10.0) -> None:
        """Touch the enabled button labelled ``text`` (or starting with it) on the current
        screen, once it has been laid out and drawn."""
        from kivy.tests.common import UnitTestTouch

        while True:
            button = await self.until(lambda: self.screen and self._button(text), text, timeout)
            await self.frames(2)
            if self._button(text) is button:  # not re-rendered meanwhile
                break
        touch = UnitTestTouch(*button.to_window(*button.center))
        touch.touch_down()
        touch.touch_up()

    async def press_in_row(self, row: str, text: str) -> None:
        """Touch the enabled button ``text`` in the row that shows ``row`` (a count's "+" of
        ¥1,000, a month's export), once it has been laid out and drawn."""
        from kivy.tests.common import UnitTestTouch
        from kivy.uix.button import Button

        def find() -> Button | None:
            for widget in shown(self.app.current_screen):
                if not isinstance(widget, Button) or widget.text != text or widget.disabled:
                    continue
                row_texts = [getattr(w, "text", None) for w in widget.parent.children]
                if row in row_texts:
                    return widget
            return None

        button = await self.until(find, f"{text} in the row of {row}")
        await self.frames(2)
        touch = UnitTestTouch(*button.to_window(*button.center))
        touch.touch_down()
        touch.touch_up()

    def has_button(self, text: str) -> bool:
        return self.screen != "" and self._button(text) is not None

    async def touch_card(self, card_id: str, hold: float = HOLD_S) -> None:
        """Put a card on the reader for ``hold`` seconds (the one before is taken away)."""
        await asyncio.to_thread(self.card.remove)
        if self._last_card is not None and self._last_card[0] == card_id:
            gone = min(time.monotonic(), self._last_card[1])  # taken away, or its hold ended
            left = SAME_CARD_GAP_S - (time.monotonic() - gone)
            if left > 0:  # else the reader takes it as the touch before, still going on
                await asyncio.sleep(left)
        await asyncio.to_thread(self.card.touch, EmulatedCard(card_id), hold)
        self._last_card = (card_id, time.monotonic() + hold)

    async def ready(self, timeout: float = 20.0) -> None:
        """Until the kiosk is in service, showing its first screen, with the acceptor idle."""
        await self.wait_shown(State.IDLE, timeout)
        await self.sim_until(lambda d: not d.busy and d.inhibited, "the acceptor idle")

    async def start_charging(self, card_id: str, money: str) -> None:
        """From the attract screen: touch the card, チャージ, the money; until notes are taken."""
        await self.ready()
        await self.touch_card(card_id)
        await self.wait_shown(State.ACCOUNT)
        await self.press("チャージ")
        await self.press(money)
        await self.wait_shown(State.ACCEPTING)

    async def sim_until(
        self, predicate: Callable[[Any], bool], what: str, timeout: float = 10.0
    ) -> None:
        assert await asyncio.to_thread(self.sim.wait_for, predicate, timeout), (
            f"{what}: acceptor {self.sim.status}; {self._state()}"
        )

    async def feed(self, value: int) -> None:
        """Feed a note once the acceptor takes notes (the one before has settled)."""
        await self.sim_until(lambda d: not d.busy and not d.inhibited, f"ready for {value}")
        assert self.sim.insert(value), f"the unit took no {value} note: {self.sim.status}"
