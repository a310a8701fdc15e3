"""The README's demo runs: a member touches a card, charges a note, and it is credited."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_demo_charges_a_note_end_to_end(tmp_path: Path) -> None:
    demo = subprocess.Popen(
        [sys.executable, "-m", "kiosk", "--demo", "--data-dir", str(tmp_path)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert demo.stdin is not None and demo.stdout is not None
    lines: list[str] = []

    def until(text: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = demo.stdout.readline()  # type: ignore[union-attr]
            lines.append(line)
            if text in line:
                return
        raise AssertionError(f"no {text!r} in:\n{''.join(lines)}")

    def say(command: str) -> None:
        demo.stdin.write(command + "\n")  # type: ignore[union-attr]
        demo.stdin.flush()  # type: ignore[union-attr]

    try:
        until("bill acceptor online")
        say("t1")
        until("生協 太郎: base ¥1,070")
        say("k")
        until("insert notes into textbook")
        say("5")
        until("in ¥5,000")
        say("f")
        until("done: ¥5,000 credited to textbook, new balance ¥5,000")
        say("q")
        until("demo files:")
        assert demo.wait(20) == 0
    finally:
        if demo.poll() is None:
            demo.kill()
