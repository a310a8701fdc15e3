"""pcscd for the PC/SC tests: started by the test run itself (as CI has no systemd to start it
on demand), with vsmartcard's virtual reader ``Virtual PCD 00 00`` for the virtual cards."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from smartcard import scard

from tests.support import stop_process

PCSCD = "/usr/sbin/pcscd"
VIRTUAL_READER = "Virtual PCD 00 00"


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


class Pcscd:
    """Our own pcscd in the foreground; :meth:`stop` kills it, :meth:`start` starts it again."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.own = True  # False: the machine's pcscd, which the tests must not stop

    def start(self, timeout: float = 10.0) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [PCSCD, "--foreground", "--debug"], stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = readers()
            if found and VIRTUAL_READER in found:
                return
            time.sleep(0.1)
        raise AssertionError(f"pcscd did not show {VIRTUAL_READER}: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None
