"""The bill acceptor as the engine sees it: events, note records and the ledger hooks.

Protocol-neutral: the ID-003 driver implements it; another acceptor protocol could too.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class EventKind(StrEnum):
    ONLINE = "online"  # initialised and talking (after start-up or after being offline)
    OFFLINE = "offline"  # stopped answering or the port went away; reconnecting
    ACCEPTING = "accepting"  # a note is being drawn in
    ESCROW = "escrow"  # value: the note waiting for a decision
    STACKED = "stacked"  # value: the note counted (ledger written before the ACK)
    RETURNED = "returned"  # value: the escrowed note went back to the member
    REJECTED = "rejected"  # detail: reject reason; the note went back
    JAM = "jam"  # detail: acceptor | stacker; value: note in flight, if any
    STACKER_FULL = "stacker_full"
    STACKER_OPEN = "stacker_open"
    CHEATED = "cheated"
    FAILURE = "failure"  # code: failure code; detail: text
    LEDGER_FAILED = "ledger_failed"  # value: the note; detail: why the ledger could not record
    PAUSED = "paused"  # a second note was pushed in while stacking
    CLEARED = "cleared"  # left an error state, back to normal
    POWER_UP = "power_up"  # detail: how a power-up with a note inside was resolved
    UNCREDITED_NOTE = "uncredited_note"  # VEND VALID with no record: value unknown, staff alarm
    UNRESOLVED_NOTE = "unresolved_note"  # value: note whose fate is unknown (jam/power loss)
    RESETTING = "resetting"  # a reset was asked for: not taking notes until ONLINE again


@dataclass(frozen=True)
class AcceptorEvent:
    kind: EventKind
    at: float  # time.monotonic()
    value: int | None = None
    code: int | None = None
    detail: str = ""
    note: int | None = None  # the ledger's note id (UNRESOLVED_NOTE: its case is opened with it)

    def __str__(self) -> str:
        parts = [self.kind.value]
        if self.value is not None:
            parts.append(str(self.value))
        if self.code is not None:
            parts.append(f"0x{self.code:02X}")
        if self.detail:
            parts.append(self.detail)
        return " ".join(parts)


class NoteState(StrEnum):
    STACK_SENT = "stack_sent"  # decided to stack, STACK command about to go out
    STACKED = "stacked"  # VEND VALID seen and recorded: counts as money in
    RETURNED = "returned"  # went back to the member
    REJECTED = "rejected"  # refused by the acceptor after the decision
    UNRESOLVED = "unresolved"  # fate unknown (jam cleared or power lost before VEND VALID)

    @property
    def is_open(self) -> bool:
        return self is NoteState.STACK_SENT


@dataclass(frozen=True)
class NoteRecord:
    id: int
    escrow_code: int
    value: int
    state: NoteState


class NoteLedger(Protocol):
    """What the driver needs from the engine's durable store. Called on the driver's thread."""

    def escrow(self, escrow_code: int, value: int) -> NoteRecord | None:
        """Decide on an escrowed note. To stack it, durably record it (state STACK_SENT) and
        return the record; return None to hand it back to the member."""

    def stacked(self, note_id: int) -> None:
        """Durably mark the note as money in. Must return before the ACK goes out; raise if
        the write failed (the driver then withholds the ACK and tries again)."""

    def closed(self, note_id: int, state: NoteState, why: str = "") -> None:
        """Record that an open note ended without being counted. An ``UNRESOLVED`` note (its
        fate unknown: ``why``) needs staff: the ledger records that in the same durable write,
        so that no crash can keep the note and its staff alarm apart."""

    def last_note(self) -> NoteRecord | None:
        """The most recent record, whatever its state (used after a restart)."""


class EventListener(Protocol):
    def __call__(self, event: AcceptorEvent) -> None: ...


class BillAcceptor(Protocol):
    """Engine-facing control surface of an acceptor driver: the one interface the engine
    types against (the ID-003 driver implements it)."""

    def add_listener(self, listener: EventListener) -> None:
        """Call ``listener`` with every :class:`AcceptorEvent` (on the driver's thread)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def enable(self, values: set[int] | None = None) -> None:
        """Take notes: every note of the currency table, or only these values."""

    def inhibit(self) -> None:
        """Refuse every note."""

    def test(self, values: set[int] | None = None) -> None:
        """Check notes without taking them: each note is validated (ESCROW with its value) and
        handed back (RETURNED); the ledger is never asked, so nothing can be counted."""

    def reset(self) -> bool:
        """Reset the unit, as at start-up (a note inside settles first): RESETTING, then
        ONLINE when it is ready again. False if it is offline (it reconnects by itself)."""

    @property
    def online(self) -> bool:
        """Initialised and talking."""

    @property
    def version(self) -> str:
        """The unit's firmware version (empty until it first answered)."""

    @property
    def denominations(self) -> list[int]:
        """Note values the acceptor reported (empty until it is online)."""
