"""``[card] device`` for a PC/SC reader: ``pcsc`` (the first reader whose name looks like a
FeliCa reader) or ``pcsc:NAME`` (the first whose name contains NAME, e.g. ``pcsc:RC-S300``).
Pure: checking a configuration loads neither pcscd's client nor pyscard."""

from __future__ import annotations


def is_pcsc_path(device: str) -> bool:
    return device == "pcsc" or device.startswith("pcsc:")


def reader_of(device: str) -> str:
    """The reader-name substring of a ``pcsc`` path ("" = any FeliCa reader); ``ValueError``
    for a path that is not one."""
    if device == "pcsc":
        return ""
    name = device[5:].strip() if device.startswith("pcsc:") else ""
    if not name:
        raise ValueError(f"{device!r} is not a PC/SC reader path: use pcsc or pcsc:NAME")
    return name
