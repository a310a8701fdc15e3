"""Note bookkeeping for the ID-003 host: the money rules of the accept sequence.

Keeps the one note in flight, asks the engine's ledger to decide and to record, and turns the
acceptor's statuses into note events. The wire protocol (:mod:`.protocol`) owns timing and bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from hardware.acceptor import AcceptorEvent, EventKind, NoteLedger, NoteRecord, NoteState
from hardware.id003.codes import FailureCode, RejectReason, Status, enum_name
from hardware.id003.frames import Frame

Emit = Callable[..., None]

ERROR_EVENTS = {
    Status.STACKER_FULL: EventKind.STACKER_FULL,
    Status.STACKER_OPEN: EventKind.STACKER_OPEN,
    Status.ACCEPTOR_JAM: EventKind.JAM,
    Status.STACKER_JAM: EventKind.JAM,
    Status.PAUSE: EventKind.PAUSED,
    Status.CHEATED: EventKind.CHEATED,
    Status.FAILURE: EventKind.FAILURE,
    Status.COMMUNICATION_ERROR: EventKind.FAILURE,
}


class NoteTracker:
    """The note in flight, from ESCROW to STACKED (or back to the member)."""

    def __init__(self, ledger: NoteLedger, events: list[AcceptorEvent]) -> None:
        self.ledger = ledger
        self._events = events
        self.note: NoteRecord | None = None
        self._decided = False  # a decision went out for the escrow being reported
        # The escrowed note whose fate is not reported yet (a RETURNING or REJECTING the poll
        # missed still gets its event, with the value, when the unit is idle or accepting again)
        self._escrow_value: int | None = None
        self._return_told = False  # RETURNED went out at the RETURN's ACK
        self._alarmed = False  # UNCREDITED_NOTE already raised for this VEND VALID
        self._ledger_failed = False
        self._jammed = False

    def reload(self) -> None:
        """After a (re)connect: pick up the last note the ledger knows, if it may be in flight."""
        last = self.ledger.last_note()
        in_flight = last is not None and last.state in (NoteState.STACK_SENT, NoteState.STACKED)
        self.note = last if in_flight else None
        self._decided = self._alarmed = self._jammed = False

    @property
    def open_note(self) -> NoteRecord | None:
        return self.note if self.note is not None and self.note.state.is_open else None

    def status_seen(self, status: int) -> None:
        if status != Status.ESCROW:
            self._decided = False
        if status != Status.VEND_VALID:
            self._alarmed = False

    # ---- accept sequence ---------------------------------------------------------------
    def on_escrow(self, code: int, value: int | None, accepting: bool, now: float) -> bool | None:
        """Decide on an escrowed note: True to stack, False to return, None if already decided."""
        if self._decided:
            return None
        self._decided = True
        self._escrow_value = value
        if value is None:
            self._emit(now, EventKind.REJECTED, code=code, detail="unknown escrow code")
            return False
        self._emit(now, EventKind.ESCROW, value=value, code=code)
        record = None
        if accepting:
            try:
                record = self.ledger.escrow(code, value)
            except Exception as error:
                self._emit(now, EventKind.LEDGER_FAILED, value=value, detail=str(error))
        if record is None:
            return False
        self.note = record
        return True

    def on_vend_valid(self, now: float) -> bool:
        """Count the note (ledger first). Returns whether to ACK now."""
        note = self.note
        if note is not None and note.state.is_open:
            return self._record_stacked(note, now)  # no ACK if the write failed: retried
        if (note is None or note.state is not NoteState.STACKED) and not self._alarmed:
            self._alarmed = True
            self._emit(now, EventKind.UNCREDITED_NOTE, detail="vend valid without a record")
        return True  # a repeat after our ACK: the ACK was lost, so ACK again, count nothing

    def on_stacked(self) -> None:
        if self.note is not None and self.note.state is NoteState.STACKED:
            self.note = None

    def gone_back(self, frame: Frame, now: float) -> None:
        """REJECTING / RETURNING / idle / a new note: an escrowed or open note did not reach
        the stacker."""
        status = frame.code
        note = self.open_note
        value = note.value if note else self._escrow_value
        if status == Status.REJECTING:
            reason = frame.data[0] if frame.data else None
            detail = enum_name(RejectReason, reason) if reason is not None else ""
            self._emit(now, EventKind.REJECTED, value=value, code=reason, detail=detail)
            if note:
                self.close(note, NoteState.REJECTED, now)
        elif status == Status.RETURNING:
            if not self._return_told:
                self._emit(now, EventKind.RETURNED, value=value)
            if note:
                self.close(note, NoteState.RETURNED, now)
        elif note and self._jammed:
            self.close(note, NoteState.UNRESOLVED, now, "jam cleared before vend valid")
        elif note:
            self._emit(now, EventKind.RETURNED, value=note.value)
            self.close(note, NoteState.RETURNED, now)
        elif value is not None:  # handed back while the poll looked away
            self._emit(now, EventKind.RETURNED, value=value)
        self._escrow_value, self._return_told = None, False
        if status in (Status.IDLING, Status.DISABLED, Status.ACCEPTING):
            self._jammed = False
            self.on_stacked()

    def return_accepted(self, now: float) -> None:
        """The unit ACKed our RETURN: the escrowed note is on its way back. Told now, so that a
        RETURNING and an idle status the poll misses cannot lose it, or lend its value to the
        next note's REJECTING."""
        if self._escrow_value is not None and self.open_note is None:
            self._emit(now, EventKind.RETURNED, value=self._escrow_value)
            self._escrow_value, self._return_told = None, True

    def on_error(self, frame: Frame, now: float) -> None:
        status = Status(frame.code)
        kind = ERROR_EVENTS[status]
        note = self.open_note
        if kind is EventKind.JAM:
            self._jammed = True
            where = "stacker" if status == Status.STACKER_JAM else "acceptor"
            self._emit(now, kind, value=note.value if note else None, detail=where)
        elif kind is EventKind.FAILURE:
            code = frame.data[0] if frame.data else None
            name = enum_name(FailureCode, code) if code is not None else enum_name(Status, status)
            self._emit(now, kind, code=code, detail=name)
        elif kind is EventKind.PAUSED:  # the note keeps stacking once the second one is out
            self._emit(now, kind, value=note.value if note else None)
        else:
            self._emit(now, kind)

    # ---- restarts ----------------------------------------------------------------------
    def settled_at_start(self, status: int, now: float) -> None:
        """First idle-like status after a (re)connect: an open note never reached VEND VALID."""
        note = self.open_note
        if note is not None and status in (Status.IDLING, Status.DISABLED, Status.INITIALIZE):
            self._emit(now, EventKind.RETURNED, value=note.value)
            self.close(note, NoteState.RETURNED, now)

    def resolve_power_up(self, status: int, now: float) -> None:
        """The acceptor lost power: settle the open note by where the unit says a note is."""
        note, open_note = self.note, self.open_note
        if status == Status.POWER_UP_BILL_IN_STACKER:
            if open_note is not None:
                if self._record_stacked(open_note, now):
                    self._emit(
                        now,
                        EventKind.POWER_UP,
                        value=open_note.value,
                        detail="note in stacker counted",
                    )
            elif note is not None and note.state is NoteState.STACKED:
                self._emit(
                    now,
                    EventKind.POWER_UP,
                    value=note.value,
                    detail="note in stacker already counted",
                )
            else:
                self._emit(now, EventKind.UNCREDITED_NOTE, detail="note in stacker, no record")
        elif status == Status.POWER_UP_BILL_IN_ACCEPTOR:
            if open_note is not None:
                self.close(open_note, NoteState.RETURNED, now)
            self._emit(
                now,
                EventKind.POWER_UP,
                value=open_note.value if open_note else None,
                detail="note in acceptor returned",
            )
        else:
            if open_note is not None:
                self.close(open_note, NoteState.UNRESOLVED, now, "power lost before vend valid")
            self._emit(now, EventKind.POWER_UP, detail="no note inside")
        self.note = None

    # ---- ledger ------------------------------------------------------------------------
    def _record_stacked(self, note: NoteRecord, now: float) -> bool:
        try:
            self.ledger.stacked(note.id)
        except Exception as error:
            if not self._ledger_failed:
                self._emit(now, EventKind.LEDGER_FAILED, value=note.value, detail=str(error))
            self._ledger_failed = True
            return False
        self._ledger_failed = False
        self._escrow_value = None
        self.note = replace(note, state=NoteState.STACKED)
        self._emit(now, EventKind.STACKED, value=note.value, code=note.escrow_code)
        return True

    def close(self, note: NoteRecord, state: NoteState, now: float, why: str = "") -> None:
        try:
            self.ledger.closed(note.id, state, why)
        except Exception as error:
            self._emit(now, EventKind.LEDGER_FAILED, value=note.value, detail=str(error))
        if state is NoteState.UNRESOLVED:
            self._emit(now, EventKind.UNRESOLVED_NOTE, value=note.value, detail=why, note=note.id)
        self.note = None

    def _emit(self, now: float, kind: EventKind, **fields: object) -> None:
        self._events.append(AcceptorEvent(kind, now, **fields))  # type: ignore[arg-type]
