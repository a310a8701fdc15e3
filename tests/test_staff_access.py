"""Staff entry: PINs, staff cards, the service key and the lockout — through the real
``paykiosk --config F staff …`` process (stdin, a terminal) and through ``StaffAccess`` on a
real journal file; no PIN and no full card id in any output, log or journal byte."""

from __future__ import annotations

import fcntl
import glob
import os
import pty
import select
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from kiosk.config.settings import Config, load
from kiosk.journal import Journal
from kiosk.staff.access import Denied, StaffAccess
from kiosk.staff.credentials import PIN_PARAMS, ScryptParams, hash_pin
from tests.support.staff_files import (
    BOB_IDM,
    IDM,
    OTHER_PIN,
    PIN,
    UNKNOWN_IDM,
    WRONG_PIN,
    write_config,
)

ROOT = Path(__file__).resolve().parents[1]


def staff(
    config_path: Path,
    *args: str,
    stdin: str = "",
    verbose: bool = False,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``python -m kiosk --config F staff ARGS`` with ``stdin`` as its standard input."""
    flags = ["-v"] if verbose else []
    return subprocess.run(
        [sys.executable, "-m", "kiosk", *flags, "--config", str(config_path), "staff", *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env=None if env is None else {**os.environ, **env},
    )


def wall_clock_ahead(seconds: int) -> dict[str, str]:
    """The environment that runs a process with its wall clock ``seconds`` ahead (libfaketime,
    Debian's ``faketime``, which the README's test command installs)."""
    found = sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1"))
    assert found, "needs libfaketime: apt-get install faketime"
    return {
        "LD_PRELOAD": found[0],
        "FAKETIME": f"+{seconds}s",
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
    }


def twice(pin: str) -> str:
    return f"{pin}\n{pin}\n"


def snapshot(journal: Journal) -> list[list[tuple[object, ...]]]:
    return [
        [tuple(row) for row in journal.db.query(f"SELECT * FROM {table} ORDER BY 1")]
        for table in ("staff", "staff_cards", "staff_attempts", "events")
    ]


def staff_events(journal: Journal) -> list[str]:
    rows = journal.db.query("SELECT detail FROM events WHERE kind = 'staff' ORDER BY id")
    return [row["detail"] for row in rows]


def test_set_pin_then_the_pin_lets_in_and_a_wrong_one_does_not(
    config_path: Path, journal: Journal
) -> None:
    done = staff(config_path, "set-pin", "alice", stdin=twice(PIN))
    assert (done.returncode, done.stdout) == (0, "new staff member alice, PIN set\n")
    assert staff(config_path, "check-pin", "alice", stdin=PIN + "\n").returncode == 0
    refused = staff(config_path, "check-pin", "alice", stdin=WRONG_PIN + "\n")
    assert refused.returncode == 1
    assert refused.stderr == "paykiosk staff: wrong name or PIN\n"
    # an unknown name is refused the same way: names are not to be probed
    unknown = staff(config_path, "check-pin", "mallory", stdin=PIN + "\n")
    assert (unknown.returncode, unknown.stderr) == (1, refused.stderr)

    changed = staff(config_path, "set-pin", "alice", stdin=twice(OTHER_PIN))
    assert changed.stdout == "PIN changed for alice\n"
    assert staff(config_path, "check-pin", "alice", stdin=PIN + "\n").returncode == 1
    assert staff(config_path, "check-pin", "alice", stdin=OTHER_PIN + "\n").returncode == 0

    listing = staff(config_path, "list")
    assert listing.stdout.splitlines() == ["name   PIN  cards", "alice  set  -"]
    attempts = staff(config_path, "attempts", "--last", "3").stdout.splitlines()
    assert [line.split()[3:6] for line in attempts[:3]] == [
        ["-", "refused", "unknown_name"],
        ["alice", "refused", "wrong_pin"],
        ["alice", "granted", "granted"],
    ]
    assert attempts[3] == "staff entry: open (0 of 5 wrong PINs in a row)"


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["set-pin", "alice"], f"{PIN}\n{OTHER_PIN}\n", "the two PINs differ; nothing changed"),
        (["set-pin", "alice"], twice("123"), "a PIN is 4 to 12 digits (0-9)"),
        (["set-pin", "alice"], twice("1234567890123"), "a PIN is 4 to 12 digits (0-9)"),
        (["set-pin", "alice"], twice("12a45"), "a PIN is 4 to 12 digits (0-9)"),
        (["set-pin", "alice"], PIN + "\n", "expected the PIN twice on standard input"),
        (["set-pin", PIN], twice(PIN), "a staff name is 1 to 32 printable characters"),
        (["set-pin", "x" * 33], twice(PIN), "a staff name is 1 to 32 printable characters"),
        (["add-card", "alice", "--idm", IDM[:-1]], "", "a card IDm is 16 hex digits"),
        (["add-card", "alice"], IDM[:8] + "ZZ" + IDM[10:] + "\n", "a card IDm is 16 hex digits"),
        (["add-card", "bob", "--idm", BOB_IDM], "", "no staff member bob (set a PIN first"),
        (["add-card", "alice", "--idm", IDM], "", "card 0116…7F is already a staff card"),
        (["remove", "bob"], "", "no staff member bob"),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(
    config_path: Path, journal: Journal, args: list[str], stdin: str, message: str
) -> None:
    assert staff(config_path, "set-pin", "alice", stdin=twice(PIN)).returncode == 0
    assert staff(config_path, "add-card", "alice", "--idm", IDM).returncode == 0
    before = snapshot(journal)
    done = staff(config_path, *args, stdin=stdin)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith(f"paykiosk staff: {message}")
    assert done.stderr.count("\n") == 1
    assert PIN not in done.stderr and OTHER_PIN not in done.stderr and IDM not in done.stderr
    assert snapshot(journal) == before
    assert staff(config_path, "check-pin", "alice", stdin=PIN + "\n").returncode == 0


def test_a_bad_count_of_attempts_is_a_usage_error(config_path: Path) -> None:
    done = staff(config_path, "attempts", "--last", "0")
    assert done.returncode == 2 and "--last: must be 1 or more" in done.stderr


def test_five_wrong_pins_lock_entry_for_the_whole_kiosk_across_restarts(
    config_path: Path, journal: Journal
) -> None:
    assert staff(config_path, "set-pin", "alice", stdin=twice(PIN)).returncode == 0
    assert staff(config_path, "set-pin", "bob", stdin=twice(OTHER_PIN)).returncode == 0
    # a thief tries several names: the count is the kiosk's, not a name's
    for name in ("alice", "bob", "mallory", "alice"):
        assert staff(config_path, "check-pin", name, stdin=WRONG_PIN + "\n").returncode == 1
    assert staff(config_path, "attempts").stdout.endswith(
        "staff entry: open (4 of 5 wrong PINs in a row)\n"
    )
    fifth = staff(config_path, "check-pin", "bob", stdin=WRONG_PIN + "\n")
    assert fifth.returncode == 1
    assert fifth.stderr.startswith("paykiosk staff: staff entry locked until ")

    # every process from now on is a restart: the lock is read from the journal's rows
    right = staff(config_path, "check-pin", "alice", stdin=PIN + "\n")
    assert right.returncode == 1 and "staff entry locked until" in right.stderr
    report = staff(config_path, "attempts").stdout.splitlines()
    assert report[-2].split()[3:] == ["alice", "refused", "locked"]
    assert report[-1].startswith("staff entry: LOCKED until ")
    assert any(event.startswith("entry locked until ") for event in staff_events(journal))

    access = StaffAccess(journal, load(config_path).staff)
    assert access.enter_with_key("bob", OTHER_PIN).denied is Denied.LOCKED
    assert access.enter_with_card(UNKNOWN_IDM, PIN).denied is Denied.LOCKED
    lock = access.lock()
    assert lock.until is not None and 14 * 60 < lock.until - time.time() <= 15 * 60
    rows = journal.db.query("SELECT success FROM staff_attempts")
    assert len(rows) == 8 and not any(row["success"] for row in rows)


def test_the_lock_lifts_after_its_time_in_a_new_process(
    tmp_path: Path, tls_files: dict[str, bytes]
) -> None:
    # The lock's minute is not waited out: the last process's wall clock is passed in, ahead.
    # (A lock of 1.8 s waited out could lift before a slow start of the locked check.)
    config_path = write_config(tmp_path, tls_files, lockout_minutes=1.0)
    assert staff(config_path, "set-pin", "alice", stdin=twice(PIN)).returncode == 0
    for _ in range(5):
        staff(config_path, "check-pin", "alice", stdin=WRONG_PIN + "\n")
    assert staff(config_path, "check-pin", "alice", stdin=PIN + "\n").returncode == 1
    done = staff(config_path, "check-pin", "alice", stdin=PIN + "\n", env=wall_clock_ahead(61))
    assert (done.returncode, done.stdout) == (0, "PIN accepted for alice\n")


def test_the_lock_follows_the_clock_and_a_good_entry_starts_a_new_count(
    config: Config, journal: Journal
) -> None:
    now = [1_800_000_000.0]
    access = StaffAccess(journal, config.staff, clock=lambda: now[0])
    access.set_pin("alice", PIN)
    for _ in range(4):
        assert access.enter_with_pin("alice", WRONG_PIN).denied is Denied.WRONG_PIN
        now[0] += 10
    fifth = access.enter_with_pin("alice", WRONG_PIN)
    assert fifth.denied is Denied.LOCKED and fifth.locked_until == now[0] + 15 * 60
    until = fifth.locked_until

    now[0] = until - 1
    # a restart: another journal connection, another StaffAccess
    second = Journal(config.journal_path, config.kiosk.id)
    try:
        again = StaffAccess(second, config.staff, clock=lambda: now[0])
        assert again.enter_with_pin("alice", PIN) == fifth
    finally:
        second.close()
    now[0] = until
    assert access.enter_with_pin("alice", PIN).granted

    for _ in range(4):
        assert access.enter_with_pin("alice", WRONG_PIN).denied is Denied.WRONG_PIN
    assert access.enter_with_pin("alice", PIN).granted  # 4 wrong, then right: no lock
    assert access.lock().wrong_in_row == 0
    for _ in range(4):
        access.enter_with_key("alice", WRONG_PIN)
    assert access.enter_with_key("alice", WRONG_PIN).denied is Denied.LOCKED


def test_a_staff_card_and_its_owners_pin_let_in(
    config_path: Path, config: Config, journal: Journal
) -> None:
    for name, pin in (("alice", PIN), ("bob", OTHER_PIN)):
        assert staff(config_path, "set-pin", name, stdin=twice(pin)).returncode == 0
    added = staff(config_path, "add-card", "alice", stdin=IDM.lower() + "\n")
    assert (added.returncode, added.stdout) == (0, "card 0116…7F added for alice\n")
    assert staff(config_path, "add-card", "bob", "--idm", BOB_IDM).stdout == (
        "card 0116…A5 added for bob\n"
    )
    assert staff(config_path, "list").stdout.splitlines()[1:] == [
        "alice  set  0116…7F",
        "bob    set  0116…A5",
    ]

    access = StaffAccess(journal, config.staff)
    entry = access.enter_with_card(IDM, PIN)
    assert entry.granted and entry.name == "alice"
    assert access.enter_with_card(IDM, OTHER_PIN).denied is Denied.WRONG_PIN  # not bob's PIN
    assert access.enter_with_card(BOB_IDM, OTHER_PIN).name == "bob"
    rows = journal.db.query("SELECT name, method, success, detail FROM staff_attempts")
    assert [tuple(row) for row in rows] == [
        ("alice", "card", 1, "granted card 0116…7F"),
        ("alice", "card", 0, "wrong_pin card 0116…7F"),
        ("bob", "card", 1, "granted card 0116…A5"),
    ]


def test_an_unknown_card_is_refused_and_journaled_masked(config: Config, journal: Journal) -> None:
    access = StaffAccess(journal, config.staff)
    access.set_pin("alice", PIN)
    access.add_card("alice", IDM)
    assert access.enter_with_card(UNKNOWN_IDM, PIN).denied is Denied.UNKNOWN_CARD
    assert access.enter_with_card("not a card", PIN).denied is Denied.UNKNOWN_CARD
    rows = journal.db.query("SELECT name, method, success, detail FROM staff_attempts")
    assert [tuple(row) for row in rows] == [
        (None, "card", 0, "unknown_card 0116…77"),
        (None, "card", 0, "unknown_card unreadable id"),
    ]
    assert access.lock().wrong_in_row == 0  # no PIN was tried


def test_the_service_key_and_a_pin(config: Config, journal: Journal) -> None:
    access = StaffAccess(journal, config.staff)
    access.set_pin("alice", PIN)
    assert access.enter_with_key("alice", WRONG_PIN).denied is Denied.WRONG_PIN
    assert access.enter_with_key("alice", PIN).name == "alice"
    rows = journal.db.query("SELECT method, success FROM staff_attempts ORDER BY id")
    assert [tuple(row) for row in rows] == [("key", 0), ("key", 1)]


def test_a_removed_member_and_their_cards_no_longer_enter(
    config_path: Path, config: Config, journal: Journal
) -> None:
    assert staff(config_path, "set-pin", "alice", stdin=twice(PIN)).returncode == 0
    assert staff(config_path, "set-pin", "bob", stdin=twice(OTHER_PIN)).returncode == 0
    assert staff(config_path, "add-card", "alice", "--idm", IDM).returncode == 0
    done = staff(config_path, "remove", "alice")
    assert (done.returncode, done.stdout) == (0, "removed staff member alice and 1 card(s)\n")
    assert staff(config_path, "list").stdout.splitlines()[1:] == ["bob   set  -"]
    assert staff(config_path, "check-pin", "alice", stdin=PIN + "\n").returncode == 1
    access = StaffAccess(journal, config.staff)
    assert access.enter_with_card(IDM, PIN).denied is Denied.UNKNOWN_CARD
    assert journal.db.query("SELECT * FROM staff_cards") == []
    # the card can be given to someone else now
    assert staff(config_path, "add-card", "bob", "--idm", IDM).returncode == 0


def test_every_staff_change_and_entry_is_journaled(config: Config, journal: Journal) -> None:
    access = StaffAccess(journal, config.staff)
    access.set_pin("alice", PIN, by="shell user root")
    access.set_pin("alice", OTHER_PIN)
    access.add_card("alice", IDM)
    access.enter_with_card(IDM, OTHER_PIN)
    access.remove("alice")
    assert staff_events(journal) == [
        "new staff member: alice (by shell user root)",
        "PIN changed: alice",
        "card 0116…7F added for alice",
        "entry: alice (card)",
        "staff member removed: alice (1 card(s))",
    ]


def test_no_pin_or_card_id_in_output_logs_or_journal_bytes(
    config_path: Path, config: Config, journal: Journal
) -> None:
    runs = [
        staff(config_path, "set-pin", "alice", stdin=twice(PIN), verbose=True),
        staff(config_path, "set-pin", "bob", stdin=twice(OTHER_PIN), verbose=True),
        staff(config_path, "add-card", "alice", stdin=IDM + "\n", verbose=True),
        staff(config_path, "add-card", "bob", "--idm", BOB_IDM, verbose=True),
        staff(config_path, "check-pin", "alice", stdin=PIN + "\n", verbose=True),
        staff(config_path, "check-pin", "alice", stdin=WRONG_PIN + "\n", verbose=True),
        staff(config_path, "add-card", "bob", "--idm", IDM, verbose=True),  # already alice's
        staff(config_path, "set-pin", "bob", stdin=f"{PIN}\n{WRONG_PIN}\n", verbose=True),
        staff(config_path, "list", verbose=True),
        staff(config_path, "attempts", verbose=True),
    ]
    access = StaffAccess(journal, config.staff)
    assert access.enter_with_card(IDM, PIN).granted
    assert access.enter_with_card(UNKNOWN_IDM, PIN).denied is Denied.UNKNOWN_CARD
    assert access.enter_with_card(BOB_IDM, WRONG_PIN).denied is Denied.WRONG_PIN
    assert [run.returncode for run in runs] == [0, 0, 0, 0, 0, 1, 1, 1, 0, 0]
    output = "".join(run.stdout + run.stderr for run in runs)
    assert "INFO paykiosk.staff: card 0116…7F added for alice" in output  # the logs are in it
    secrets = [PIN, OTHER_PIN, WRONG_PIN, IDM, BOB_IDM, UNKNOWN_IDM]
    for secret in secrets:
        assert secret not in output
        assert secret.lower() not in output
    files = [config.journal_path, *config.journal_path.parent.glob("journal.sqlite3-*")]
    assert any(path.name.endswith("-wal") and path.stat().st_size for path in files)
    for path in files:
        data = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in data, (secret, path.name)
            assert secret.encode("utf-16-le") not in data, (secret, path.name)


def test_pins_typed_on_a_terminal_are_not_echoed(config_path: Path, journal: Journal) -> None:
    output = run_on_terminal(
        config_path, ["set-pin", "alice"], [("New PIN for alice: ", PIN), ("again: ", PIN)]
    )
    assert "new staff member alice, PIN set" in output
    assert PIN not in output
    entered = run_on_terminal(config_path, ["check-pin", "alice"], [("PIN for alice: ", PIN)])
    assert "PIN accepted for alice" in entered and PIN not in entered


def test_a_pin_hashed_with_older_parameters_still_lets_in_and_is_rehashed(
    config: Config, journal: Journal
) -> None:
    access = StaffAccess(journal, config.staff)
    access.set_pin("alice", PIN)
    access.set_pin("bob", PIN)
    rows = journal.db.query("SELECT pin_hash, pin_salt, pin_params FROM staff")
    assert {row["pin_params"] for row in rows} == {"scrypt:n=16384,r=8,p=1"}
    assert rows[0]["pin_salt"] != rows[1]["pin_salt"]  # same PIN, different salt and hash
    assert rows[0]["pin_hash"] != rows[1]["pin_hash"]

    old = hash_pin(PIN, ScryptParams(n=2**10))
    with journal.db.write() as tx:
        tx.execute(
            "UPDATE staff SET pin_hash = ?, pin_salt = ?, pin_params = ? WHERE name = 'alice'",
            (old.digest, old.salt, old.params),
        )
    assert access.enter_with_pin("alice", WRONG_PIN).denied is Denied.WRONG_PIN
    assert access.enter_with_pin("alice", PIN).granted
    row = journal.db.one("SELECT pin_hash, pin_params FROM staff WHERE name = 'alice'")
    assert row is not None and row["pin_params"] == PIN_PARAMS.text()
    assert row["pin_hash"] != old.digest
    assert access.enter_with_pin("alice", PIN).granted


def run_on_terminal(config_path: Path, args: list[str], answers: list[tuple[str, str]]) -> str:
    """Run a staff command on a pseudo-terminal of its own (its controlling terminal, as
    getpass wants), typing each answer after its prompt; returns what the terminal showed."""
    main, side = pty.openpty()

    def own_terminal() -> None:
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    process = subprocess.Popen(
        [sys.executable, "-m", "kiosk", "--config", str(config_path), "staff", *args],
        cwd=ROOT,
        stdin=side,
        stdout=side,
        stderr=side,
        preexec_fn=own_terminal,
    )
    os.close(side)
    shown = b""
    try:
        for prompt, answer in answers:
            shown = read_until(main, shown, prompt.encode())
            os.write(main, answer.encode() + b"\n")
        process.wait(30)
        shown = read_until(main, shown, None)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(main)
    return shown.decode(errors="replace")


def read_until(fd: int, shown: bytes, wanted: bytes | None, timeout: float = 30.0) -> bytes:
    """Read the terminal until ``wanted`` has appeared (None: until it closes)."""
    deadline = time.monotonic() + timeout
    while wanted is None or wanted not in shown:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no {wanted!r} on the terminal; it showed {shown!r}")
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the other side closed
            chunk = b""
        if not chunk:
            if wanted is None:
                return shown
            raise AssertionError(f"terminal closed before {wanted!r}; it showed {shown!r}")
        shown += chunk
    return shown
