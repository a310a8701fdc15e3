"""Idle cost of the touch UI: the real ``paykiosk --config F`` process on its attract screen.

    python -m bench.ui_idle [--seconds 60] [--settle 5] [--xvfb] [--no-ui] [--maxfps N]

The kiosk runs with its UI (Kivy, SDL's offscreen video driver; ``--xvfb``: an 800×480 Xvfb
and SDL's x11 driver) against the wallet sandbox, the acceptor simulator and the card emulator
with no card on it. Once the kiosk is in service (with its UI: every screen warmed up, the
line the kiosk prints after its first frame) and ``--settle`` seconds have passed, it measures
over ``--seconds``: CPU time of the whole process (all threads, utime+stime from
/proc/PID/stat) as a share of one core, and its RSS (VmRSS) at the start and the end.
Goals: CPU < 1 % of one core, RSS < 200 MB. ``--no-ui`` measures the same kiosk without its
UI (the engine, the acceptor's 100 ms poll and the card reader's poll alone), for comparison.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.soak import rss_kb
from hardware.felica.sim import CardEmulator, free_udp_port
from hardware.id003.sim.device import SimulatedDevice
from hardware.id003.sim.simulator import AcceptorSimulator
from kiosk.sim.config import write_sandbox_config
from tests.support.common import FAST_TIMING
from tests.support.wallet import ROOT, start_sandbox, stop_sandbox
from tests.support.xvfb import SIZE as XVFB_SIZE
from tests.support.xvfb import xvfb


def cpu_seconds(pid: int) -> float:
    """utime + stime of the process, all its threads, in seconds."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


class Kiosk:
    """``paykiosk --config F`` (with its UI unless ``no_ui``), its output collected."""

    def __init__(self, config: Path, env: dict[str, str], no_ui: bool) -> None:
        args = [sys.executable, "-m", "kiosk", "--config", str(config)]
        self.process = subprocess.Popen(
            [*args, "--no-ui"] if no_ui else args,
            cwd=ROOT,
            env={**env, "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line.rstrip())

    def wait_ready(self, ui: bool, timeout: float = 60.0) -> None:
        """In service; with the UI, every screen warmed up too (the kiosk at rest)."""
        deadline = time.monotonic() + timeout
        wanted = "touch screen: every screen warmed up" if ui else "ready: touch your card"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if any(line.endswith(wanted) for line in list(self.output)):
                return
            time.sleep(0.05)
        raise RuntimeError("kiosk not ready; output:\n" + "\n".join(self.output[-30:]))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def measure(
    kiosk: Kiosk, settle: float, seconds: float, server: int | None, no_ui: bool
) -> tuple[float, int, int, float]:
    """CPU share of one core over ``seconds`` after ``settle``; RSS (kB) at start and end; the
    X server's CPU share over the same window (0 without one)."""
    pid = kiosk.process.pid
    kiosk.wait_ready(ui=not no_ui)
    time.sleep(settle)
    rss_start = rss_kb(pid)
    pids = [pid] if server is None else [pid, server]
    start, wall_start = [cpu_seconds(p) for p in pids], time.monotonic()
    time.sleep(seconds)
    end, wall_end = [cpu_seconds(p) for p in pids], time.monotonic()
    rss_end = rss_kb(pid)
    if kiosk.process.poll() is not None:
        raise RuntimeError("the kiosk ended; output:\n" + "\n".join(kiosk.output[-30:]))
    shares = [(e - s) / (wall_end - wall_start) * 100 for s, e in zip(start, end, strict=True)]
    return shares[0], rss_start, rss_end, shares[1] if server is not None else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--settle", type=float, default=5.0, help="wait after start-up")
    parser.add_argument("--xvfb", action="store_true", help="an 800×480 Xvfb, SDL's x11 driver")
    parser.add_argument("--no-ui", action="store_true", help="the kiosk without its UI")
    parser.add_argument(
        "--maxfps", type=int, help="[ui] idle_fps, the attract screen's (default: the config's, 10)"
    )
    args = parser.parse_args()
    env = dict(os.environ)
    for name in ("KIVY_HOME", "KCFG_GRAPHICS_WIDTH", "KCFG_GRAPHICS_HEIGHT"):
        env.pop(name, None)  # the kiosk's own: Kivy's home in its data dir, the display's size
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        where = "offscreen SDL"
        server_pid: int | None = None
        if args.xvfb:
            x = stack.enter_context(xvfb())
            env.update(DISPLAY=x.display, SDL_VIDEODRIVER="x11")
            server_pid = x.process.pid
            where = "Xvfb {}×{}".format(*XVFB_SIZE)
        else:
            env["SDL_VIDEODRIVER"] = "offscreen"
        sandbox = start_sandbox(tmp / "sandbox")
        stack.callback(stop_sandbox, sandbox)
        sim = AcceptorSimulator(SimulatedDevice(timing=FAST_TIMING), link=str(tmp / "acc"))
        stack.callback(sim.start().stop)
        card = CardEmulator(free_udp_port())
        stack.callback(card.close)
        extra = f"\n[ui]\nidle_fps = {args.maxfps}\n" if args.maxfps else ""
        config = write_sandbox_config(tmp, sandbox.info, sim.path, card.device_path, extra=extra)
        kiosk = Kiosk(config, env, args.no_ui)
        stack.callback(kiosk.stop)
        cpu, rss_start, rss_end, server_cpu = measure(
            kiosk, args.settle, args.seconds, server_pid, args.no_ui
        )
    print(
        f"idle {args.seconds:.0f} s: cpu {cpu:.1f} % of one core, rss {rss_end / 1024:.1f} MB"
        f" (start {rss_start / 1024:.1f} MB)"
    )
    fps = f", idle_fps {args.maxfps or 10}"
    what = "--no-ui, idle" if args.no_ui else f"on the attract screen, {where}{fps}"
    print(f"  paykiosk --config F {what}; goals: cpu < 1 %, rss < 200 MB")
    if server_pid is not None:
        print(f"  the Xvfb server: cpu {server_cpu:.1f} % of one core (not the kiosk's)")


if __name__ == "__main__":
    main()
