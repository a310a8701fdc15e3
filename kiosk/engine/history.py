"""The member's history from the wallet, turned into the session's history events."""

from __future__ import annotations

import logging

from kiosk.core.events import HistoryEntry, HistoryFailed, HistoryLoaded, LoadHistory
from kiosk.wallet.client import WalletClient
from kiosk.wallet.errors import WalletError
from kiosk.wallet.models import Transaction

log = logging.getLogger("paykiosk.history")

PAGE_SIZE = 6  # one page is one screen (screens/history.py shows up to 6 lines)
_MONEY_OUT = {"payment", "exchange_outflow", "expire"}


def entry(transaction: Transaction, bucket: str) -> HistoryEntry:
    """One transaction as the member sees it: money out is negative."""
    sign = -1 if transaction.type in _MONEY_OUT else 1
    return HistoryEntry(
        done_at=transaction.done_at,
        kind=transaction.type,
        bucket=bucket,
        amount=sign * transaction.money_amount,
        points=sign * transaction.point_amount,
    )


async def load_history(
    wallet: WalletClient, moneys: dict[str, str], load: LoadHistory
) -> HistoryLoaded | HistoryFailed:
    """One page of one money's history, newest first. Wallet trouble is a
    :class:`HistoryFailed` (the session goes on), never an exception."""
    try:
        page = await wallet.history(
            load.user_id, moneys[load.bucket], per_page=PAGE_SIZE, cursor=load.cursor
        )
    except WalletError as error:
        log.warning("history of %s failed: %s", load.bucket, type(error).__name__)
        return HistoryFailed(load.token, type(error).__name__)
    entries = tuple(entry(t, load.bucket) for t in page.rows)
    # A full page may have more behind it; the wallet's cursor says where it goes on.
    more = page.next_page_cursor_id if entries else None
    return HistoryLoaded(load.token, entries, more)
