"""The money path as a model, searched: the model (``tests/support/money_model.py``) run short in
CI, and the defects its search found, each with its regression test.

Longer with ``PAYKIOSK_MONEY_MODEL_EXAMPLES`` / ``PAYKIOSK_MONEY_MODEL_STEPS``, or
``python -m bench.money_model --examples 5000`` (prints figures).
"""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, settings

from hardware.acceptor import EventKind
from hardware.id003.codes import Status
from kiosk.core.money import room
from kiosk.journal import Journal
from tests.support.money_model import ESCROW_CODES, KIOSK, MONEYS, FakeAcceptor, MoneyMachine


def ci_settings() -> settings:
    """Short in CI; ``PAYKIOSK_MONEY_MODEL_EXAMPLES`` / ``_STEPS`` for a longer search."""
    return settings(
        max_examples=int(os.environ.get("PAYKIOSK_MONEY_MODEL_EXAMPLES", "150")),
        stateful_step_count=int(os.environ.get("PAYKIOSK_MONEY_MODEL_STEPS", "40")),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


TestMoneyModel = MoneyMachine.TestCase
TestMoneyModel.settings = ci_settings()


# ---- defects found by the model ------------------------------------------------------------


def test_note_stacked_after_its_session_closed_counts_against_the_room() -> None:
    """Fixed (kiosk/engine/lookup.py, Sessions.uncredited). A note still in flight at Done is
    stacked after its session closed: it becomes a credit only at delivery's next round
    (``credit_orphans``). A lookup before that round did not count it as on its way, so the
    member's next session took up to its value more cash than the wallet's cap lets in: the
    top-up was refused for good and staff had to refund the cash (a refused_credit case)."""
    machine = MoneyMachine()
    try:
        machine.open_session("member-c", "cafeteria")
        machine.notes_inserted([(1000, "stacked"), (2000, "in_flight")])
        machine.finish_session()
        machine.note_ends("stacked")  # the held note lands after its session closed
        member = machine._look_up("member-c")
        assert member.on_its_way == {"cafeteria": 3000}
        assert member.being_credited == 3000
        cafeteria = machine.wallet.account("member-c", "cafeteria")
        assert room(cafeteria, member.on_its_way["cafeteria"]) == 30_000 - 1_000 - 3_000
        machine.money_is_accounted_for()
    finally:
        machine.teardown()  # quiescence: both credits delivered, nothing refused


def test_unresolved_note_case_lost_to_a_crash_before_the_engine_journals_it(
    tmp_path: Path,
) -> None:
    """A note jams after the stack decision; staff clear the jam, so the driver journals the
    note as ``unresolved`` (durable) and emits UNRESOLVED_NOTE, from which the engine's loop
    opened the staff case. The kiosk died between the two (or while the journal was unwritable:
    ``_pending_cases`` lived in memory only), and at the next start nothing opened the case: the
    note might be in the cash box with no credit and no case. Now the ledger opens the case in
    the note's own write; the engine's case for the event finds it and opens no second one."""
    path = tmp_path / "journal.sqlite3"
    journal = Journal(path, KIOSK)
    session = journal.sessions.open("0123…EF", "member-a", "a", "base", MONEYS["base"])
    journal.gate.open(session, 10_000)
    acceptor = FakeAcceptor(journal.notes)
    acceptor.status(Status.ACCEPTING)
    assert acceptor.status(Status.ESCROW, bytes([ESCROW_CODES[1000]]))
    acceptor.status(Status.ACCEPTOR_JAM)
    acceptor.status(Status.IDLING)  # the jam cleared before VEND VALID
    assert [e.kind for e in acceptor.events][-1] is EventKind.UNRESOLVED_NOTE
    journal.close()  # the kiosk dies before its loop handled the event
    journal = Journal(path, KIOSK)  # the start: _recover, then the acceptor's start-up
    journal.sessions.close_open()
    FakeAcceptor(journal.notes).start(Status.IDLING)
    try:
        assert [n.state.value for n in journal.notes.all()] == ["unresolved"]
        [case] = journal.cases.list("open")
        assert (case.kind, case.amount) == ("unresolved_note", 1000)
        again = journal.cases.open("unresolved_note", amount=1000, detail="", note_id=case.note_id)
        assert again == case.reference and len(journal.cases.list("open")) == 1
    finally:
        journal.close()
