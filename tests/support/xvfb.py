"""An Xvfb X server on a free display for the real kiosk process's touch UI (the production
path: SDL's x11 driver, Mesa's software GL, fullscreen at the screen's size), and the
environment that process gets: this test process's Kivy and SDL settings left out."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

SIZE = (800, 480)  # the kiosk's 7" panel
# What tests/conftest.py, and any kiosk front run in the test process before, set for Kivy,
# SDL and Mesa (offscreen, a larger window, homes and caches of their own): the kiosk process
# picks its own, as in the field.
OWN_SETTINGS = ("SDL_", "KCFG_", "KIVY_", "MESA_", "XDG_CACHE_HOME", "LP_NUM_THREADS")


@dataclass
class XServer:
    display: str  # the DISPLAY value
    process: subprocess.Popen[bytes]

    def freeze(self) -> None:
        """SIGSTOP: a client's next request waits (a window being opened, a frame drawn)."""
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def env(self) -> dict[str, str | None]:
        """The environment of a kiosk on this server (None: left out; see
        ``KioskProcess.start``)."""
        gone: dict[str, str | None] = {k: None for k in os.environ if k.startswith(OWN_SETTINGS)}
        return {**gone, "DISPLAY": self.display}


@contextlib.contextmanager
def xvfb(size: tuple[int, int] = SIZE) -> Iterator[XServer]:
    """An Xvfb of this size (24-bit) on a free display number, stopped at the end."""
    read, write = os.pipe()
    server = subprocess.Popen(
        [
            "Xvfb",
            "-displayfd",
            str(write),
            "-screen",
            "0",
            f"{size[0]}x{size[1]}x24",
            "-nolisten",
            "tcp",
        ],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as pipe:
        number = pipe.readline().strip()
    x = XServer(f":{number}", server)
    try:
        if not number:
            raise RuntimeError("Xvfb did not start")
        yield x
    finally:
        x.thaw()  # a stopped server does not end on SIGTERM
        server.terminate()
        server.wait(10)
