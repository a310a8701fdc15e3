"""The cash box from a shell (``paykiosk --config F staff cashbox | collect | collections |
export``) on real journal files, run as real ``python -m kiosk`` processes; and the ledger
against the notes the acceptor simulator stacked, across sessions, a SIGKILL and collections.
"""

from __future__ import annotations

import csv
import re
import subprocess
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from hardware.card import mask_card_id
from hardware.id003.codes import Command
from kiosk.config.settings import StaffSection
from kiosk.journal import Journal, retention
from kiosk.sim.config import write_sandbox_config
from kiosk.staff.access import StaffAccess
from tests.support.common import one_line_error, wait_until
from tests.support.kiosk_process import run_kiosk
from tests.support.rig import CRASH_TIMING, make_rig
from tests.support.staff_files import stacked_session
from tests.support.wallet import Sandbox

CARD = "0123456789ABCDEF"
WHAT = ("cash-ledger", "credits", "cases", "collections")


def _config(tmp_path: Path, wallet: Sandbox, staff: str = "") -> Path:
    """A kiosk config (no devices are opened by ``staff`` commands) with ``[staff]`` keys."""
    return write_sandbox_config(
        tmp_path,
        wallet.info,
        str(tmp_path / "acc"),
        "udp:127.0.0.1:9",
        extra=f"\n[staff]\nstacker_capacity = 10\nnear_full_percent = 80\n{staff}",
    )


def _journal(config: Path) -> Journal:
    return Journal(config.parent / "data" / "journal.sqlite3", "T01")


def _stack(config: Path, values: list[int], finish: bool = True) -> None:
    """One member session whose notes the acceptor stacked, finished into its credit."""
    journal = _journal(config)
    try:
        stacked_session(journal, values, finish=finish)
    finally:
        journal.close()


def _members(config: Path, *names: str) -> None:
    """Staff members set up as ``staff set-pin`` does (a collection names one of them)."""
    journal = _journal(config)
    try:
        for name in names:
            StaffAccess(journal, StaffSection()).set_pin(name, "4821")
    finally:
        journal.close()


def _staff(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_kiosk(config, "staff", *args)


def _ok(config: Path, *args: str) -> str:
    result = _staff(config, *args)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", result.stderr
    return result.stdout


def _staff_events(config: Path) -> list[str]:
    journal = _journal(config)
    try:
        rows = journal.db.query("SELECT detail FROM events WHERE kind = 'staff' ORDER BY id")
        return [str(r["detail"]) for r in rows]
    finally:
        journal.close()


def _box_total(output: str) -> tuple[int, int]:
    found = re.search(r"total (\d+) notes?, ¥([\d,]+)", output)
    assert found, output
    return int(found[1]), int(found[2].replace(",", ""))


def test_the_cash_box_counts_each_denomination_and_warns_near_full(
    tmp_path: Path, wallet: Sandbox
) -> None:
    config = _config(tmp_path, wallet)
    _stack(config, [1000, 1000, 5000])
    _stack(config, [10000, 2000, 1000, 1000])
    shown = _ok(config, "cashbox")
    assert "since the journal began" in shown
    assert re.search(r"¥1,000 × +4 +¥4,000", shown), shown
    assert re.search(r"¥2,000 × +1 +¥2,000", shown) and re.search(r"¥5,000 × +1 +¥5,000", shown)
    assert re.search(r"¥10,000 × +1 +¥10,000", shown), shown
    assert _box_total(shown) == (7, 21000)
    assert "fill 7 of 10 notes (70 %)" in shown and "WARNING" not in shown

    _stack(config, [1000])  # 8 of 10: the configured 80 %
    shown = _ok(config, "cashbox")
    assert "fill 8 of 10 notes (80 %)" in shown
    assert "WARNING: the cash box is near full" in shown, shown
    _stack(config, [1000, 1000])
    assert "WARNING: the cash box is full (10 of 10 notes)" in _ok(config, "cashbox")
    assert any("cash box shown (8 notes, ¥22,000, 80 % full)" in e for e in _staff_events(config))


def test_a_collection_records_the_discrepancy_and_starts_a_new_period(
    tmp_path: Path, wallet: Sandbox
) -> None:
    config = _config(tmp_path, wallet)
    _members(config, "佐藤", "Tanaka")
    _stack(config, [1000, 1000, 5000])
    printed = _ok(
        config, "collect", "--by", "佐藤", "--count", "1000=1", "--count", "5000=1",
        "--note", "one ¥1,000 short; box was sealed",
    )  # fmt: skip
    assert "Pay Spot T01 cash box collection #1" in printed and "by 佐藤" in printed
    assert "expected ¥1,000×2 ¥2,000×0 ¥5,000×1 ¥10,000×0 = ¥7,000 (3 notes)" in printed
    assert "counted ¥1,000×1 ¥2,000×0 ¥5,000×1 ¥10,000×0 = ¥6,000 (2 notes)" in printed
    assert "discrepancy: -¥1,000 (¥1,000 -1)" in printed
    assert "note: one ¥1,000 short; box was sealed" in printed

    journal = _journal(config)
    try:
        row = journal.db.one("SELECT * FROM collections")
        assert row is not None
        assert (row["who"], row["total"], row["discrepancy"]) == ("佐藤", 7000, -1000)
        record = journal.cashbox.collection(1)
        assert record.expected.counts == {1000: 2, 5000: 1}
        assert record.counted is not None
        assert record.counted.counts == {1000: 1, 2000: 0, 5000: 1, 10000: 0}
        assert record.differences() == {1000: -1}
        boxed = journal.db.query("SELECT collection_id FROM cashbox")
        assert [r["collection_id"] for r in boxed] == [1, 1, 1]
        assert journal.cashbox.count().notes == 0 and journal.cashbox.matches_notes()
    finally:
        journal.close()

    shown = _ok(config, "cashbox")  # a new period
    assert "since collection #1" in shown and "佐藤" in shown and _box_total(shown) == (0, 0)
    _stack(config, [10000, 2000])
    assert _box_total(_ok(config, "cashbox")) == (2, 12000)
    exact = _ok(config, "collect", "--by", "Tanaka", "--count", "10000=1", "--count", "2000=1")
    assert "discrepancy: none" in exact

    listed = _ok(config, "collections").splitlines()
    assert len(listed) == 2 and listed[0].startswith("#2 ") and listed[1].startswith("#1 ")
    assert "discrepancy -¥1,000 (¥1,000 -1)" in listed[1] and "by 佐藤" in listed[1]
    assert _ok(config, "collections", "--last", "1").splitlines() == listed[:1]
    assert "discrepancy: -¥1,000" in _ok(config, "collections", "--id", "1")
    events = _staff_events(config)
    assert any(e.startswith("佐藤: collection #1: expected ¥7,000") for e in events), events
    assert any(e.startswith("Tanaka: collection #2") and "none" in e for e in events), events


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--count", "500=1"], ["¥500 is not a note", "¥1,000, ¥2,000, ¥5,000, ¥10,000"]),
        (["--count", "3000=1"], ["¥3,000 is not a note"]),
        (["--count", "1000=-1"], ["--count 1000=-1", "VALUE=N"]),
        (["--count", "1000=x"], ["--count 1000=x"]),
        (["--count", "1000"], ["--count 1000"]),
        ([], ["--count 1000=3"]),
        (["--count", "1000=1", "--count", "1000=2"], ["¥1,000 is counted twice"]),
        (["--count", "1000=1", "--by", "  "], ["--by NAME"]),
        (["--count", "1000=1", "--by="], ["--by NAME"]),
        (["--count", "1000=1", "--by", "Satou"], ["--by Satou: no staff member"]),
        (["--count", "1000=1", "--by", "4821"], ["--by: a staff name", "not only digits"]),
        (["--count", "1000=1", "--note", "x" * 301], ["--note", "300"]),
    ],
    ids=["500", "3000", "negative", "not-a-number", "no-n", "no-count", "twice", "blank-name",
         "no-name", "not-staff", "a-pin", "long-note"],
)  # fmt: skip
def test_a_bad_collection_is_one_line_and_changes_nothing(
    tmp_path: Path, wallet: Sandbox, args: list[str], words: list[str]
) -> None:
    config = _config(tmp_path, wallet)
    _members(config, "Sato")
    _stack(config, [1000, 5000])
    before = _staff_events(config)
    one_line_error(_staff(config, "collect", "--by", "Sato", *args), *words)
    journal = _journal(config)
    try:
        assert journal.cashbox.collections() == []
        assert journal.cashbox.count().counts == {1000: 1, 5000: 1}
    finally:
        journal.close()
    events = _staff_events(config)
    assert events == before and not any("4821" in e for e in events)


def test_bad_collection_queries_are_one_line(tmp_path: Path, wallet: Sandbox) -> None:
    config = _config(tmp_path, wallet)
    assert _ok(config, "collections").strip() == "no collection yet"
    one_line_error(_staff(config, "collections", "--last", "0"), "--last 0")
    one_line_error(_staff(config, "collections", "--id", "7"), "no collection #7")


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as file:
        return list(csv.DictReader(file))


def _exported(folder: Path) -> dict[str, list[dict[str, str]]]:
    files = sorted(folder.iterdir())
    assert len(files) == 4, files  # no temp file left behind
    tables = {}
    for what in WHAT:
        [path] = [f for f in files if f.name.endswith(f"-{what}.csv")]
        assert re.fullmatch(rf"paykiosk-T01-\d{{8}}-\d{{6}}-{what}\.csv", path.name), path.name
        assert CARD not in path.read_text(encoding="utf-8-sig")
        assert mask_card_id(CARD) not in path.read_text(encoding="utf-8-sig")
        tables[what] = _read_csv(path)
    return tables


def _time(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def test_the_csv_export_holds_what_the_journal_holds(tmp_path: Path, wallet: Sandbox) -> None:
    config = _config(tmp_path, wallet)
    _members(config, "佐藤")
    _stack(config, [1000, 2000])
    _stack(config, [5000])
    _ok(config, "collect", "--by", "佐藤", "--count", "1000=1", "--count", "5000=1",
        "--note", "¥2,000 missing, reported")  # fmt: skip
    _stack(config, [10000, 1000])
    journal = _journal(config)
    try:
        [credit, *_] = journal.credits.open_credits()
        reference = journal.credits.refuse(credit.id, "account_suspended", "suspended")
        move = journal.moves.open("user-1", ("base", "money-b"), ("cafeteria", "money-c"), 700)
    finally:
        journal.close()
    out = tmp_path / "usb"
    out.mkdir()
    printed = _ok(config, "export", "--to", str(out))
    assert len(printed.splitlines()) == 4 and "(5 rows)" in printed

    tables = _exported(out)
    journal = _journal(config)
    try:
        boxed = journal.db.query(
            "SELECT c.*, n.session_id FROM cashbox c JOIN notes n ON n.id = c.note_id ORDER BY c.id"
        )
        ledger = tables["cash-ledger"]
        assert [int(r["value"]) for r in ledger] == [1000, 2000, 5000, 10000, 1000]
        assert [r["collection_id"] for r in ledger] == ["1", "1", "1", "", ""]
        for row, db_row in zip(ledger, boxed, strict=True):
            assert int(row["note_id"]) == db_row["note_id"]
            assert int(row["session_id"]) == db_row["session_id"]
            assert abs(_time(row["stacked_at"]) - db_row["at"]) < 1

        credits = journal.db.query("SELECT * FROM credits ORDER BY id")
        assert [(int(r["amount"]), r["state"], r["request_id"]) for r in tables["credits"]] == [
            (c["amount"], c["state"], c["request_id"]) for c in credits
        ]
        assert tables["credits"][0]["reference"] == reference
        kinds = [(r["kind"], r["source_bucket"], r["bucket"]) for r in tables["credits"]]
        assert kinds == [("cash", "", "base")] * 3 + [("exchange", "base", "cafeteria")]
        assert tables["credits"][-1]["request_id"] == move.request_id

        [case] = tables["cases"]
        assert (case["reference"], case["kind"], case["amount"]) == (
            reference, "refused_credit", "3000",
        )  # fmt: skip

        [collection] = tables["collections"]
        assert collection["who"] == "佐藤" and collection["note"] == "¥2,000 missing, reported"
        assert [collection[f"expected_{v}"] for v in (1000, 2000, 5000, 10000)] == [
            "1", "1", "1", "0",
        ]  # fmt: skip
        assert [collection[f"counted_{v}"] for v in (1000, 2000, 5000, 10000)] == [
            "1", "0", "1", "0",
        ]  # fmt: skip
        assert (collection["expected_total"], collection["counted_total"]) == ("8000", "6000")
        assert collection["discrepancy"] == "-2000"
        record = journal.cashbox.collection(1)
        assert abs(_time(collection["at"]) - record.at) < 1
    finally:
        journal.close()
    events = _staff_events(config)
    assert any("exported to" in e and "cash-ledger.csv (5 rows)" in e for e in events), events


def _export(config: Path, folder: Path) -> dict[str, list[dict[str, str]]]:
    folder.mkdir()
    _ok(config, "export", "--to", str(folder))
    return _exported(folder)


def test_each_export_holds_what_changed_since_the_previous_one(
    tmp_path: Path, wallet: Sandbox
) -> None:
    config = _config(tmp_path, wallet)
    _members(config, "佐藤")
    _stack(config, [1000, 2000])
    _stack(config, [5000])
    first = _export(config, tmp_path / "usb1")
    assert [r["collection_id"] for r in first["cash-ledger"]] == ["", "", ""]
    assert [r["state"] for r in first["credits"]] == ["pending", "pending"]

    journal = _journal(config)
    try:
        one, two = journal.credits.open_credits()
        journal.credits.confirm(one.id, "tx-1")
        reference = journal.credits.refuse(two.id, "account_suspended", "suspended")
    finally:
        journal.close()
    _ok(config, "collect", "--by", "佐藤", "--count", "1000=1", "--count", "2000=1",
        "--count", "5000=1")  # fmt: skip
    _stack(config, [10000])
    # the notes collected since are there again with their collection, the credits settled
    # since with how they ended; what is new since, once
    second = _export(config, tmp_path / "usb2")
    ledger = [(r["ledger_id"], r["value"], r["collection_id"]) for r in second["cash-ledger"]]
    assert ledger == [("1", "1000", "1"), ("2", "2000", "1"), ("3", "5000", "1"),
                      ("4", "10000", "")]  # fmt: skip
    credits = [(r["credit_id"], r["state"]) for r in second["credits"]]
    assert credits == [("1", "confirmed"), ("2", "refused"), ("3", "pending")]
    assert [(r["reference"], r["state"]) for r in second["cases"]] == [(reference, "open")]
    assert [r["collection_id"] for r in second["collections"]] == ["1"]

    journal = _journal(config)
    try:
        journal.cases.resolve(reference, "refunded", "佐藤", "cash handed back")
    finally:
        journal.close()
    missing = tmp_path / "not-mounted"
    one_line_error(_staff(config, "export", "--to", str(missing)), "not there")
    # only what was still open: the pending credit, the refused one and its case, resolved
    third = _export(config, tmp_path / "usb3")
    assert third["cash-ledger"] == [] and third["collections"] == []
    credits = [(r["credit_id"], r["state"]) for r in third["credits"]]
    assert credits == [("2", "refused"), ("3", "pending")]
    assert [(r["reference"], r["state"]) for r in third["cases"]] == [(reference, "resolved")]


def test_an_export_after_retention_moved_the_newest_rows_out_misses_nothing(
    tmp_path: Path, wallet: Sandbox
) -> None:
    """Retention may move a table's newest rows out (an old case, resolved, the last one):
    SQLite then hands their ids out again, and the rows made since are found by time."""
    config = _config(tmp_path, wallet)
    journal = _journal(config)
    try:
        old = journal.cases.open("uncredited_note", amount=1000, detail="a note after a restart")
        journal.cases.resolve(old, "refunded", "佐藤", "cash handed back")
    finally:
        journal.close()
    assert [r["reference"] for r in _export(config, tmp_path / "usb1")["cases"]] == [old]
    journal = _journal(config)
    try:
        [case] = journal.cases.list(state=None)
        chosen = retention.Selection(retention.Month.of(time.time()), {"cases": [case.id]})
        archive = retention.write_archive(journal.db, chosen, tmp_path / "archive")
        assert retention.delete_archived(journal.db, chosen, archive) == 1
        new = journal.cases.open("uncredited_note", amount=5000, detail="a jam, then cleared")
        assert journal.cases.get(new).id == case.id  # the id handed out again
    finally:
        journal.close()
    cases = _export(config, tmp_path / "usb2")["cases"]
    assert [(r["reference"], r["amount"]) for r in cases] == [(new, "5000")]


def test_export_goes_to_the_configured_folder_and_never_makes_one(
    tmp_path: Path, wallet: Sandbox
) -> None:
    config = _config(tmp_path, wallet)
    one_line_error(_staff(config, "export"), "--to DIR", "[staff] export_dir")
    unmounted = tmp_path / "media" / "usb"
    one_line_error(_staff(config, "export", "--to", str(unmounted)), "not there", "mounted")
    assert not unmounted.exists()
    a_file = tmp_path / "paykiosk.toml"
    one_line_error(_staff(config, "export", "--to", str(a_file)), "not a folder")

    stick = tmp_path / "stick"
    stick.mkdir()
    config = _config(tmp_path, wallet, staff=f'export_dir = "{stick}"\n')
    _stack(config, [2000])
    _ok(config, "export")
    assert [int(r["value"]) for r in _exported(stick)["cash-ledger"]] == [2000]


@pytest.mark.slow
def test_the_ledger_equals_the_stacked_notes_across_sessions_a_crash_and_collections(
    tmp_path: Path, wallet: Sandbox
) -> None:
    with make_rig(tmp_path, wallet, CRASH_TIMING) as rig:
        cards = [rig.member()[1] for _ in range(3)]  # one card each: no same-card bounce rule
        _members(rig.kiosk.config, "Sato")
        rig.kiosk.start()
        rig.start_session(cards[0])
        for value in (1000, 5000, 1000):
            rig.feed(value)
        rig.kiosk.wait_settled(timeout=40)

        rig.start_session(cards[1])  # killed as the ACK of its second note goes out
        rig.feed(2000)
        rig.feed_killed_on(Command.ACK, 10000)
        rig.restart_and_settle()
        assert rig.sim.stacked == [1000, 5000, 1000, 2000, 10000]
        assert _box_total(_ok(rig.kiosk.config, "cashbox")) == (5, 19000)

        # staff empty the unit's box beside the running kiosk and count one ¥1,000 short
        box = rig.sim.control(lambda d, now: d.collect())
        counted = Counter(box)
        counted[1000] -= 1
        args = [f"--count={v}={n}" for v, n in counted.items()]
        printed = _ok(rig.kiosk.config, "collect", "--by", "Sato", *args)
        assert "discrepancy: -¥1,000 (¥1,000 -1)" in printed, printed

        rig.start_session(cards[2])
        for value in (5000, 2000):
            rig.feed(value)
        rig.kiosk.wait_settled(timeout=40)
        assert rig.sim.stacked == [5000, 2000]
        assert _box_total(_ok(rig.kiosk.config, "cashbox")) == (2, 7000)
        stick = tmp_path / "stick"
        stick.mkdir()
        _ok(rig.kiosk.config, "export", "--to", str(stick))

        journal = rig.kiosk.journal()
        try:
            ledger = journal.db.query("SELECT value, collection_id FROM cashbox ORDER BY id")
            assert [r["value"] for r in ledger] == box + rig.sim.stacked
            assert [r["collection_id"] for r in ledger] == [1] * len(box) + [None, None]
            assert journal.notes.stacked_values() == box + rig.sim.stacked
            assert journal.cashbox.matches_notes()
            record = journal.cashbox.collection(1)
            assert record.expected.counts == Counter(box) and record.discrepancy == -1000
            assert journal.cashbox.count().counts == Counter(rig.sim.stacked)
            credited = journal.db.one("SELECT SUM(amount) AS s FROM credits")
            assert credited is not None and credited["s"] == sum(box + rig.sim.stacked)
        finally:
            journal.close()
        tables = _exported(stick)
        assert [int(r["value"]) for r in tables["cash-ledger"]] == box + rig.sim.stacked
        for card in cards:
            assert card not in "".join(p.read_text() for p in stick.iterdir())


@pytest.mark.slow
def test_the_cash_box_taken_out_without_a_collection_is_shown_until_one_is_recorded(
    tmp_path: Path, wallet: Sandbox
) -> None:
    with make_rig(tmp_path, wallet, CRASH_TIMING) as rig:
        card = rig.member()[1]
        _members(rig.kiosk.config, "Sato")
        rig.kiosk.start()
        rig.start_session(card)
        rig.feed(1000)
        rig.kiosk.wait_settled(timeout=40)
        assert "taken out" not in _ok(rig.kiosk.config, "cashbox")

        # the box is pulled out of the running kiosk's acceptor, emptied, put back
        rig.sim.control(lambda d, now: setattr(d, "stacker_open", True))
        box = rig.sim.control(lambda d, now: d.collect())

        def warned() -> bool:
            return "taken out" in _ok(rig.kiosk.config, "cashbox")

        wait_until(warned, 20, "the removal shown by staff cashbox")
        rig.sim.control(lambda d, now: setattr(d, "stacker_open", False))
        shown = _ok(rig.kiosk.config, "cashbox")
        assert "no collection was recorded since" in shown and "¥1,000 ×    1" in shown, shown

        _ok(rig.kiosk.config, "collect", "--by", "Sato", f"--count=1000={box.count(1000)}")
        assert "taken out" not in _ok(rig.kiosk.config, "cashbox")
