"""Card touch → event latency through the PC/SC backend: pcscd (started here), vsmartcard's
virtual reader and a virtual FeliCa card.

    python -m bench.pcsc_latency [--touches 60] [--service-block] [--seed 1]

Run as root on a machine with pcscd and vsmartcard-vpcd installed and no pcscd running. Each
touch connects a new card at a random moment and measures, at the listener:
  touch → event      the card connected to the virtual reader → TOUCHED delivered. pcscd polls
                     a reader without an interrupt endpoint (vpcd) every 400 ms, so this is
                     mostly the wait for that poll (an RC-S300 reports a card itself).
  first APDU → event the reader's first command to the card → TOUCHED: the backend's own work
                     (connect, GET DATA for IDm and PMm, the optional block read, dispatch).
"""

from __future__ import annotations

import argparse
import queue
import random
import subprocess
import tempfile
import time
from pathlib import Path

from bench.stats import describe_ms
from hardware.card import CardEvent, CardEventKind, ServiceBlock
from hardware.pcsc.reader import PcscConfig, PcscReader
from hardware.pcsc.sim import VirtualCardOnReader, VirtualFelica

SERVICE = 0x1A8B
POLL = 0.4  # pcscd's poll of a reader without an interrupt endpoint


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--touches", type=int, default=60)
    parser.add_argument("--service-block", action="store_true", help="read the id from a block")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    log = Path(tempfile.mkdtemp(prefix="pcscd-")) / "pcscd.log"
    with log.open("wb") as out:
        daemon = subprocess.Popen(["/usr/sbin/pcscd", "--foreground"], stdout=out, stderr=out)
    where = ServiceBlock(SERVICE, start=0, end=8) if args.service_block else None
    reader = PcscReader(PcscConfig("Virtual PCD 00 00", min_interval=0.0, service_block=where))
    touched: queue.Queue[CardEvent] = queue.Queue()
    reader.add_listener(lambda e: touched.put(e) if e.kind is CardEventKind.TOUCHED else None)
    try:
        reader.start()
        assert reader.wait_online(15), f"no virtual reader: {log.read_text()[-500:]}"
        to_event, apdu_to_event = [], []
        started = time.monotonic()
        for i in range(args.touches):
            time.sleep(rng.uniform(0, POLL))  # land anywhere in pcscd's poll cycle
            idm = f"{0x0123_0000_0000_0000 + i:016X}"
            block = f"M{i:07d}".encode() + bytes(8)
            on = VirtualCardOnReader(VirtualFelica(idm, blocks={SERVICE: [block]}))
            event = touched.get(timeout=10)
            assert event.idm == idm, "the event is for another card"
            assert not where or event.card_id == f"M{i:07d}", "wrong member number"
            assert on.first_apdu_at is not None
            to_event.append(event.at - on.connected_at)
            apdu_to_event.append(event.at - on.first_apdu_at)
            on.remove()
            time.sleep(0.5)  # pcscd sees the card go at its next poll
        elapsed = time.monotonic() - started
    finally:
        reader.stop()
        daemon.terminate()
        daemon.wait(10)
    mode = f"member number from service {SERVICE:04X}" if where else "IDm"
    print(f"pcsc latency: {args.touches} touches in {elapsed:.1f} s via pcscd + vpcd, id = {mode}")
    print(f"  touch → event:      {describe_ms(to_event)}  (pcscd polls vpcd every 400 ms)")
    print(f"  first APDU → event: {describe_ms(apdu_to_event)}")


if __name__ == "__main__":
    main()
