"""What must hold after a crash anywhere, whatever the moment: checked on the restarted,
settled kiosk of a :mod:`bench.crash_space` run against its simulator and sandbox."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.support.rig import Rig


def settle_and_check(
    rig: Rig, user: str, before: dict[str, int], notes: tuple[int, ...]
) -> list[str]:
    """What must hold whatever the moment of the kill; each problem in words."""
    problems: list[str] = []
    for _ in range(2):  # the kill may also come while the kiosk settles by itself
        process = rig.kiosk.process
        if process is None or process.poll() is not None:
            rig.kiosk.start()  # no shim: the restart replays the journal
        try:
            rig.kiosk.wait_settled(timeout=40)
        except AssertionError as error:
            problems.append(f"not settled: {str(error)[:300]}")
            break
        process = rig.kiosk.process
        if process is not None and process.poll() is None:
            break
    rig.sim.wait_for(lambda d: not d.busy, 15)
    journal_path = rig.kiosk.journal_path
    if not journal_path.exists():
        if rig.sim.stacked:
            problems.append(f"notes {rig.sim.stacked} in the cash box and no journal")
        return problems
    with closing(sqlite3.connect(f"file:{journal_path}?mode=ro", uri=True)) as db:
        db.row_factory = sqlite3.Row
        check = db.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            problems.append(f"journal quick_check: {check}")
        credits = db.execute("SELECT * FROM credits ORDER BY id").fetchall()
        stacked = [r["value"] for r in db.execute(
            "SELECT value FROM notes WHERE state = 'stacked' ORDER BY id")]  # fmt: skip
        box = db.execute("SELECT COALESCE(SUM(value), 0) FROM cashbox").fetchone()[0]
        uncredited = db.execute(
            "SELECT COUNT(*) FROM notes WHERE state = 'stacked' AND credit_id IS NULL"
        ).fetchone()[0]
        # a journal_file case says the file was put back: no money in it (the "removed"
        # scenario opens one, or none if the kill came before the kiosk noticed)
        cases = db.execute("SELECT COUNT(*) FROM cases WHERE kind != 'journal_file'").fetchone()[0]
        sessions_open = db.execute("SELECT COUNT(*) FROM sessions WHERE state = 'open'").fetchone()[
            0
        ]
    if stacked != rig.sim.stacked:
        problems.append(f"journal's stacked notes {stacked} != cash box {rig.sim.stacked}")
    if box != sum(rig.sim.stacked):
        problems.append(f"journal's cash box ¥{box} != cash box ¥{sum(rig.sim.stacked)}")
    if uncredited or sessions_open:
        problems.append(f"left open: {uncredited} uncredited notes, {sessions_open} sessions")
    if cases:
        problems.append(f"{cases} staff cases")
    transactions = rig.wallet.store.query(
        "SELECT t.type, t.request_id, t.money_amount FROM transactions t"
        " JOIN accounts a ON a.id = t.receiver_account WHERE a.user_id = ?",
        (user,),
    )
    journaled = {r["request_id"]: r for r in credits}
    for row in transactions:
        credit = journaled.get(row["request_id"])
        if credit is None:
            problems.append(f"a {row['type']} at the wallet the journal does not know")
        elif credit["state"] != "confirmed":
            problems.append(f"credit {credit['id']} is {credit['state']} but done at the wallet")
    for credit in credits:
        if credit["state"] == "confirmed" and credit["request_id"] not in {
            t["request_id"] for t in transactions
        }:
            problems.append(f"credit {credit['id']} confirmed but not at the wallet")
    base = rig.wallet.balance(user, "base")
    if notes:
        if base - before["base"] != sum(rig.sim.stacked):
            problems.append(
                f"credited ¥{base - before['base']:,} for ¥{sum(rig.sim.stacked):,} in the box"
            )
    else:
        moved = [t for t in transactions if t["type"] == "exchange"]
        cafeteria = rig.wallet.balance(user, "cafeteria")
        if len(moved) > 1 or base + cafeteria != before["base"] + before["cafeteria"]:
            problems.append(f"{len(moved)} moves; base ¥{base:,}, cafeteria ¥{cafeteria:,}")
        if rig.sim.stacked:
            problems.append("a move took cash")
    return problems
