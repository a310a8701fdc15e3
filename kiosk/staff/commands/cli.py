"""``paykiosk --config F staff …``: the staff functions from a shell, on the kiosk's journal
(beside a running kiosk: the journal serialises the writes)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from kiosk.staff.commands import access, archive, cases, cashbox, day, notes, status

if TYPE_CHECKING:
    from kiosk.config.settings import Config
    from kiosk.journal import Journal

Handler = Callable[["Config", "Journal", argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="paykiosk --config F staff", description=__doc__)
    commands = parser.add_subparsers(dest="staff_command", required=True)
    access.add_commands(commands)
    cashbox.add_commands(commands)
    day.add_commands(commands)
    cases.add_commands(commands)
    status.add_commands(commands)
    notes.add_commands(commands)
    archive.add_commands(commands)
    return parser


def main(config: Config, argv: list[str]) -> int:
    from kiosk.journal import Journal, JournalUnwritable

    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    journal = Journal(config.journal_path, config.kiosk.id, check=True)  # damaged: refused
    try:
        return handler(config, journal, args)
    except (KeyError, ValueError, JournalUnwritable) as error:
        print(f"paykiosk staff: {error.args[0] if error.args else error}", file=sys.stderr)
        return 1
    finally:
        journal.close()
