"""Helpers for the FeliCa reader tests: a running reader with an event log, a Type A card."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import nfc

from hardware.felica.reader import FelicaReader, FrontendOpener, ReaderConfig, open_nfcpy
from tests.support.common import EventLog

FAST_RECONNECT = {"reconnect_min": 0.05, "reconnect_max": 0.2}


def idm(n: int) -> str:
    """A distinct IDm per test card (16 upper-case hex chars)."""
    return f"0123{n:010X}EF"


@contextmanager
def running_reader(
    config: ReaderConfig, open_frontend: FrontendOpener = open_nfcpy
) -> Iterator[tuple[FelicaReader, EventLog]]:
    """A started reader and the log of its events; on exit it must stop cleanly."""
    reader = FelicaReader(config, open_frontend)
    events = EventLog()
    reader.add_listener(events)
    reader.start()
    try:
        yield reader, events
    finally:
        reader.stop(timeout=10)
        assert not [t for t in threading.enumerate() if t.name == "felica"], "thread left over"


@contextmanager
def type_a_card(port: int) -> Iterator[None]:
    """A Type A (ISO 14443-A, not FeliCa) card listening on ``udp:…:port``."""
    stop = threading.Event()

    def on_startup(target: Any) -> Any:
        target.brty = "106A"
        target.sens_res = bytearray.fromhex("4400")
        target.sdd_res = bytearray.fromhex("04A1B2C3D4E5F6")
        target.sel_res = bytearray.fromhex("00")
        return target

    def run() -> None:
        with nfc.ContactlessFrontend(f"udp:127.0.0.1:{port}") as clf:
            while not stop.is_set():
                clf.connect(card={"on-startup": on_startup}, terminate=stop.is_set)

    thread = threading.Thread(target=run, name="type-a-card", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(5)
