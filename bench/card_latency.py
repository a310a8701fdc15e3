"""Card touch → event latency through real nfcpy: a reader and an emulated card on udp loopback.

    python -m bench.card_latency [--touches 120] [--service-block] [--seed 1]

Each touch puts a new card on the reader at a random moment of the reader's poll cycle and
measures, at the listener:
  touch → event   the card entered the field → TOUCHED delivered. nfcpy's udp driver waits up
                  to 1 s for each poll's answer, so this is mostly the wait for the next poll
                  (on an RC-S380 the poll period is ReaderConfig.poll_interval, 0.1 s).
  answer → event  the card's first reply to the reader → TOUCHED delivered: the reader's own
                  work (activation, the optional block read, dispatch).
"""

from __future__ import annotations

import argparse
import queue
import random
import time

from bench.stats import describe_ms
from hardware.card import CardEvent, CardEventKind
from hardware.felica.reader import FelicaReader, ReaderConfig, ServiceBlock
from hardware.felica.sim import CardEmulator, EmulatedCard, free_udp_port, number_block

SERVICE = 0x1A8B
UDP_POLL = 1.0  # seconds a udp poll waits for an answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--touches", type=int, default=120)
    parser.add_argument("--service-block", action="store_true", help="read the id from a block")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    where = ServiceBlock(SERVICE, start=0, end=8) if args.service_block else None
    card = CardEmulator(free_udp_port())
    config = ReaderConfig(
        device=card.device_path, targets=("212F",), min_interval=0.0, service_block=where
    )
    reader = FelicaReader(config)
    touched: queue.Queue[CardEvent] = queue.Queue()
    reader.add_listener(lambda e: touched.put(e) if e.kind is CardEventKind.TOUCHED else None)
    reader.start()
    assert reader.wait_online(10), "reader did not come online"
    to_event, answer_to_event = [], []
    started = time.monotonic()
    for i in range(args.touches):
        time.sleep(rng.uniform(0, UDP_POLL))  # land anywhere in the poll cycle
        idm = f"{0x0123_0000_0000_0000 + i:016X}"
        card.touch(EmulatedCard(idm, blocks={SERVICE: {0: number_block(f"M{i:07d}")}}))
        event = touched.get(timeout=10)
        assert event.idm == idm, "the event is for another card"
        assert not where or event.card_id == f"M{i:07d}", "wrong member number"
        assert card.touched_at is not None and card.answered_at is not None
        to_event.append(event.at - card.touched_at)
        answer_to_event.append(event.at - card.answered_at)
        card.remove()
        deadline = time.monotonic() + 10
        while reader.card_present:
            assert time.monotonic() < deadline, "the reader did not see the card leave"
            time.sleep(0.01)
    elapsed = time.monotonic() - started
    reader.stop()
    card.close()
    mode = f"member number from service {SERVICE:04X}" if where else "IDm"
    print(f"card latency: {args.touches} touches in {elapsed:.1f} s over nfcpy udp, id = {mode}")
    print(f"  touch → event:   {describe_ms(to_event)}  (udp poll waits up to 1 s)")
    print(f"  answer → event:  {describe_ms(answer_to_event)}")


if __name__ == "__main__":
    main()
