"""Command line: ``paykiosk --config F`` (the kiosk), ``--demo`` and the simulators' commands.

The production path (``--config``) loads only what the kiosk runs: the sandbox, the simulators
and the demo are imported by their own commands alone (and what only they need, such as
``trustme``, is the ``[demo]`` extra).
"""

from __future__ import annotations

import argparse
import logging
import sys


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="paykiosk", description="Pay Spot cash charge kiosk")
    parser.add_argument("--demo", action="store_true", help="run the console demo (simulators)")
    parser.add_argument("--config", help="the kiosk's TOML configuration")
    parser.add_argument("--no-ui", action="store_true", help="run the engine without the UI")
    parser.add_argument("--data-dir", help="where the demo keeps its files (default: a temp dir)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("pending", help="credits not yet confirmed, open staff cases")
    commands.add_parser("journal", help="recent sessions, events and the cash box")
    commands.add_parser("diagram", help="the charge session's state diagram (Mermaid)")
    sim = commands.add_parser("acceptor-sim", help="run the ID-003 acceptor simulator on a pty")
    sim.add_argument("--link", help="also make this path a symlink to the pty")
    sandbox = commands.add_parser("sandbox", help="run the local wallet sandbox server")
    sandbox.add_argument("--data-dir", required=True, help="certificates, database, sandbox.json")
    sandbox.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: any)")
    # Its own parser (in the sandbox package) takes the rest of the line, so that building
    # this parser imports no sandbox code.
    commands.add_parser(
        "sandbox-admin", help="members, cards and faults of a sandbox (see --help)", add_help=False
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if rest and args.command != "sandbox-admin":
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.command == "acceptor-sim":
        from hardware.id003.sim_console import main as sim_main

        return sim_main(args.link)
    if args.command == "sandbox":
        from kiosk.wallet.sandbox.server import run as run_sandbox

        return run_sandbox(args.data_dir, args.port)
    if args.command == "sandbox-admin":
        from kiosk.wallet.sandbox.admin import main as admin_main

        return admin_main(rest)
    if args.command == "diagram":
        from kiosk.session import diagram

        print(diagram())
        return 0
    if args.command in ("pending", "journal") or args.config:
        return _with_config(args)
    if args.demo:
        from kiosk.demo import run

        return run(args.data_dir)
    parser.print_help()
    return 2


def _with_config(args: argparse.Namespace) -> int:
    from kiosk.config import ConfigError, load

    if not args.config:
        print("paykiosk: --config FILE is required", file=sys.stderr)
        return 2
    try:
        config = load(args.config)
    except ConfigError as error:
        print(f"paykiosk: configuration error: {error}", file=sys.stderr)
        return 2
    if args.command in ("pending", "journal"):
        from kiosk.inspect import journal_report, pending
        from kiosk.journal import Journal

        journal = Journal(config.journal_path, config.kiosk.id)
        try:
            print(pending(journal) if args.command == "pending" else journal_report(journal))
        finally:
            journal.close()
        return 0
    from kiosk.runner import run_blocking

    # The Kivy UI arrives in a later step; until then both modes run the engine with the
    # console view.
    try:
        return run_blocking(config, no_ui=True)
    except ConfigError as error:  # found while starting the devices (e.g. no GPIO library)
        print(f"paykiosk: configuration error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
