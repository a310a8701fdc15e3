"""The kiosk's data directory, made at start (``[kiosk] data_dir``)."""

from __future__ import annotations

import os
from pathlib import Path

from kiosk.config import ConfigError


def prepare(data_dir: Path) -> None:
    """Make the data dir (and its parents) if needed: ``ConfigError`` naming ``[kiosk]
    data_dir`` when it is not a directory or this user cannot make or write it."""
    name = "[kiosk] data_dir"
    if data_dir.exists() and not data_dir.is_dir():
        raise ConfigError(f"{name}: {data_dir} is not a directory")
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(f"{name}: cannot create {data_dir}: {error.strerror}") from None
    if not os.access(data_dir, os.W_OK | os.X_OK):
        raise ConfigError(f"{name}: {data_dir} is not writable by this user (uid {os.getuid()})")
