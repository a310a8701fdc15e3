"""The staff menu's time-out: it closes itself after ``seconds`` untouched."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class MenuTimer:
    """Started again by every touch; calls ``expired`` on the loop when time is up."""

    def __init__(self, seconds: float, expired: Callable[[], None]) -> None:
        self.seconds = seconds
        self._expired = expired
        self._handle: asyncio.TimerHandle | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    def restart(self) -> float:
        """Start counting again; the monotonic time it will expire at."""
        self.cancel()
        if self.loop is not None:
            self._handle = self.loop.call_later(self.seconds, self._fire)
        return time.monotonic() + self.seconds

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _fire(self) -> None:
        self._handle = None
        self._expired()
