"""The card reader as the engine sees it: touch and reader-status events, and the touch filter.

Protocol-neutral: the nfcpy FeliCa reader and the PC/SC reader implement it. Card ids
are personal data: log them only through :func:`mask_card_id`.
"""

from __future__ import annotations

import logging
import string
import threading
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from hardware.felica.paths import check_device_path
from hardware.listeners import notify
from hardware.pcsc.paths import is_pcsc_path, reader_of

# A reader that has completed no poll for this long is offline (both backends, ``[card]
# poll_timeout_s``). A udp poll without a card waits 1 s per target: 2 s a round by default.
POLL_TIMEOUT_S = 5.0


class CardEventKind(StrEnum):
    TOUCHED = "touched"  # card_id: the id to look the member up with (one event per touch)
    UNREADABLE = "unreadable"  # a FeliCa card whose configured id block could not be read
    ONLINE = "online"  # the reader is open and polling (after start-up or after being offline)
    OFFLINE = "offline"  # detail: why; the reader is reopened with backoff


class Backend(StrEnum):
    """Which reader serves ``[card] device``."""

    NFCPY = "nfcpy"  # hardware.felica.reader: an nfcpy path (usb…, tty:…, udp:…)
    PCSC = "pcsc"  # hardware.pcsc.reader: through pcscd


@dataclass(frozen=True)
class CardBackend:
    kind: Backend
    where: str  # NFCPY: the nfcpy path; PCSC: part of the reader's name ("" = any FeliCa one)


def card_backend(device: str) -> CardBackend:
    """The one rule from ``[card] device`` to a reader: ``pcsc`` or ``pcsc:NAME`` is PC/SC,
    anything else an nfcpy path. ``ValueError`` (one line, naming the device) if neither
    backend can open it: the configuration check and the kiosk's start use this alike."""
    if is_pcsc_path(device):
        return CardBackend(Backend.PCSC, reader_of(device))
    return CardBackend(Backend.NFCPY, check_device_path(device))


def mask_card_id(card_id: str) -> str:
    """A card id fit for logs: ``0123456789ABCDEF`` → ``0123…EF`` (never more than 6 chars)."""
    if not card_id:
        return ""
    head, tail = min(4, len(card_id) // 4), min(2, len(card_id) // 8)
    return card_id[:head] + "…" + (card_id[-tail:] if tail else "")


@dataclass(frozen=True, repr=False)
class CardEvent:
    kind: CardEventKind
    at: float  # time.monotonic() when the event was made
    card_id: str = ""  # TOUCHED: IDm as 16 upper-case hex chars, or the number read from a block
    idm: str = ""  # TOUCHED/UNREADABLE: the IDm (16 upper-case hex chars)
    pmm: str = ""
    system_code: int | None = None
    detail: str = ""

    def __str__(self) -> str:
        parts = [self.kind.value]
        if self.card_id:
            parts.append(f"card={mask_card_id(self.card_id)}")
        if self.idm and self.idm != self.card_id:
            parts.append(f"idm={mask_card_id(self.idm)}")
        if self.system_code is not None:
            parts.append(f"sys={self.system_code:04X}")
        if self.detail:
            parts.append(self.detail)
        return " ".join(parts)

    __repr__ = __str__  # a stray %r in a log line must not leak the id either


class CardListener(Protocol):
    def __call__(self, event: CardEvent) -> None: ...


class CardReader(Protocol):
    """Engine-facing surface of a card reader driver. Listeners run on the reader's thread:
    they must return quickly; an asyncio engine hands events over with
    ``loop.call_soon_threadsafe``."""

    def add_listener(self, listener: CardListener) -> None: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...

    @property
    def online(self) -> bool: ...


class TouchFilter:
    """One touch = one event (pure; time is passed in).

    The reader reports each arrival of a card in its field; a card that stays does not arrive
    again. A card that left and comes back within ``min_interval`` seconds counts as the same
    touch (a card at the edge of the field flickers in and out); later, it is a new touch.
    """

    def __init__(self, min_interval: float) -> None:
        self.min_interval = min_interval
        self._last_key: str | None = None
        self._left_at: float | None = None

    def arrived(self, key: str, now: float) -> bool:
        """A card (``key``: its IDm) entered the field. True if this is a new touch."""
        bounce = (
            key == self._last_key
            and self._left_at is not None
            and now - self._left_at < self.min_interval
        )
        self._last_key, self._left_at = key, None
        return not bounce

    def left(self, now: float) -> None:
        """The card in the field went away (or the reader lost it)."""
        if self._last_key is not None and self._left_at is None:
            self._left_at = now


@dataclass(frozen=True)
class ServiceBlock:
    """Where a member/student number sits on the card: bytes ``start:end`` of one block of a
    service readable without a key. ``encoding`` "ascii" keeps the printable text (trimmed),
    "hex" gives the bytes as upper-case hex."""

    service_code: int  # 16-bit FeliCa service code, e.g. 0x1A8B
    block: int = 0
    start: int = 0
    end: int = 16
    encoding: str = "ascii"

    def __post_init__(self) -> None:
        if not 0 <= self.service_code <= 0xFFFF:
            raise ValueError(f"service_code 0x{self.service_code:X} is not a 16-bit code")
        if not self.service_code & 1:
            raise ValueError(
                f"service_code 0x{self.service_code:04X} needs a key (attribute bit 0 is 0); "
                "only services readable without a key can be used"
            )
        if not 0 <= self.block <= 0xFFFF:
            raise ValueError(f"block {self.block} is out of range")
        if not 0 <= self.start < self.end <= 16:
            raise ValueError(f"byte range {self.start}:{self.end} is not inside a 16-byte block")
        if self.encoding not in ("ascii", "hex"):
            raise ValueError(f"encoding {self.encoding!r} is not 'ascii' or 'hex'")

    def decode(self, block: bytes) -> str:
        """The number in a block read from the card ("" when there is none)."""
        raw = block[self.start : self.end]
        if self.encoding == "hex":
            return raw.hex().upper()
        text = raw.decode("ascii", errors="replace").strip(" \0")
        return text if text and all(c in string.printable and c.strip() for c in text) else ""


class ReaderEvents:
    """A reader's listeners and its online state, shared by the reader backends: each change of
    state is reported once (``online``/``offline`` with why), card events are logged masked.

    It also watches the polling: a reader that has not completed a poll for a while is offline
    like one that failed (its thread hangs in a driver call, a udp poll waits on a stepped wall
    clock…), and online again at its next poll. The backend calls :meth:`polled` after each
    poll round and runs :meth:`watch` beside its polling thread."""

    def __init__(self, log: logging.Logger) -> None:
        self.log = log
        self.listeners: list[CardListener] = []
        self.online = threading.Event()
        self._status: bool | None = None  # last reported: None before the first report
        self._lock = threading.Lock()  # the polling thread and the watchdog both report
        self._polled_at = time.monotonic()

    def afresh(self) -> None:
        """The next report is made whatever was reported before (a restarted reader); the
        first poll is due within the poll timeout from now."""
        with self._lock:
            self._status = None
            self._polled_at = time.monotonic()

    def polled(self) -> None:
        """A poll round completed (a card found or none): online again if the watchdog had
        reported the reader offline."""
        with self._lock:
            self._polled_at = time.monotonic()
            if self._status is False:
                self._report(True, "polling again")

    def check_polling(self, timeout_s: float) -> None:
        """Offline if the reader, open or still opening, completed no poll for ``timeout_s``."""
        with self._lock:
            silent = time.monotonic() - self._polled_at
            if self._status is not False and silent >= timeout_s:
                self._report(False, f"no poll for {silent:.0f} s")

    def watch(self, timeout_s: float, stop: threading.Event, name: str) -> threading.Thread:
        """Start the watchdog thread: :meth:`check_polling` a few times per ``timeout_s``
        until ``stop`` is set."""

        def run() -> None:
            while not stop.wait(min(0.5, timeout_s / 4)):
                self.check_polling(timeout_s)

        thread = threading.Thread(target=run, name=name, daemon=True)
        thread.start()
        return thread

    def report(self, online: bool, detail: str) -> None:
        with self._lock:
            self._report(online, detail)

    def _report(self, online: bool, detail: str) -> None:
        if online:
            self._polled_at = time.monotonic()  # just opened: the first poll is due from now
            self.online.set()
        else:
            self.online.clear()
        if online is self._status:
            return
        self._status = online
        if online:
            self.log.info("card reader online: %s", detail)
        else:
            self.log.warning("card reader offline: %s", detail)
        kind = CardEventKind.ONLINE if online else CardEventKind.OFFLINE
        self.emit(CardEvent(kind, time.monotonic(), detail=detail))

    def emit(self, event: CardEvent) -> None:
        if event.kind in (CardEventKind.TOUCHED, CardEventKind.UNREADABLE):
            self.log.info("card event: %s", event)
        notify(self.listeners, event, self.log)
