"""The README's demo runs: a member touches a card, charges a note, and it is credited."""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
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
    lines: queue.Queue[str] = queue.Queue()
    seen: list[str] = []
    threading.Thread(
        target=lambda: [lines.put(line) for line in demo.stdout],  # type: ignore[union-attr]
        daemon=True,
    ).start()

    def until(*texts: str, timeout: float = 40.0) -> None:
        """Read output until every one of ``texts`` has appeared (in any order)."""
        missing = set(texts)
        while missing:
            try:
                line = lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no {missing} in:\n{''.join(seen)}") from None
            seen.append(line)
            missing = {text for text in missing if text not in line}

    def say(command: str) -> None:
        demo.stdin.write(command + "\n")  # type: ignore[union-attr]
        demo.stdin.flush()  # type: ignore[union-attr]

    try:
        until("bill acceptor online", "card reader online")
        say("t1")
        until("生協 太郎: base ¥1,070")
        say("k")
        until("insert notes into textbook")
        time.sleep(0.5)  # the enable reaches the acceptor on its next poll; a hand is slower
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
