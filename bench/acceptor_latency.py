"""Acceptor driver latency through the pty, with the real journal (fsync'd SQLite).

    python -m bench.acceptor_latency [--notes 200] [--poll-ms 100]

Measured at the simulated unit (the wire): ESCROW reply written → STACK-2 received (the
decision, including the durable escrow record), and VEND VALID reply written → ACK received
(including the durable stacked write). Goals: p99 < 10 ms and < 15 ms.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from pathlib import Path

from bench.stats import describe_ms, percentile
from hardware.id003.codes import Command, Status
from hardware.id003.driver import DriverConfig, Id003Acceptor
from hardware.id003.protocol import ProtocolConfig
from hardware.id003.sim.device import SimulatedDevice, Timing
from hardware.id003.sim.simulator import AcceptorSimulator
from tests.support.common import accepting_journal


def _pairs(sim: AcceptorSimulator, reply: int, command: int) -> list[float]:
    """Delays from each ``reply`` the unit sent to the next ``command`` the host sent."""
    delays, sent_at = [], None
    for entry in sim.trace:
        if entry.direction == "tx" and entry.frame.code == reply and sent_at is None:
            sent_at = entry.at
        elif entry.direction == "rx" and entry.frame.code == command and sent_at is not None:
            delays.append(entry.at - sent_at)
            sent_at = None
    return delays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=200)
    parser.add_argument("--poll-ms", type=int, default=100)
    args = parser.parse_args()
    values = [1000, 2000, 5000, 10000]
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as tmp:
        df = subprocess.run(["df", "-T", tmp], capture_output=True, text=True).stdout
        fs_type = df.splitlines()[-1].split()[1] if df else "?"
        timing = Timing(accepting=0.05, stack_2=0.05, stacked=0.05, returning=0.05)
        sim = AcceptorSimulator(SimulatedDevice(timing=timing), link=str(Path(tmp) / "acc"))
        sim.start()
        journal = accepting_journal(Path(tmp) / "journal.sqlite3")
        ledger = journal.notes
        config = DriverConfig(protocol=ProtocolConfig(poll_interval=args.poll_ms / 1000))
        driver = Id003Acceptor(sim.path, ledger, config)
        driver.start()
        assert driver.wait_online(10), "driver did not come online"
        driver.enable()
        sim.wait_for(lambda d: not d.inhibited, 5)
        started = time.monotonic()
        for i in range(args.notes):
            assert sim.wait_for(lambda d: not d.busy, 10)
            assert sim.insert(values[i % len(values)])
        assert sim.wait_for(lambda d: not d.busy and len(d.counters.stacked) == args.notes, 10)
        elapsed = time.monotonic() - started
        driver.stop()
        sim.stop()
        assert ledger.stacked_values() == sim.stacked, "ledger and cash box disagree"
        decision = _pairs(sim, Status.ESCROW, Command.STACK_2)
        ack = _pairs(sim, Status.VEND_VALID, Command.ACK)
        journal.close()
    print(f"acceptor latency: {args.notes} notes in {elapsed:.1f} s, poll {args.poll_ms} ms,")
    print(f"  ledger: SQLite WAL synchronous=FULL on {fs_type}")
    print(f"  ESCROW → STACK-2 on the wire:  {describe_ms(decision)}  (goal p99 < 10 ms)")
    print(f"  VEND VALID → ACK on the wire:  {describe_ms(ack)}  (goal p99 < 15 ms)")
    ok = percentile(decision, 99) < 0.010 and percentile(ack, 99) < 0.015
    print(f"  goals {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
