"""Reconciliation: one day (the co-op's time zone) of the wallet's own ledger for this kiosk's shop
(its top-ups and moves, ``GET /transactions-v2`` by ``shop_id`` and the day, every page) checked
against the journal's confirmed credits and moves, matched by transaction id.

A wallet row the journal does not know, a confirmed credit the wallet does not show, one the
wallet cancelled after it was confirmed, and an amount, money or member that differs are each a
mismatch: listed, counted, and a ``wallet_mismatch`` staff case (for the co-op's accounts:
nothing to refund here). A credit of the day still on its way to the wallet is listed as open,
not as a mismatch; if the wallet already has it (looked up by its request id) its wallet row is
that credit's. A row matched to a credit of the day before or after (delivered across midnight)
is compared like the others.

The run reads the wallet first and writes its result in one journal transaction at the end
(:mod:`kiosk.journal.reconciliations`): a run killed halfway leaves nothing, and its rerun gives
the same result. A wallet that does not answer postpones the run (journaled, said, tried again).

:class:`DailyReconciliation` runs it by itself once a day at ``[staff] reconcile_at`` for the day
before, on its own thread with its own event loop and wallet client (never on the engine's
loop), and only while no member is in a session.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from kiosk.core.days import day_bounds
from kiosk.core.money import yen
from kiosk.journal import Journal
from kiosk.journal.reconciliations import OPEN, Finding, Run
from kiosk.journal.records import CreditKind
from kiosk.ops.daily import QuietHourJob, quiet_hour
from kiosk.wallet.client import WalletClient
from kiosk.wallet.errors import NotFound, WalletError
from kiosk.wallet.models import Transaction
from kiosk.wallet.settings import WalletSettings

log = logging.getLogger("paykiosk.reconcile")

TYPES = ("topup", "exchange_outflow", "exchange_inflow")  # a top-up; a move (either side)
_CREDIT_COLUMNS = (
    "id, request_id, kind, user_id, money_id, bucket, source_money_id, source_bucket, amount,"
    " transaction_id, state, created_at"
)


@dataclass(frozen=True)
class JournalCredit:
    """A credit or move as the reconciliation reads it from the journal."""

    request_id: str
    kind: str
    user_id: str
    money_id: str
    bucket: str
    source_money_id: str | None
    source_bucket: str | None
    amount: int
    transaction_id: str | None
    state: str

    @classmethod
    def of(cls, row: sqlite3.Row) -> JournalCredit:
        return cls(
            request_id=str(row["request_id"]),
            kind=str(row["kind"]),
            user_id=str(row["user_id"]),
            money_id=str(row["money_id"]),
            bucket=str(row["bucket"]),
            source_money_id=row["source_money_id"],
            source_bucket=row["source_bucket"],
            amount=int(row["amount"]),
            transaction_id=row["transaction_id"],
            state=str(row["state"]),
        )

    @property
    def what(self) -> str:
        if self.kind == CreditKind.MOVE.value:
            return f"move {yen(self.amount)} {self.source_bucket}->{self.bucket}"
        return f"credit {yen(self.amount)} to {self.bucket}"


def short(identifier: str | None) -> str:
    """An id as staff read it (its first 8 characters)."""
    return (identifier or "?")[:8]


def _wallet_what(row: Transaction, buckets: dict[str, str]) -> str:
    money = buckets.get(row.private_money_id or "", short(row.private_money_id))
    if row.type.startswith("exchange"):
        source = buckets.get(row.sender_private_money_id or "", "?")
        return f"move {yen(row.money_amount)} {source}->{money}"
    return f"top-up {yen(row.money_amount)} to {money}"


def compare(credit: JournalCredit, row: Transaction, buckets: dict[str, str]) -> list[Finding]:
    """What differs between a journal credit and the wallet row of the same transaction."""
    found: list[Finding] = []
    tid = row.id
    where = f"transaction {short(tid)} (request {short(credit.request_id)})"
    if row.is_modified:
        found.append(
            Finding(
                f"{tid}:cancelled",
                "cancelled",
                f"cancelled in the wallet after it was confirmed: {credit.what}, {where}",
                credit.amount,
            )
        )
    if row.money_amount != credit.amount:
        found.append(
            Finding(
                f"{tid}:amount",
                "amount",
                f"amount differs: journal {yen(credit.amount)}, wallet {yen(row.money_amount)},"
                f" {where}",
                abs(row.money_amount - credit.amount),
            )
        )
    is_move = credit.kind == CreditKind.MOVE.value
    wallet_money = (row.sender_private_money_id if is_move else None, row.private_money_id)
    journal_money = (credit.source_money_id if is_move else None, credit.money_id)
    if wallet_money != journal_money or is_move != row.type.startswith("exchange"):
        found.append(
            Finding(
                f"{tid}:money",
                "money",
                f"money differs: journal {credit.what}, wallet {_wallet_what(row, buckets)},"
                f" {where}",
                credit.amount,
            )
        )
    if row.receiver_id != credit.user_id:
        found.append(
            Finding(
                f"{tid}:member",
                "member",
                f"member differs: journal {short(credit.user_id)}, wallet"
                f" {short(row.receiver_id)}, {credit.what}, {where}",
                credit.amount,
            )
        )
    return found


@dataclass(frozen=True)
class Outcome:
    """A run's figures before they are journaled."""

    findings: list[Finding]
    wallet_rows: int
    journal_rows: int
    matched: int


def _credits(journal: Journal, where: str, args: Iterable[object]) -> list[JournalCredit]:
    return [
        JournalCredit.of(r)
        for r in journal.db.query(
            f"SELECT {_CREDIT_COLUMNS} FROM credits WHERE {where} ORDER BY id", tuple(args)
        )
    ]


async def check_day(
    journal: Journal, wallet: WalletClient, day: date, zone: str, buckets: dict[str, str]
) -> Outcome:
    """Compare ``day`` of the wallet's ledger with the journal (raises :class:`WalletError`
    when the wallet does not answer). ``buckets``: private money id → bucket, for the text."""
    start, end = day_bounds(day, ZoneInfo(zone))
    rows = await wallet.shop_transactions(
        datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC), TYPES
    )
    wallet_rows = {row.id: row for row in rows}
    confirmed = _credits(  # by the day's index (+state: not by every confirmed credit's)
        journal, "+state = 'confirmed' AND created_at >= ? AND created_at < ?", (start, end)
    )
    waiting = _credits(
        journal, "state IN ('pending', 'sent') AND created_at >= ? AND created_at < ?", (start, end)
    )
    findings: list[Finding] = []
    matched = 0
    left = dict(wallet_rows)  # wallet rows no credit has claimed yet
    for credit in confirmed:
        tid = credit.transaction_id or ""
        row = left.pop(tid, None)
        if row is None:
            try:  # done at the wallet on another day (delivered across midnight)?
                row = await wallet.transaction(tid)
            except (NotFound, ValueError):
                findings.append(
                    Finding(
                        f"{tid or credit.request_id}:journal_only",
                        "journal_only",
                        f"not in the wallet: the journal's confirmed {credit.what}, transaction"
                        f" {short(tid)} (request {short(credit.request_id)})",
                        credit.amount,
                    )
                )
                continue
        matched += 1
        findings += compare(credit, row, buckets)
    for credit in waiting:
        row = await wallet.transaction_by_request_id(credit.request_id)
        has = "the wallet has it, the kiosk will confirm it" if row else "not in the wallet yet"
        if row is not None:
            left.pop(row.id, None)
        findings.append(
            Finding(
                f"{credit.request_id}:open",
                OPEN,
                f"open: {credit.what} (request {short(credit.request_id)}), {has}",
                credit.amount,
            )
        )
    if left:  # a credit of another day still on its way, that the wallet put on this day?
        for credit in _credits(
            journal,
            "state IN ('pending', 'sent') AND (created_at < ? OR created_at >= ?)",
            (start, end),
        ):
            row = await wallet.transaction_by_request_id(credit.request_id)
            if row is not None and left.pop(row.id, None) is not None:
                findings.append(
                    Finding(
                        f"{credit.request_id}:open",
                        OPEN,
                        f"open: {credit.what} (request {short(credit.request_id)}, made on"
                        " another day), the wallet has it, the kiosk will confirm it",
                        credit.amount,
                    )
                )
    if left:  # wallet rows of credits the journal has on another day, or none at all
        marks = ",".join("?" * len(left))
        known = {
            c.transaction_id: c
            for c in _credits(journal, f"transaction_id IN ({marks})", list(left))
        }
        for tid, row in left.items():
            other = known.get(tid)
            if other is not None and other.state == "confirmed":
                matched += 1
                findings += compare(other, row, buckets)
                continue
            state = f" (the journal has it as {other.state})" if other else ""
            findings.append(
                Finding(
                    f"{tid}:wallet_only",
                    "wallet_only",
                    f"not made by this kiosk: the wallet's {_wallet_what(row, buckets)} for member"
                    f" {short(row.receiver_id)}, transaction {short(tid)}{state}",
                    row.money_amount,
                )
            )
    return Outcome(findings, len(wallet_rows), len(confirmed), matched)


async def reconcile(
    journal: Journal,
    wallet: WalletClient,
    day: date,
    zone: str,
    buckets: dict[str, str],
    by: str,
) -> Run:
    """Check ``day`` and journal the run (postponed, saying why, if the wallet is down)."""
    began = time.monotonic()
    log.info("reconciling %s with the wallet", day.isoformat())
    try:
        outcome = await check_day(journal, wallet, day, zone, buckets)
    except WalletError as error:
        why = f"the wallet did not answer ({type(error).__name__}: {error})"
        log.warning("reconciliation of %s postponed: %s", day.isoformat(), why)
        return journal.reconciliations.postponed(day.isoformat(), by, why)
    run = journal.reconciliations.record(
        day.isoformat(),
        by,
        outcome.findings,
        wallet_rows=outcome.wallet_rows,
        journal_rows=outcome.journal_rows,
        matched=outcome.matched,
        seconds=time.monotonic() - began,
    )
    log.info("reconciled %s: %s", day.isoformat(), summary(run))
    return run


def reconcile_now(
    journal: Journal,
    settings: WalletSettings,
    day: date,
    zone: str,
    buckets: dict[str, str],
    by: str,
) -> Run:
    """:func:`reconcile` on this thread's own event loop with its own wallet client (a staff
    command, or :class:`DailyReconciliation`'s thread)."""

    async def run() -> Run:
        async with WalletClient(settings) as wallet:
            return await reconcile(journal, wallet, day, zone, buckets, by)

    return asyncio.run(run())


def summary(run: Run) -> str:
    """A run in one line (the daily close, status, logs)."""
    if run.result == "postponed":
        return f"postponed: {run.detail}"
    text = (
        f"{run.result}: {run.matched} matched of {run.wallet_rows} in the wallet and"
        f" {run.journal_rows} in the journal, {run.mismatches} mismatches"
    )
    return text + (f", {run.open} open" if run.open else "")


def latest(journal: Journal) -> tuple[str, bool]:
    """The latest reconciliation in a few words (staff status), and whether it needs staff (a
    mismatch, or postponed)."""
    run = journal.reconciliations.last()
    if run is None:
        return "none yet", False
    if run.result == "postponed":
        return f"{run.day}: postponed, the wallet did not answer", True
    text = f"{run.day}: {run.result}, {run.matched} matched"
    if run.mismatches:
        text = f"{run.day}: {run.mismatches} MISMATCHES (see the cases)"
    text += f", {run.open} open" if run.open else ""
    return text, run.result != "agreed"


def run_text(run: Run, zone: str) -> str:
    """A run with every finding, one a line (the staff command, the daily close)."""
    clock = datetime.fromtimestamp(run.at, ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")
    lines = [f"reconciliation with the wallet ({clock}, {run.by}): {summary(run)}"]
    for finding, reference in run.findings:
        case = f" [case {reference}]" if reference else ""
        lines.append(f"  {'open' if not finding.mismatch else 'MISMATCH'}: {finding.detail}{case}")
    return "\n".join(lines)


class DailyReconciliation(QuietHourJob[date, Run]):
    """Reconciles the day before, once a day from ``at`` (HH:MM in ``zone``); while ``busy()``
    (a member in a session) it waits; a wallet that is down postpones it by ``retry_s``."""

    what = "the reconciliation"

    def __init__(
        self,
        journal: Journal,
        settings: WalletSettings,
        zone: str,
        at: str,
        buckets: dict[str, str],
        busy: Callable[[], bool],
        check_s: float = 30.0,
        retry_s: float = 600.0,
    ) -> None:
        super().__init__(busy, check_s)
        self.journal = journal
        self.settings = settings
        self.zone = zone
        self.at = quiet_hour(at)
        self.buckets = buckets
        self.retry_s = retry_s

    def due(self, now: datetime) -> date | None:
        """The day to reconcile now, if any."""
        local = now.astimezone(ZoneInfo(self.zone))
        if (local.hour, local.minute) < self.at:
            return None
        day = local.date() - timedelta(days=1)
        if self.journal.reconciliations.last(day.isoformat(), done=True) is not None:
            return None
        last = self.journal.reconciliations.last(day.isoformat())
        if last is not None and time.time() - last.at < self.retry_s:
            return None  # postponed a short while ago
        return day

    def work(self, due: date) -> Run:
        return reconcile_now(self.journal, self.settings, due, self.zone, self.buckets, "schedule")
