"""Which reader serves ``[card] device``: the one function from a configured name to a card
reader backend (as gpiozero maps a pin factory's name to its module)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hardware.felica.paths import check_device_path
from hardware.pcsc.paths import is_pcsc_path, reader_of


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
