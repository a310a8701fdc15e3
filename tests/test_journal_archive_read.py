"""Reading and exporting the journal's monthly archives: ``paykiosk journal --archive`` and
``--archives`` (the real process), ``paykiosk staff export --month`` and the staff menu's
archive page (the running kiosk), on an archive the archive job itself wrote
(``kiosk.journal.retention.run``) from rows written through the journal's own write paths and
dated back. A damaged archive, a file that is no archive and a missing one are refused in one
line; an export to a stick that is not there writes nothing."""

from __future__ import annotations

import csv
import hashlib
import os
import subprocess
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hardware.acceptor import NoteState
from hardware.card import mask_card_id
from hardware.id003.sim.process import SimulatorProcess
from kiosk.config.settings import Config
from kiosk.journal import Journal
from kiosk.journal.records import SessionOutcome
from kiosk.journal.retention import Policy, checksum_path, run
from kiosk.staff.export import ENCODING, TABLES
from kiosk.staff.view import Desk, StaffView
from tests.support.disk import fill, small_file_system
from tests.support.kiosk_process import run_kiosk
from tests.support.staff_menu import PIN, STAFF, STAFF_IDM, USB, desk, desk_at, kiosk, touch_pin
from tests.support.ui import KioskUI
from tests.support.wallet import Sandbox

NOW = datetime(2026, 12, 8, 12, 0).timestamp()
POLICY = Policy(working_days=90, retention_years=7)
CARD = "0123456789ABCDEF"  # a member's full card id: never in a report or an export
MONTH = "2026-06"
TOKYO = ZoneInfo("Asia/Tokyo")  # the example configuration's time zone: the reports' times


def _at(month: int, day: int, hour: int = 10) -> float:
    return datetime(2026, month, day, hour, 0).timestamp()


def _dated(journal: Journal, sql: str, *args: object) -> None:
    with journal.db.write() as tx:
        tx.execute(sql, args)


def _charge(
    journal: Journal, at: float, values: list[int], confirm: bool = True, returned: int = 0
) -> int:
    """A member's session: ``values`` stacked (and a note of ``returned`` yen handed back),
    finished into its credit (confirmed unless not), every row dated ``at``; its credit id."""
    session = journal.sessions.open(mask_card_id(CARD), "user-1", "太郎", "base", "money-base")
    journal.gate.open(session, 100_000)
    for value in values:
        note = journal.notes.escrow(0x61, value)
        assert note is not None
        journal.notes.stacked(note.id)
    if returned:
        note = journal.notes.escrow(0x61, returned)
        assert note is not None
        journal.notes.closed(note.id, NoteState.RETURNED)
    credit = journal.sessions.finish(session, SessionOutcome.FINISHED)
    journal.gate.close()
    assert credit is not None
    journal.credits.mark_sent(credit.id)
    if confirm:
        journal.credits.confirm(credit.id, f"tx-{credit.id}")
    _dated(
        journal,
        "UPDATE sessions SET started_at = ?, finished_at = ? WHERE id = ?",
        at,
        at + 60,
        session,
    )
    _dated(
        journal,
        "UPDATE notes SET created_at = ?, updated_at = ? WHERE session_id = ?",
        at,
        at,
        session,
    )
    _dated(
        journal,
        "UPDATE cashbox SET at = ? WHERE note_id IN (SELECT id FROM notes WHERE session_id = ?)",
        at,
        session,
    )
    _dated(
        journal,
        "UPDATE credits SET created_at = ?, updated_at = ? WHERE id = ?",
        at + 60,
        at + 61,
        credit.id,
    )
    return credit.id


def june_archive(journal: Journal, folder: Path) -> Path:
    """June 2026 as the archive job leaves it in ``folder``: a charge of ¥1,000 + ¥5,000 (a
    ¥2,000 note handed back), a ¥10,000 charge the wallet refused whose case was resolved as
    refunded, a move of ¥1,500 (no cash), the collection of 25 June; then a July charge
    collected on 15 July (the cut-off: June ended before it, July stays live), and a case
    after."""
    _charge(journal, _at(6, 3), [1_000, 5_000], returned=2_000)
    refused = _charge(journal, _at(6, 10), [10_000], confirm=False)
    reference = journal.credits.refuse(refused, "invalid_request", "account closed")
    journal.cases.resolve(reference, "refunded", "alice", "handed back in cash")
    _dated(
        journal,
        "UPDATE cases SET created_at = ?, resolved_at = ? WHERE reference = ?",
        _at(6, 10, 11),
        _at(6, 11),
        reference,
    )
    move = journal.moves.open("user-1", ("base", "money-base"), ("cafeteria", "money-caf"), 1_500)
    journal.credits.mark_sent(move.id)
    journal.credits.confirm(move.id, "tx-move")
    journal.moves.told([move.id])
    _dated(
        journal,
        "UPDATE credits SET created_at = ?, updated_at = ? WHERE id = ?",
        _at(6, 12),
        _at(6, 12),
        move.id,
    )
    june = journal.cashbox.record_collection("alice", {1_000: 1, 5_000: 1, 10_000: 1}, "June")
    _dated(journal, "UPDATE collections SET at = ? WHERE id = ?", _at(6, 25), june.id)
    _charge(journal, _at(7, 5), [2_000])
    # a later case (the newest row of each table stays live: its id is not handed out again)
    journal.cases.open("journal_file", amount=None, detail="the journal file put back")
    july = journal.cashbox.record_collection("bob", {2_000: 1})
    _dated(journal, "UPDATE collections SET at = ? WHERE id = ?", _at(7, 15), july.id)
    done = run(journal.db, folder, POLICY, NOW)
    assert list(done.moved) == [MONTH], done
    return folder / f"journal-{MONTH}.sqlite3"


def _tokyo(at: float) -> str:
    return datetime.fromtimestamp(at, TOKYO).strftime("%Y-%m-%d %H:%M")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _files(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones too: a temporary file left) → its SHA-256."""
    return {p.name: _sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def archive(config: Config) -> Path:
    """June's archive in the kiosk's archive folder (the live journal closed again)."""
    journal = Journal(config.journal_path, config.kiosk.id)
    try:
        return june_archive(journal, config.archive_dir)
    finally:
        journal.close()


def test_the_report_of_a_month_shows_its_cash_credits_cases_and_collections(
    config_path: Path, config: Config, archive: Path
) -> None:
    before = _files(config.archive_dir)
    listed = run_kiosk(config_path, "journal", "--archives")
    assert listed.returncode == 0 and listed.stderr == "", listed.stderr
    [row] = [line for line in listed.stdout.splitlines() if line.startswith(f"  {MONTH}")]
    assert row.endswith("14 rows  verified"), row  # 2 sessions, 4 notes, 3 in the box, …
    assert "1 archives, all verified" in listed.stdout

    shown = run_kiosk(config_path, "journal", "--archive", MONTH)
    assert shown.returncode == 0 and shown.stderr == "", shown.stderr
    out = shown.stdout
    assert out.startswith(f"journal archive {MONTH} ({archive})\n")
    assert "verified: its checksum file and manifest agree with its rows" in out
    assert "rows: sessions 2, notes 4, cashbox 3, credits 3, cases 1, collections 1," in out
    assert (
        "cash stacked into the box: ¥1,000 × 1, ¥5,000 × 1, ¥10,000 × 1 — 3 notes, ¥16,000" in out
    )
    assert "notes not kept: returned 1" in out  # the ¥2,000 note handed back
    assert "  charge confirmed: 1, ¥6,000\n  charge refused: 1, ¥10,000\n" in out
    assert "  move confirmed: 1, ¥1,500\n" in out
    assert f"sessions: 2 ({_tokyo(_at(6, 3))} – {_tokyo(_at(6, 10))})" in out
    assert "cases resolved: 1\n" in out
    case = next(line for line in out.splitlines() if "refused_credit" in line)
    assert case.startswith(f"  {config.kiosk.id}-") and "¥10,000" in case
    assert f"refunded by alice {_tokyo(_at(6, 11))} — handed back in cash" in case
    assert (
        f"  #1 {_tokyo(_at(6, 25))} by alice: expected ¥16,000 (3 notes), counted ¥16,000\n"
        in out + "\n"
    )
    assert "days checked with the wallet's ledger (each day's last check): none" in out
    assert "bob" not in out  # July's collection stays live
    assert CARD not in out and mask_card_id(CARD) not in out  # no card id, not even its tag
    # read only: the archive folder holds the same files, byte for byte
    assert _files(config.archive_dir) == before


def test_a_damaged_archive_a_missing_one_and_a_file_that_is_none_are_refused_in_one_line(
    config_path: Path, config: Config, archive: Path
) -> None:
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit flipped on the card
    archive.write_bytes(data)
    before = _files(config.archive_dir)

    damaged = run_kiosk(config_path, "journal", "--archive", MONTH)
    assert damaged.returncode == 1 and damaged.stdout == ""
    assert damaged.stderr == (
        f"paykiosk: archive {MONTH} ({archive}): damaged: its SHA-256 differs from its"
        " checksum file; nothing was changed\n"
    )
    listed = run_kiosk(config_path, "journal", "--archives")
    assert listed.returncode == 0
    assert "NOT OK: damaged: its SHA-256 differs from its checksum file" in listed.stdout
    assert "1 archives, 1 not ok" in listed.stdout

    missing = run_kiosk(config_path, "journal", "--archive", "2026-05")
    assert missing.returncode == 1 and missing.stdout == ""
    assert missing.stderr.strip().endswith(
        "journal-2026-05.sqlite3): not there; nothing was changed"
    )
    other = run_kiosk(config_path, "journal", "--archive", str(config_path))
    assert other.returncode == 1 and other.stderr == (
        f"paykiosk: archive {config_path}: not a journal archive (not an SQLite file);"
        " nothing was changed\n"
    )
    checksum_path(archive).unlink()  # a copy without its checksum file: nothing says it is whole
    unchecked = run_kiosk(config_path, "journal", "--archive", str(archive))
    assert unchecked.returncode == 1
    assert f"no checksum file ({archive.name}.sha256) beside it" in unchecked.stderr
    for result in (damaged, missing, other, unchecked):
        assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
    assert _files(config.archive_dir) == {
        k: v for k, v in before.items() if not k.endswith(".sha256")
    }

    usb = config_path.parent / "usb"
    usb.mkdir()
    export = run_kiosk(config_path, "staff", "export", "--month", MONTH, "--to", str(usb))
    assert export.returncode == 1 and "nothing was changed" in export.stderr
    assert list(usb.iterdir()) == []  # a month that does not verify is not exported


def test_the_export_of_a_month_writes_the_archive_its_checksum_and_the_months_csv_files(
    config_path: Path, config: Config, archive: Path
) -> None:
    usb = config_path.parent / "usb"
    usb.mkdir()
    done = run_kiosk(config_path, "staff", "export", "--month", MONTH, "--to", str(usb))
    assert done.returncode == 0 and done.stderr == "", done.stderr
    kiosk_id = config.kiosk.id
    copy = usb / f"paykiosk-{kiosk_id}-journal-{MONTH}.sqlite3"
    csvs = {
        what: usb / f"paykiosk-{kiosk_id}-{MONTH}-{what}.csv" for what in (*TABLES, "collections")
    }
    assert sorted(p.name for p in usb.iterdir()) == sorted(
        [copy.name, f"{copy.name}.sha256", *(p.name for p in csvs.values())]
    )
    assert f"{copy} (14 rows)" in done.stdout
    # the archive as the kiosk holds it, with the same SHA-256, checked by sha256sum itself
    assert copy.read_bytes() == archive.read_bytes()
    expected = checksum_path(archive).read_text().split()[0]
    assert checksum_path(copy).read_text() == f"{expected}  {copy.name}\n"
    checked = subprocess.run(
        ["sha256sum", "-c", f"{copy.name}.sha256"], cwd=usb, capture_output=True, text=True
    )
    assert checked.returncode == 0 and checked.stdout == f"{copy.name}: OK\n", checked.stderr

    def rows(what: str) -> list[dict[str, str]]:
        with csvs[what].open(encoding=ENCODING, newline="") as file:
            found = list(csv.DictReader(file))
        if what in TABLES:  # the live export's columns
            assert list(found[0]) == list(TABLES[what][0])
        return found

    credits = rows("credits")
    assert sorted((c["kind"], c["state"], int(c["amount"])) for c in credits) == [
        ("cash", "confirmed", 6_000),
        ("cash", "refused", 10_000),
        ("exchange", "confirmed", 1_500),
    ]
    assert sorted(int(r["value"]) for r in rows("cash-ledger")) == [1_000, 5_000, 10_000]
    [case] = rows("cases")
    assert (case["state"], case["resolution"], case["resolved_by"]) == (
        "resolved",
        "refunded",
        "alice",
    )
    [collection] = rows("collections")
    assert (collection["who"], collection["expected_total"], collection["counted_total"]) == (
        "alice",
        "16000",
        "16000",
    )
    assert collection["at"].startswith(datetime.fromtimestamp(_at(6, 25), TOKYO).isoformat()[:16])
    for path in usb.iterdir():  # no member's card id on the stick
        assert CARD.encode() not in path.read_bytes()
    journal = Journal(config.journal_path, kiosk_id)
    try:
        [event] = journal.db.query(
            "SELECT detail FROM events WHERE kind = 'staff' AND detail LIKE '%archive%'"
        )
    finally:
        journal.close()
    assert f": archive {MONTH} exported to {usb}: {copy.name} (14 rows)," in event["detail"]
    assert event["detail"].startswith("shell user ")


def test_an_export_to_a_stick_that_is_not_there_or_too_full_leaves_nothing_on_it(
    config_path: Path, config: Config, archive: Path, tmp_path: Path
) -> None:
    gone = tmp_path / "usb"
    missing = run_kiosk(config_path, "staff", "export", "--month", MONTH, "--to", str(gone))
    assert missing.returncode == 1 and missing.stdout == ""
    assert missing.stderr == (
        f"paykiosk staff: export folder {gone}: not there (is the USB stick mounted?)\n"
    )
    assert not gone.exists()  # not made on the kiosk's own disk

    with small_file_system(tmp_path / "stick", "1m") as stick:
        filler = fill(stick)
        # room for less than the archive: the copy fails part-way, as a stick pulled would
        os.truncate(filler, filler.stat().st_size - archive.stat().st_size // 2)
        full = run_kiosk(config_path, "staff", "export", "--month", MONTH, "--to", str(stick))
        assert full.returncode == 1
        assert full.stderr == (
            f"paykiosk staff: export to {stick}: cannot write"
            f" paykiosk-{config.kiosk.id}-journal-{MONTH}.sqlite3: No space left on device\n"
        )
        assert [p.name for p in stick.iterdir()] == ["filler"]  # no half file, no temp file
    journal = Journal(config.journal_path, config.kiosk.id)
    try:
        failed = [
            r["detail"]
            for r in journal.db.query(
                "SELECT detail FROM events WHERE kind = 'staff' AND detail LIKE '%export%'"
            )
        ]
    finally:
        journal.close()
    assert len(failed) == 2 and all(f"export of archive {MONTH} failed: " in d for d in failed)


@pytest.mark.timeout(150)
def test_staff_put_a_month_on_the_usb_stick_from_the_menus_archive_page(
    tmp_path: Path, sim: SimulatorProcess, wallet: Sandbox
) -> None:
    ui = kiosk(tmp_path, sim, wallet)
    (tmp_path / "old").mkdir()
    old = Journal(tmp_path / "old" / "journal.sqlite3", ui.config.kiosk.id)
    try:
        archive = june_archive(old, ui.config.archive_dir)
    finally:
        old.close()
    # May: a copy of June's with one bit flipped on the card since its checksum was written
    may = archive.with_name("journal-2026-05.sqlite3")
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0x01
    may.write_bytes(data)
    checksum_path(may).write_bytes(checksum_path(archive).read_bytes())
    for month in range(1, 5):  # January to April: whole copies (six months: two pages)
        earlier = archive.with_name(f"journal-2026-0{month}.sqlite3")
        earlier.write_bytes(archive.read_bytes())
        checksum_path(earlier).write_bytes(checksum_path(archive).read_bytes())
    stick = tmp_path / USB

    def said(message: str) -> StaffView | None:
        view = desk(ui).view
        return view if view.desk is Desk.ARCHIVES and view.message == message else None

    async def scenario(ui: KioskUI) -> None:
        await ui.ready()
        await ui.touch_card(STAFF_IDM)
        await desk_at(ui, Desk.PIN)
        await touch_pin(ui, PIN)
        await desk_at(ui, Desk.MENU)
        await ui.press("月別アーカイブ")
        view = await ui.until(lambda: said("") and desk(ui).view, "the archives checked")
        assert [(a.month, a.rows, a.problem) for a in view.archives[:2]] == [
            (MONTH, 14, None),
            ("2026-05", 14, "damaged"),  # newest first
        ]
        assert [a.month for a in view.archives[2:]] == ["2026-04", "2026-03", "2026-02", "2026-01"]
        await ui.wait_text("検証済み")
        await ui.wait_text("破損")
        await ui.wait_text("全 6 か月中 1–5")
        await ui.press("古い月")
        await ui.wait_text("全 6 か月中 6–6")
        assert "2026-01" in ui.texts() and MONTH not in ui.texts()
        await ui.press("新しい月")
        await ui.wait_text("全 6 か月中 1–5")
        desk(ui).staff_archive_export("2026-05")  # not offered (its button is disabled)
        assert desk(ui).view.message == ""
        await ui.press_in_row(MONTH, "USBへ出力")  # no stick yet
        failed = await ui.until(lambda: said("Export failed: {value}"), "the export refused")
        assert "not there (is the USB stick mounted?)" in failed.message_arg
        stick.mkdir()
        await ui.press_in_row(MONTH, "USBへ出力")
        await ui.until(lambda: said("Month {value} exported"), "the month exported")
        await ui.wait_text(f"{MONTH} 分を出力しました")
        await ui.shot("archive-exported")
        await ui.press("戻る")
        await desk_at(ui, Desk.MENU)

    assert ui.run(scenario, "staff-archives") == 0
    copy = stick / f"paykiosk-{ui.config.kiosk.id}-journal-{MONTH}.sqlite3"
    assert copy.read_bytes() == archive.read_bytes()
    assert checksum_path(copy).read_text().split()[0] == _sha256(archive)
    assert len(list(stick.glob(f"*-{MONTH}-*.csv"))) == 4
    journal = Journal(ui.config.journal_path, ui.config.kiosk.id)
    try:
        details = [
            str(r["detail"])
            for r in journal.db.query("SELECT detail FROM events WHERE detail LIKE '%archive%'")
        ]
    finally:
        journal.close()
    assert details[0].startswith(f"{STAFF}: export of archive {MONTH} failed: export folder")
    assert details[1].startswith(f"{STAFF}: archive {MONTH} exported to {stick}: {copy.name}")

