"""Which nfcpy device paths a kiosk's card reader may use: one rule for the reader and for the
kiosk's configuration check. Pure: no nfcpy import (checking a config loads no driver).

Accepted (nfcpy's own syntax, see ``nfc.ContactlessFrontend.open``):
``usb`` (the first reader found), ``usb:VVVV`` or ``usb:VVVV:PPPP`` (vendor and product, four
hex digits each, as ``lsusb`` shows them, e.g. ``usb:054c:06c3`` for a Sony RC-S380),
``tty:PORT[:DRIVER]`` (``/dev/ttyPORT``, e.g. ``tty:USB0:pn532``), ``com:PORT[:DRIVER]``,
``udp``, ``udp:HOST``, ``udp:HOST:PORT`` (nfcpy's udp test driver).

Refused: ``usb:BUS[:DEV]`` (three-digit decimals): the device number changes every time the
reader is plugged in again, so the kiosk would lose its reader after a replug.
"""

from __future__ import annotations

import re

_USB_VENDOR_PRODUCT = re.compile(r"usb(:[0-9a-fA-F]{4}){0,2}")  # nfcpy tries this one first
_USB_BUS_DEVICE = re.compile(r"usb(:[0-9]{1,3}){1,2}")
_SERIAL = re.compile(r"(tty|com):[a-zA-Z0-9-]+(:[a-zA-Z0-9]+)?")  # nfcpy's tty/com pattern
_UDP = re.compile(r"udp(:(?P<host>[a-zA-Z0-9.-]*)(:(?P<port>[0-9]{1,5}))?)?")

PATH_FORMS = "usb, usb:VVVV:PPPP, tty:PORT[:DRIVER] or udp:HOST:PORT"


def check_device_path(path: str) -> str:
    """``path`` itself if a kiosk's reader may be opened there; else ``ValueError`` saying why
    (one line, naming the path)."""
    if _USB_VENDOR_PRODUCT.fullmatch(path) or _SERIAL.fullmatch(path):
        return path
    if _USB_BUS_DEVICE.fullmatch(path):
        raise ValueError(
            f"{path!r} is a USB bus and device number, which changes whenever the reader is "
            "plugged in again; use usb:VVVV:PPPP (vendor:product from lsusb, e.g. usb:054c:06c3)"
        )
    udp = _UDP.fullmatch(path)
    if udp is not None:
        port = udp.group("port")
        if port is not None and not 1 <= int(port) <= 65535:
            raise ValueError(f"{path!r}: the udp port must be between 1 and 65535")
        return path
    raise ValueError(f"{path!r} is not an nfcpy reader path: use {PATH_FORMS}")
