"""Storage wear: bytes the kiosk makes the kernel write to storage, idle and per session.

    python -m bench.storage_wear [--idle-s 620] [--sessions 40] [--notes 3]

The real ``paykiosk --no-ui`` process on the harness's devices (acceptor simulator on a pty,
card emulator over nfcpy udp, wallet sandbox over HTTPS, all outside the kiosk), its journal on
this machine's disk. ``write_bytes`` of ``/proc/PID/io`` counts what the process caused to be
sent to the storage layer (page-cache writeback included, the file system's own journal and the
card's write amplification not): read at ready, after ``--idle-s`` seconds with nobody there
(the health probes, the journal's quick check every 10 minutes: 620 s sees one), and after
``--sessions`` charge sessions of ``--notes`` notes each (touch, notes, the idle finish, the
credit confirmed). Also the journal's files' growth per session. Prints per idle day and per
session, and what a busy day (300 sessions) adds up to.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

from bench.rig import no_ui_rig
from hardware.felica.sim import EmulatedCard

DAY_S = 24 * 3600
BUSY_DAY = 300  # sessions


def write_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("write_bytes:"):
            return int(line.split()[1])
    raise RuntimeError("no write_bytes in /proc/PID/io")


def journal_bytes(data_dir: Path) -> int:
    """The journal's size as SQLite sees it (its pages, the WAL's committed ones included: the
    WAL file itself is reused, not grown, once checkpointed)."""
    uri = f"file:{data_dir / 'journal.sqlite3'}?mode=ro"
    with sqlite3.connect(uri, uri=True) as db:
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        size = db.execute("PRAGMA page_size").fetchone()[0]
    return int(pages) * int(size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle-s", type=float, default=620.0)
    parser.add_argument("--sessions", type=int, default=40)
    parser.add_argument("--notes", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name, no_ui_rig(Path(tmp_name), 10) as rig:
        kiosk, sim, card, cards = rig.kiosk, rig.sim, rig.card, rig.cards
        data = rig.config.parent / "data"
        kiosk.start()
        kiosk.wait_ready()
        assert kiosk.process is not None
        pid = kiosk.process.pid
        time.sleep(5.0)  # the start's own writes settled (the first health probes)
        ready_bytes = write_bytes(pid)
        time.sleep(args.idle_s)
        idle_bytes = write_bytes(pid) - ready_bytes
        before_sessions, journal_before = write_bytes(pid), journal_bytes(data)
        for i in range(args.sessions):
            assert sim.wait_for(lambda d: not d.busy and d.inhibited, 30)
            card.touch(EmulatedCard(cards[i % len(cards)]))
            assert sim.wait_for(lambda d: not d.inhibited, 30), kiosk.output[-10:]
            card.remove()
            for n in range(args.notes):
                assert sim.wait_for(lambda d: not d.busy and not d.inhibited, 30)
                assert sim.insert(1000)
                done = i * args.notes + n + 1
                assert sim.wait_for(lambda d, k=done: len(d.counters.stacked) == k, 30)
        kiosk.wait_settled(timeout=120)
        time.sleep(2.0)
        session_bytes = write_bytes(pid) - before_sessions
        journal_after = journal_bytes(data)
    per_day = idle_bytes / args.idle_s * DAY_S
    per_session = session_bytes / args.sessions
    growth = (journal_after - journal_before) / args.sessions
    print("storage wear of the real paykiosk --no-ui (write_bytes of /proc/PID/io):")
    print(
        f"  idle {args.idle_s:.0f} s: {idle_bytes / 1024:.1f} KiB = "
        f"{per_day / 2**20:.2f} MiB per idle day"
    )
    print(
        f"  {args.sessions} sessions of {args.notes} notes: {per_session / 1024:.1f} KiB written"
        f" per session; journal +{growth / 1024:.2f} KiB per session"
    )
    busy = per_day + BUSY_DAY * per_session
    print(
        f"  a busy day ({BUSY_DAY} sessions): {busy / 2**20:.1f} MiB written, "
        f"{busy * 365 / 2**30:.1f} GiB a year; journal +{BUSY_DAY * growth * 365 / 2**20:.0f} MiB"
        " a year"
    )


if __name__ == "__main__":
    main()
