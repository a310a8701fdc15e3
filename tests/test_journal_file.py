"""The journal's own file under attack while the real ``paykiosk --no-ui`` process runs:
removed, replaced, truncated, or the disk full as a note is stacked. The kiosk goes out of
service at once, puts the journal back at its path from its open connection (a staff case
says so) and comes back by itself; every note in the box becomes exactly one credit."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hardware.id003.codes import Command
from hardware.id003.frames import Frame
from kiosk.journal import Journal
from kiosk.journal.records import SessionOutcome
from kiosk.sim.config import write_sandbox_config
from tests.support.common import wait_until
from tests.support.disk import fill
from tests.support.kiosk_process import run_kiosk
from tests.support.rig import Rig, make_rig
from tests.support.wallet import ROOT, Sandbox

pytestmark = pytest.mark.slow


def _lines(rig: Rig) -> list[str]:
    """The kiosk's output: console lines without their time stamp, log lines whole."""
    return [line.partition("] ")[2] or line for line in list(rig.kiosk.output)]


def _saw(rig: Rig, text: str, timeout: float = 30.0, after: int = 0) -> int:
    """Wait for an output line (from line ``after`` on) containing ``text``; its index."""

    def found() -> int | None:
        lines = _lines(rig)
        return next((i for i in range(after, len(lines)) if text in lines[i]), None)

    try:
        wait_until(lambda: found() is not None, timeout, repr(text))
    except AssertionError as error:
        raise AssertionError(f"{error}; output:\n" + "\n".join(rig.kiosk.output[-30:])) from None
    index = found()
    assert index is not None
    return index


def _charging(rig: Rig, value: int) -> tuple[str, str]:
    """A member's session with one note of ``value`` counted: (user, card)."""
    user, card = rig.member()
    rig.kiosk.start()
    rig.start_session(card)
    rig.feed(value)
    _saw(rig, f"in ¥{value:,}")
    return user, card


def _waiting_for_the_wallet(rig: Rig) -> str:
    """A member's ¥10,000 taken while the wallet is down: its credit waits; the member."""
    user, card = rig.member()
    rig.kiosk.start()
    rig.start_session(card)
    rig.wallet.faults(refuse=True)  # the wallet goes down
    rig.feed(10000)
    _saw(rig, "¥10,000 taken: being credited")
    return user


def _lost(rig: Rig, what: str) -> int:
    """The kiosk noticed (its log says what happened to the file); the line's index."""
    return _saw(rig, f"{rig.kiosk.journal_path}: {what}")


def _ready_again(rig: Rig, after: int) -> None:
    _saw(rig, "ready: touch your card", after=after)


def _books_balance(rig: Rig, user: str, expected: int) -> None:
    """The wallet has every stacked note once, and the journal at its path knows them all."""
    wait_until(lambda: sum(rig.sim.stacked) == expected, 30, "stacked")
    wait_until(lambda: rig.wallet.balance(user, "base") == expected, 30, "credited")
    rig.kiosk.wait_settled()
    journal = rig.kiosk.journal()
    try:
        assert journal.notes.stacked_values() == rig.sim.stacked
        assert journal.cashbox.count().total == expected
        assert journal.cashbox.matches_notes()
        confirmed = journal.db.one("SELECT SUM(amount) AS s FROM credits WHERE state='confirmed'")
        assert confirmed is not None and confirmed["s"] == expected
    finally:
        journal.close()
    assert rig.wallet.balance(user, "base") == expected  # not twice


def _journal_cases(rig: Rig) -> list[str]:
    journal = rig.kiosk.journal()
    try:
        return [c.detail for c in journal.cases.list() if c.kind == "journal_file"]
    finally:
        journal.close()


@pytest.fixture
def rig(tmp_path: Path, wallet: Sandbox) -> Iterator[Rig]:
    with make_rig(tmp_path, wallet) as rig:
        yield rig


def test_journal_removed_mid_session_is_put_back_and_every_note_credited_once(rig: Rig) -> None:
    user, card = _charging(rig, 1000)
    rig.kiosk.journal_path.unlink()  # an operator's rm
    gone = _lost(rig, "removed")
    # out of service at once: the session is closed into its credit, as on any fault
    _saw(rig, "done: ¥1,000 credited to base", after=gone)
    _ready_again(rig, gone)  # put back from the open connection, by itself
    assert rig.kiosk.journal_path.exists()
    rig.card.remove()
    time.sleep(1.5)  # the same card back within a second is the same touch
    rig.start_session(card)  # a second member's money goes into the journal at its path
    rig.feed(2000)
    rig.feed(5000)
    _books_balance(rig, user, 8000)
    rig.kiosk.stop()
    assert not any("Traceback" in line for line in rig.kiosk.output)
    report = run_kiosk(rig.kiosk.config, "journal").stdout
    assert "cash box since last collection: ¥1,000×1, ¥2,000×1, ¥5,000×1" in report
    [case] = _journal_cases(rig)
    assert "file removed" in case and "restored" in case
    assert "journal_file no money" in rig.pending()
    assert "file removed; restored from the open connection" in rig.pending()


def test_journal_removed_while_a_credit_waits_for_the_wallet_then_restarted(rig: Rig) -> None:
    user = _waiting_for_the_wallet(rig)
    for part in rig.kiosk.journal_path.parent.glob(rig.kiosk.journal_path.name + "*"):
        part.unlink()  # rm journal.sqlite3*: the file and its write-ahead log
    gone = _lost(rig, "removed")
    _ready_again(rig, gone)
    rig.kiosk.stop()  # stopped and started: the credit is still waiting in the journal
    assert "#1 ¥10,000 → base" in rig.pending()
    rig.wallet.faults(refuse=False)
    rig.kiosk.start()
    _books_balance(rig, user, 10000)


def test_journal_removed_then_stopped_at_once_keeps_the_credit(rig: Rig) -> None:
    """Removed and stopped before the watch looks: the kiosk puts it back as it closes."""
    user = _waiting_for_the_wallet(rig)
    assert rig.kiosk.process is not None
    rig.kiosk.process.send_signal(2)  # the file goes as SIGINT does: one may beat the other
    rig.kiosk.journal_path.unlink()
    rig.kiosk.process.wait(30)
    assert rig.kiosk.journal_path.exists()
    assert "#1 ¥10,000 → base" in rig.pending()
    rig.wallet.faults(refuse=False)
    rig.kiosk.start()
    _books_balance(rig, user, 10000)


def test_journal_removed_and_the_kiosk_killed_at_once_is_put_back_at_the_next_start(
    rig: Rig,
) -> None:
    """``rm`` and a power cut a moment later, before the kiosk could put the file back: the
    kiosk's second name for it (a hard link) brings it back at the next start."""
    user = _waiting_for_the_wallet(rig)
    path = rig.kiosk.journal_path
    for part in path.parent.glob(path.name + "*"):
        part.unlink()
    rig.kiosk.kill()
    rig.wallet.faults(refuse=False)
    rig.kiosk.start()
    _saw(rig, "put back at the start")
    _books_balance(rig, user, 10000)
    [case] = _journal_cases(rig)
    assert "file removed under the last run" in case


def test_journal_replaced_by_another_file_is_put_back_and_the_other_kept(rig: Rig) -> None:
    user, card = rig.member()
    rig.kiosk.start()
    path = rig.kiosk.journal_path
    _saw(rig, "ready: touch your card")
    old = path.with_name("restored-from-backup")
    shutil.copy(path, old)  # yesterday's backup, say
    rig.start_session(card)
    rig.feed(1000)
    _saw(rig, "in ¥1,000")
    os.rename(old, path)  # a botched restore, under the running kiosk
    gone = _lost(rig, "replaced by another file")
    _ready_again(rig, gone)
    kept = list(path.parent.glob(path.name + ".found-*"))
    assert len(kept) == 1, kept
    _books_balance(rig, user, 1000)
    [case] = _journal_cases(rig)
    assert kept[0].name in case


def test_journal_truncated_under_the_kiosk_is_put_back(rig: Rig) -> None:
    user, _ = _charging(rig, 2000)
    os.truncate(rig.kiosk.journal_path, 0)
    gone = _lost(rig, "truncated")
    _ready_again(rig, gone)
    _books_balance(rig, user, 2000)
    assert len(_journal_cases(rig)) == 1


def test_journal_that_cannot_be_put_back_stays_out_of_service_until_it_can(
    disk_rig: Rig,
    tiny_disk: Path,
) -> None:
    """No room for the copy: out of service saying why, tried again, back when there is."""
    rig = disk_rig
    user, _ = _charging(rig, 1000)
    filler = fill(tiny_disk)
    rig.kiosk.journal_path.unlink()
    _saw(rig, "cannot restore it")
    assert not rig.kiosk.journal_path.exists()  # nothing written anywhere else meanwhile
    assert rig.kiosk.process is not None and rig.kiosk.process.poll() is None
    assert rig.sim.wait_for(lambda d: d.inhibited, 5)
    mark = len(_lines(rig))
    filler.unlink()
    _ready_again(rig, mark)
    _books_balance(rig, user, 1000)


def test_disk_full_as_a_note_is_stacked_pending_shows_all_the_cash(
    disk_rig: Rig,
    tiny_disk: Path,
) -> None:
    rig = disk_rig
    user, _ = _charging(rig, 1000)
    filled: list[Path] = []

    def fill_at_stack(frame: Frame) -> None:
        if frame.code in (Command.STACK_1, Command.STACK_2) and not filled:
            filled.append(fill(tiny_disk))  # the escrow is recorded; VEND VALID is not

    rig.sim.on_receive = fill_at_stack
    rig.feed(5000)
    # told at once (not after the note settle time of 30 s) what became of both notes
    said = _saw(rig, "¥1,000 taken: this kiosk cannot record it just now", timeout=20)
    assert "¥5,000 note is still inside" in _lines(rig)[said]
    assert "wallet" not in _lines(rig)[said]
    pending = rig.pending()
    assert "total ¥6,000" in pending, pending
    assert "being stacked: not yet recorded as stacked" in pending
    rig.sim.on_receive = None
    mark = len(_lines(rig))
    filled[0].unlink()
    _ready_again(rig, mark)
    _books_balance(rig, user, 6000)
    journal = rig.kiosk.journal()
    try:
        first = journal.sessions.get(1)
    finally:
        journal.close()
    # closed by the same process once the journal could be written: not "after a restart"
    assert first.outcome == SessionOutcome.CLOSED_AFTER_JOURNAL_FAILURE


def test_an_acceptor_fault_names_the_acceptor(rig: Rig) -> None:
    rig.kiosk.start()
    _saw(rig, "ready: touch your card")
    rig.sim.unplug()
    _saw(rig, "out of service (acceptor: offline")
    rig.sim.plug()


def test_a_journal_found_damaged_while_running_stays_out_of_service_without_flapping(
    rig: Rig,
) -> None:
    """A write that finds the journal malformed: out of service until a check passes, not
    "writable again" / "unwritable" every few seconds as probe writes land beside the damage."""
    user, card = rig.member()
    rig.kiosk.start()
    _saw(rig, "ready: touch your card")
    path = rig.kiosk.journal_path
    other = sqlite3.connect(path)
    try:
        other.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # every page in the main file
        [(root,)] = other.execute("SELECT rootpage FROM sqlite_master WHERE name = 'sessions'")
        [(page_size,)] = other.execute("PRAGMA page_size")
    finally:
        other.close()
    with path.open("r+b") as file:  # a failing SD card: the sessions table's page scribbled
        file.seek((root - 1) * page_size)
        file.write(b"\xde\xad\xbe\xef" * (page_size // 4))
    rig.touch(card)
    damaged = _saw(rig, "out of service (journal check: damaged")
    assert rig.sim.wait_for(lambda d: d.inhibited, 5)
    time.sleep(6)  # three probe intervals
    later = _lines(rig)[damaged:]
    assert not any("writable again" in line for line in later), later
    assert rig.kiosk.process is not None and rig.kiosk.process.poll() is None
    assert rig.wallet.balance(user, "base") == 0 and rig.sim.stacked == []


def test_a_report_read_into_a_closed_pipe_ends_quietly(tmp_path: Path, wallet: Sandbox) -> None:
    """``paykiosk journal | head -1``: the report's reader goes after one line; the command
    ends without a traceback."""
    config = write_sandbox_config(tmp_path, wallet.info, str(tmp_path / "acc"), "udp:127.0.0.1:9")
    journal = Journal(config.parent / "data" / "journal.sqlite3", "T01")
    for n in range(3000):
        journal.log("test", f"event {n}")
    journal.close()
    piped = subprocess.run(
        f"{sys.executable} -m kiosk --config {config} journal | head -1",
        shell=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert piped.stdout.count("\n") == 1
    assert "Traceback" not in piped.stderr and "BrokenPipe" not in piped.stderr, piped.stderr
