"""Start time: process start → the kiosk in service with its attract screen drawn, under a share
of one CPU core.

    sudo .venv/bin/python -m bench.start_time [--runs 5] [--shares 1,0.5,0.2] [--cold]
                                              [--ui-only | --no-ui-only] [--period-us N]

Each start is the real ``paykiosk --config F`` process (``python -m kiosk``) in a cgroup of its
own capped at the share (tests/support/cpu_share.py: cgroup v1 ``cpu.cfs_quota_us`` /
``cpu.cfs_period_us``, or v2 ``cpu.max``; root only), against the wallet sandbox (HTTPS), the
acceptor simulator (pty, the unit's default timing: 0.4 s to initialise) and the card emulator
(nfcpy udp, no card on it), all outside the group, as the outside world is. The touch UI runs on
an 800×480 Xvfb (the production path: SDL's x11 driver, Mesa's software GL, fullscreen).

Per share, one untimed start first (a kiosk restarted after a power cut has its data dir: the
journal, Kivy's home, Mesa's shader cache); ``--cold``: a new data dir for every start (a first
boot). Then ``--runs`` starts of each kind, timed from just before the process is spawned:

  --no-ui: engine ready       the console line "ready: touch your card" (both devices online,
                              the engine in service)
  UI: devices online          "bill acceptor online" and "card reader online", the later one
  UI: in service              "ready: touch your card"
  UI: attract drawn           the first screenshot of the X screen (``xwd``, every ~25 ms from the
                              in-service line on) that equals the attract screen at rest (the
                              screen once it has not changed for 1.5 s); the end of that
                              ``xwd`` call. The kiosk is in service and its attract screen is
                              on the display: the figure the goal is about.

Each series prints the median and range of its starts, with the 1-minute load average before
and after it (this machine is shared: a busy machine slows the full-core figures most), and
the CPU time the kiosk process used (all threads, ``/proc/PID/stat``) until its in-service
line: the figure a busy machine disturbs least, and what a slower CPU multiplies.
Goals: attract drawn + in service ≤ 2.5 s on a full core, ≤ 12 s at a fifth of one.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bench.ui_idle import cpu_seconds
from hardware.felica.sim import CardEmulator, free_udp_port
from hardware.id003.sim.device import SimulatedDevice
from hardware.id003.sim.simulator import AcceptorSimulator
from kiosk.sim.config import write_sandbox_config
from tests.support.cpu_share import PERIOD_US, CpuShare, available, cpu_share, throttled_s
from tests.support.wallet import ROOT, Sandbox, start_sandbox, stop_sandbox
from tests.support.xvfb import xvfb

READY = "ready: touch your card"
POLL_S = 0.025  # between screenshots
REST_S = 1.5  # the attract screen unchanged this long: at rest
START_TIMEOUT_S = 240.0


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


class Started:
    """One ``paykiosk --config F`` process in the share, its console lines time-stamped
    (seconds since just before it was spawned)."""

    def __init__(self, config: Path, share: CpuShare, env: dict[str, str], ui: bool) -> None:
        self.lines: list[tuple[float, str]] = []
        self.t0 = time.monotonic()
        args = [sys.executable, "-m", "kiosk", "--config", str(config)]
        self.process = subprocess.Popen(
            [*share.wrapper, *args, *([] if ui else ["--no-ui"])],
            cwd=ROOT,
            env={**env, "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append((time.monotonic() - self.t0, line.rstrip()))

    def when(self, check: str, timeout: float = START_TIMEOUT_S) -> float:
        """Seconds from the spawn to the first line containing ``check``."""
        deadline = time.monotonic() + timeout
        ended = False
        while True:
            for at, line in list(self.lines):
                if check in line:
                    return at
            if ended or time.monotonic() > deadline:
                raise RuntimeError(f"no {check!r} line; output:\n" + self.tail())
            if self.process.poll() is not None:
                ended = True
                time.sleep(0.2)  # its last lines
            time.sleep(0.01)

    def tail(self) -> str:
        return "\n".join(line for _, line in self.lines[-30:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def screenshot(display: str) -> bytes:
    """The X screen's pixels (``xwd -root``), as a digest."""
    raw = subprocess.run(
        ["xwd", "-root", "-silent", "-display", display], capture_output=True, check=True
    ).stdout
    return hashlib.blake2b(raw, digest_size=16).digest()


def attract_drawn(display: str, started: Started, after: float) -> float:
    """Seconds from the spawn to the first screenshot (taken from ``after`` on) equal to the
    screen at rest: the end of the ``xwd`` call that saw it."""
    shots: list[tuple[float, bytes]] = []
    while True:
        shot = screenshot(display)
        shots.append((time.monotonic() - started.t0, shot))
        rest = [s for at, s in shots if at >= shots[-1][0] - REST_S]
        if shots[-1][0] - shots[0][0] > REST_S + 0.5 and len(set(rest)) == 1:
            return next(at for at, s in shots if s == shot)
        if shots[-1][0] > START_TIMEOUT_S:
            raise RuntimeError("the screen never came to rest; output:\n" + started.tail())
        time.sleep(POLL_S)


@dataclass
class Series:
    share: CpuShare
    no_ui: list[float] = field(default_factory=list)
    no_ui_cpu: list[float] = field(default_factory=list)
    devices: list[float] = field(default_factory=list)
    in_service: list[float] = field(default_factory=list)
    drawn: list[float] = field(default_factory=list)
    throttled: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # CPU time used until in service
    load: tuple[float, float] = (0.0, 0.0)


@dataclass
class Rig:
    base: Path
    sandbox: Sandbox
    sim: AcceptorSimulator
    card: CardEmulator
    env: dict[str, str]
    display: str
    made: int = 0

    def config(self) -> Path:
        """A new kiosk folder (its own data dir) and its configuration."""
        self.made += 1
        folder = self.base / f"kiosk-{self.made}"
        folder.mkdir()
        return write_sandbox_config(folder, self.sandbox.info, self.sim.path, self.card.device_path)

    def idle(self) -> None:
        """The acceptor settled from the last kiosk (a stop disables it)."""
        self.sim.wait_for(lambda d: not d.busy, 15)


def one_start(rig: Rig, config: Path, share: CpuShare, ui: bool, series: Series | None) -> None:
    """Start, wait for in service (and the attract screen drawn), stop."""
    rig.idle()
    before = throttled_s(share)
    started = Started(config, share, rig.env, ui)
    try:
        ready = started.when(READY)
        cpu = cpu_seconds(started.process.pid)  # all its threads, as it comes into service
        if not ui:
            if series is not None:
                series.no_ui.append(ready)
                series.no_ui_cpu.append(cpu)
            return
        drawn = attract_drawn(rig.display, started, ready)
        acceptor = started.when("bill acceptor online", 0)
        card = started.when("card reader online", 0)
        if series is not None:
            series.in_service.append(ready)
            series.drawn.append(drawn)
            series.devices.append(max(acceptor, card))
            series.throttled.append(throttled_s(share) - before)
            series.cpu.append(cpu)
    finally:
        started.stop()
    if started.process.returncode != 0:
        raise RuntimeError(f"exit {started.process.returncode}; output:\n" + started.tail())


def run_series(rig: Rig, fraction: float | None, args: argparse.Namespace) -> Series:
    with cpu_share(fraction, args.period_us) as share:
        series = Series(share)
        start_load = load_average()
        kinds = [False] if args.no_ui_only else [True] if args.ui_only else [False, True]
        for ui in kinds:
            config = rig.config()
            if not args.cold:
                one_start(rig, config, share, ui, None)  # the data dir made, caches filled
            for _ in range(args.runs):
                if args.cold:
                    config = rig.config()
                one_start(rig, config, share, ui, series)
                print(".", end="", flush=True)
        series.load = (start_load, load_average())
    return series


def figure(values: list[float]) -> str:
    if not values:
        return "–"
    return f"median {statistics.median(values):6.2f} s  ({min(values):.2f}–{max(values):.2f})"


def report(series: Series, cold: bool) -> None:
    load = f"load average {series.load[0]:.2f} → {series.load[1]:.2f}"
    boot = "a new data dir every start" if cold else "data dir kept (a restart)"
    print(f"\n{series.share.describe()} ({boot}; {load}):")
    for what, values in (
        ("--no-ui: engine ready", series.no_ui),
        ("--no-ui: CPU time until then", series.no_ui_cpu),
        ("UI: devices online", series.devices),
        ("UI: in service", series.in_service),
        ("UI: attract drawn + in service", series.drawn),
        ("UI: CPU time until in service", series.cpu),
    ):
        if values:
            print(f"  {what:32} {figure(values)}")
    if series.share.group is not None and series.throttled:
        print(f"  {'UI: waited for the quota':32} {figure(series.throttled)}")


@contextlib.contextmanager
def rig(base: Path) -> Iterator[Rig]:
    with contextlib.ExitStack() as stack:
        x = stack.enter_context(xvfb())
        # the kiosk picks its own Kivy and SDL settings; Mesa's pass (MESA_SHADER_CACHE_DISABLE)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SDL_", "KCFG_"))}
        for name in ("KIVY_WINDOW", "KIVY_HOME", "NOTIFY_SOCKET", "WATCHDOG_USEC"):
            env.pop(name, None)
        env["DISPLAY"] = x.display
        sandbox = start_sandbox(base / "sandbox")
        stack.callback(stop_sandbox, sandbox)
        sim = AcceptorSimulator(SimulatedDevice(capacity=10**6), link=str(base / "acc"))
        stack.callback(sim.start().stop)
        card = CardEmulator(free_udp_port())
        stack.callback(card.close)
        yield Rig(base, sandbox, sim, card, env, x.display)


def parse_shares(text: str) -> list[float | None]:
    """``1,0.5,0.2`` (``none``: no cgroup at all)."""
    return [None if part == "none" else float(part) for part in text.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed starts of each kind")
    parser.add_argument(
        "--shares", default="1,0.5,0.2", help="fractions of one core (none: no cap)"
    )
    parser.add_argument("--cold", action="store_true", help="a new data dir for every start")
    parser.add_argument("--ui-only", action="store_true", help="only the touch UI's starts")
    parser.add_argument("--no-ui-only", action="store_true", help="only --no-ui starts")
    parser.add_argument("--period-us", type=int, default=PERIOD_US, help="the CFS period")
    args = parser.parse_args()
    shares = parse_shares(args.shares)
    if any(share is not None for share in shares) and (why := available()) is not None:
        parser.error(f"a CPU share {why}")
    for tool in ("Xvfb", "xwd"):
        if shutil.which(tool) is None:
            parser.error(f"{tool} is needed (Debian: xvfb, x11-apps)")
    print(
        f"paykiosk --config F, {os.cpu_count()} cores here, CFS period {args.period_us} µs,"
        f" {args.runs} starts each",
        end="",
        flush=True,
    )
    results = []
    with tempfile.TemporaryDirectory() as tmp, rig(Path(tmp)) as bench_rig:
        for share in shares:
            results.append(run_series(bench_rig, share, args))
    print()
    for series in results:
        report(series, args.cold)


if __name__ == "__main__":
    main()
