"""Command line: ``paykiosk --config F`` (the kiosk), ``--demo`` and the simulators' commands.

The production path (``--config``) loads only what the kiosk runs: the sandbox, the simulators
and the demo are imported by their own commands alone (and what only they need, such as
``trustme``, is the ``[demo]`` extra).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import TYPE_CHECKING

from kiosk.core.view import LANGUAGES

if TYPE_CHECKING:
    from kiosk.config.settings import Config


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="paykiosk", description="Pay Spot cash charge kiosk")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="run the demo (simulators): the touch UI in a window, typed commands too",
    )
    parser.add_argument(
        "--console", action="store_true", help="with --demo: typed commands only, no window"
    )
    parser.add_argument("--config", help="the kiosk's TOML configuration")
    parser.add_argument("--no-ui", action="store_true", help="run the engine without the UI")
    parser.add_argument("--data-dir", help="where the demo keeps its files (default: a temp dir)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("pending", help="credits not yet confirmed, open staff cases")
    journal = commands.add_parser("journal", help="recent sessions, events and the cash box")
    journal.add_argument(
        "--recover",
        action="store_true",
        help="a damaged journal (the kiosk stopped): copy what can be read into a new journal,"
        " keeping the damaged file beside it",
    )
    journal.add_argument(
        "--archive",
        metavar="MONTH_OR_PATH",
        help="one month of the archive (2026-06: in the archive folder; or an archive file's"
        " path), verified first, read only",
    )
    journal.add_argument(
        "--archives", action="store_true", help="the archived months, each verified"
    )
    journal.add_argument(
        "--compact",
        action="store_true",
        help="give the pages the archive job freed back to the file system (the kiosk"
        " stopped; once, after the first archive of a journal of years)",
    )
    commands.add_parser("diagram", help="the charge session's state diagram (Mermaid)")
    shots = commands.add_parser("screens", help="render every sample screen to PNG files")
    shots.add_argument("--out", required=True, help="folder for the PNG files")
    shots.add_argument(
        "--size", action="append", help="WIDTHxHEIGHT, repeatable (default: the kiosk's window)"
    )
    shots.add_argument("--lang", action="append", choices=LANGUAGES, help="default: all")
    shots.add_argument("--only", action="append", help="a sample's name, repeatable")
    shots.add_argument(
        "--check",
        action="store_true",
        help="exit 1 if a text outgrows its box or a button is small",
    )
    sim = commands.add_parser("acceptor-sim", help="run the ID-003 acceptor simulator on a pty")
    sim.add_argument("--link", help="also make this path a symlink to the pty")
    sandbox = commands.add_parser("sandbox", help="run the local wallet sandbox server")
    sandbox.add_argument("--data-dir", required=True, help="certificates, database, sandbox.json")
    sandbox.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: any)")
    commands.add_parser(
        "staff", help="staff entry, cash box, collections, cases (see staff --help)", add_help=False
    )
    # Its own parser (in the sandbox package) takes the rest of the line, so that building
    # this parser imports no sandbox code.
    commands.add_parser(
        "sandbox-admin", help="members, cards and faults of a sandbox (see --help)", add_help=False
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if rest and args.command not in ("sandbox-admin", "staff"):
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.command == "acceptor-sim":
        from hardware.id003.sim.console import main as sim_main

        return sim_main(args.link)
    if args.command == "sandbox":
        from kiosk.sim.sandbox.server import run as run_sandbox

        return run_sandbox(args.data_dir, args.port)
    if args.command == "sandbox-admin":
        from kiosk.sim.sandbox.admin import main as admin_main

        return admin_main(rest)
    if args.command == "screens":
        return _screens(args)
    if args.command == "diagram":
        from kiosk.core.session import diagram

        print(diagram())
        return 0
    if args.command in ("pending", "journal", "staff"):
        try:
            return _with_config(args, rest)
        except BrokenPipeError:  # its reader went (``paykiosk journal | head``): not an error
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
    if args.config:
        return _with_config(args, rest)
    if args.demo:
        from kiosk.app.demo import run

        return run(args.data_dir, console=args.console)
    parser.print_help()
    return 2


def _with_config(args: argparse.Namespace, rest: list[str]) -> int:
    """The kiosk, or a report on its journal. A set-up the kiosk cannot start on is one line on
    stderr and ``EXIT_CONFIG`` (78), never a traceback; a data dir another kiosk process holds
    is ``EXIT_LOCKED`` (75). The systemd unit restarts on neither. A damaged journal is 78 too,
    with the command that recovers it."""
    import sqlite3
    from pathlib import Path

    from kiosk.app.settings import check_installed, use_time_zone
    from kiosk.config.settings import EXIT_CONFIG, ConfigError, load
    from kiosk.journal.db import JournalDamaged, JournalUnusable, damage_in
    from kiosk.journal.recovery import RecoveryFailed, ShellMissing
    from kiosk.ops.datadir import EXIT_LOCKED, DataDirBusy, DataDirLock, prepare

    if not args.config:
        print("paykiosk: --config FILE is required", file=sys.stderr)
        return 2
    recovery = f"paykiosk --config {Path(args.config).resolve()} journal --recover"
    try:
        config = load(args.config)
        if args.command is None:  # the kiosk itself: what its configuration needs is installed
            check_installed(config, ui=not args.no_ui)
        use_time_zone(config.kiosk.time_zone)  # the kiosk's, a staff command's, a report's
        prepare(config.kiosk.data_dir)
        try:
            if args.command == "journal" and args.recover:
                with DataDirLock(config.kiosk.data_dir):  # no kiosk on it meanwhile
                    return _recover(config)
            if args.command == "journal" and args.compact:
                with DataDirLock(config.kiosk.data_dir):  # no kiosk on it meanwhile
                    return _compact(config)
            if args.command == "journal" and (args.archive or args.archives):
                return _archives(config, args.archive)  # the live journal is not opened
            if args.command in ("pending", "journal"):
                return _report(config, args.command)  # beside a running kiosk: no lock
            if args.command == "staff":
                from kiosk.staff.commands.cli import main as staff_main

                return staff_main(config, rest)  # beside a running kiosk too: the journal's lock
            with DataDirLock(config.kiosk.data_dir):
                return _run(config, args.no_ui)
        except sqlite3.DatabaseError as error:  # a page the check at start did not read
            what = damage_in(error)
            if what is None:
                raise
            raise JournalDamaged(config.journal_path, what) from None
    except ConfigError as error:  # also found while starting the devices (no GPIO library)
        return _refuse(f"configuration error: {error}", EXIT_CONFIG)
    except JournalDamaged as error:
        return _refuse(f"{error}; with the kiosk stopped, run: {recovery}", EXIT_CONFIG)
    except (JournalUnusable, ShellMissing) as error:
        return _refuse(str(error), EXIT_CONFIG)
    except DataDirBusy as error:
        return _refuse(str(error), EXIT_LOCKED)
    except RecoveryFailed as error:
        return _refuse(str(error), 1)


def _screens(args: argparse.Namespace) -> int:
    from pathlib import Path

    from kiosk.app.settings import sample_front_settings, use_time_zone
    from kiosk.config.settings import DEFAULT_TIME_ZONE
    from screens.fonts import FontMissing
    from screens.render import parse_size, render

    problems: list[str] = []
    try:
        use_time_zone(DEFAULT_TIME_ZONE)  # the samples' times as a kiosk with the defaults shows
        sizes = [parse_size(size) for size in args.size or ()]
        langs = args.lang or LANGUAGES
        front = sample_front_settings()
        files = render(Path(args.out), front, sizes, langs, args.only, problems)
    except (ValueError, FontMissing) as error:
        print(f"paykiosk screens: {error}", file=sys.stderr)
        return 2
    print(f"{len(files)} screens in {args.out}")
    if args.check and problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    return 0


def _report(config: Config, command: str) -> int:
    from kiosk.journal import Journal
    from kiosk.ops.pending import journal_report, pending

    journal = Journal(config.journal_path, config.kiosk.id, check=True)
    try:
        print(pending(journal) if command == "pending" else journal_report(journal))
    finally:
        journal.close()
    return 0


def _archives(config: Config, what: str | None) -> int:
    from kiosk.ops.archives import ArchiveRefused, checked, listing_text, locate, report

    if what is None:
        print(listing_text(config.archive_dir))
        return 0
    try:
        print(report(checked(locate(config.archive_dir, what), what)))
    except ArchiveRefused as error:
        return _refuse(str(error), 1)
    return 0


def _recover(config: Config) -> int:
    from kiosk.journal.recovery import recover

    recovery = recover(config.journal_path)
    if recovery is None:
        print(
            f"journal {config.journal_path}: SQLite's integrity check finds nothing wrong;"
            " nothing to recover, nothing was changed"
        )
    else:
        print(recovery.report())
    return 0


def _compact(config: Config) -> int:
    import sqlite3

    from kiosk.journal import Journal

    journal = Journal(config.journal_path, config.kiosk.id, owner=True, check=True)
    try:
        before, after = journal.db.compact()
    except sqlite3.OperationalError as error:  # e.g. no room for the copy: VACUUM is atomic
        return _refuse(f"journal {config.journal_path}: not compacted ({error}); unchanged", 1)
    finally:
        journal.close()
    print(
        f"journal {config.journal_path}: {before / 1e6:.1f} MB → {after / 1e6:.1f} MB"
        + (" (nothing to give back)" if after >= before else "")
    )
    return 0


def _run(config: Config, no_ui: bool) -> int:
    from kiosk.app.runner import run_blocking

    return run_blocking(config, no_ui)


def _refuse(reason: str, code: int) -> int:
    """One line for the operator (and systemd's journal), whatever the reason's own text."""
    print(f"paykiosk: {' '.join(reason.splitlines())}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
