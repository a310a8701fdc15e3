"""A FeliCa reader through pcscd (PC/SC) with pyscard: the Sony RC-S300, which nfcpy cannot
drive, and other CCID readers libccid knows. A :class:`~hardware.card.CardReader` like the
nfcpy one: the same events, the same touch filter, the same service-block read.

A thread waits on ``SCardGetStatusChange`` for the configured reader. A card that arrives is
connected, checked to be FeliCa by its ATR, asked for its IDm (GET DATA) and, if configured,
for the block holding the member number (SELECT FILE, READ BINARY); then left alone until it
goes. pcscd not running, the reader gone or a card pulled mid-read are reported (offline,
unreadable) and the reader is found again with backoff; a half-read card never becomes a touch.
A wait that does not end (pcscd hangs) is reported offline by the watchdog after
``poll_timeout_s``, and online once pcscd answers again.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from smartcard import scard

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
from hardware.pcsc import apdu

log = logging.getLogger("paykiosk.card")

# Reader names that look like a FeliCa reader when the configuration names none.
FELICA_READER_NAMES = ("RC-S300", "RC-S660", "PaSoRi", "FeliCa", "Virtual PCD")
_GONE = {
    scard.SCARD_E_NO_SERVICE,
    scard.SCARD_E_SERVICE_STOPPED,
    scard.SCARD_E_UNKNOWN_READER,
    scard.SCARD_E_READER_UNAVAILABLE,
    scard.SCARD_E_NO_READERS_AVAILABLE,
    scard.SCARD_E_INVALID_HANDLE,
}


class ReaderGone(Exception):
    """pcscd or the reader went away: report offline and find it again."""


@dataclass(frozen=True)
class PcscConfig:
    reader: str = ""  # a substring of the reader's name; "" = the first FeliCa-looking reader
    min_interval: float = 1.0  # the same card back within this many seconds is the same touch
    service_block: ServiceBlock | None = None  # read the card id from here instead of the IDm
    wait_ms: int = 500  # longest SCardGetStatusChange wait (how fast stop() is noticed)
    reconnect_min: float = 0.5
    reconnect_max: float = 10.0
    poll_timeout_s: float = POLL_TIMEOUT_S  # no status-change wait ended for this long: offline


class PcscReader:
    """A FeliCa card reader on pcscd (a :class:`~hardware.card.CardReader`)."""

    def __init__(self, config: PcscConfig) -> None:
        self.config = config
        self.events = ReaderEvents(log)
        self._filter = TouchFilter(config.min_interval)
        self._stop = threading.Event()
        self._context: int | None = None
        self._thread: threading.Thread | None = None
        self._watchdog: threading.Thread | None = None
        self.reader_name = ""

    # ---- engine API ------------------------------------------------------------------
    def add_listener(self, listener: CardListener) -> None:
        self.events.listeners.append(listener)

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self.events.afresh()
            self._thread = threading.Thread(target=self._run, name="pcsc", daemon=True)
            self._thread.start()
            timeout = self.config.poll_timeout_s
            self._watchdog = self.events.watch(timeout, self._stop, "pcsc-watchdog")

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        context = self._context
        if context is not None:
            scard.SCardCancel(context)  # ends a status-change wait at once
        if self._watchdog is not None:
            self._watchdog.join(timeout)
            self._watchdog = None
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def online(self) -> bool:
        return self.events.online.is_set()

    def wait_online(self, timeout: float) -> bool:
        return self.events.online.wait(timeout)

    # ---- reader thread ---------------------------------------------------------------
    def _run(self) -> None:
        backoff = self.config.reconnect_min
        while not self._stop.is_set():
            result, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
            if result != scard.SCARD_S_SUCCESS:
                self.events.report(False, f"pcscd not running ({_words(result)})")
            else:
                self._context = context
                try:
                    opened = time.monotonic()
                    why = self._serve(context)
                    if time.monotonic() - opened > self.config.reconnect_max:
                        backoff = self.config.reconnect_min
                finally:
                    self._context = None
                    scard.SCardReleaseContext(context)
                    self._filter.left(time.monotonic())
                if why is None:
                    break
                self.events.report(False, why)
            self._stop.wait(backoff)
            backoff = min(backoff * 2, self.config.reconnect_max)
        self.events.online.clear()

    def _serve(self, context: int) -> str | None:
        """Watch the reader until stopped (None) or it or pcscd goes (why)."""
        name = self._find(context)
        if name is None:
            wanted = self.config.reader or "a FeliCa reader"
            return f"no PC/SC reader matching {wanted!r}"
        self.reader_name = name
        self.events.report(True, name)
        state = scard.SCARD_STATE_UNAWARE
        present = False
        while not self._stop.is_set():
            result, changes = scard.SCardGetStatusChange(
                context, self.config.wait_ms, [(name, state)]
            )
            self.events.polled()  # pcscd answered within wait_ms, as it must
            if result in (scard.SCARD_E_TIMEOUT, scard.SCARD_E_CANCELLED):
                continue
            if result != scard.SCARD_S_SUCCESS:
                return f"reader {name!r}: {_words(result)}"
            _, state, atr = changes[0]
            state &= ~scard.SCARD_STATE_CHANGED
            if state & (scard.SCARD_STATE_UNKNOWN | scard.SCARD_STATE_UNAVAILABLE):
                return f"reader {name!r} is gone"
            now_present = bool(state & scard.SCARD_STATE_PRESENT)
            if now_present and not present:
                try:
                    self._card_arrived(context, name, bytes(atr))
                except ReaderGone as gone:
                    return str(gone)
            elif present and not now_present:
                self._filter.left(time.monotonic())
            present = now_present
        return None

    def _find(self, context: int) -> str | None:
        result, names = scard.SCardListReaders(context, [])
        if result != scard.SCARD_S_SUCCESS:
            return None
        wanted = self.config.reader
        for name in names:
            if (wanted and wanted in name) or (
                not wanted and any(known in name for known in FELICA_READER_NAMES)
            ):
                return str(name)
        return None

    def _card_arrived(self, context: int, name: str, atr: bytes) -> None:
        if not apdu.is_felica(atr):
            detail = f"not a FeliCa card (ATR {atr[:14].hex().upper()}…)"
            log.info("card reader: %s", detail)
            self.events.emit(CardEvent(CardEventKind.UNREADABLE, time.monotonic(), detail=detail))
            return
        result, card, protocol = scard.SCardConnect(
            context,
            name,
            scard.SCARD_SHARE_SHARED,
            scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1,
        )
        if result != scard.SCARD_S_SUCCESS:
            if result in _GONE:
                raise ReaderGone(f"reader {name!r}: {_words(result)}")
            detail = f"cannot connect to the card: {_words(result)}"
            self.events.emit(CardEvent(CardEventKind.UNREADABLE, time.monotonic(), detail=detail))
            return
        try:
            event = self._identify(card, protocol)
        finally:
            scard.SCardDisconnect(card, scard.SCARD_LEAVE_CARD)
        if event.kind is CardEventKind.TOUCHED and not self._filter.arrived(
            event.idm, time.monotonic()
        ):
            log.debug("card %s is back: same touch", mask_card_id(event.idm))
            return
        self.events.emit(event)

    def _identify(self, card: int, protocol: int) -> CardEvent:
        """TOUCHED only when everything asked of the card was read; UNREADABLE otherwise."""
        idm = ""
        try:
            idm = self._ask(card, protocol, apdu.GET_IDM, 8, "IDm").hex().upper()
            pmm = self._ask(card, protocol, apdu.GET_PMM, 8, "PMm").hex().upper()
            where = self.config.service_block
            if where is None:
                return CardEvent(
                    CardEventKind.TOUCHED, time.monotonic(), card_id=idm, idm=idm, pmm=pmm
                )
            place = f"service {where.service_code:04X} block {where.block}"
            self._ask(card, protocol, apdu.select_service(where.service_code), 0, place)
            block = self._ask(card, protocol, apdu.read_block(where.block), 16, place)
        except apdu.ApduError as error:
            return CardEvent(CardEventKind.UNREADABLE, time.monotonic(), idm=idm, detail=str(error))
        number = where.decode(block)
        if not number:
            detail = f"{place}: no number in bytes {where.start}:{where.end}"
            return CardEvent(CardEventKind.UNREADABLE, time.monotonic(), idm=idm, detail=detail)
        return CardEvent(CardEventKind.TOUCHED, time.monotonic(), card_id=number, idm=idm, pmm=pmm)

    def _ask(self, card: int, protocol: int, command: bytes, length: int, what: str) -> bytes:
        result, answer = scard.SCardTransmit(card, protocol, list(command))
        if result != scard.SCARD_S_SUCCESS:  # the card left mid-read, or the reader did
            raise apdu.ApduError(f"{what}: {_words(result)}")
        return apdu.data_of(bytes(answer), length, what)


def _words(result: int) -> str:
    return str(scard.SCardGetErrorMessage(result)).strip().rstrip(".")
