"""Command line: ``paykiosk --demo``, ``paykiosk acceptor-sim``."""

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
    if args.demo:
        from kiosk.console_demo import run

        return run(args.data_dir)
    build_parser().print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
