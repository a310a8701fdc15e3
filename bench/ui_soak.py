"""Soak through the touch UI: many sessions with touches on the screens' buttons, and memory.

    python -m bench.ui_soak [--sessions 300] [--members 100]

In this process, as bench/ui_latency.py: ``kiosk.app.runner.run`` with the Kivy front (offscreen
SDL, 800×480, maxfps 20) against the wallet sandbox, the acceptor simulator and the card
emulator. Each session: a card event (the engine's ``card_touched``), then touches
(kivy.tests.common.UnitTestTouch) on チャージ, a money, one or two notes fed, 完了, the result,
OK. Prints sessions per minute and this process's RSS when ready (the screens drawn once at
start), then 1.5 s after sessions 1 and 50 and the last one are over (the kiosk trims its heap
once idle) (goal: growth < 10 MB; every view rebuilds its screen's widgets, so a Label texture
leak such as kivy#2215 would show here), and checks the ledger: the cash fed is what the
sandbox credited and the journal's cash box matches its notes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from bench.rig import endless_simulator
from bench.soak import rss_kb
from bench.ui_latency import front_made, offscreen_kivy, quiet
from kiosk.core.events import CreditOutcome
from kiosk.core.session import State
from kiosk.journal import Journal
from tests.support.wallet import start_sandbox, stop_sandbox

if TYPE_CHECKING:
    from tests.support.ui import KioskUI

BUCKETS = ("base", "cafeteria", "textbook")
MONEY = {"base": "ベース", "cafeteria": "学食", "textbook": "教科書"}
FIRST_NOTES = (1_000, 2_000, 5_000)
WARM = 50  # RSS is taken again after this session


async def one_session(ui: KioskUI, card: str, bucket: str, notes: list[int]) -> None:
    """Card, チャージ, the money, the notes, 完了, the result, OK: back on the attract screen."""
    assert ui.engine is not None
    await ui.sim_until(lambda d: not d.busy and d.inhibited, "the acceptor idle", 30)
    ui.engine.inbox.card_touched(card)
    await ui.wait_shown(State.ACCOUNT, 30)
    await ui.press("チャージ")
    await ui.wait_shown(State.CHOOSE_MONEY)
    await ui.press(MONEY[bucket])
    await ui.wait_shown(State.ACCEPTING)
    total = 0
    for note in notes:
        await ui.feed(note)
        total += note
        await ui.wait_label(f"¥{total:,}")
    await ui.press("完了")
    view = await ui.wait_state(State.DONE, 30)
    assert view.outcome is CreditOutcome.CONFIRMED and view.credited == total, view
    await ui.wait_shown(State.DONE)
    await ui.press("OK")
    await ui.wait_shown(State.IDLE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=300)
    parser.add_argument("--members", type=int, default=100)
    args = parser.parse_args()
    offscreen_kivy()
    from tests.support.ui import KioskUI

    pid = os.getpid()
    rss: dict[str, int] = {}  # kB: ready, first (after session 1), warm, end
    elapsed: list[float] = []  # after session 1
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        sandbox = start_sandbox(tmp / "sandbox")
        sim = endless_simulator(tmp / "acc")
        sim.trace_limit = 0  # the simulator's wire trace would grow this process's RSS
        try:
            members = [sandbox.member({}) for _ in range(args.members)]
            cards = [sandbox.card_of(m) for m in members]
            (tmp / "kiosk").mkdir()
            ui = KioskUI(tmp / "kiosk", sim, sandbox)

            async def scenario(ui: KioskUI) -> None:
                await front_made(ui)
                await ui.ready(30)
                rss["ready"] = rss_kb(pid)
                started = time.monotonic()
                for i in range(args.sessions):
                    notes = [FIRST_NOTES[i % 3]] + [1_000] * (i % 2)
                    await one_session(ui, cards[i % len(cards)], BUCKETS[i % 3], notes)
                    del ui.views[:-1]  # the harness's record of views: not the kiosk's memory
                    if i in (0, min(WARM, args.sessions) - 1, args.sessions - 1):
                        await asyncio.sleep(1.5)  # idle as a kiosk: its heap is trimmed after 1 s
                    if i == 0:
                        rss["first"], started = rss_kb(pid), time.monotonic()
                    if i + 1 == min(WARM, args.sessions):
                        rss["warm"] = rss_kb(pid)
                rss["end"] = rss_kb(pid)
                elapsed.append(time.monotonic() - started)

            with quiet():
                status = ui.run(scenario, "bench-soak", timeout=120 + 30 * args.sessions)
            assert status == 0, f"the kiosk ended with {status}"
            credited = sum(sandbox.balance(m, b) for m in members for b in BUCKETS)
            fed = sum(sim.stacked)
            journal = Journal(ui.config.journal_path, ui.config.kiosk.id)
            try:
                row = journal.db.one(
                    "SELECT COUNT(*) AS n, COALESCE(SUM(amount), 0) AS total FROM credits"
                    " WHERE state = 'confirmed' AND kind = 'cash'"  # a move is no cash
                )
                matches = journal.cashbox.matches_notes()
            finally:
                journal.close()
        finally:
            sim.stop()
            stop_sandbox(sandbox)
    assert row is not None
    after, seconds = args.sessions - 1, elapsed[0]
    rate = f"{after / seconds * 60:.1f} sessions/min" if after else "one session"
    print(
        f"ui soak: {args.sessions} sessions through the touch UI, {seconds:.0f} s after the"
        f" first = {rate} ({args.members} member cards, offscreen SDL 800×480)"
    )
    warm = min(WARM, args.sessions)
    mb = {k: v / 1024 for k, v in rss.items()}
    print(
        f"  RSS: {mb['ready']:.1f} MB ready, {mb['first']:.1f} MB after session 1,"
        f" {mb['warm']:.1f} MB after session {warm}, {mb['end']:.1f} MB at the end: growth"
        f" {mb['end'] - mb['first']:+.1f} MB after session 1, {mb['end'] - mb['warm']:+.1f} MB"
        f" after session {warm} (goal < 10 MB)"
    )
    print(
        f"  cash fed ¥{fed:,} = credited at the sandbox ¥{credited:,}: {fed == credited};"
        f" journal: {row['n']} credits confirmed, ¥{row['total']:,}; ledger matches: {matches}"
    )
    assert fed == credited == row["total"], "the cash fed, the sandbox and the journal disagree"


if __name__ == "__main__":
    main()
