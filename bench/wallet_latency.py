"""Wallet round trips on loopback through TLS + the AES envelope, against the sandbox process.

    python -m bench.wallet_latency [--calls 200]

Goals: top-up p50 < 60 ms; card → wallets (find by card, then the member's wallets) p50 < 150 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from pathlib import Path

from bench.stats import describe_ms
from kiosk.wallet.client import WalletClient
from tests.support.wallet import Sandbox, start_sandbox, stop_sandbox


async def measure(sandbox: Sandbox, calls: int) -> tuple[list[float], list[float]]:
    info = sandbox.info
    member = info["members"][0]
    base = info["moneys"]["base"]
    topups, lookups = [], []
    async with WalletClient(sandbox.settings()) as client:
        await client.ping()  # connection set up once, as the kiosk keeps it
        for _ in range(calls):
            started = time.perf_counter()
            account = await client.find_account_by_card(base, member["card_idm"])
            assert account is not None
            wallets = await client.user_accounts(account.user.id)
            lookups.append(time.perf_counter() - started)
            assert len(wallets) == 3
            started = time.perf_counter()
            await client.topup(
                request_id=str(uuid.uuid4()),
                customer_id=member["user_id"],
                private_money_id=info["moneys"]["textbook"],
                money_amount=1,
            )
            topups.append(time.perf_counter() - started)
    return topups, lookups


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sandbox = start_sandbox(Path(tmp))
        try:
            started = time.monotonic()
            topups, lookups = asyncio.run(measure(sandbox, args.calls))
            elapsed = time.monotonic() - started
        finally:
            stop_sandbox(sandbox)
    print(
        f"wallet latency: {args.calls} rounds in {elapsed:.1f} s (HTTPS mutual TLS + AES "
        "envelope, sandbox SQLite WAL synchronous=NORMAL, loopback)"
    )
    print(f"  top-up:          {describe_ms(topups)}  (goal p50 < 60 ms)")
    print(f"  card → wallets:  {describe_ms(lookups)}  (goal p50 < 150 ms)")


if __name__ == "__main__":
    main()
