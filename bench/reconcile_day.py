"""A day of N credits reconciled with the wallet sandbox's ledger.

    python -m bench.reconcile_day [--credits 1000] [--members 100]

Goal: a day of 1,000 credits in < 10 s. The credits are delivered to the sandbox first (real
top-ups); the figure is the reconciliation alone: the shop's day read from the wallet
(``GET /transactions-v2``, every page, over TLS + AES), matched to the journal, and journaled.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.replay import drain, seed
from kiosk.journal import Journal
from kiosk.ops.reconcile import reconcile_now, summary
from tests.support.wallet import start_sandbox, stop_sandbox

ZONE = "Asia/Tokyo"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--credits", type=int, default=1_000)
    parser.add_argument("--members", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sandbox = start_sandbox(Path(tmp) / "sandbox")
        journal = Journal(Path(tmp) / "journal.sqlite3", "B01")
        try:
            seed(sandbox, journal, args.credits, args.members)
            delivered = asyncio.run(drain(sandbox, journal, 8))
            day = datetime.now(ZoneInfo(ZONE)).date()
            buckets = {money: bucket for bucket, money in sandbox.moneys.items()}
            started = time.perf_counter()
            run = reconcile_now(journal, sandbox.settings(), day, ZONE, buckets, "bench")
            elapsed = time.perf_counter() - started
        finally:
            journal.close()
            stop_sandbox(sandbox)
    print(f"reconcile: a day of {args.credits} credits for {args.members} members")
    print(f"  (delivered to the sandbox first in {delivered:.1f} s)")
    print(f"  reconciled in {elapsed:.2f} s (goal: 1,000 credits in < 10 s)")
    print(f"  {summary(run)}")


if __name__ == "__main__":
    main()
