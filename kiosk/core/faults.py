"""Why the kiosk is out of service: a typed :class:`Fault` per source (the acceptor, the cash-box
door, the service key, the journal, the disk…), the latest one that still holds shown to the
member. Screens ``match`` on :attr:`Fault.source`; staff, the console and the logs read
``str(fault)``, the one text of a fault."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hardware.acceptor import EventKind


class FaultSource(StrEnum):
    """What holds the kiosk out of service. The values are what staff read (the journal's
    ``fault`` events, ``paykiosk staff status``, the metrics' ``source`` label): keep them."""

    ACCEPTOR = "acceptor"  # the bill acceptor: starting, or a fault it reports (see Fault.kind)
    CARD_READER = "card reader"  # offline, or no poll completed in [card] poll_timeout_s
    DOOR = "door"  # the cash-box door is open (GPIO)
    SERVICE_KEY = "service"  # staff turned the service key (GPIO)
    STAFF_MENU = "staff"  # the staff menu is open on the screen
    STAFF_SWITCH = "staff switch"  # staff took the kiosk out of service in the staff menu
    JOURNAL = "journal"  # a journal write failed, or its file was lost
    JOURNAL_CHECK = "journal check"  # SQLite found the journal damaged
    DISK = "disk"  # below the free-space reserve
    CLOCK = "clock"  # the wallet refuses this machine's clock
    STOPPING = "kiosk"  # the kiosk itself is stopping (a restart or a shutdown)
    SCREEN = "screen"  # the touch screen is starting: nothing on the display yet


@dataclass(frozen=True)
class Fault:
    """One source at fault. ``detail`` is for staff, in the device's words; ``kind`` is the
    acceptor's event (``ACCEPTOR`` only; None there: not online yet, i.e. starting)."""

    source: FaultSource
    detail: str
    kind: EventKind | None = None

    def __post_init__(self) -> None:
        if self.kind is not None and self.source is not FaultSource.ACCEPTOR:
            raise ValueError(f"an acceptor event kind on a {self.source} fault")

    def __str__(self) -> str:
        return f"{self.source}: {self.detail}"  # always named: staff read it too


STARTING = Fault(FaultSource.ACCEPTOR, "starting")  # until the acceptor first reports online


def cleared_text(source: FaultSource) -> str:
    """The journal's line when ``source`` is fine again (``paykiosk staff status`` reads it)."""
    return f"{source}: cleared"


class Faults:
    """The kiosk is out of service while any source is at fault."""

    def __init__(self, *initial: Fault) -> None:
        # source → its fault, oldest first
        self._by_source: dict[FaultSource, Fault] = {f.source: f for f in initial}

    def __contains__(self, source: FaultSource) -> bool:
        return source in self._by_source

    def __bool__(self) -> bool:
        return bool(self._by_source)

    def snapshot(self) -> dict[FaultSource, Fault]:
        """A copy, safe to take from another thread (one C-level copy under the GIL)."""
        return self._by_source.copy()

    def latest(self) -> Fault | None:
        """The latest fault that still holds (None: in service)."""
        return next(reversed(self._by_source.values()), None)

    def set(self, fault: Fault) -> None:
        self._by_source.pop(fault.source, None)  # the newest goes last
        self._by_source[fault.source] = fault

    def clear(self, source: FaultSource) -> bool:
        """False if ``source`` was not at fault."""
        return self._by_source.pop(source, None) is not None
