"""A share of one CPU core for a process: a cgroup with a CFS quota (v1 ``cpu`` controller's
``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``, or v2's ``cpu.max``), and the command prefix that
starts a process inside it. A Raspberry Pi 4 core does roughly a fifth of the work of one of the
development machine's; a fifth of a core stands in for it (root only: cgroups are the kernel's).

    with cpu_share(0.2) as share:
        subprocess.Popen([*share.wrapper, sys.executable, "-m", "kiosk", ...])
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

V1_ROOT = Path("/sys/fs/cgroup/cpu")
V2_ROOT = Path("/sys/fs/cgroup")
PERIOD_US = 100_000  # the kernel's default CFS period


class NoCpuShare(RuntimeError):
    """This machine (or this user) cannot make a cgroup with a CPU quota."""


@dataclass(frozen=True)
class CpuShare:
    share: float | None  # of one core; None: no limit
    group: Path | None  # the cgroup's folder (None: no limit)

    @property
    def wrapper(self) -> tuple[str, ...]:
        """The command prefix that moves the process into the group, then ``exec``s the
        command: every thread and child it makes stays in the group."""
        if self.group is None:
            return ()
        procs = str(self.group / "cgroup.procs")
        return ("sh", "-c", 'echo $$ > "$0" && exec "$@"', procs)

    def describe(self) -> str:
        if self.share is None:
            return "no limit"
        return f"{self.share:g} of a core"


def _v1_available() -> bool:
    return (V1_ROOT / "cpu.cfs_quota_us").exists()


def _v2_available() -> bool:
    return (V2_ROOT / "cgroup.controllers").exists() and "cpu" in (
        V2_ROOT / "cgroup.controllers"
    ).read_text().split()


def available() -> str | None:
    """Why no share can be made here (None: it can)."""
    if os.geteuid() != 0:
        return "needs root (a cgroup is made and written)"
    if not (_v1_available() or _v2_available()):
        return "no cgroup v1 cpu controller at /sys/fs/cgroup/cpu, nor v2 with cpu"
    return None


@contextlib.contextmanager
def cpu_share(share: float | None, period_us: int = PERIOD_US) -> Iterator[CpuShare]:
    """A cgroup of its own capped at ``share`` of one core, removed at the end (its processes
    must have ended by then). ``None``: no group, no limit."""
    if share is None:
        yield CpuShare(None, None)
        return
    why = available()
    if why is not None:
        raise NoCpuShare(why)
    quota = max(1000, round(share * period_us))  # the kernel's least quota is 1 ms
    name = f"paykiosk-share-{os.getpid()}-{time.monotonic_ns()}"
    if _v1_available():
        group = V1_ROOT / name
        group.mkdir()
        (group / "cpu.cfs_period_us").write_text(str(period_us))
        (group / "cpu.cfs_quota_us").write_text(str(quota))
    else:
        control = V2_ROOT / "cgroup.subtree_control"
        if "cpu" not in control.read_text().split():
            control.write_text("+cpu")
        group = V2_ROOT / name
        group.mkdir()
        (group / "cpu.max").write_text(f"{quota} {period_us}")
    try:
        yield CpuShare(share, group)
    finally:
        _remove(group)


def _remove(group: Path) -> None:
    """rmdir the group once its processes are gone (a reaped process leaves it at once; a few
    tries for one still exiting)."""
    for _ in range(50):
        try:
            group.rmdir()
            return
        except OSError:
            time.sleep(0.1)
    raise NoCpuShare(f"cgroup {group} still busy: {(group / 'cgroup.procs').read_text()!r}")


def throttled_s(share: CpuShare) -> float:
    """How long the group's processes waited for their quota, in seconds (0 without a group)."""
    if share.group is None:
        return 0.0
    stat = dict(
        line.split() for line in (share.group / "cpu.stat").read_text().splitlines() if line
    )
    if "throttled_time" in stat:  # v1: ns
        return int(stat["throttled_time"]) / 1e9
    return int(stat.get("throttled_usec", "0")) / 1e6
