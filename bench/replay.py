"""Replay after an outage: N pending credits in the journal drained to the wallet sandbox.

    python -m bench.replay [--credits 10000] [--members 500]

Goal: 10,000 credits delivered in < 60 s. Each credit: request_id journaled as sent (fsync),
top-up over TLS + AES, confirmation journaled (fsync).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from pathlib import Path

from kiosk.engine.delivery import Delivery, DeliveryPolicy
from kiosk.journal import Journal
from kiosk.sim.sandbox.seed import add_member
from kiosk.wallet.client import WalletClient
from tests.support.wallet import Sandbox, start_sandbox, stop_sandbox


def seed(sandbox: Sandbox, journal: Journal, credits: int, members: int) -> None:
    money = sandbox.moneys["textbook"]  # no per-member cap in the way of many small credits
    users = [
        add_member(sandbox.store, f"会員{i}", uuid.uuid4().hex[:16].upper(), {})
        for i in range(members)
    ]
    now = time.time()
    with journal.db.write() as tx:
        tx.executemany(
            "INSERT INTO credits (request_id, user_id, money_id, bucket, amount, created_at,"
            " updated_at) VALUES (?, ?, ?, 'textbook', 1000, ?, ?)",
            [(str(uuid.uuid4()), users[i % members], money, now, now) for i in range(credits)],
        )


async def drain(sandbox: Sandbox, journal: Journal, concurrency: int) -> float:
    async with WalletClient(sandbox.settings()) as wallet:
        delivery = Delivery(journal, wallet, DeliveryPolicy(concurrency=concurrency, batch=1000))
        started = time.perf_counter()
        while journal.credits.open_credits():
            await delivery.drain_once()
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--credits", type=int, default=10_000)
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sandbox = start_sandbox(Path(tmp) / "sandbox")
        journal = Journal(Path(tmp) / "journal.sqlite3", "B01")
        try:
            seed(sandbox, journal, args.credits, args.members)
            elapsed = asyncio.run(drain(sandbox, journal, args.concurrency))
            counts = journal.credits.counts()
            credited = sandbox.store.one(
                "SELECT COUNT(*) AS n, SUM(money_amount) AS total FROM transactions"
                " WHERE type = 'topup'"
            )
        finally:
            journal.close()
            stop_sandbox(sandbox)
    assert credited is not None
    print(
        f"replay: {args.credits} pending credits for {args.members} members, "
        f"{args.concurrency} members at a time"
    )
    print(
        f"  drained in {elapsed:.1f} s = {args.credits / elapsed:.0f} credits/s "
        f"(goal: 10,000 in < 60 s)"
    )
    print(f"  journal: {counts}; sandbox: {credited['n']} top-ups, ¥{credited['total']:,}")


if __name__ == "__main__":
    main()
