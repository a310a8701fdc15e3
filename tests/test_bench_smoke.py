"""The benchmarks still run and print their figures (a tiny run; no timing is asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_acceptor_latency_bench_prints_figures() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.acceptor_latency", "--notes", "4"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "ESCROW → STACK-2 on the wire:  n=4 p50=" in result.stdout
    assert "VEND VALID → ACK on the wire:  n=4 p50=" in result.stdout


def test_wallet_latency_bench_prints_figures() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.wallet_latency", "--calls", "5"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "top-up:          n=5 p50=" in result.stdout
    assert "card → wallets:  n=5 p50=" in result.stdout


def test_replay_bench_prints_figures() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.replay", "--credits", "30", "--members", "5"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "drained in" in result.stdout and "'confirmed': 30" in result.stdout


def test_soak_bench_prints_figures() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.soak", "--sessions", "2", "--members", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    assert "soak: 2 sessions in" in result.stdout and "ledger matches: True" in result.stdout
