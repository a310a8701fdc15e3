"""Console demo: the ID-003 simulator on a pty, the real driver on its path, a SQLite ledger.

Type a key and Enter to feed notes or cause faults; events print as the driver reports them.
Grows into the full kiosk demo as the engine lands.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from hardware.acceptor import AcceptorEvent
from hardware.id003.driver import Id003Acceptor
from hardware.id003.sim_console import HELP, run_command
from hardware.id003.simulator import AcceptorSimulator
from kiosk.journal import Journal

KEYS = {
    "1": "insert 1000",
    "2": "insert 2000",
    "5": "insert 5000",
    "0": "insert 10000",
    "x": "insert unknown",
    "j": "jam before",
    "c": "clear",
    "p": "power-cut 1",
    "u": "unplug 2",
    "s": "status",
}

BANNER = """\
Pay Spot console demo — bill acceptor
  1 2 5 0  feed a ¥1,000 / ¥2,000 / ¥5,000 / ¥10,000 note     x  a note the unit cannot read
  r        toggle: stack notes / hand every note back          i  toggle: enabled / inhibited
  j        jam the next note      c  clear a jam                o  open / close the cash box
  p        cut the acceptor's power for 1 s                     u  unplug the adapter for 2 s
  s        status                 ?  all simulator commands     q  quit
"""


def run(data_dir: str | None = None) -> int:
    directory = Path(data_dir or tempfile.mkdtemp(prefix="paykiosk-demo-"))
    directory.mkdir(parents=True, exist_ok=True)
    state = {"stack": True, "enabled": True, "stacker_open": False}
    journal = Journal(directory / "journal.sqlite3", "DEMO")
    session = journal.sessions.open("DEMO…00", "demo-user", "デモ", "base", "demo-money")
    journal.gate.open(session, 10**9)
    sim = AcceptorSimulator(link=str(directory / "acceptor")).start()
    acceptor = Id003Acceptor(sim.path, journal.notes)
    started = time.monotonic()

    def show(event: AcceptorEvent) -> None:
        print(f"  [{event.at - started:7.2f}s] {_describe(event)}", flush=True)

    acceptor.add_listener(show)
    acceptor.start()
    print(BANNER)
    print(f"Simulator on {sim.path}; journal {journal.db.path}", flush=True)
    if acceptor.wait_online(10):
        acceptor.enable()
    try:
        while True:
            try:
                key = input().strip()
            except EOFError:
                break
            if key in ("q", "quit"):
                break
            answer = _key(key, sim, acceptor, state)
            if key == "r":
                journal.gate.open(session, 10**9) if state["stack"] else journal.gate.close()
            if answer:
                print(f"  > {answer}", flush=True)
    finally:
        acceptor.stop()
        sim.stop()
        total = journal.notes.stacked_values()
        print(f"Counted {len(total)} notes, ¥{sum(total):,} (journal); cash box: {sim.stacked}")
        journal.close()
    return 0


def _key(key: str, sim: AcceptorSimulator, acceptor: Id003Acceptor, state: dict[str, bool]) -> str:
    if key == "?":
        return HELP
    if key == "r":
        state["stack"] = not state["stack"]
        return "stacking notes" if state["stack"] else "handing every note back"
    if key == "i":
        state["enabled"] = not state["enabled"]
        if state["enabled"]:
            acceptor.enable()
        else:
            acceptor.inhibit()
        return "enabled" if state["enabled"] else "inhibited"
    if key == "o":
        state["stacker_open"] = not state["stacker_open"]
        return run_command(sim, "stacker " + ("open" if state["stacker_open"] else "close"))
    try:
        return run_command(sim, KEYS.get(key, key))
    except ValueError as error:
        return str(error)


def _describe(event: AcceptorEvent) -> str:
    text = event.kind.value.replace("_", " ")
    if event.value is not None:
        text += f" ¥{event.value:,}"
    if event.detail:
        text += f" ({event.detail})"
    return text
