"""What the staff menu's pages show, read from the journal: the cash box with its fill, one
open case, the recent events. Pure reads; the desk (``desk.py``) puts them in its views."""

from __future__ import annotations

from collections.abc import Mapping

from kiosk.config.settings import StaffSection
from kiosk.core.money import DENOMINATIONS
from kiosk.journal import Journal
from kiosk.journal.cases import CaseSummary
from kiosk.staff.cashbox_report import Fill
from kiosk.staff.view import CaseView, EventRow, case_actions


def cashbox_fields(
    journal: Journal, settings: StaffSection, counted: Mapping[int, int]
) -> dict[str, object]:
    """The cash box's count since the last collection, its fill against the stacker's capacity,
    removals without a collection, and the notes staff typed so far (a COUNT in progress)."""
    count = journal.cashbox.count()
    fill = Fill(count.notes, settings.stacker_capacity, settings.near_full_percent)
    last = journal.cashbox.last_collection()
    since = 0.0 if last is None else last.at
    return {
        "cashbox": count,
        "capacity": fill.capacity,
        "fill_percent": fill.percent,
        "near_full": fill.near_full,
        "removals": sum(1 for at in journal.cashbox.removals() if at > since),
        "counted": tuple((v, counted.get(v, 0)) for v in DENOMINATIONS),
    }


def case_view(summary: CaseSummary) -> CaseView:
    """A case as the staff screens show it, with what staff may do about it."""
    case = summary.case
    return CaseView(
        case.reference,
        case.kind,
        case.amount,
        case.created_at,
        case.detail,
        summary.member,
        summary.card_tag,
        summary.credit_state,
        case_actions(case.kind),
    )


def open_cases(journal: Journal) -> tuple[CaseView, ...]:
    """The open cases, oldest first."""
    return tuple(case_view(summary) for summary in journal.cases.summaries())


def open_case(journal: Journal, reference: str) -> CaseView | None:
    return next((c for c in open_cases(journal) if c.reference == reference), None)


def recent_events(journal: Journal, last: int = 20) -> list[EventRow]:
    """The journal's newest operational events first (no PIN or card id is ever in them)."""
    rows = journal.db.query("SELECT at, kind, detail FROM events ORDER BY id DESC LIMIT ?", (last,))
    return [EventRow(float(r["at"]), str(r["kind"]), str(r["detail"])) for r in rows]
