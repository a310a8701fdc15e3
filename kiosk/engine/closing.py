"""Closing an accepting session into its credit and telling the member where the money is.

The note in flight settles first (bounded), then the session's stacked notes become one credit
in the same transaction that closes it, and delivery is asked to settle it while the member
waits a few seconds. If the journal cannot be written at that moment, the notes are already
durably stacked: the member is told the money is being credited, and the session is closed
once the journal can be written again (or by the replay at the next start).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from hardware.acceptor import NoteState
from kiosk.core.events import CreditOutcome, CreditSettled, Member
from kiosk.engine.delivery import Delivery
from kiosk.journal import Journal, JournalUnwritable
from kiosk.journal.records import CreditState, SessionOutcome

log = logging.getLogger("paykiosk.closing")


@dataclass(frozen=True)
class Closed:
    settled: CreditSettled  # what the member is told
    taken: int  # cash of the session in the box (credited, or being credited)
    journal_error: str | None = None  # the session stays open: close it when the journal is back


async def close_session(
    journal: Journal,
    delivery: Delivery,
    session_id: int,
    member: Member | None,
    note_settle_s: float,
    settle_wait_s: float,
    journal_down: Callable[[], bool] = lambda: False,
) -> Closed:
    deadline = time.monotonic() + note_settle_s
    while held := _held(journal, session_id):
        if time.monotonic() > deadline:
            log.error("session %s: a note did not settle; crediting what is counted", session_id)
            break
        if journal_down():  # its stacking cannot be recorded now: no use keeping them waiting
            log.error("session %s: the journal failed with a note in flight", session_id)
            break
        await asyncio.sleep(0.05)
    # A note still inside the unit (jammed, or its VEND VALID not yet recorded) is never
    # "nothing taken": the member is told it is held, and staff settle it (a case follows
    # when the jam is cleared; if it is stacked, it is credited then).
    try:
        credit = journal.sessions.finish(session_id, SessionOutcome.FINISHED)
    except JournalUnwritable as error:
        taken = sum(
            n.value for n in journal.notes.of_session(session_id) if n.state is NoteState.STACKED
        )
        log.error("session %s: cannot be closed now; closed when the journal is back", session_id)
        outcome = CreditOutcome.KIOSK_FAULT if taken else _nothing_credited(held)
        return Closed(CreditSettled(outcome, held=held), taken, str(error))
    if credit is None:
        return Closed(CreditSettled(_nothing_credited(held), held=held), 0)
    settled = await delivery.settle(credit.id, settle_wait_s)
    wallet = member.wallets.get(credit.bucket) if member else None
    receipt = receipt_number(journal.cases.kiosk_id, credit.id)
    if settled.state is CreditState.CONFIRMED:
        balance = wallet.money_balance + credit.amount if wallet else None
        confirmed = CreditSettled(
            CreditOutcome.CONFIRMED, new_balance=balance, reference=receipt, held=held
        )
        return Closed(confirmed, credit.amount)
    if settled.state is CreditState.REFUSED:
        refused = CreditSettled(CreditOutcome.REFUSED, reference=settled.reference, held=held)
        return Closed(refused, credit.amount)
    being = CreditSettled(CreditOutcome.BEING_CREDITED, reference=receipt, held=held)
    return Closed(being, credit.amount)


def _nothing_credited(held: int) -> CreditOutcome:
    """No cash of the session is in a credit: a note still inside, or none taken."""
    return CreditOutcome.NOTE_HELD if held else CreditOutcome.NOTHING_TAKEN


def receipt_number(kiosk_id: str, credit_id: int) -> str:
    """The member's receipt number for a credit (staff find it as credit ``credit_id``); a
    credit refused for good is told by its staff case's reference instead."""
    return f"{kiosk_id}-C{credit_id:06d}"


def _held(journal: Journal, session_id: int) -> int:
    """The value of the session's notes still on their way in."""
    return sum(n.value for n in journal.notes.of_session(session_id) if n.state.is_open)
