"""The journal's archive from a shell: ``paykiosk --config F staff archive [--dry-run]``, the
archive job now (beside a running kiosk too: one run at a time) or what it would move, journaled
as a ``staff`` event and as a run of the job; ``staff export --month YYYY-MM [--to DIR]``, a
month of the archive to the USB stick (:mod:`kiosk.staff.archive_export`), journaled as a
``staff`` event."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.staff.archive_export import export_month, files_text
from kiosk.staff.who import shell_user

if TYPE_CHECKING:
    from kiosk.config.settings import Config
    from kiosk.journal import Journal


def add_commands(commands: Any) -> None:
    """Register this module's `staff` subcommands (each sets ``handler``)."""
    archive = commands.add_parser(
        "archive",
        help="move the journal's closed records older than [journal] working_days (and before"
        " the last collection) into monthly archive files, and remove archives past"
        " [journal] retention_years",
    )
    archive.add_argument(
        "--dry-run", action="store_true", help="only say what would move; change nothing"
    )
    archive.set_defaults(handler=archive_journal)


def archive_journal(config: Config, journal: Journal, args: argparse.Namespace) -> int:
    from kiosk.journal.retention import cutoff, months_to_move, select
    from kiosk.ops.archiving import archive_now, done_text, policy_of

    if args.dry_run:
        before = cutoff(journal.db, policy_of(config), time.time())
        due = [select(journal.db, m, before) for m in months_to_move(journal.db, before)]
        moving = [f"{s.month.name} ({s.rows:,} rows)" for s in due if s.rows]
        print("would move: " + (", ".join(moving) if moving else "nothing"))
        return 0
    who = shell_user()
    try:
        done = archive_now(journal, config, who)
    except (ValueError, OSError) as error:
        journal.log("staff", f"{who}: journal archive failed: {error}")
        raise ValueError(f"archive: {error}") from None
    print(f"journal archive ({config.archive_dir}): {done_text(done)}")
    journal.log("staff", f"{who}: journal archive run: {done_text(done)}")
    return 0


def export_a_month(config: Config, journal: Journal, args: argparse.Namespace) -> int:
    folder = Path(args.to) if args.to else config.staff.export_dir
    if folder is None:
        raise ValueError("export: no folder: give --to DIR or set [staff] export_dir")
    who = shell_user()
    try:
        written = export_month(config.archive_dir, args.month, config.kiosk.id, folder)
    except ValueError as error:
        journal.log("staff", f"{who}: export of archive {args.month} failed: {error}")
        raise
    for file in written:
        print(f"{file.path} ({file.rows} rows)")
    journal.log("staff", f"{who}: archive {args.month} exported to {folder}: {files_text(written)}")
    return 0
