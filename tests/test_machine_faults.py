"""The kiosk's own machine misbehaves — a full disk, a stacking slower than the idle time, a
SIGTERM mid-session, a wallet that answers too slowly — and the real ``paykiosk --no-ui``
process goes out of service with a reason and comes back by itself, never crashing, never
losing a note, never crediting one twice."""

from __future__ import annotations

import signal
import sqlite3
import time
from dataclasses import replace
from pathlib import Path

import pytest

from kiosk.journal import Journal
from kiosk.sim.config import write_sandbox_config
from tests.support.common import wait_until
from tests.support.disk import fill
from tests.support.kiosk_process import run_kiosk
from tests.support.rig import CRASH_TIMING, Rig, make_rig
from tests.support.wallet import Sandbox, cash_and_moves

pytestmark = pytest.mark.slow


def _lines(rig: Rig) -> list[str]:
    return [line.partition("] ")[2] for line in list(rig.kiosk.output)]


def _saw(rig: Rig, text: str, timeout: float = 30.0) -> None:
    try:
        wait_until(lambda: any(text in line for line in _lines(rig)), timeout, repr(text))
    except AssertionError as error:
        raise AssertionError(f"{error}; output:\n" + "\n".join(rig.kiosk.output[-25:])) from None


def _credited_once(rig: Rig, user: str, before: int = 0) -> None:
    assert rig.wallet.balance(user, "base") == before + sum(rig.sim.stacked)
    journal = rig.kiosk.journal()
    try:
        assert journal.cashbox.matches_notes()
        assert journal.notes.stacked_values() == rig.sim.stacked
    finally:
        journal.close()


# ---- a disk that fills up ------------------------------------------------------------------
def test_a_full_disk_at_finish_is_out_of_service_then_credited_once(
    disk_rig: Rig, tiny_disk: Path
) -> None:
    rig = disk_rig
    user, card = rig.member()
    rig.kiosk.start()
    rig.start_session(card)
    rig.feed(1000)
    _saw(rig, "in ¥1,000")
    filler = fill(tiny_disk)  # before the idle finish closes the session into its credit
    _saw(rig, "¥1,000 taken: this kiosk cannot record it just now")  # not "the wallet is slow"
    _saw(rig, "out of service")
    assert rig.kiosk.process is not None and rig.kiosk.process.poll() is None  # no crash
    assert rig.sim.wait_for(lambda d: d.inhibited, 5)
    assert "session #1 (open): 1 notes, ¥1,000 — no credit yet" in rig.pending()
    filler.unlink()  # space again: back by itself, the session closed and credited
    _saw(rig, "ready: touch your card")
    rig.kiosk.wait_settled(timeout=30)
    _credited_once(rig, user)
    rig.start_session(card)  # and members are served again
    rig.feed(2000)
    wait_until(lambda: rig.wallet.balance(user, "base") == 3000, 30, "second session credited")
    _credited_once(rig, user)


def test_a_full_disk_while_accepting_takes_no_further_note(disk_rig: Rig, tiny_disk: Path) -> None:
    rig = disk_rig
    user, card = rig.member()
    rig.kiosk.start()
    rig.start_session(card)
    filler = fill(tiny_disk)
    rig.sim.insert(5000)  # its escrow record cannot be written: handed back
    _saw(rig, "out of service (")  # "no money was taken" first, if the note was in escrow
    assert rig.sim.wait_for(lambda d: not d.busy and d.inhibited, 10)
    assert rig.sim.stacked == [] and rig.sim.device.counters.returned == 1
    assert rig.kiosk.process is not None and rig.kiosk.process.poll() is None
    filler.unlink()
    _saw(rig, "ready: touch your card")
    rig.card.remove()
    time.sleep(1.5)  # a card put back within a second of leaving is the same touch
    rig.start_session(card)
    rig.feed(1000)
    wait_until(lambda: rig.wallet.balance(user, "base") == 1000, 30, "credited after")
    rig.kiosk.wait_settled()
    _credited_once(rig, user)


def test_below_the_free_space_reserve_no_session_starts(
    tmp_path: Path, wallet: Sandbox, tiny_disk: Path
) -> None:
    with make_rig(tmp_path, wallet, min_free_mb=4.0) as rig:
        _, card = rig.member()
        ballast = tiny_disk / "ballast"
        ballast.write_bytes(b"\0" * 6_000_000)  # 8 MB disk, 2 MB left: under the 4 MB reserve
        rig.kiosk.start()
        rig.kiosk.wait_ready()
        _saw(rig, "out of service (disk: nearly full")
        rig.touch(card)
        time.sleep(3)
        assert rig.sim.device.inhibited and not any("looking up" in x for x in _lines(rig))
        ballast.unlink()
        _saw(rig, "ready: touch your card")


# ---- a slow note, a stop, a slow wallet ----------------------------------------------------
def test_a_note_stacking_slower_than_the_idle_time_is_part_of_its_session(
    tmp_path: Path, wallet: Sandbox
) -> None:
    slow = replace(CRASH_TIMING, stack_2=3.0)  # the idle finish is 1.5 s
    with make_rig(tmp_path, wallet, slow) as rig:
        user, card = rig.member()
        rig.kiosk.start()
        rig.start_session(card)
        rig.feed(1000)
        _saw(rig, "done: ¥1,000 credited to base")
        assert not any("ready: touch your card" in line for line in _lines(rig)[-6:-1])
        rig.kiosk.wait_settled()
        journal = rig.kiosk.journal()
        try:
            [session] = journal.sessions.recent()
            assert session.outcome == "credited"
        finally:
            journal.close()
        _credited_once(rig, user)


def test_sigterm_mid_session_closes_it_into_its_credit_before_exiting(
    tmp_path: Path, wallet: Sandbox
) -> None:
    with make_rig(tmp_path, wallet, idle_finish_s=30.0) as rig:
        user, card = rig.member()
        rig.kiosk.start()
        rig.start_session(card)
        rig.feed(2000)
        _saw(rig, "in ¥2,000")
        process = rig.kiosk.process
        assert process is not None
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(25) == 0
        stopped_in = time.monotonic() - started
        assert stopped_in < 15, stopped_in
        assert rig.sim.device.inhibited
        journal = rig.kiosk.journal()
        try:
            assert [s.state for s in journal.sessions.recent()] == ["finished"]
            [credit] = journal.db.query("SELECT amount FROM credits")
            assert credit["amount"] == 2000
        finally:
            journal.close()
        rig.kiosk.start()  # the credit is delivered (if it was not already)
        rig.kiosk.wait_settled()
        _credited_once(rig, user)


def test_pending_shows_notes_of_a_session_still_open(tmp_path: Path, wallet: Sandbox) -> None:
    with make_rig(tmp_path, wallet, idle_finish_s=30.0) as rig:
        _, card = rig.member()
        rig.kiosk.start()
        rig.start_session(card)
        rig.feed(5000)
        _saw(rig, "in ¥5,000")
        rig.kiosk.kill()  # a power cut: the session stays open in the journal
        report = rig.pending()
        assert "session #1 (open): 1 notes, ¥5,000 — no credit yet" in report
        assert "total ¥5,000" in report


def test_pending_and_journal_list_moves_apart_from_the_cash(
    tmp_path: Path, wallet: Sandbox
) -> None:
    """``paykiosk pending`` / ``journal`` as staff run them: a move being processed is listed as
    a move (its route, state, attempts, last error), not among the cash credits."""
    config = write_sandbox_config(tmp_path, wallet.info, str(tmp_path / "acc"), "udp:x:9")
    journal = Journal(tmp_path / "data" / "journal.sqlite3", "T01")
    try:
        made = cash_and_moves(journal)
        cash, move = (journal.credits.get(i) for i in (made.cash_waiting, made.move_waiting))
    finally:
        journal.close()
    result = run_kiosk(config, "pending")
    assert result.returncode == 0, result.stderr
    credits, _, rest = result.stdout.partition("credits not yet confirmed:\n")[2].partition(
        "moves (マネー移動, no cash) not yet confirmed:\n"
    )
    moves = rest.partition("open staff cases:")[0]
    assert credits.count("\n") == 1 and f"#{cash.id} ¥1,000 → base (pending" in credits, credits
    assert moves.count("\n") == 1, moves
    assert f"#{move.id} move ¥700 base → cafeteria (sent, 1 attempts, since " in moves, moves
    assert f"request {move.request_id} — last error: 503 temporarily_unavailable" in moves
    assert "total ¥1,000" in result.stdout  # the cash box holds the cash credit's note only
    report = run_kiosk(config, "journal")
    assert report.returncode == 0, report.stderr
    assert "credits by state: {'confirmed': 1, 'pending': 1}" in report.stdout, report.stdout
    assert (
        "moves (マネー移動) by state: {'confirmed': 1, 'refused': 1, 'sent': 1}" in report.stdout
    ), report.stdout


def test_a_wallet_too_slow_for_the_lookup_deadline_takes_no_cash(
    tmp_path: Path, wallet: Sandbox
) -> None:
    with make_rig(tmp_path, wallet, lookup_timeout_s=3.0, wallet_timeout_s=30.0) as rig:
        _, card = rig.member()
        rig.kiosk.start()
        rig.kiosk.wait_ready()
        wallet.faults(latency_ms=5_000)  # two calls: the member would wait 10 s and more
        started = time.monotonic()
        rig.touch(card)
        _saw(rig, "cannot be reached: no cash was taken", timeout=15)
        assert time.monotonic() - started < 8
        assert rig.sim.device.inhibited
        time.sleep(max(0.0, started + 14 - time.monotonic()))  # the late answer came meanwhile
        assert not any(line.startswith("テスト") for line in _lines(rig)), _lines(rig)
        wallet.clear_faults()
        rig.touch(card)  # the next touch is served as usual
        _saw(rig, "テスト 会員: base ¥0")


def test_a_journal_broken_while_running_is_out_of_service_not_a_hang(
    tmp_path: Path, wallet: Sandbox
) -> None:
    with make_rig(tmp_path, wallet) as rig:
        user, card = rig.member()
        rig.kiosk.start()
        rig.start_session(card)
        broken = sqlite3.connect(rig.kiosk.journal_path)  # e.g. a bad manual repair
        broken.execute("DROP TABLE events")
        broken.commit()
        broken.close()
        rig.feed(1000)
        _saw(rig, "out of service (journal: unwritable (no such table: events))")
        assert rig.sim.wait_for(lambda d: not d.busy and d.inhibited, 10)
        # the note was handed back, or (if it was in escrow already) it is credited
        wait_until(
            lambda: rig.wallet.balance(user, "base") == sum(rig.sim.stacked), 30, "exactly once"
        )
        time.sleep(3)  # the probe keeps failing: still out of service, still alive
        assert rig.kiosk.process is not None and rig.kiosk.process.poll() is None
        assert "out of service (journal" in _lines(rig)[-1]
