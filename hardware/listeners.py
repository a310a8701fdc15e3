"""Handing a device's events to its listeners: one failing listener never stops the others."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TypeVar

E = TypeVar("E")


def notify(listeners: Iterable[Callable[[E], None]], event: E, log: logging.Logger) -> None:
    """Call every listener with ``event`` (on the caller's thread); log listener failures."""
    for listener in list(listeners):
        try:
            listener(event)
        except Exception:
            log.exception("event listener failed on %s", event)
