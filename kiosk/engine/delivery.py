"""Credit delivery: the outbox worker that turns journaled credits into wallet top-ups.

Exactly once: a credit's ``request_id`` is journaled before its first attempt and reused on
every retry; an attempt whose answer was lost (state ``sent``) is first looked up by
``request_id``. Refused for good → a staff case, never dropped and never retried blindly.
Each member's credits go in order; one member's backlog never holds up another's.

A マネー移動 is a credit of kind :data:`CreditKind.MOVE` and takes the same path (same request id
rules, same order per member: a cash credit journaled before it lands first); only its call
differs, and a refusal for good moved nothing, so it opens no case (the member is told).

Waits and backoff run on the monotonic clock, kept in memory: a step of the wall clock (NTP
setting a wrong clock right) neither holds a credit back nor sends it early. The journal's
``next_attempt_at`` is wall-clock information for staff; nothing waits on it. A restarted kiosk
has no waits: every open credit is tried at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from kiosk.core.crashpoints import checkpoint
from kiosk.journal import Journal
from kiosk.journal.records import Credit, CreditState
from kiosk.wallet.checks import check_move, check_topup
from kiosk.wallet.client import WalletClient
from kiosk.wallet.errors import (
    RefusedForGood,
    RequestExpired,
    RequestIdConflict,
    TransactionMismatch,
    WalletError,
)
from kiosk.wallet.models import Transaction

log = logging.getLogger("paykiosk.delivery")


@dataclass(frozen=True)
class DeliveryPolicy:
    first_retry_s: float = 2.0
    max_retry_s: float = 300.0
    concurrency: int = 4  # members served at once
    batch: int = 200
    watch_s: float = 2.0  # how often a waiting worker looks for another process's writes


def describe_for(kiosk_id: str) -> Callable[[Credit], str]:
    """The description each transaction carries into the member's wallet history."""

    def describe(credit: Credit) -> str:
        return f"Pay Spot {kiosk_id} マネー移動" if credit.is_move else f"Pay Spot {kiosk_id}"

    return describe


class Delivered(StrEnum):
    """What one delivery attempt came to."""

    CONFIRMED = "confirmed"
    REFUSED = "refused"  # for good: a staff case
    RETRY = "retry"  # not now: tried again later with the same request_id


@dataclass(frozen=True)
class Outcome:
    state: Delivered
    transaction_id: str | None = None
    reference: str | None = None
    error: str | None = None


class Delivery:
    def __init__(
        self,
        journal: Journal,
        wallet: WalletClient,
        policy: DeliveryPolicy | None = None,
        describe: Callable[[Credit], str] = lambda credit: "Pay Spot cash charge",
    ) -> None:
        self.journal = journal
        self.wallet = wallet
        self.policy = policy or DeliveryPolicy()
        self.describe = describe
        self._wake = asyncio.Event()
        self._settled = asyncio.Condition()
        self._retry_at: dict[int, float] = {}  # credit id → its next attempt, time.monotonic()
        self._full_round = False  # the last round hit the batch size: more are due at once
        self.delivered = 0

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Deliver due credits until cancelled."""
        while True:
            self._wake.clear()  # before the round: a wake during the round is kept
            try:
                await self.drain_once()
                due = self._next_due()
            except Exception:
                log.exception("delivery round failed")
                due = self.policy.first_retry_s  # e.g. the journal could not be written
            await self._wait(max(0.05, due))

    async def _wait(self, seconds: float) -> None:
        """Until woken, ``seconds`` are over, or another process wrote the journal (a staff
        command that sent a refused credit again must not wait for the next round)."""
        deadline = time.monotonic() + seconds
        seen = self.journal.db.data_version()
        while (left := deadline - time.monotonic()) > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=min(left, self.policy.watch_s))
                return
            if self.journal.db.data_version() != seen:
                return

    async def drain_once(self) -> int:
        """One round: credits orphaned notes, then delivers what is due. Returns deliveries."""
        self.journal.sessions.credit_orphans()
        now = time.monotonic()
        self._retry_at = {cid: at for cid, at in self._retry_at.items() if at > now}
        due = self.journal.credits.due(self._retry_at.keys(), self.policy.batch)
        self._full_round = len(due) >= self.policy.batch
        by_member: dict[str, list[Credit]] = {}
        for credit in due:
            by_member.setdefault(credit.user_id, []).append(credit)
        semaphore = asyncio.Semaphore(self.policy.concurrency)

        async def member_queue(credits: list[Credit]) -> int:
            async with semaphore:
                done = 0
                for credit in credits:  # in order; stop at the first that must wait
                    outcome = await self.deliver(credit)
                    if outcome.state is Delivered.RETRY:
                        break
                    done += 1
                return done

        # One failure (the journal cannot be written, a crash) ends the round: the other
        # members' queues are cancelled and awaited, never left running into the next round.
        try:
            async with asyncio.TaskGroup() as group:
                queues = [group.create_task(member_queue(c)) for c in by_member.values()]
        except BaseExceptionGroup as errors:
            failed = errors.exceptions[0]
        else:
            return sum(queue.result() for queue in queues)
        raise failed  # as itself, not in a group: what the round's caller knows how to handle

    async def deliver(self, credit: Credit) -> Outcome:
        """Settle one credit as far as the wallet lets us now."""
        try:
            outcome = await self._deliver(credit)
        except RefusedForGood as refusal:
            # a move refused moved nothing: the member is told, nobody owes anything (a
            # request id conflict is our bug, though: staff look at it)
            if credit.is_move and not isinstance(refusal, RequestIdConflict):
                self.journal.moves.decline(credit.id, refusal.type or type(refusal).__name__)
                log.info("move %s refused (%s): nothing moved", credit.id, refusal.type)
                outcome = Outcome(Delivered.REFUSED, error=refusal.type)
            else:
                outcome = self._refused(credit, refusal)
        except TransactionMismatch as mismatch:
            reference = self.journal.credits.refuse(credit.id, "mismatch", str(mismatch))
            log.error(
                "credit %s: wallet returned another transaction: case %s", credit.id, reference
            )
            outcome = Outcome(Delivered.REFUSED, reference=reference, error="mismatch")
        except WalletError as error:
            delay = self._backoff(credit.attempts)
            self._retry_at[credit.id] = time.monotonic() + delay
            # wall clock for staff only (`paykiosk pending`): nothing waits on it
            self.journal.credits.retry_later(credit.id, str(error), time.time() + delay)
            if isinstance(error, RequestExpired):  # says how far off our clock is
                log.error("credit %s not delivered: %s; retry in %.0f s", credit.id, error, delay)
            else:
                log.info(
                    "credit %s not delivered (%s); retry in %.0f s",
                    credit.id,
                    type(error).__name__,
                    delay,
                )
            outcome = Outcome(Delivered.RETRY, error=str(error))
        if outcome.state is not Delivered.RETRY:
            self._retry_at.pop(credit.id, None)
            self.delivered += 1
            async with self._settled:
                self._settled.notify_all()
        return outcome

    def _refused(self, credit: Credit, refusal: RefusedForGood) -> Outcome:
        reference = self.journal.credits.refuse(credit.id, refusal.type, refusal.message)
        log.warning("credit %s refused (%s): case %s", credit.id, refusal.type, reference)
        return Outcome(Delivered.REFUSED, reference=reference, error=refusal.type)

    async def _deliver(self, credit: Credit) -> Outcome:
        if credit.outcome_unknown:
            found = await self.wallet.transaction_by_request_id(credit.request_id)
            if found is not None:
                self._check(found, credit)
                self.journal.credits.confirm(credit.id, found.id)
                return Outcome(Delivered.CONFIRMED, transaction_id=found.id)
            self.journal.credits.not_created(credit.id)
        if credit.is_move:
            checkpoint("move_before_send")
        else:
            checkpoint("credit_before_send")
        # durable before the attempt goes out; a credit settled meanwhile is not sent at all
        if not self.journal.credits.mark_sent(credit.id):
            return self._settled_elsewhere(credit.id)
        transaction = await self._send(credit)
        if credit.is_move:
            checkpoint("move_after_response")
        else:
            checkpoint("credit_after_response")
        self.journal.credits.confirm(credit.id, transaction.id)
        return Outcome(Delivered.CONFIRMED, transaction_id=transaction.id)

    async def _send(self, credit: Credit) -> Transaction:
        if credit.is_move:
            assert credit.source_money_id is not None
            return await self.wallet.move(
                request_id=credit.request_id,
                user_id=credit.user_id,
                sender_private_money_id=credit.source_money_id,
                receiver_private_money_id=credit.money_id,
                amount=credit.amount,
                description=self.describe(credit),
            )
        return await self.wallet.topup(
            request_id=credit.request_id,
            customer_id=credit.user_id,
            private_money_id=credit.money_id,
            money_amount=credit.amount,
            description=self.describe(credit),
            metadata={"kiosk_credit": str(credit.id), "session": str(credit.session_id or "")},
        )

    @staticmethod
    def _check(found: Transaction, credit: Credit) -> None:
        """The transaction found by our request id is the one we asked for."""
        if credit.is_move:
            assert credit.source_money_id is not None
            check_move(
                found, credit.user_id, credit.source_money_id, credit.money_id, credit.amount
            )
        else:
            check_topup(found, credit.user_id, credit.money_id, credit.amount)

    def _settled_elsewhere(self, credit_id: int) -> Outcome:
        """The credit left pending/sent before this attempt claimed it (another worker settled
        it): report what the journal holds."""
        settled = self.journal.credits.get(credit_id)
        if settled.state is CreditState.CONFIRMED:
            return Outcome(Delivered.CONFIRMED, transaction_id=settled.transaction_id)
        return Outcome(Delivered.REFUSED, reference=settled.reference, error=settled.last_error)

    async def settle(self, credit_id: int, wait_s: float) -> Credit:
        """Ask for delivery now and wait up to ``wait_s`` for the credit to settle."""
        self.wake()
        deadline = time.monotonic() + wait_s
        async with self._settled:
            while True:
                credit = self.journal.credits.get(credit_id)
                left = deadline - time.monotonic()
                if credit.state.settled or left <= 0:
                    return credit
                try:
                    await asyncio.wait_for(self._settled.wait(), timeout=left)
                except TimeoutError:
                    return self.journal.credits.get(credit_id)

    def _backoff(self, attempts: int) -> float:
        base = min(self.policy.max_retry_s, self.policy.first_retry_s * 2 ** max(0, attempts - 1))
        return float(base * (0.75 + random.random() / 2))

    def _next_due(self) -> float:
        """Seconds until the next round: at once after a full batch, else until the earliest
        retry (60 s at most; a new credit wakes the worker)."""
        if self._full_round:
            return 0.0
        if not self._retry_at:
            return 60.0
        return min(60.0, max(0.0, min(self._retry_at.values()) - time.monotonic()))
