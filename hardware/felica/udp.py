"""nfcpy's udp driver (the test and demo reader, ``udp:HOST:PORT``) with its waits on the
monotonic clock.

nfcpy 1.0.4's ``nfc.clf.udp.Device._recv_data`` waits for an answer until a ``time.time()``
deadline, re-arming ``select`` with what is left of it: a wall clock stepped back during a poll
(NTP correcting a clock that ran fast) adds the whole step to that poll, and the reader sees no
card for exactly as long as the clock went back. The wait here is the same but measured on
``time.monotonic()``; the rest of the driver is nfcpy's.
"""

from __future__ import annotations

import binascii
import select
import time
from typing import Any

from hardware.felica import nfcpy  # noqa: F401  # before nfc: its import without a gcc run

# isort: split

import nfc.clf
import nfc.clf.udp

DEFAULT_HOST, DEFAULT_PORT = "localhost", 54321  # nfcpy's, for ``udp`` and ``udp:HOST``


class MonotonicUdp(nfc.clf.udp.Device):  # type: ignore[misc]  # nfcpy is untyped
    """nfcpy's udp device; every wait for a datagram is bounded by the monotonic clock."""

    def _recv_data(self, timeout: float | None, *brty_list: str) -> Any:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            wait = None if deadline is None else deadline - time.monotonic()
            if wait is not None and wait <= 0:
                raise nfc.clf.TimeoutError("no data received")
            if not select.select([self.socket], [], [], wait)[0]:
                continue  # the deadline is checked again above
            data, addr = self.socket.recvfrom(1024)  # not logged: a poll answer holds the IDm
            if data.startswith(b"RFOFF"):
                raise nfc.clf.BrokenLinkError("RFOFF")
            try:
                brty_bytes, payload = data.split()
                brty, frame = brty_bytes.decode("ascii"), bytearray(binascii.unhexlify(payload))
            except (ValueError, binascii.Error):
                raise nfc.clf.TransmissionError("no data") from None
            self.rcvd_data += len(frame)
            if brty in brty_list:
                return brty, frame, addr


def udp_frontend(path: str) -> nfc.ContactlessFrontend:
    """An nfcpy frontend on ``udp[:HOST[:PORT]]`` (nfcpy's syntax and defaults) driven by
    :class:`MonotonicUdp`. Opening a udp path cannot fail: there is nothing to find."""
    kind, _, rest = path.partition(":")
    if kind != "udp":
        raise ValueError(f"{path!r} is not a udp path")
    host, _, port = rest.partition(":")
    device = MonotonicUdp(host or DEFAULT_HOST, int(port) if port else DEFAULT_PORT)
    device._vendor_name, device._device_name, device._chipset_name = "Linux", "IP-Stack", "UDP"
    device._path = f"udp:{host or DEFAULT_HOST}:{port or DEFAULT_PORT}"
    clf = nfc.ContactlessFrontend()
    clf.device = device
    return clf
