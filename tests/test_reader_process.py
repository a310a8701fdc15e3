"""The card reader of the real ``paykiosk --no-ui`` process: a reader that stops polling takes
the kiosk out of service, naming the card reader, until it polls again (nfcpy's udp driver and
the card emulator); a wall clock set back no longer stops it; a reader that is not there at
start keeps the kiosk out of service (PC/SC, a reader name pcscd does not have).

The stall is a real one of the reader's thread: the kiosk runs under ``strace``, which holds
each thread's first ``recvfrom`` for a while. The reader's first is when a card answers its poll
(a udp poll with no card gets no datagram), so the test starts the stall by touching a card;
strace holds the asyncio thread's first one at start-up too, which only delays the start.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hardware.felica.sim import CardEmulator, EmulatedCard
from tests.support.clock import ClockRig, clock_rig
from tests.support.common import wait_until
from tests.support.kiosk_process import KioskProcess
from tests.support.rig import Rig, make_rig
from tests.support.wallet import Sandbox

pytestmark = pytest.mark.slow

POLL_TIMEOUT_S = 4.0  # [card] poll_timeout_s: short for the test, well over a 2 s udp round
STALL_S = 9  # how long strace holds the reader's first recvfrom: well over the poll timeout
IN_SERVICE = "ready: touch your card"
READER_FAULT = "out of service (card reader: no poll for "


def _lines(kiosk: KioskProcess, after: int = 0) -> list[str]:
    """The kiosk's console lines from index ``after`` on, views without their time stamps."""
    lines = list(kiosk.output)[after:]
    return [line.partition("] ")[2] if line.startswith("[") else line for line in lines]


def _wait_line(kiosk: KioskProcess, text: str, after: int = 0, timeout: float = 30.0) -> int:
    """The index of the first console line from ``after`` on that starts with ``text``."""
    found: list[int] = []

    def seen() -> bool:
        found[:] = [
            after + i for i, line in enumerate(_lines(kiosk, after)) if line.startswith(text)
        ]
        return bool(found)

    try:
        wait_until(seen, timeout, repr(text))
    except AssertionError as error:
        raise AssertionError(f"{error}; output:\n" + "\n".join(kiosk.output[-25:])) from None
    return found[0]


def _in_service(rig: Rig | ClockRig) -> None:
    rig.kiosk.wait_ready(timeout=60)
    _wait_line(rig.kiosk, IN_SERVICE)
    assert rig.sim.wait_for(lambda d: not d.busy and d.inhibited, 15), rig.sim.status


def _card(rig: Rig | ClockRig) -> CardEmulator:
    assert isinstance(rig.card, CardEmulator)
    return rig.card


def _stop_traced(kiosk: KioskProcess) -> None:
    """Stop the kiosk under strace by stopping the kiosk itself: a SIGTERM to strace detaches
    it and leaves the kiosk running, an orphan with nobody reading its output."""
    tracer = kiosk.process
    if tracer is None or tracer.poll() is not None:
        return
    with contextlib.suppress(FileNotFoundError):
        children = Path(f"/proc/{tracer.pid}/task/{tracer.pid}/children").read_text().split()
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(child), signal.SIGTERM)
        try:
            tracer.wait(30)  # strace ends with the kiosk
        except subprocess.TimeoutExpired:
            for child in children:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(child), signal.SIGKILL)


@pytest.fixture
def rig(tmp_path: Path, wallet: Sandbox) -> Iterator[Rig]:
    if shutil.which("strace") is None:
        pytest.skip("needs strace: apt-get install strace")
    with make_rig(tmp_path, wallet, card_poll_timeout_s=POLL_TIMEOUT_S) as running:
        try:
            yield running
        finally:
            _stop_traced(running.kiosk)


def test_a_reader_that_stops_polling_is_out_of_service_until_it_polls_again(
    rig: Rig, wallet: Sandbox
) -> None:
    user, card_id = rig.member({"base": 0})
    hold_first_recv = f"inject=recvfrom:delay_enter={STALL_S}s:when=1"
    strace = ("strace", "-f", "-qq", "--seccomp-bpf", "-e", "trace=recvfrom")
    rig.kiosk.start(wrapper=(*strace, "-e", hold_first_recv, "-o", os.devnull))
    _in_service(rig)
    touched = len(rig.kiosk.output)
    _card(rig).touch(EmulatedCard(card_id))  # answering the poll: the reader's thread stalls
    fault = _wait_line(rig.kiosk, READER_FAULT, touched)
    back = _wait_line(rig.kiosk, IN_SERVICE, fault)
    # polling again, the reader reads the card that is still there: the member is served
    assert rig.sim.wait_for(lambda d: not d.inhibited, 15), "\n".join(rig.kiosk.output[-20:])
    _card(rig).remove()
    assert "card reader online polling again" in rig.kiosk.output[fault:back]
    assert rig.sim.insert(1000), rig.sim.status
    wait_until(lambda: wallet.balance(user, "base") == 1000, 30, "the note credited")


@pytest.fixture
def clock(tmp_path: Path, wallet: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[ClockRig]:
    with clock_rig(tmp_path, wallet, monkeypatch) as running:
        yield running


def test_a_wall_clock_set_back_does_not_stop_the_reader(clock: ClockRig, wallet: Sandbox) -> None:
    # the kiosk's clock runs 10 minutes fast, and so does the wallet's: they agree
    clock.set_clock(600)
    wallet.faults(clock_offset_s=600.0)
    user = wallet.member({"base": 0})
    clock.kiosk.start()
    _in_service(clock)
    # NTP sets both right: 10 minutes back, while the reader waits for an answer to its poll
    clock.set_clock(0)
    wallet.faults(clock_offset_s=0.0)
    time.sleep(3)  # the kiosk reads the clock file at most a second apart
    clock.card.touch(EmulatedCard(wallet.card_of(user)), hold=3.0)
    assert clock.sim.wait_for(lambda d: not d.inhibited, 15), "\n".join(clock.kiosk.output[-20:])
    assert not [line for line in clock.kiosk.output if "card reader offline" in line]


def test_a_kiosk_whose_card_reader_is_not_there_is_out_of_service(
    tmp_path: Path, wallet: Sandbox, pcscd: object
) -> None:
    with make_rig(tmp_path, wallet, reader="pcsc") as rig:
        config = rig.kiosk.config.read_text()
        rig.kiosk.config.write_text(config.replace("Virtual PCD 00 00", "No Such Reader"))
        rig.kiosk.start()
        _wait_line(rig.kiosk, "bill acceptor online")
        _wait_line(rig.kiosk, "out of service (card reader: no PC/SC reader matching")
        assert rig.sim.wait_for(lambda d: not d.busy and d.inhibited, 15), rig.sim.status
        assert not [line for line in _lines(rig.kiosk) if line.startswith(IN_SERVICE)]
