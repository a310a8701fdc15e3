"""Credit delivery against the sandbox: one member's trouble never holds up another's."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from kiosk.delivery import Delivery
from kiosk.journal import Journal
from kiosk.journal.records import Credit
from kiosk.wallet.client import WalletClient
from tests.engine_support import FAST_DELIVERY
from tests.wallet_support import FAST_RETRY, Sandbox


def _credit(journal: Journal, wallet: Sandbox, user: str, amount: int) -> Credit:
    session = journal.sessions.open("T…00", user, "n", "base", wallet.moneys["base"])
    journal.gate.open(session, 10**6)
    note = journal.notes.escrow(0x61, amount)
    assert note is not None
    journal.notes.stacked(note.id)
    journal.gate.close()
    credit = journal.sessions.finish(session, "finished")
    assert credit is not None
    return credit


def test_one_members_backlog_does_not_block_others(tmp_path: Path, wallet: Sandbox) -> None:
    journal = Journal(tmp_path / "journal.sqlite3", "K01")
    stuck, fine = wallet.member(), wallet.member()
    first, second = _credit(journal, wallet, stuck, 1000), _credit(journal, wallet, stuck, 2000)
    other = _credit(journal, wallet, fine, 5000)
    wallet.faults(unavailable_for=stuck)

    async def go() -> None:
        async with WalletClient(wallet.settings(), FAST_RETRY) as client:
            delivery = Delivery(journal, client, FAST_DELIVERY)
            await delivery.drain_once()
            states = {c.id: journal.credits.get(c.id).state for c in (first, second, other)}
            # the other member is served; the stuck member's first credit waits with an unknown
            # outcome, and their second is not sent ahead of it
            assert states == {first.id: "sent", second.id: "pending", other.id: "confirmed"}
            wallet.faults(unavailable_for="")
            deadline = time.monotonic() + 10
            while journal.credits.open_credits() and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
                await delivery.drain_once()

    asyncio.run(go())
    assert journal.credits.open_credits() == []
    assert wallet.balance(stuck, "base") == 3000 and wallet.balance(fine, "base") == 5000
    done = [journal.credits.get(c.id).transaction_id for c in (first, second)]
    order = [
        wallet.store.one("SELECT seq FROM transactions WHERE id = ?", (t,))["seq"] for t in done
    ]
    assert order == sorted(order)  # the stuck member's credits went in order
    journal.close()
