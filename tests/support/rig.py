"""The real ``paykiosk --no-ui`` process on its rig: the acceptor simulator (its own process on
a pty), the card emulator (nfcpy udp) and the wallet sandbox (HTTPS), for crash and fault tests."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hardware.felica.sim import CardEmulator, EmulatedCard, free_udp_port
from hardware.id003.frames import Frame
from hardware.id003.sim.device import Timing
from hardware.id003.sim.process import SimulatorProcess, simulator_process
from kiosk.sim.config import write_sandbox_config
from tests.support.common import FAST_TIMING, wait_until
from tests.support.kiosk_process import KioskProcess, run_kiosk
from tests.support.wallet import Sandbox

CRASH_TIMING = FAST_TIMING.__class__(**{**FAST_TIMING.__dict__, "escrow_timeout": 2.0})


class PcscCards:
    """The card side of a PC/SC kiosk: a virtual FeliCa card on pcscd's virtual reader (the
    ``pcscd`` fixture must be running), with the card emulator's ``touch`` and ``close``."""

    device_path = "pcsc:Virtual PCD 00 00"

    def __init__(self) -> None:
        self._on: Any = None
        self._lifting: threading.Timer | None = None

    def touch(self, card: EmulatedCard, hold: float | None = None) -> None:
        """Put ``card`` on the reader (taking the last one away first) for ``hold`` seconds;
        returns at once, as the emulator's does."""
        from hardware.pcsc.sim import VirtualCardOnReader, VirtualFelica
        from tests.support.pcsc import card_port

        if self.close():
            # pcscd polls the virtual reader every 400 ms, and the same card back within the
            # reader's min_interval (1 s) is the same touch: lift it for longer than both
            time.sleep(1.5)
        self._on = VirtualCardOnReader(VirtualFelica(card.idm, pmm=card.pmm), card_port())
        self._lifting = threading.Timer(hold or 1.0, self.close)
        self._lifting.start()

    def close(self) -> bool:
        """Take the card away; True if one was on the reader."""
        if self._lifting is not None:
            self._lifting.cancel()
        on, self._on = self._on, None
        if on is None:
            return False
        was_on = not on.removed
        on.remove()
        return was_on


@dataclass
class Rig:
    sim: SimulatorProcess
    wallet: Sandbox
    card: CardEmulator | PcscCards
    kiosk: KioskProcess

    def member(self, balances: dict[str, int | None] | None = None) -> tuple[str, str]:
        user = self.wallet.member(balances or {})
        return user, self.wallet.card_of(user)

    def touch(self, card_id: str) -> None:
        # over udp a poll waits up to 1 s for an answer: hold the card long enough for two
        self.card.touch(EmulatedCard(card_id), hold=3.0)

    def start_session(self, card_id: str) -> None:
        """Touch the card and wait until the acceptor takes notes."""
        self.kiosk.wait_ready()
        wait_until(  # in service: a touch while the kiosk starts up is not a session
            lambda: any(line.endswith("ready: touch your card") for line in self.kiosk.output),
            15,
            "the kiosk in service",
        )
        assert self.sim.wait_for(lambda d: not d.busy and d.inhibited, 15), self.sim.status
        self.touch(card_id)
        assert self.sim.wait_for(lambda d: not d.inhibited, 15), "\n".join(self.kiosk.output[-20:])

    def touch_to_move(self, card_id: str) -> None:
        """``--no-ui`` with ``no_ui_move`` (a move at each touch): touch the card, wait until
        the move is journaled and take the card away. A card left on the reader across a
        restart would be a new touch: a second move, by design."""
        self.kiosk.wait_ready()
        wait_until(
            lambda: any(line.endswith("ready: touch your card") for line in self.kiosk.output),
            15,
            "the kiosk in service",
        )
        self.touch(card_id)
        deadline = time.monotonic() + 20
        while not self.kiosk.moves():  # each look opens the journal: not too often
            assert time.monotonic() < deadline, "no move journaled:\n" + "\n".join(
                self.kiosk.output[-20:]
            )
            time.sleep(0.1)
        self.card.close()

    def feed(self, value: int) -> None:
        assert self.sim.wait_for(lambda d: not d.busy, 15), self.sim.status
        assert self.sim.insert(value), self.sim.status

    def kill_on(self, code: int) -> None:
        """SIGKILL the kiosk the moment it sends this command (before the unit reacts: the
        simulator waits for the hook)."""

        def hook(frame: Frame) -> None:
            if frame.code == code:
                self.sim.on_receive = None
                self.kiosk.kill()

        self.sim.on_receive = hook

    def feed_killed_on(self, code: int, value: int) -> None:
        """Feed a note and SIGKILL the kiosk as it sends ``code`` for it; wait for the death."""
        assert self.sim.wait_for(lambda d: not d.busy, 10)
        self.kill_on(code)
        self.feed(value)
        wait_until(
            lambda: self.kiosk.process is not None and self.kiosk.process.poll() is not None,
            15,
            "the kill",
        )

    def wait_output(self, starts: tuple[str, ...], count: int, timeout: float = 40.0) -> None:
        """Wait until ``count`` console lines (after the time stamp) start with ``starts``."""

        def seen() -> int:
            return sum(
                1 for line in list(self.kiosk.output) if line.partition("] ")[2].startswith(starts)
            )

        wait_until(lambda: seen() >= count, timeout, f"{count}x {starts}")

    def restart_and_settle(self) -> None:
        self.wallet.clear_faults()
        self.kiosk.kill()
        self.kiosk.start()
        self.kiosk.wait_settled(timeout=40)
        assert self.sim.wait_for(lambda d: not d.busy, 15)

    def pending(self) -> str:
        """``paykiosk --config F pending``, as staff would run it."""
        result = run_kiosk(self.kiosk.config, "pending")
        assert result.returncode == 0, result.stderr
        return result.stdout


@contextlib.contextmanager
def make_rig(
    tmp_path: Path,
    wallet: Sandbox,
    timing: Timing = CRASH_TIMING,
    reader: str = "nfcpy",
    **config: Any,
) -> Iterator[Rig]:
    """``config``: keyword arguments of :func:`kiosk.sim.config.write_sandbox_config`;
    ``reader``: the kiosk's card reader backend, ``nfcpy`` (the udp card emulator) or ``pcsc``
    (a virtual card on pcscd's virtual reader)."""
    with simulator_process(tmp_path / "acc", timing) as sim:
        card = CardEmulator(free_udp_port()) if reader == "nfcpy" else PcscCards()
        config.setdefault("idle_finish_s", 1.5)
        path = write_sandbox_config(tmp_path, wallet.info, sim.path, card.device_path, **config)
        kiosk = KioskProcess(path)
        try:
            yield Rig(sim, wallet, card, kiosk)
        finally:
            sim.on_receive = None
            kiosk.stop()
            card.close()
