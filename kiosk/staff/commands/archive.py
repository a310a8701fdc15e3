"""``paykiosk --config F staff export --month YYYY-MM [--to DIR]``: a month of the journal's
archive to the USB stick (:mod:`kiosk.staff.archive_export`), journaled as a ``staff`` event."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.staff.archive_export import export_month, files_text
from kiosk.staff.who import shell_user

if TYPE_CHECKING:
    from kiosk.config.settings import Config
    from kiosk.journal import Journal


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
