"""A real host process for restart tests: driver + journal, events as JSON lines.

    python -m tests.support.acceptor_host PORT LEDGER [--hang before-stacked|after-stacked]

``--hang`` freezes the process inside the ledger's stacked hook (before or after the durable
write), so a test can SIGKILL it at exactly that point of the money path.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path

from hardware.acceptor import AcceptorEvent, EventKind
from hardware.id003.driver import Id003Acceptor
from kiosk.journal.notes import JournalNotes
from tests.support.common import FAST_DRIVER, accepting_journal


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


if __name__ == "__main__":
    sys.exit(main())
