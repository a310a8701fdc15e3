"""The card latency benchmark still runs and prints its figures (a tiny run; no timing asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_card_latency_bench_prints_figures() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.card_latency", "--touches", "3", "--service-block"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "touch → event:   n=3 p50=" in result.stdout
    assert "answer → event:  n=3 p50=" in result.stdout
