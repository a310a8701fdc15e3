"""A real host process for restart tests: driver + journal, events as JSON lines; and
``HostProcess``, the test's handle on one.

    python -m tests.support.acceptor_host PORT LEDGER [--hang before-stacked|after-stacked]

``--hang`` freezes the process inside the ledger's stacked hook (before or after the durable
write), so a test can SIGKILL it at exactly that point of the money path.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from hardware.acceptor import AcceptorEvent, EventKind
from hardware.id003.driver import Id003Acceptor
from kiosk.journal.notes import JournalNotes
from tests.support.common import FAST_DRIVER, accepting_journal

ROOT = Path(__file__).resolve().parents[2]


class HangingLedger(JournalNotes):
    hang: str | None = None

    def stacked(self, note_id: int) -> None:
        if self.hang == "before-stacked":
            _say({"kind": "hanging", "at": "before-stacked"})
            threading.Event().wait()
        super().stacked(note_id)
        if self.hang == "after-stacked":
            _say({"kind": "hanging", "at": "after-stacked"})
            threading.Event().wait()


def _say(message: dict[str, object]) -> None:
    print(json.dumps(message), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("port")
    parser.add_argument("ledger")
    parser.add_argument("--hang", choices=["before-stacked", "after-stacked"])
    args = parser.parse_args()
    journal = accepting_journal(Path(args.ledger))
    ledger = HangingLedger(journal.db, journal.gate, journal.cases)
    ledger.hang = args.hang
    driver = Id003Acceptor(args.port, ledger, FAST_DRIVER)

    def report(event: AcceptorEvent) -> None:
        _say({"kind": event.kind.value, "value": event.value, "detail": event.detail})
        if event.kind is EventKind.ONLINE:
            driver.enable()

    driver.add_listener(report)
    driver.start()
    while True:
        time.sleep(3600)


class HostProcess:
    """``tests.support.acceptor_host`` in its own process; its JSON event lines are queued."""

    def __init__(self, port: str, ledger: Path, hang: str | None = None) -> None:
        command = [sys.executable, "-m", "tests.support.acceptor_host", port, str(ledger)]
        if hang:
            command += ["--hang", hang]
        self.process = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, text=True, env={**os.environ}
        )
        self.lines: queue.Queue[dict[str, object]] = queue.Queue()
        self.seen: list[dict[str, object]] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(json.loads(line))

    def wait(self, kind: str, timeout: float = 10.0) -> dict[str, object]:
        while True:
            try:
                message = self.lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"host never reported {kind}; saw {self.seen}") from None
            self.seen.append(message)
            if message["kind"] == kind:
                return message

    def kinds(self) -> list[str]:
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return [str(m["kind"]) for m in self.seen]

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(5)


if __name__ == "__main__":
    sys.exit(main())
