"""The daily close (``paykiosk --config F staff close``) on a real journal file, run as the real
``python -m kiosk`` process: a day is the co-op's (Asia/Tokyo), not the machine's; a credit
confirmed after midnight is open at the first day's end; moves are no cash; the cash box at the
day's end leaves out what was collected that day; the CSV lands in the export folder."""

from __future__ import annotations

import csv
import subprocess
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from kiosk.journal import Journal
from kiosk.sim.config import write_sandbox_config
from kiosk.staff.day_close import close_day
from tests.support.kiosk_process import run_kiosk
from tests.support.staff_files import stacked_session
from tests.support.wallet import Sandbox

TOKYO = ZoneInfo("Asia/Tokyo")
DAY = date(2026, 12, 7)


def at(hour: int, minute: int = 0, day: date = DAY) -> float:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TOKYO).timestamp()


def charge(journal: Journal, values: list[int], bucket: str, when: float) -> int:
    """A member's session whose notes were stacked, finished into its credit, all at ``when``
    (the rows' times moved there: the journal stamps its own)."""
    session = stacked_session(journal, values, bucket)
    with journal.db.write() as tx:
        tx.execute(
            "UPDATE cashbox SET at = ? WHERE note_id IN"
            " (SELECT id FROM notes WHERE session_id = ?)",
            (when, session),
        )
        tx.execute(
            "UPDATE credits SET created_at = ?, updated_at = ? WHERE session_id = ?",
            (when, when, session),
        )
        row = tx.execute("SELECT id FROM credits WHERE session_id = ?", (session,)).fetchone()
    return int(row[0])


def settle(journal: Journal, credit: int, when: float, refused: bool = False) -> None:
    if refused:
        journal.credits.refuse(credit, "invalid_parameters", "refused by the test")
    else:
        assert journal.credits.confirm(credit, f"tx-{credit}")
    with journal.db.write() as tx:
        tx.execute("UPDATE credits SET updated_at = ? WHERE id = ?", (when, credit))
        tx.execute("UPDATE cases SET created_at = ? WHERE credit_id = ?", (when, credit))


def test_a_day_is_the_co_ops_and_each_figure_comes_from_its_own_rows(
    tmp_path: Path, wallet: Sandbox
) -> None:
    config = write_sandbox_config(
        tmp_path,
        wallet.info,
        str(tmp_path / "acc"),
        "udp:127.0.0.1:9",
        extra=f'\n[staff]\nexport_dir = "{tmp_path / "usb"}"\n',
    )
    journal = Journal(config.parent / "data" / "journal.sqlite3", "T01")
    try:
        before = charge(journal, [10_000], "base", at(23, 59, date(2026, 12, 6)))  # the day before
        settle(journal, before, at(23, 59, date(2026, 12, 6)))
        first = charge(journal, [1_000, 5_000], "base", at(0, 1))  # just after midnight JST
        settle(journal, first, at(0, 2))
        second = charge(journal, [2_000], "cafeteria", at(12))
        settle(journal, second, at(12, 1), refused=True)  # a staff case, opened that day
        late = charge(journal, [1_000, 1_000], "base", at(23, 30))
        settle(journal, late, at(0, 30, date(2026, 12, 8)))  # confirmed after midnight
        journal.cashbox.collect("suzuki")  # everything collected the next morning
        with journal.db.write() as tx:
            tx.execute("UPDATE collections SET at = ?", (at(9, 0, date(2026, 12, 8)),))
        close = close_day(journal, "T01", DAY, "Asia/Tokyo")
    finally:
        journal.close()

    assert close.notes == {1_000: 3, 2_000: 1, 5_000: 1, 10_000: 0}
    assert (close.cash_in.count, close.cash_in.amount) == (5, 10_000)
    assert close.confirmed["base"].amount == 6_000 and "cafeteria" not in close.confirmed
    assert close.cash["base"].count == 2 and close.cash["cafeteria"].amount == 2_000
    assert (close.refused.count, close.refused.amount) == (1, 2_000)
    # the late session's credit was still open when the day ended
    assert [(bucket, amount) for _, bucket, amount in close.open_credits] == [("base", 2_000)]
    assert close.cases_opened == 1 and close.collections == ()
    # the box at the day's end: the day before's ¥10,000 and the day's notes (collected later)
    assert close.cashbox_total == 20_000

    (tmp_path / "usb").mkdir()  # the USB stick, mounted
    shown = run_kiosk(config, "staff", "close", "--day", "2026-12-07", "--export")
    assert shown.returncode == 0 and shown.stderr == "", shown.stderr
    out = shown.stdout
    assert "Pay Spot daily close T01 2026-12-07 (Asia/Tokyo)" in out
    assert "cash in: 5 notes ¥10,000" in out
    assert "credited base: 1 × ¥6,000 confirmed (of 2 × ¥8,000)" in out
    assert "open at the day's end: 1 × ¥2,000" in out
    assert "cash box at the day's end: ¥20,000" in out
    written = tmp_path / "usb" / "paykiosk-T01-day-20261207.csv"
    assert f"written: {written}" in out
    with written.open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["section", "item", "count", "amount"]
    assert ["notes", "total", "5", "10000"] in rows
    assert ["cash confirmed", "base", "1", "6000"] in rows
    assert ["open at end", "credits", "1", "2000"] in rows

    next_day = run_kiosk(config, "staff", "close", "--day", "2026-12-08")
    assert "collection 09:00 by suzuki: ¥20,000" in next_day.stdout
    assert "cash in: 0 notes ¥0" in next_day.stdout
    assert "cash box at the day's end: ¥0" in next_day.stdout


def test_a_bad_day_is_one_line(tmp_path: Path, wallet: Sandbox) -> None:
    config = write_sandbox_config(tmp_path, wallet.info, str(tmp_path / "acc"), "udp:127.0.0.1:9")
    result = run_kiosk(config, "staff", "close", "--day", "7 Dec")
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == "paykiosk staff: close: --day '7 Dec' is not a date like 2026-12-07"
    )
    assert isinstance(result, subprocess.CompletedProcess)
