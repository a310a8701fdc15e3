"""``paykiosk --config F staff cashbox | collect | collections | export``: the cash box from a
shell. Every action is journaled as a ``staff`` event (who and what)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.core.money import DENOMINATIONS, yen
from kiosk.staff.cashbox_report import (
    Fill,
    cashbox_text,
    collection_event,
    collection_line,
    notes,
    summary_text,
)
from kiosk.staff.who import shell_user, staff_member

if TYPE_CHECKING:
    from kiosk.config.settings import Config
    from kiosk.journal import Journal

MAX_NOTE = 300


def add_commands(commands: Any) -> None:
    """Register this module's `staff` subcommands (each sets ``handler``)."""
    show = commands.add_parser(
        "cashbox", help="notes in the cash box since the last collection, total, fill"
    )
    show.set_defaults(handler=show_cashbox)

    collect = commands.add_parser(
        "collect",
        help="record a collection: the notes counted out of the box; starts a new period",
    )
    collect.add_argument(
        "--by", default="", metavar="NAME", help="the staff member who emptied the box (required)"
    )
    collect.add_argument(
        "--count",
        action="append",
        default=[],
        metavar="VALUE=N",
        help="notes counted of one denomination, e.g. --count 1000=3 (others: 0)",
    )
    collect.add_argument("--note", default="", help="what staff want on the record")
    collect.set_defaults(handler=collect_cashbox)

    listing = commands.add_parser("collections", help="recent collections, newest first")
    listing.add_argument("--last", default="10", metavar="N", help="how many (default 10)")
    listing.add_argument("--id", default=None, metavar="ID", help="one collection's summary")
    listing.set_defaults(handler=list_collections)

    export = commands.add_parser(
        "export", help="CSV files of the cash ledger, credits, cases and collections"
    )
    export.add_argument("--to", default=None, metavar="DIR", help="default: [staff] export_dir")
    export.add_argument(
        "--month",
        default=None,
        metavar="YYYY-MM",
        help="a month of the journal's archive instead: its archive file, checksum and CSV files",
    )
    export.set_defaults(handler=export_csv)


def show_cashbox(config: Config, journal: Journal, args: argparse.Namespace) -> int:
    count = journal.cashbox.count()
    fill = Fill(count.notes, config.staff.stacker_capacity, config.staff.near_full_percent)
    print(
        cashbox_text(
            count,
            fill,
            journal.cashbox.last_collection(),
            journal.cashbox.matches_notes(),
            journal.cashbox.removals(),
        )
    )
    journal.log(
        "staff",
        f"{shell_user()}: cash box shown ({notes(count.notes)}, {yen(count.total)},"
        f" {fill.percent} % full)",
    )
    return 0


def parse_counts(items: list[str]) -> dict[int, int]:
    """``["1000=3", "5000=1"]`` → ``{1000: 3, 5000: 1}``; ``ValueError`` naming the bad one."""
    if not items:
        raise ValueError(
            "give the notes counted, e.g. --count 1000=3 --count 5000=1 (an empty box:"
            " --count 1000=0)"
        )
    counts: dict[int, int] = {}
    for item in items:
        value_text, equals, n_text = item.partition("=")
        value_text = value_text.strip().lstrip("¥").replace(",", "")
        if not equals or not value_text.isdigit() or not n_text.strip().isdigit():
            raise ValueError(f"--count {item}: write VALUE=N, e.g. 1000=3 (N a whole number ≥ 0)")
        value, n = int(value_text), int(n_text)
        if value not in DENOMINATIONS:
            takes = ", ".join(yen(v) for v in DENOMINATIONS)
            raise ValueError(
                f"--count {item}: {yen(value)} is not a note this kiosk takes ({takes})"
            )
        if value in counts:
            raise ValueError(f"--count {item}: {yen(value)} is counted twice")
        counts[value] = n
    return counts


def collect_cashbox(config: Config, journal: Journal, args: argparse.Namespace) -> int:
    who = staff_member(journal, args.by)
    counted = parse_counts(args.count)
    note = " ".join(args.note.split())
    if len(note) > MAX_NOTE:
        raise ValueError(f"--note: at most {MAX_NOTE} characters")
    record = journal.cashbox.record_collection(who, counted, note, event=collection_event)
    print(summary_text(record, config.kiosk.id))
    return 0


def _positive(option: str, text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{option} {text}: a whole number ≥ 1")
    return int(text)


def list_collections(config: Config, journal: Journal, args: argparse.Namespace) -> int:
    if args.id is not None:
        record = journal.cashbox.collection(_positive("--id", args.id))
        print(summary_text(record, config.kiosk.id))
        journal.log("staff", f"{shell_user()}: collection #{record.id} shown")
        return 0
    records = journal.cashbox.collections(_positive("--last", args.last))
    for record in records:
        print(collection_line(record))
    if not records:
        print("no collection yet")
    journal.log("staff", f"{shell_user()}: {len(records)} collections listed")
    return 0


def export_csv(config: Config, journal: Journal, args: argparse.Namespace) -> int:
    from kiosk.staff.export import export

    if args.month is not None:
        from kiosk.staff.commands.archive import export_a_month

        return export_a_month(config, journal, args)
    folder = Path(args.to) if args.to else config.staff.export_dir
    if folder is None:
        raise ValueError("export: no folder: give --to DIR or set [staff] export_dir")
    written = export(journal, config.kiosk.id, folder, by=shell_user())
    for file in written:
        print(f"{file.path} ({file.rows} rows)")
    journal.log(
        "staff",
        f"{shell_user()}: exported to {folder}: "
        + ", ".join(f"{f.path.name} ({f.rows} rows)" for f in written),
    )
    return 0
