"""pcscd for the PC/SC tests: started by the test run itself (as CI has no systemd to start it
on demand), with vsmartcard's virtual reader ``Virtual PCD 00 00`` for the virtual cards.

Each test process has a pcscd of its own, so test processes side by side (pytest-xdist, or a
second checkout's run on the same machine) never share one: its socket is this process's
``PCSCLITE_CSOCK_NAME`` (tests/conftest.py sets it before libpcsclite's first call, which reads it
once; kiosk processes the tests start inherit it), and its virtual reader listens on ports of its
own. pcscd 1.9 always makes its socket and pid file in /run/pcscd: it runs in a mount namespace
of its own where a private directory is mounted there (``unshare``, as root, like pcscd itself).
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

from smartcard import scard

from hardware.pcsc.sim import VPCD_PORT
from tests.support.common import stop_process

PCSCD = "/usr/sbin/pcscd"
VIRTUAL_READER = "Virtual PCD 00 00"
VPCD_DRIVER = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so"
# In pcscd's own mount namespace: a private directory over /run/pcscd, then pcscd itself.
IN_NAMESPACE = (
    'mkdir -p /run/pcscd && mount --bind "$1" /run/pcscd && exec "$2" --foreground --debug'
    ' --config "$3"'
)


def socket_path() -> Path:
    """The pcscd socket this process's libpcsclite (and the kiosks it starts) talk to."""
    return Path(os.environ.get("PCSCLITE_CSOCK_NAME", "/run/pcscd/pcscd.comm"))


def readers() -> list[str] | None:
    """The readers pcscd has now; None if pcscd does not answer."""
    result, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if result != scard.SCARD_S_SUCCESS:
        return None
    try:
        result, names = scard.SCardListReaders(context, [])
        return [str(n) for n in names] if result == scard.SCARD_S_SUCCESS else []
    finally:
        scard.SCardReleaseContext(context)


def two_free_tcp_ports() -> int:
    """A port ``p`` with ``p`` and ``p + 1`` free now: vpcd's two readers listen on both."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port: int = probe.getsockname()[1]
        if port >= 65535:
            continue
        with socket.socket() as second:
            try:
                second.bind(("0.0.0.0", port + 1))
            except OSError:
                continue
        return port


def card_port() -> int:
    """Where a virtual card connects to this process's ``Virtual PCD 00 00`` (the ``pcscd``
    fixture running)."""
    return _port


_port = VPCD_PORT  # until this process's pcscd chose its own


class Pcscd:
    """Our own pcscd in the foreground; :meth:`stop` kills it, :meth:`start` starts it again
    (on the same socket and ports)."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.port = VPCD_PORT  # where a virtual card connects for "Virtual PCD 00 00"

    def start(self, timeout: float = 10.0) -> None:
        global _port
        if self.port == VPCD_PORT:
            self.port = two_free_tcp_ports()
        _port = self.port
        config = self.log.parent / "reader.conf.d"
        config.mkdir(exist_ok=True)
        (config / "vpcd").write_text(
            f'FRIENDLYNAME "Virtual PCD"\nDEVICENAME /dev/null:0x{self.port:X}\n'
            f"LIBPATH {VPCD_DRIVER}\nCHANNELID 0x{self.port:X}\n"
        )
        run_dir = socket_path().parent
        run_dir.mkdir(parents=True, exist_ok=True)
        command = ["unshare", "--mount", "--propagation", "private", "sh", "-c", IN_NAMESPACE]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [*command, "sh", str(run_dir), PCSCD, str(config)],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = readers()
            if found and VIRTUAL_READER in found:
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"pcscd did not show {VIRTUAL_READER}: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None
