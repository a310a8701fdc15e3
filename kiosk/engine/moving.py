"""マネー移動 for the engine: journal the move, let delivery carry it out while the member waits a
few seconds, and tell the member how it stands; and, at their next touch, how earlier moves
ended. The money rules of the move are in the session (:class:`kiosk.core.session.Session`)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from kiosk.core.events import Member, MoveMoney, MoveNews, MoveOutcome, MoveRefusal, MoveSettled
from kiosk.engine.delivery import Delivery
from kiosk.engine.settings import EngineSettings
from kiosk.journal import Journal, JournalUnwritable
from kiosk.journal.records import Credit, CreditState
from kiosk.wallet.errors import (
    AccountClosed,
    AccountSuspended,
    BalanceNotEnough,
    LimitExceeded,
    error_class,
)

log = logging.getLogger("paykiosk.moving")


def refusal_of(error_type: str | None) -> MoveRefusal:
    """The member's reason for a wallet refusal type (as journaled), by the wallet client's
    own typing of it (:mod:`kiosk.wallet.errors`)."""
    kind = error_class(error_type or "")
    if kind is None:
        return MoveRefusal.NOT_ALLOWED
    if issubclass(kind, BalanceNotEnough):
        return MoveRefusal.NOT_ENOUGH
    if issubclass(kind, LimitExceeded):  # the target's cap or a transfer limit
        return MoveRefusal.OVER_CAP
    if issubclass(kind, AccountSuspended | AccountClosed):
        return MoveRefusal.ACCOUNT_STOPPED
    return MoveRefusal.NOT_ALLOWED


def move_receipt(kiosk_id: str, credit_id: int) -> str:
    """The member's receipt number of a move (staff find it as credit ``credit_id``)."""
    return f"{kiosk_id}-M{credit_id:06d}"


async def move_money(
    journal: Journal,
    delivery: Delivery,
    member: Member | None,
    move: MoveMoney,
    settings: EngineSettings,
    journal_failed: Callable[[JournalUnwritable], None],
) -> MoveSettled:
    """Journal ``move`` (its request id durable before any attempt), ask delivery to settle it
    and wait up to ``settings.settle_wait_s``. Never raises for wallet trouble: that is "being
    processed", and delivery goes on."""
    moneys = settings.moneys
    try:
        credit = journal.moves.open(
            move.user_id,
            (move.source, moneys[move.source]),
            (move.target, moneys[move.target]),
            move.amount,
        )
    except JournalUnwritable as error:
        log.error("a move could not be journaled: nothing sent, nothing moved")
        journal_failed(error)
        return MoveSettled(MoveOutcome.NOT_STARTED)
    settled = await delivery.settle(credit.id, settings.settle_wait_s)
    news = news_of(settled, journal.cases.kiosk_id)
    if news.outcome is MoveOutcome.BEING_PROCESSED:
        return MoveSettled(news.outcome, reference=news.reference)
    _told(journal, [settled.id])
    if news.outcome is MoveOutcome.REFUSED:
        return MoveSettled(news.outcome, news.refusal, reference=news.reference)
    wallets = member.wallets if member else {}
    source, target = wallets.get(move.source), wallets.get(move.target)
    return MoveSettled(
        MoveOutcome.MOVED,
        source_balance=source.money_balance - move.amount if source else None,
        target_balance=target.money_balance + move.amount if target else None,
        reference=news.reference,
    )


def news_of(credit: Credit, kiosk_id: str) -> MoveNews:
    """How a journaled move stands, as the member is told."""
    assert credit.source_bucket is not None
    reference = move_receipt(kiosk_id, credit.id)
    if credit.state is CreditState.CONFIRMED:
        outcome, refusal = MoveOutcome.MOVED, None
    elif credit.state is CreditState.REFUSED:
        outcome, refusal = MoveOutcome.REFUSED, refusal_of(credit.last_error)
        reference = credit.reference or reference  # a staff case's, if one was opened
    else:
        outcome, refusal = MoveOutcome.BEING_PROCESSED, None
    return MoveNews(
        credit.source_bucket, credit.bucket, credit.amount, outcome, reference, refusal, credit.id
    )


def earlier_moves(journal: Journal, user_id: str) -> tuple[MoveNews, ...]:
    """At a member's touch: their moves still being processed, and those that ended since they
    were last told (:func:`told` once the account is on screen: each is shown once)."""
    credits = journal.moves.of_member(user_id)
    return tuple(news_of(c, journal.cases.kiosk_id) for c in credits)


def told(journal: Journal, moves: tuple[MoveNews, ...]) -> None:
    """The member sees these moves now: the settled ones are not shown again."""
    settled = [m.credit_id for m in moves if m.outcome is not MoveOutcome.BEING_PROCESSED]
    _told(journal, [i for i in settled if i is not None])


def _told(journal: Journal, credit_ids: list[int]) -> None:
    try:
        journal.moves.told(credit_ids)
    except JournalUnwritable:  # shown once more at the next touch: harmless
        log.warning("could not record that the member was told about a move")
