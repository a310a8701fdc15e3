"""A virtual FeliCa card for pcscd's virtual reader (vsmartcard's ``vpcd``), for tests and the
demo: touch = connect to the reader's port, remove = close.

vpcd (Debian's ``vsmartcard-vpcd``) gives pcscd the readers ``Virtual PCD 00 00`` and
``Virtual PCD 00 01``, listening on 127.0.0.1:35963 and 35964. Every message is a 2-byte
big-endian length and a payload; a 1-byte payload is a control code (0 power off, 1 power on,
2 reset: no answer; 4: answer the ATR); a longer one is a command APDU, answered with the
response APDU. The card answers GET DATA (IDm, PMm), SELECT FILE and READ BINARY from its
description; a Type A card (``mifare``) has another ATR and a 4-byte UID.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from dataclasses import dataclass, field

from hardware.pcsc import apdu

VPCD_PORT = 35963  # "Virtual PCD 00 00"
NOT_FOUND = b"\x6a\x82"
WRONG_PARAMETERS = b"\x6b\x00"
NOT_SUPPORTED = b"\x6d\x00"


@dataclass(frozen=True)
class VirtualFelica:
    """A card: its IDm and PMm, and blocks per service code (16 bytes each)."""

    idm: str  # 16 hex characters
    pmm: str = "0120220427674EFF"
    blocks: dict[int, list[bytes]] = field(default_factory=dict)
    mifare: bool = False  # a Type A card instead (another ATR, a 4-byte UID)
    pull_at_read: bool = False  # the member pulls the card away at the block's READ BINARY

    @property
    def atr(self) -> bytes:
        return apdu.MIFARE_1K_ATR if self.mifare else apdu.FELICA_ATR

    def answer(self, command: bytes, selected: list[int]) -> bytes | None:
        """The response APDU (None: the card is pulled away instead of answering)."""
        if command == apdu.GET_IDM:
            uid = bytes.fromhex(self.idm)[:4] if self.mifare else bytes.fromhex(self.idm)
            return uid + apdu.OK
        if command == apdu.GET_PMM and not self.mifare:
            return bytes.fromhex(self.pmm) + apdu.OK
        if command[:5] == bytes.fromhex("FFA4000102") and len(command) == 7:
            service = int.from_bytes(command[5:7], "little")
            if service not in self.blocks:
                return NOT_FOUND
            selected[:] = [service]
            return apdu.OK
        if command[:2] == b"\xff\xb0" and len(command) == 5:
            if self.pull_at_read:
                return None
            blocks = self.blocks.get(selected[0]) if selected else None
            if blocks is None or command[3] >= len(blocks):
                return WRONG_PARAMETERS
            return blocks[command[3]] + apdu.OK
        return NOT_SUPPORTED


class VirtualCardOnReader:
    """One touch: the card connects to vpcd and answers until :meth:`remove`."""

    def __init__(self, card: VirtualFelica, port: int = VPCD_PORT, host: str = "127.0.0.1") -> None:
        self.card = card
        self.apdus = 0  # command APDUs answered (diagnostics)
        self.connected_at = time.monotonic()  # the touch
        self.first_apdu_at: float | None = None  # the reader's first command (after pcscd saw it)
        self._socket = socket.create_connection((host, port), timeout=5)
        self._socket.settimeout(None)
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="vpcd-card", daemon=True)
        self._thread.start()

    def remove(self) -> None:
        if not self._closed.is_set():
            self._closed.set()
            with contextlib.suppress(OSError):
                self._socket.shutdown(socket.SHUT_RDWR)
            self._socket.close()
        self._thread.join(5)

    @property
    def removed(self) -> bool:
        return self._closed.is_set()

    def _serve(self) -> None:
        selected: list[int] = []
        try:
            while not self._closed.is_set():
                message = self._receive()
                if message is None:
                    break
                if len(message) == 1:
                    if message[0] == 4:
                        self._send(self.card.atr)
                    continue  # power off / on / reset: no answer
                if self.first_apdu_at is None:
                    self.first_apdu_at = time.monotonic()
                answer = self.card.answer(message, selected)
                if answer is None:
                    break  # pulled away mid-read
                self.apdus += 1
                self._send(answer)
        except OSError:
            pass
        finally:
            if not self._closed.is_set():
                self._closed.set()
                self._socket.close()

    def _receive(self) -> bytes | None:
        # vpcd writes the length and the APDU separately: answer at once, not after the
        # peer's delayed ACK (~40 ms per APDU otherwise)
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        head = self._exactly(2)
        if head is None:
            return None
        (length,) = struct.unpack(">H", head)
        return self._exactly(length)

    def _exactly(self, count: int) -> bytes | None:
        data = b""
        while len(data) < count:
            self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            chunk = self._socket.recv(count - len(data))
            if not chunk:
                return None
            data += chunk
        return data

    def _send(self, payload: bytes) -> None:
        self._socket.sendall(struct.pack(">H", len(payload)) + payload)
