"""``paykiosk --config F staff close [--day YYYY-MM-DD] [--export [DIR]]``: the daily close from a
shell (the day in the co-op's time zone, ``[kiosk] time_zone``; default: yesterday). Journaled as
a ``staff`` event."""

from __future__ import annotations

import argparse
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from kiosk.staff.day_close import close_day, day_text
from kiosk.staff.who import shell_user

if TYPE_CHECKING:
    from kiosk.config.settings import Config
    from kiosk.journal import Journal


def add_commands(commands: Any) -> None:
    """Register this module's `staff` subcommands (each sets ``handler``)."""
    close = commands.add_parser(
        "close",
        help="the daily close: notes taken, cash credited per money, moves, what is open, cases,"
        " collections and the cash box at the day's end",
    )
    close.add_argument(
        "--day", default=None, metavar="YYYY-MM-DD", help="the day (default: yesterday)"
    )
    close.add_argument(
        "--export",
        nargs="?",
        const="",
        default=None,
        metavar="DIR",
        help="also write it as CSV (to DIR; without DIR: [staff] export_dir)",
    )
    close.set_defaults(handler=close_a_day)
    check = commands.add_parser(
        "reconcile",
        help="check a day against the wallet's own ledger (its top-ups and moves through this"
        " kiosk's shop): exit 0 agreed, 1 mismatch, 75 postponed (the wallet down)",
    )
    check.add_argument(
        "--day", default=None, metavar="YYYY-MM-DD", help="the day (default: yesterday)"
    )
    check.set_defaults(handler=reconcile_a_day)


def parse_day(text: str | None, zone: str, command: str = "close") -> date:
    """``--day``, or yesterday in the co-op's time zone; ``ValueError`` naming the option."""
    if text is None:
        return datetime.now(ZoneInfo(zone)).date() - timedelta(days=1)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{command}: --day {text!r} is not a date like 2026-12-07") from None


def close_a_day(config: Config, journal: Journal, args: argparse.Namespace) -> int:
    zone = config.kiosk.time_zone
    day = parse_day(args.day, zone)
    close = close_day(journal, config.kiosk.id, day, zone)
    print(day_text(close))
    what = f"{shell_user()}: daily close of {day.isoformat()} shown"
    if args.export is not None:
        from kiosk.staff.export import export_day

        folder = Path(args.export) if args.export else config.staff.export_dir
        if folder is None:
            raise ValueError("close: no folder: give --export DIR or set [staff] export_dir")
        written = export_day(close, folder)
        print(f"written: {written.path} ({written.rows} rows)")
        what += f", exported to {written.path}"
    journal.log("staff", what)
    return 0


def reconcile_a_day(config: Config, journal: Journal, args: argparse.Namespace) -> int:
    from kiosk.config.settings import wallet_settings
    from kiosk.ops.reconcile import reconcile_now, run_text

    zone = config.kiosk.time_zone
    day = parse_day(args.day, zone, "reconcile")
    buckets = {money: bucket for bucket, money in config.moneys.items()}
    run = reconcile_now(journal, wallet_settings(config), day, zone, buckets, shell_user())
    print(run_text(run, zone))
    return {"agreed": 0, "mismatch": 1}.get(run.result, 75)
