"""The staff menu's status screen as rows (label msgid, value, alert): cash credits waiting,
マネー移動 moves being processed, staff cases, the cash box, the journal, free disk, the devices'
last journaled faults and the clock — the same figures ``paykiosk staff status`` prints, from
the running kiosk's journal."""

from __future__ import annotations

import time

from hardware.card import CardReader
from kiosk.config.settings import Config
from kiosk.core.money import yen
from kiosk.engine.health import free_bytes
from kiosk.journal import Journal
from kiosk.journal.credits import oldest_age
from kiosk.journal.records import Credit, CreditKind
from kiosk.ops.archiving import archive_status
from kiosk.ops.reconcile import latest
from kiosk.staff.cashbox_report import Fill, notes, when
from kiosk.staff.commands.status import duration, journal_faults, journal_health
from kiosk.staff.view import AcceptorPanel, StatusRow
from kiosk.wallet.client import WalletClient


def live_rows(
    acceptor: AcceptorPanel, wallet: WalletClient, reader: CardReader | None
) -> list[StatusRow]:
    """The devices as they are now (the running kiosk's, not the journal's): the acceptor's
    state, firmware and currency table, the card reader, the wallet and its last answer."""
    ready = acceptor.state == "online"
    table = " ".join(yen(v) for v in acceptor.currency) or "unknown while offline"
    rows = [
        StatusRow("Bill acceptor", f"{acceptor.state}, {acceptor.version or '?'}", alert=not ready),
        StatusRow("Currency table", table, alert=not acceptor.currency),
    ]
    if reader is not None:
        rows.append(
            StatusRow(
                "Card reader", "online" if reader.online else "OFFLINE", alert=not reader.online
            )
        )
    if wallet.reachable is None:
        answer = "not asked yet"
    else:
        answer = "reachable" if wallet.reachable else "UNREACHABLE"
        if wallet.last_latency_s is not None:
            answer += f", last answer in {wallet.last_latency_s * 1000:,.0f} ms"
    if wallet.clock_offset_s is not None:
        answer += f", its clock {wallet.clock_offset_s:+.0f} s from ours"
    rows.append(StatusRow("Wallet", answer, alert=wallet.reachable is False))
    return rows


def _waited(credits: list[Credit], now: float) -> str:
    age = oldest_age(credits, now)
    return "" if age is None else f" ({duration(age)})"


def status_rows(config: Config, journal: Journal, now: float) -> list[StatusRow]:
    waiting = journal.credits.open_credits(kind=CreditKind.CASH)
    age = _waited(waiting, now)
    counts = journal.credits.counts()
    moving = journal.credits.open_credits(kind=CreditKind.MOVE)
    move_age = _waited(moving, now)
    cases = journal.cases.list()
    checked, needs_staff = latest(journal)
    box = journal.cashbox.count()
    fill = Fill(box.notes, config.staff.stacker_capacity, config.staff.near_full_percent)
    last = journal.cashbox.last_collection()
    removed = any(at > (0.0 if last is None else last.at) for at in journal.cashbox.removals())
    health = journal_health(config, journal)
    archived = archive_status(journal, config.archive_dir)
    free_mb = free_bytes(config.kiosk.data_dir) / 1e6
    rows = [
        StatusRow("Credits waiting", f"{len(waiting)}{age}", alert=bool(waiting)),
        StatusRow(
            "Credits confirmed / refused",
            f"{counts.get('confirmed', 0):,} / {counts.get('refused', 0):,}",
        ),
        StatusRow("Moves being processed", f"{len(moving)}{move_age}", alert=bool(moving)),
        StatusRow("Staff cases open", str(len(cases)), alert=bool(cases)),
        StatusRow("Reconciliation with the wallet", checked, alert=needs_staff),
        StatusRow(
            "Cash box",
            f"{notes(box.notes)}, {yen(box.total)}, {fill.percent} %",
            alert=fill.near_full,
        ),
        StatusRow(
            "Cash box taken out without a collection", "yes" if removed else "no", alert=removed
        ),
        StatusRow(
            "Journal",
            f"{'ok' if health.healthy else 'DAMAGED'}, schema {journal.db.version},"
            f" {health.size / 1e6:.1f} MB",
            alert=not health.healthy,
        ),
        StatusRow(
            "Journal archive", archived.run_text(config.kiosk.time_zone), alert=archived.failed
        ),
        StatusRow("Months archived", archived.held_text()),
        StatusRow("Free disk", f"{free_mb:,.0f} MB", alert=free_mb < config.kiosk.min_free_mb),
    ]
    for source, (at, detail) in sorted(journal_faults(journal).last.items()):
        if source == "staff":
            continue  # the menu being read
        ok = detail == "cleared"
        value = f"{source}: ok since {when(at)}" if ok else f"{source}: {detail} ({when(at)})"
        rows.append(StatusRow("Device", value, alert=not ok))
    rows.append(StatusRow("Clock", f"{when(now)} {time.strftime('%Z')}"))
    return rows
