"""The README's demo runs: a member touches a card, charges a note, and it is credited — in the
kiosk's window driven from the demo strip with the mouse, and in the console with commands."""

from __future__ import annotations

import glob
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from kiosk.app.demo import CARD_HOLD_S
from screens.layout_check import overgrown, shown
from tests.support.common import window_shot

ROOT = Path(__file__).resolve().parents[1]
Say = Callable[[str], None]
Until = Callable[..., None]


@contextmanager
def demo_process(args: list[str], env: dict[str, str] | None = None) -> Iterator[tuple[Say, Until]]:
    """``paykiosk --demo ARGS`` with a pipe for typed commands; ``until(*texts)`` reads its
    output until every one of ``texts`` has appeared (in any order)."""
    demo = subprocess.Popen(
        [sys.executable, "-m", "kiosk", "--demo", *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert demo.stdin is not None and demo.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    seen: list[str] = []
    output = demo.stdout

    def pump() -> None:
        for line in output:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()

    def until(*texts: str, timeout: float = 40.0) -> None:
        missing = set(texts)
        while missing:
            try:
                line = lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no {missing} in:\n{''.join(seen)}") from None
            seen.append(line)
            missing = {text for text in missing if text not in line}

    def say(command: str) -> None:
        demo.stdin.write(command + "\n")  # type: ignore[union-attr]
        demo.stdin.flush()  # type: ignore[union-attr]

    try:
        yield say, until
        say("q")
        until("demo files:")
        assert demo.wait(20) == 0
        assert "Traceback" not in "".join(seen), "".join(seen)
        assert not any("kivy" in line.lower() for line in seen), "the console demo opened Kivy"
    finally:
        if demo.poll() is None:
            demo.kill()


def test_console_demo_charges_a_note_end_to_end(tmp_path: Path) -> None:
    with demo_process(["--console", "--data-dir", str(tmp_path)]) as (say, until):
        until("bill acceptor online", "card reader online")
        say("t1")
        touched = time.monotonic()
        until("生協 太郎: base ¥1,070")
        say("k")
        until("insert notes into textbook")
        time.sleep(0.5)  # the enable reaches the acceptor on its next poll; a hand is slower
        say("5")
        until("in ¥5,000")
        say("f")
        until("done: ¥5,000 credited to textbook, new balance ¥5,000")
        say("ok")
        until("ready: touch your card")
        # the same card again: its 5 s on the reader are over and it was away a moment
        time.sleep(max(0.0, touched + CARD_HOLD_S + 1.5 - time.monotonic()))
        say("t1")
        until("生協 太郎: base ¥1,070")
        say("mv c 1000")
        until("confirm moving ¥1,000: base ¥1,070 → ¥70, cafeteria ¥1,500 → ¥2,500")
        say("y")
        until("moved ¥1,000 base → cafeteria: base ¥70, cafeteria ¥2,500, receipt DEMO-M")
        say("close")  # the day's close, checked against the sandbox's ledger
        until(
            "Pay Spot daily close DEMO",
            "credited textbook: 1 × ¥5,000 confirmed",
            "agreed: 2 matched of 2 in the wallet and 2 in the journal, 0 mismatches",
        )


@pytest.mark.skipif(bool(glob.glob("/dev/dri/card*")), reason="this machine has a display device")
def test_with_no_display_the_demo_says_so_and_runs_the_console(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER")
    }
    with demo_process(["--data-dir", str(tmp_path)], env) as (say, until):
        until("no display", "t1  生協 太郎")
        until("bill acceptor online", "card reader online")
        say("t1")
        until("生協 太郎: base ¥1,070")


# ---- the window ----------------------------------------------------------------------------
Step = Callable[[Any], bool]  # gets the running app; True when done (else polled again)


def run_demo_window(data_dir: Path, steps: list[Step], per_step_s: float = 20.0) -> None:
    """``paykiosk --demo`` in this process (offscreen window); each step runs on the UI loop,
    polled every 0.1 s until it returns True. The window is closed after the last step."""
    from kivy.app import App
    from kivy.clock import Clock
    from kivy.core.window import Window  # noqa: F401  # opened at conftest's largest size

    from kiosk.app.cli import main

    errors: list[BaseException] = []
    pending = list(steps)
    started = time.monotonic()

    def tick(_dt: float) -> None:
        nonlocal started
        app = App.get_running_app()
        if app is None or getattr(app, "strip", None) is None:
            if time.monotonic() - started > 60:
                errors.append(TimeoutError("the demo window did not open"))
                return
            Clock.schedule_once(tick, 0.1)
            return
        try:
            if not pending:
                app.stop()
                return
            if pending[0](app):
                pending.pop(0)
                started = time.monotonic()
            elif time.monotonic() - started > per_step_s:
                raise TimeoutError(f"step {len(steps) - len(pending) + 1} never happened")
        except BaseException as error:  # surfaced after the run
            errors.append(error)
            app.stop()
            return
        Clock.schedule_once(tick, 0.1)

    Clock.schedule_once(tick, 0.1)
    assert main(["--demo", "--data-dir", str(data_dir)]) == 0
    if errors:
        raise errors[0]


def texts(widget: Any) -> list[str]:
    return [label.text for label in shown(widget)]


def touch(widget: Any) -> None:
    from kivy.tests.common import UnitTestTouch

    t = UnitTestTouch(*widget.to_window(*widget.center))
    t.touch_down()
    t.touch_up()


_found: dict[str, tuple[Any, int]] = {}  # button text → the button, the frame it was found at


def press(root: Any, text: str) -> bool:
    """Touch the enabled button whose text starts with ``text``, once it has been laid out and
    drawn; False until then. A button found the moment its screen was built has no layout yet:
    a touch at its centre lands elsewhere (a lost ベース press, on a busy machine)."""
    from kivy.clock import Clock
    from kivy.uix.button import Button

    for widget in shown(root):
        if isinstance(widget, Button) and widget.text.startswith(text) and not widget.disabled:
            button, frame = _found.get(text, (None, 0))
            if button is not widget:
                _found[text] = (widget, Clock.frames_displayed)
                return False
            if Clock.frames_displayed < frame + 2:
                return False
            del _found[text]
            touch(widget)
            return True
    return False


def test_demo_window_charges_a_note_fed_from_the_strip(tmp_path: Path) -> None:
    from kiosk.app.demo import WINDOW_SIZE

    seen: dict[str, Any] = {}

    def start(app: Any) -> bool:
        from kivy.core.window import Window

        if tuple(Window.size) != WINDOW_SIZE:
            Window.size = WINDOW_SIZE  # a window an earlier test opened
            return False
        seen["before"] = balance(tmp_path)
        return "カードをタッチしてください" in texts(app.current_screen)

    def look(app: Any) -> bool:
        seen["shot"] = window_shot("demo-window")
        seen["strip"] = texts(app.strip)
        seen["overgrown"] = overgrown(app.root, WINDOW_SIZE)
        return True

    def touch_card(app: Any) -> bool:
        seen["touched"] = time.monotonic()
        return press(app.strip, "生協 太郎")

    def account_shown(app: Any) -> bool:
        if "生協 太郎 さん" not in texts(app.current_screen):
            return False
        # the card stays on the reader for 5 s, in its own thread: the screen did not wait
        seen["account_after"] = time.monotonic() - seen["touched"]
        seen["status"] = app.strip.status
        return True

    def notes_screen(app: Any) -> bool:
        if "お札を入れてください" not in texts(app.current_screen):
            return False
        seen["enable"] = time.monotonic()
        return True

    def feed(app: Any) -> bool:
        # the enable reaches the acceptor on its next poll; a hand is slower
        return time.monotonic() - seen["enable"] > 0.5 and press(app.strip, "¥1,000")

    def hide_and_show(app: Any) -> bool:
        from kivy.core.window import Window

        Window.dispatch("on_key_down", 283, 0, None, [])  # F2
        seen["hidden"] = (app.strip.parent is None, tuple(Window.size))
        Window.dispatch("on_key_down", 283, 0, None, [])
        seen["shown"] = (app.strip.parent is not None, tuple(Window.size))
        return True

    steps: list[Step] = [
        start,
        look,
        touch_card,
        account_shown,
        lambda app: press(app.current_screen, "チャージ"),
        lambda app: press(app.current_screen, "ベース"),
        notes_screen,
        feed,
        lambda app: "¥1,000" in texts(app.current_screen) and press(app.current_screen, "完了"),
        lambda app: "チャージしました" in texts(app.current_screen),
        lambda app: seen.update(done=texts(app.current_screen), fed=app.strip.status) or True,
        hide_and_show,
    ]
    run_demo_window(tmp_path, steps)

    assert "生協 太郎" in seen["strip"] and "unregistered card" in seen["strip"]
    for button in ("¥10,000", "jam", "power cut", "wallet down", "wallet up"):
        assert button in seen["strip"], seen["strip"]
    assert not seen["overgrown"], seen["overgrown"]
    assert seen["account_after"] < 4, "the card's 5 s hold blocked the UI"
    assert seen["status"] == "card on the reader"
    assert seen["fed"] == "¥1,000 note fed"
    assert "ベース  ¥1,000" in seen["done"]
    before = seen["before"]
    assert f"チャージ後の残高: ¥{before + 1_000:,}" in seen["done"], seen["done"]
    assert balance(tmp_path) == before + 1_000  # the wallet sandbox holds the charge
    assert seen["hidden"] == (True, (800, 480)) and seen["shown"] == (True, WINDOW_SIZE)
    assert_shot(seen["shot"])


def balance(data_dir: Path) -> int:
    """生協 太郎's base money in the demo's wallet sandbox."""
    from kiosk.sim.sandbox.seed import MEMBERS
    from kiosk.sim.sandbox.store import SandboxStore

    store = SandboxStore(data_dir / "sandbox" / "sandbox.sqlite3")
    try:
        row = store.one(
            "SELECT money_balance FROM accounts WHERE external_id = ?", (MEMBERS[0][1],)
        )
    finally:
        store.close()
    assert row is not None
    return int(row["money_balance"])


def assert_shot(png: str) -> None:
    """The screenshot is the whole window: the kiosk's header left, the strip right."""
    from kivy.core.image import Image

    from screens.demo import STRIP_BACKGROUND
    from screens.widgets import HEADER

    image = Image.load(png, keep_data=True)
    assert tuple(image.size) == (1040, 480)
    for (x, y), colour in (((4, 4), HEADER), ((1036, 476), STRIP_BACKGROUND)):
        pixel = image.read_pixel(x, y)  # y counts from the top
        assert all(abs(a - b) < 0.02 for a, b in zip(pixel[:3], colour[:3], strict=True)), (
            f"{png} at {x},{y}: {pixel} is not {colour}"
        )


def test_demo_strip_takes_the_wallet_away_and_causes_acceptor_faults(tmp_path: Path) -> None:
    from kiosk.core.session import State

    seen: dict[str, Any] = {}

    def ready(app: Any) -> bool:
        return app.view.state is State.IDLE

    def status(*texts: str) -> Step:
        """One of ``texts`` was shown on the strip (each step's is its own; a later status,
        such as the held card's "taken off the reader", may have replaced it already)."""

        def check(app: Any) -> bool:
            return any(text in app.strip.said for text in texts)

        return check

    def wallet_unavailable(app: Any) -> bool:
        if app.view.state is not State.WALLET_UNAVAILABLE:
            return False
        seen["screen"] = app.manager.current
        return True

    steps: list[Step] = [
        ready,
        lambda app: press(app.strip, "wallet down"),
        status("wallet down"),
        lambda app: press(app.strip, "生協 太郎"),
        wallet_unavailable,
        lambda app: press(app.strip, "wallet up"),
        status("wallet up"),
        lambda app: press(app.current_screen, "OK"),
        ready,
        lambda app: press(app.strip, "jam"),
        status("the next note jams before VEND VALID"),
        lambda app: press(app.strip, "clear jam"),
        status("jam cleared"),
        lambda app: press(app.strip, "power cut"),
        # the cut lasts 1 s: a busy UI loop may first look when the power is already back
        status("power cut (1 s)…", "power restored"),
        status("power restored"),
    ]
    run_demo_window(tmp_path, steps)
    assert seen["screen"] == "message"
