"""``paykiosk --config F staff cases | retry | resolve``: staff cases from a shell.

A case is money the kiosk could not settle by itself (a credit the wallet refused for good, a
note that could not be settled). Staff send a refused credit again (``retry``: the same request,
so it is credited at most once) or settle a case by hand (``resolve``), and whichever of that
and the delivery worker comes first wins (see :mod:`kiosk.journal.cases`). Every action is
journaled as a ``staff`` event with who did it; the resolution note goes with it.
"""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import TYPE_CHECKING, Any

from kiosk.core.money import yen
from kiosk.journal.cases import CREDITED_ON_RETRY, RESOLUTIONS, CaseSummary
from kiosk.staff.who import staff_member

if TYPE_CHECKING:
    from kiosk.config.settings import Config
    from kiosk.journal import Journal

_KIND = {
    "refused_credit": "credit refused",
    "refused_move": "move (マネー移動, no cash) refused",
    "uncredited_note": "note not credited",
    "unresolved_note": "note not settled",
    "journal_file": "journal file restored (no money to settle)",
    "wallet_mismatch": "the wallet's ledger differs (for the co-op's accounts)",
}
_CREDIT = {
    "refused": "refused: can be retried",
    "pending": "being retried (pending)",
    "sent": "being retried (sent, answer awaited)",
    "confirmed": "credited",
}


def add_commands(commands: Any) -> None:
    """Register this module's `staff` subcommands (each sets ``handler``)."""
    listing = commands.add_parser("cases", help="open staff cases (--all: resolved ones too)")
    listing.add_argument("--all", action="store_true", help="resolved cases too")
    listing.set_defaults(handler=list_cases)

    retry = commands.add_parser(
        "retry", help="send a refused credit again now (same request: credited at most once)"
    )
    retry.add_argument("reference", help="the case's reference, e.g. K01-20261123-0003")
    retry.add_argument("--by", default="", metavar="NAME", help="staff member (required)")
    retry.set_defaults(handler=retry_case)

    resolve = commands.add_parser("resolve", help="settle a case by hand, with a note")
    resolve.add_argument("reference", help="the case's reference, e.g. K01-20261123-0003")
    resolve.add_argument(
        "--as",
        dest="resolution",
        default="",
        metavar="|".join(RESOLUTIONS),
        help="refunded in cash, credited by hand elsewhere, or no money involved (required)",
    )
    resolve.add_argument("--by", default="", metavar="NAME", help="staff member (required)")
    resolve.add_argument("--note", default="", help="what was done (required)")
    resolve.set_defaults(handler=resolve_case)


def list_cases(config: Config, journal: Journal, args: argparse.Namespace) -> int:
    summaries = journal.cases.summaries(include_resolved=args.all)
    print(("staff cases" if args.all else "open staff cases") + f": {len(summaries)}")
    for summary in summaries:
        print(case_line(summary))
    return 0


def retry_case(config: Config, journal: Journal, args: argparse.Namespace) -> int:
    who = staff_member(journal, args.by)
    case = journal.cases.retry(args.reference, who)
    amount = yen(case.amount) if case.amount is not None else "?"
    print(
        f"case {case.reference}: credit #{case.credit_id} ({amount}) goes to the wallet again"
        " with its same request; the running kiosk sends it within seconds"
        " (`staff cases --all` then shows it credited on retry)"
    )
    return 0


def resolve_case(config: Config, journal: Journal, args: argparse.Namespace) -> int:
    if args.resolution not in RESOLUTIONS:
        given = f" (not {args.resolution!r})" if args.resolution else ""
        raise ValueError(f"--as must be one of {', '.join(RESOLUTIONS)}{given}")
    if not args.note.strip():
        raise ValueError("--note TEXT is required: say what was done")
    who = staff_member(journal, args.by)
    case = journal.cases.resolve(args.reference, args.resolution, who, args.note)
    print(f"case {case.reference} resolved as {case.resolution} by {who}")
    return 0


def case_line(summary: CaseSummary) -> str:
    """One case on one line: reference, what, amount, when, whose, where it stands."""
    case = summary.case
    amount = yen(case.amount) if case.amount is not None else "value unknown"
    whose = ""
    if summary.member or summary.card_tag:
        whose = f" — {summary.member or '?'} (card {summary.card_tag or '?'})"
    if case.state == "open":
        standing = _CREDIT.get(summary.credit_state or "", "open")
        if summary.credit_state is None:
            standing = "open: resolve by hand"
    elif case.resolution == CREDITED_ON_RETRY:
        standing = f"credited on retry {_when(case.resolved_at)}"
    else:
        standing = (
            f"resolved as {case.resolution} by {case.resolved_by} {_when(case.resolved_at)}"
            + (f": {summary.note}" if summary.note else "")
        )
    return (
        f"  {case.reference}  {_KIND.get(case.kind, case.kind)}  {amount}"
        f"  {_when(case.created_at)}{whose} — {standing} — why: {case.detail}"
    )


def _when(at: float | None) -> str:
    return datetime.fromtimestamp(at).strftime("%Y-%m-%d %H:%M") if at else "-"
