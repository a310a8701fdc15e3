"""Why the kiosk is out of service: one entry per source (the acceptor, the cash-box door, the
service key, the journal, the disk…), the latest one that still holds shown to the member."""

from __future__ import annotations

from kiosk.core.events import AcceptorFault, AcceptorRecovered

CARD_READER = "card reader"  # offline, or no poll completed in [card] poll_timeout_s


class Faults:
    """The kiosk is out of service while any source is at fault."""

    def __init__(self, **initial: str) -> None:
        self._by_source: dict[str, str] = dict(initial)  # source → what is wrong, oldest first

    def __contains__(self, source: str) -> bool:
        return source in self._by_source

    def __bool__(self) -> bool:
        return bool(self._by_source)

    def snapshot(self) -> dict[str, str]:
        """A copy, safe to take from another thread (one C-level copy under the GIL)."""
        return self._by_source.copy()

    def latest(self) -> str | None:
        """The text of the latest fault that still holds (None: in service)."""
        return self._text(next(reversed(self._by_source))) if self._by_source else None

    def set(self, source: str, detail: str) -> AcceptorFault:
        self._by_source.pop(source, None)  # the newest goes last
        self._by_source[source] = detail
        return AcceptorFault(self._text(source))

    def clear(self, source: str) -> AcceptorFault | AcceptorRecovered | None:
        """None if ``source`` was not at fault; else what still holds, or recovered."""
        if self._by_source.pop(source, None) is None:
            return None
        if self._by_source:
            return AcceptorFault(self._text(next(reversed(self._by_source))))
        return AcceptorRecovered()

    def _text(self, source: str) -> str:
        return f"{source}: {self._by_source[source]}"  # always named: staff read it too
