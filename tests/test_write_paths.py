"""Where the real kiosk writes: only under its data dir and to devices, which is all the unit's
``ProtectSystem=strict`` leaves it (``/var/lib/paykiosk`` is both the data dir and the service
user's home, so Kivy's settings and Mesa's and fontconfig's caches land there too).

The touch-UI process runs under ``strace`` (SDL offscreen, the acceptor simulator, the card
emulator, the wallet sandbox) through a member's card touch, and every path it opens for
writing, creates, renames or removes — successfully or not — is checked."""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

import pytest

from tests.support.common import wait_until
from tests.support.rig import make_rig
from tests.support.wallet import ROOT, Sandbox

WRITE_CALLS = (
    "open,openat,creat,mkdir,mkdirat,rename,renameat,renameat2,unlink,unlinkat,"
    "truncate,symlink,symlinkat,link,linkat"
)
WRITE_FLAGS = re.compile(r"O_WRONLY|O_RDWR|O_CREAT|O_TRUNC")
QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
# where a process may write with ProtectSystem=strict and PrivateTmp: devices and the kernel's
# own files (the pty, /dev/null, the GPU; /proc/self), its private /tmp and the data dir
ALLOWED = ("/dev/", "/proc/", "/tmp/")

pytestmark = pytest.mark.timeout(180)


def writes(trace: Path) -> list[str]:
    """Every path the traced processes tried to change, made absolute (cwd: the repository)."""
    found: list[str] = []
    for line in trace.read_text(errors="replace").splitlines():
        call = line.split(maxsplit=1)[-1]
        name = call.split("(", 1)[0]
        if name in ("open", "openat") and not WRITE_FLAGS.search(call):
            continue
        for path in QUOTED.findall(call.split(") =", 1)[0]):
            found.append(os.path.normpath(os.path.join(ROOT, path)))
    return found


def test_the_touch_ui_kiosk_writes_only_under_its_data_dir(
    tmp_path: Path, wallet: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.startswith(("KIVY_", "XDG_")):  # the test run's own Kivy and cache homes
            monkeypatch.delenv(name)
    with make_rig(tmp_path, wallet) as rig:
        data = (tmp_path / "data").resolve()
        trace = tmp_path / "writes.strace"
        _, card = rig.member({"base": 1_000})
        rig.kiosk.start(
            ui=True,
            wrapper=("strace", "-f", "-qq", "-e", f"trace={WRITE_CALLS}", "-o", str(trace)),
            env={
                "HOME": str(data),  # as the unit's user: its home is the data dir
                "SDL_VIDEODRIVER": "offscreen",
                "PYTHONDONTWRITEBYTECODE": "1",  # the venv is read-only on the device
            },
        )
        rig.kiosk.wait_ready(timeout=90)
        wait_until(  # in service: a touch while the kiosk starts up is not a session
            lambda: any(line.endswith("ready: touch your card") for line in rig.kiosk.output),
            60,
            "the kiosk in service",
        )
        rig.touch(card)
        wait_until(
            lambda: any("base ¥1,000" in line for line in rig.kiosk.output),
            30,
            "the account; output:\n" + "\n".join(rig.kiosk.output[-20:]),
        )
        assert rig.kiosk.process is not None
        tracer = rig.kiosk.process.pid
        children = Path(f"/proc/{tracer}/task/{tracer}/children").read_text().split()
        os.kill(int(children[0]), signal.SIGTERM)  # the kiosk itself: strace follows it out
        rig.kiosk.process.wait(30)
        time.sleep(0.1)

    changed = writes(trace)
    assert any(path.startswith(f"{data}/") for path in changed)  # the trace did see writes
    assert any(path.startswith(f"{data}/kivy") for path in changed)  # Kivy's settings
    outside = sorted(
        {p for p in changed if not p.startswith((f"{data}/", *ALLOWED)) and p != str(data)}
    )
    assert outside == [], outside
