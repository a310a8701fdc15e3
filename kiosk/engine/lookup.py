"""Card → member → wallets, turned into the session's lookup result events."""

from __future__ import annotations

import logging

from hardware.card import mask_card_id
from kiosk.core.events import Member, MemberFound, MemberSuspended, MemberUnknown, WalletDown
from kiosk.engine.moving import earlier_moves
from kiosk.journal import Journal
from kiosk.journal.records import CreditKind
from kiosk.wallet.client import WalletClient
from kiosk.wallet.errors import RequestExpired, WalletError

log = logging.getLogger("paykiosk.lookup")

LookupResult = MemberFound | MemberUnknown | MemberSuspended | WalletDown


async def look_up_member(
    wallet: WalletClient,
    journal: Journal,
    moneys: dict[str, str],
    lookup_money: str,
    card_id: str,
) -> LookupResult:
    """Find the member a card belongs to and load their wallets. Never takes cash: any
    wallet trouble is reported as :class:`WalletDown`."""
    try:
        account = await wallet.find_account_by_card(moneys[lookup_money], card_id)
        if account is None:
            log.info("card %s: no member", mask_card_id(card_id))
            return MemberUnknown()
        if not account.active:
            log.info("card %s: account %s", mask_card_id(card_id), account.status)
            return MemberSuspended(account.user.name)
        accounts = await wallet.user_accounts(account.user.id)
    except RequestExpired as expired:  # the wallet is there: our clock is wrong
        log.error("card %s: lookup refused: %s", mask_card_id(card_id), expired)
        return WalletDown(expired.clock_note)
    except WalletError as error:
        log.warning("card %s: lookup failed: %s", mask_card_id(card_id), type(error).__name__)
        return WalletDown(type(error).__name__)
    buckets = {money_id: bucket for bucket, money_id in moneys.items()}
    wallets = {buckets[a.private_money.id]: a for a in accounts if a.private_money.id in buckets}
    waiting = journal.credits.open_credits(account.user.id)
    pending = sum(c.amount for c in waiting if c.kind is CreditKind.CASH)
    on_its_way: dict[str, int] = {}
    for credit in waiting:
        on_its_way[credit.bucket] = on_its_way.get(credit.bucket, 0) + credit.amount
    for bucket, amount in journal.sessions.uncredited(account.user.id).items():
        pending += amount  # stacked after its session closed: a credit at the next round
        on_its_way[bucket] = on_its_way.get(bucket, 0) + amount
    moves = earlier_moves(journal, account.user.id)
    member = Member(account.user.id, account.user.name, wallets, pending, moves, on_its_way)
    return MemberFound(member)
