"""FeliCa reader: one nfcpy ``ContactlessFrontend`` polled by a background thread.

The device path is configuration (``usb``, ``usb:054c:06c3``, ``tty:...``, ``udp:HOST:PORT``).
One frontend stays open and ``connect()`` is called in a loop, one card per call (reopening per
read is unreliable, nfcpy#54). A reader that cannot be opened, or whose ``connect()`` gives up
(nfcpy returns False on an I/O error, e.g. the USB reader was unplugged), is reported offline,
closed and reopened with backoff. A reader that completes no poll for ``poll_timeout_s`` (its
thread hangs in the driver) is reported offline by a watchdog thread, and online at its next
poll. Listeners run on the reader thread (the watchdog's report on the watchdog's): an asyncio
engine must hand events over with ``loop.call_soon_threadsafe``.

nfcpy logs full IDms at DEBUG: :meth:`FelicaReader.start` raises the ``nfc`` logger to INFO
unless the application set a level for it.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from hardware.felica import nfcpy  # noqa: F401  # before nfc: its import without a gcc run

# isort: split

import nfc
import nfc.tag
from nfc.tag.tt3 import BlockCode, ServiceCode, Type3Tag

from hardware.card import (
    POLL_TIMEOUT_S,
    CardEvent,
    CardEventKind,
    CardListener,
    ReaderEvents,
    ServiceBlock,
    TouchFilter,
    mask_card_id,
)
from hardware.felica.paths import check_device_path
from hardware.felica.udp import udp_frontend

log = logging.getLogger("paykiosk.card")

FELICA_TARGETS = ("212F", "424F")


@dataclass(frozen=True)
class ReaderConfig:
    device: str = "usb"  # usb, usb:054c:06c3, tty:USB0:pn532, udp:127.0.0.1:PORT (no usb:BUS:DEV)
    targets: tuple[str, ...] = FELICA_TARGETS
    system_code: int = 0xFFFF  # poll one system (multi-system cards have an IDm per system)
    min_interval: float = 1.0  # the same card back within this many seconds is the same touch
    service_block: ServiceBlock | None = None  # read the card id from here instead of the IDm
    poll_interval: float = 0.1  # seconds between polls (a udp poll itself waits up to 1 s)
    reconnect_min: float = 0.5
    reconnect_max: float = 10.0
    poll_timeout_s: float = POLL_TIMEOUT_S  # no poll completed for this long: offline

    def __post_init__(self) -> None:
        check_device_path(self.device)  # the same rule as the kiosk's configuration check
        if not self.targets or not set(self.targets) <= set(FELICA_TARGETS):
            raise ValueError(f"targets {self.targets!r} must be some of {FELICA_TARGETS}")
        if not 0 <= self.system_code <= 0xFFFF:
            raise ValueError(f"system_code 0x{self.system_code:X} is not a 16-bit code")
        if self.min_interval < 0 or self.poll_interval < 0:
            raise ValueError("min_interval and poll_interval must not be negative")
        if not 0 < self.reconnect_min <= self.reconnect_max:
            raise ValueError("need 0 < reconnect_min <= reconnect_max")
        if self.poll_timeout_s <= 0:
            raise ValueError("poll_timeout_s must be positive")


class Frontend(Protocol):
    """What the reader uses of ``nfc.ContactlessFrontend``."""

    def connect(self, **options: Any) -> Any: ...

    def close(self) -> None: ...


FrontendOpener = Callable[[str], Frontend | None]


def open_nfcpy(path: str) -> Frontend | None:
    """Open a real nfcpy frontend; None when no reader is found at ``path``. A udp path gets
    nfcpy's udp driver with monotonic waits (a wall-clock step would stall its polls)."""
    if path.partition(":")[0] == "udp":
        udp: Frontend = udp_frontend(path)
        return udp
    clf = nfc.ContactlessFrontend()
    return clf if clf.open(path) else None


class FelicaReader:
    """A FeliCa reader on nfcpy (a :class:`~hardware.card.CardReader`).

    ``open_frontend`` is the seam to the device: the default opens ``config.device`` with nfcpy.
    """

    def __init__(self, config: ReaderConfig, open_frontend: FrontendOpener = open_nfcpy) -> None:
        self.config = config
        self._open = open_frontend
        self.events = ReaderEvents(log)
        self._filter = TouchFilter(config.min_interval)
        self._stop = threading.Event()
        self._holding = False  # a card is in the field (from on-connect until it leaves)
        self._last_poll = 0.0
        self.polls = 0  # polls started (diagnostics)
        self._thread: threading.Thread | None = None
        self._watchdog: threading.Thread | None = None

    # ---- engine API ------------------------------------------------------------------
    def add_listener(self, listener: CardListener) -> None:
        self.events.listeners.append(listener)

    def start(self) -> None:
        nfc_log = logging.getLogger("nfc")
        if nfc_log.level == logging.NOTSET:
            nfc_log.setLevel(logging.INFO)  # its DEBUG lines carry full IDms
        if self._thread is None:
            self._stop.clear()
            self.events.afresh()
            self._thread = threading.Thread(target=self._run, name="felica", daemon=True)
            self._thread.start()
            timeout = self.config.poll_timeout_s
            self._watchdog = self.events.watch(timeout, self._stop, "felica-watchdog")

    def stop(self, timeout: float = 5.0) -> None:
        """Stop polling and close the reader (returns after the current poll, about 1 s max)."""
        self._stop.set()
        if self._watchdog is not None:
            self._watchdog.join(timeout)
            self._watchdog = None
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.error("card reader thread did not stop within %.1f s", timeout)
            self._thread = None

    @property
    def online(self) -> bool:
        return self.events.online.is_set()

    @property
    def card_present(self) -> bool:
        """A card is on the reader right now."""
        return self._holding

    def wait_online(self, timeout: float) -> bool:
        return self.events.online.wait(timeout)

    # ---- reader thread ---------------------------------------------------------------
    def _run(self) -> None:
        config = self.config
        backoff = config.reconnect_min
        while not self._stop.is_set():
            try:
                clf = self._open(config.device)
                reason = f"no reader at {config.device}"
            except Exception as error:  # nfcpy raises OSError, ValueError, ... on bad devices
                clf, reason = None, f"cannot open {config.device}: {error}"
            if clf is not None:
                opened = time.monotonic()
                self.events.report(True, config.device)
                try:
                    failure = self._serve(clf)
                finally:
                    self._card_gone()
                    with contextlib.suppress(Exception):
                        clf.close()
                if failure is None:
                    break  # stopped
                reason = failure
                if time.monotonic() - opened > config.reconnect_max:
                    backoff = config.reconnect_min  # it had been working: retry soon
            self.events.report(False, reason)
            self._stop.wait(backoff)
            backoff = min(backoff * 2, config.reconnect_max)
        self.events.online.clear()

    def _serve(self, clf: Frontend) -> str | None:
        """Poll until stopped (returns None) or the device fails (returns why)."""
        options = {
            "targets": list(self.config.targets),
            "on-startup": self._on_startup,
            "on-discover": self._on_discover,
            "on-connect": self._on_connect,
            "iterations": 1,
            "beep-on-connect": False,
        }
        while not self._stop.is_set():
            try:
                result = clf.connect(rdwr=options, terminate=self._terminate)
                if isinstance(result, nfc.tag.Tag):
                    self._hold(result)
            except OSError as error:  # as nfcpy's connect() takes one: the device failed
                log.error("card reader: %s", error)
                return "reader stopped answering"
            except Exception as error:
                log.exception("card reader: connect() failed")
                return f"reader error: {error!r}"
            if result is False:  # nfcpy logged the I/O error and gave up on this device
                return "reader stopped answering"
        return None

    def _hold(self, tag: nfc.tag.Tag) -> None:
        """Check that the card is still there until it leaves (or the reader stops); the next
        connect() polls for the next card. nfcpy's own loop for this sleeps with time.sleep,
        which fails with EINVAL under libfaketime (the clock tests) and so looked like a reader
        failure; this one waits on the stop event, which also ends it at stop()."""
        try:
            while not self._terminate() and tag.is_present:
                self._stop.wait(0.1)
        finally:
            self._card_gone()

    def _terminate(self) -> bool:
        """nfcpy's terminate hook, called before each poll and between the presence checks of
        a card on the reader (:meth:`_hold`): a poll round completed, the watchdog's sign of
        life; also paces the polls."""
        self.events.polled()
        if not self._holding:
            wait = self._last_poll + self.config.poll_interval - time.monotonic()
            if wait > 0 and self._stop.wait(wait):
                return True
            self._last_poll = time.monotonic()
            self.polls += 1
        return self._stop.is_set()

    def _on_startup(self, targets: list[Any]) -> list[Any]:
        if self.config.system_code != 0xFFFF:
            request = bytes([0x00]) + self.config.system_code.to_bytes(2, "big") + b"\x01\x00"
            for target in targets:
                target.sensf_req = bytearray(request)
        return targets

    def _on_discover(self, target: Any) -> bool:
        """A poll found a card: a completed poll, reported before the card's touch (a reader
        back from a stall is online before the touch reaches the kiosk)."""
        self.events.polled()
        # as nfcpy's default: an IDm starting 01FE is a peer-to-peer (NFC-DEP) device, no card
        return not (target.sensf_res and bytes(target.sensf_res[1:3]) == b"\x01\xfe")

    def _on_connect(self, tag: nfc.tag.Tag) -> bool:
        self._holding = True
        try:
            if not isinstance(tag, Type3Tag):
                log.debug("ignoring a card that is not FeliCa: %s", type(tag).__name__)
                return False  # held until it leaves, as any card
            idm = bytes(tag.idm).hex().upper()
            if not self._filter.arrived(idm, time.monotonic()):
                log.debug("card %s is back: same touch", mask_card_id(idm))
                return False
            self.events.emit(self._identify(tag, idm))
        except OSError:
            raise  # the reader failed: connect() returns False and the thread reopens it
        except Exception:
            log.exception("card reader: reading the card failed")
        return False  # connect() returns the tag: one card per call, held in _hold()

    def _card_gone(self) -> None:
        if self._holding:
            self._holding = False
            self._filter.left(time.monotonic())

    def _identify(self, tag: Type3Tag, idm: str) -> CardEvent:
        card = {"idm": idm, "pmm": bytes(tag.pmm).hex().upper(), "system_code": tag.sys}
        where = self.config.service_block
        if where is None:
            return CardEvent(CardEventKind.TOUCHED, time.monotonic(), card_id=idm, **card)
        service = ServiceCode(where.service_code >> 6, where.service_code & 0x3F)
        place = f"service {where.service_code:04X} block {where.block}"
        try:
            data = tag.read_without_encryption([service], [BlockCode(where.block)])
        except nfc.tag.TagCommandError as error:
            detail = f"{place}: {error}"
            return CardEvent(CardEventKind.UNREADABLE, time.monotonic(), detail=detail, **card)
        number = where.decode(bytes(data))
        if not number:
            detail = f"{place}: no number in bytes {where.start}:{where.end}"
            return CardEvent(CardEventKind.UNREADABLE, time.monotonic(), detail=detail, **card)
        return CardEvent(CardEventKind.TOUCHED, time.monotonic(), card_id=number, **card)
