"""Command line: ``paykiosk --demo``, ``acceptor-sim``, ``sandbox``, ``sandbox-admin``."""

from __future__ import annotations

import argparse
import logging
import sys


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="paykiosk", description="Pay Spot cash charge kiosk")
    parser.add_argument("--demo", action="store_true", help="run the console demo (simulators)")
    parser.add_argument("--data-dir", help="where the demo keeps its files (default: a temp dir)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command")
    sim = commands.add_parser("acceptor-sim", help="run the ID-003 acceptor simulator on a pty")
    sim.add_argument("--link", help="also make this path a symlink to the pty")
    sandbox = commands.add_parser("sandbox", help="run the local wallet sandbox server")
    sandbox.add_argument("--data-dir", required=True, help="certificates, database, sandbox.json")
    sandbox.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: any)")
    admin = commands.add_parser("sandbox-admin", help="members, cards and faults of a sandbox")
    from kiosk.wallet.sandbox.admin import add_arguments

    add_arguments(admin)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
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
        from kiosk.wallet.sandbox.admin import run as run_admin

        return run_admin(args)
    if args.demo:
        from kiosk.console_demo import run

        return run(args.data_dir)
    build_parser().print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
