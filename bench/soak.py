"""Soak: many sessions through the real ``paykiosk --no-ui`` process, and note → credit latency.

    python -m bench.soak [--sessions 1000] [--members 20]

Real seams: acceptor simulator on a pty, FeliCa card emulator over nfcpy udp, wallet sandbox
over HTTPS. Prints sessions per minute, the kiosk's RSS after start-up and at the end (goal:
growth < 5 MB), and session finish → credit confirmed by the server (p50/p99, from the journal).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench.rig import no_ui_rig
from bench.stats import describe_ms
from hardware.felica.sim import EmulatedCard


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--members", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name, no_ui_rig(Path(tmp_name), args.members) as rig:
        kiosk, sim, card, sandbox = rig.kiosk, rig.sim, rig.card, rig.sandbox
        members, cards = rig.members, rig.cards
        kiosk.start()
        kiosk.wait_ready()
        assert kiosk.process is not None
        rss_start = rss_kb(kiosk.process.pid)
        started = time.monotonic()
        rss_warm = rss_start
        for i in range(args.sessions):
            if i == min(50, args.sessions // 2):
                rss_warm = rss_kb(kiosk.process.pid)
            assert sim.wait_for(lambda d: not d.busy and d.inhibited, 30)
            card.touch(EmulatedCard(cards[i % len(cards)]))
            assert sim.wait_for(lambda d: not d.inhibited, 30), kiosk.output[-10:]
            card.remove()
            assert sim.insert([1000, 2000, 5000, 10000][i % 4])
            assert sim.wait_for(lambda d, n=i + 1: len(d.counters.stacked) == n, 30)
        kiosk.wait_settled(timeout=120)
        elapsed = time.monotonic() - started
        rss_end = rss_kb(kiosk.process.pid)
        journal = kiosk.journal()
        rows = journal.db.query(
            "SELECT created_at, updated_at FROM credits WHERE state = 'confirmed' AND kind = 'cash'"
        )
        confirmed = [r["updated_at"] - r["created_at"] for r in rows]
        total = sum(sandbox.balance(m, "textbook") for m in members)
        matches = journal.cashbox.matches_notes()
        journal.close()
    assert total == sum(sim.stacked), "sandbox balances disagree with the cash box"
    print(
        f"soak: {args.sessions} sessions in {elapsed:.0f} s = "
        f"{args.sessions / elapsed * 60:.1f} sessions/min ({args.members} member cards)"
    )
    warm_at = min(50, args.sessions // 2)
    print(
        f"  kiosk RSS: {rss_start / 1024:.1f} MB after start-up, {rss_warm / 1024:.1f} MB after"
        f" {warm_at} sessions, {rss_end / 1024:.1f} MB at the end: growth"
        f" {(rss_end - rss_start) / 1024:+.1f} MB in all, {(rss_end - rss_warm) / 1024:+.1f} MB"
        f" after session {warm_at} (goal < 5 MB)"
    )
    print(f"  session finish → credit confirmed: {describe_ms(confirmed)}")
    print(f"  cash box ¥{sum(sim.stacked):,} = credited ¥{total:,}; ledger matches: {matches}")


if __name__ == "__main__":
    main()
