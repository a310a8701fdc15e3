"""The benchmarks still run and print their figures (tiny runs; no timing is asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

BENCHES = {
    "acceptor_latency": (
        ["--notes", "4"],
        ["ESCROW → STACK-2 on the wire:  n=4 p50=", "VEND VALID → ACK on the wire:  n=4 p50="],
    ),
    "wallet_latency": (
        ["--calls", "5"],
        ["top-up:          n=5 p50=", "card → wallets:  n=5 p50="],
    ),
    "card_latency": (
        ["--touches", "3", "--service-block"],
        ["touch → event:   n=3 p50=", "answer → event:  n=3 p50="],
    ),
    "crash_space": (
        ["--scenario", "move", "--every", "100", "--seed", "3"],
        ["move    recorded", "killed before step 1 ", "; seed 3; 0 failed"],
    ),
    "money_model": (
        ["--examples", "5", "--steps", "10", "--seed", "1"],
        ["money model: 5 examples", "crashes:", "every invariant held (seed 1)"],
    ),
    "replay": (["--credits", "30", "--members", "5"], ["drained in", "'confirmed': 30"]),
    "reconcile_day": (
        ["--credits", "20", "--members", "4"],
        ["reconciled in", "agreed: 20 matched of 20 in the wallet and 20 in the journal"],
    ),
    "soak": (
        ["--sessions", "2", "--members", "2"],
        ["soak: 2 sessions in", "ledger matches: True"],
    ),
    "ui_idle": (["--seconds", "3", "--settle", "1"], ["idle 3 s: cpu ", "% of one core, rss "]),
    "ui_latency": (
        ["--count", "3"],
        ["card event → account drawn:   n=3 p50=", "note counted → total drawn:   n=3 p50="],
    ),
    "storage_wear": (
        ["--idle-s", "2", "--sessions", "2", "--notes", "1"],
        ["storage wear of the real paykiosk --no-ui", "KiB written per session"],
    ),
    "voice_latency": (
        ["--count", "7"],
        ["view change → first sample played (ja), 7 changes, 0 unheard", "goal p50 < 250 ms"],
    ),
    "start_time": (
        ["--runs", "1", "--shares", "none"],
        ["--no-ui: engine ready            median", "UI: attract drawn + in service   median"],
    ),
    "ui_soak": (
        ["--sessions", "2", "--members", "2"],
        ["ui soak: 2 sessions through the touch UI", "MB after session 1", ": True; journal: 2"],
    ),
}


@pytest.mark.parametrize("bench", BENCHES)
def test_bench_prints_its_figures(bench: str) -> None:
    args, expected = BENCHES[bench]
    result = subprocess.run(
        [sys.executable, "-m", f"bench.{bench}", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr  # say why, not only the status
    for text in expected:
        assert text in result.stdout, result.stdout
