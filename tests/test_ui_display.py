"""The real ``paykiosk --config F`` process fills exactly the X screen it is given: Xvfb screens
of a 7" panel, a 1024×600 one and full HD, no window manager, Kivy's ``fullscreen = auto``.
A screenshot of the whole X screen (``xwd -root``) must show the kiosk's header band along the
top edge and its background in the far corner — nothing shifted, cut off or beyond the edge.
Escape (and Alt+F4) do not close it: there is no way out to a desktop. Then SIGTERM closes it
with status 0.
"""

from __future__ import annotations

import os
import shutil
import signal
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from hardware.felica.sim import free_udp_port
from hardware.id003.sim.process import SimulatorProcess
from kiosk.sim.config import write_sandbox_config
from tests.support.wallet import Sandbox
from tests.support.xvfb import xvfb

ROOT = Path(__file__).resolve().parents[1]
HEADER = (0.05, 0.30, 0.55)  # screens.widgets.HEADER (no Kivy import in this test process)
BACKGROUND = (0.97, 0.97, 0.95)

pytestmark = pytest.mark.skipif(
    not (shutil.which("Xvfb") and shutil.which("xwd") and shutil.which("xdotool")),
    reason="needs Debian's xvfb, x11-apps and xdotool (the README's test command installs them)",
)


Shot = tuple[int, int, int, int, bytes]  # width, height, bytes per pixel, per line, pixels


def x_screenshot(display: str) -> Shot:
    """The root window's pixels (TrueColor, blue in the low byte), read from ``xwd``."""
    raw = subprocess.run(
        ["xwd", "-root", "-silent", "-display", display], capture_output=True, check=True
    ).stdout
    header_size, _version, _format, depth, width, height = struct.unpack(">6I", raw[:24])
    byte_order = struct.unpack(">I", raw[28:32])[0]
    bits_per_pixel, bytes_per_line = struct.unpack(">2I", raw[44:52])
    colours = struct.unpack(">I", raw[76:80])[0]
    assert depth == 24 and bits_per_pixel in (24, 32) and byte_order == 0, (
        depth,
        bits_per_pixel,
        byte_order,
    )
    start = header_size + colours * 12
    pixels = raw[start : start + height * bytes_per_line]
    return width, height, bits_per_pixel // 8, bytes_per_line, pixels


def pixel(shot: Shot, x: int, y: int) -> tuple[float, float, float]:
    _, _, size, line, data = shot
    offset = y * line + x * size
    blue, green, red = data[offset], data[offset + 1], data[offset + 2]  # LSB first
    return red / 255, green / 255, blue / 255


def near(colour: tuple[float, float, float], expected: tuple[float, float, float]) -> bool:
    return all(abs(a - b) < 0.03 for a, b in zip(colour, expected, strict=True))


@pytest.mark.parametrize("size", [(800, 480), (1024, 600), (1920, 1080)], ids=str)
def test_the_kiosk_fills_exactly_the_x_screen_it_is_given(
    tmp_path: Path, sim: SimulatorProcess, wallet: Sandbox, size: tuple[int, int]
) -> None:
    config = write_sandbox_config(
        tmp_path, wallet.info, sim.path, f"udp:127.0.0.1:{free_udp_port()}"
    )
    with xvfb(size) as x:
        display = x.display
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SDL_", "KCFG_"))}
        env.pop("KIVY_WINDOW", None)
        env["DISPLAY"] = display
        kiosk = subprocess.Popen(
            [sys.executable, "-m", "kiosk", "--config", str(config)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        lines: list[str] = []
        ready = threading.Event()

        def read() -> None:
            assert kiosk.stdout is not None
            for line in kiosk.stdout:
                lines.append(line.rstrip())
                if "ready: touch your card" in line:
                    ready.set()

        threading.Thread(target=read, daemon=True).start()
        try:
            assert ready.wait(30), "\n".join(lines)
            time.sleep(1.0)  # the attract screen drawn (the first frames follow the view)
            shot = x_screenshot(display)
            for keys in ("Escape", "alt+F4"):
                subprocess.run(["xdotool", "key", keys], env=env, check=True, timeout=10)
            time.sleep(1.0)
            assert kiosk.poll() is None, "a key closed the kiosk\n" + "\n".join(lines)
        finally:
            kiosk.send_signal(signal.SIGTERM)
            status = kiosk.wait(20)
    width, height = shot[:2]
    assert (width, height) == size
    w, h = size
    output = "\n".join(lines)
    for x, y in ((2, 2), (w // 2, 2), (w - 3, 2)):
        assert near(pixel(shot, x, y), HEADER), (
            f"{size}: the top edge at {x},{y} is {pixel(shot, x, y)}, not the header band"
            " (the window is shifted or larger than the screen)\n" + output
        )
    for x, y in ((2, h - 3), (w - 3, h - 3)):
        assert near(pixel(shot, x, y), BACKGROUND), (
            f"{size}: the bottom corner {x},{y} is {pixel(shot, x, y)}, not the background\n"
            + output
        )
    assert status == 0, output
