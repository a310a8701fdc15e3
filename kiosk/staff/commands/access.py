"""``paykiosk --config F staff set-pin | add-card | remove | list | attempts | check-pin``.

PINs (and card ids without ``--idm``) are asked without echo on a terminal; from a script they
are read from standard input, one per line. Nothing printed repeats a PIN or a full card id.
"""

from __future__ import annotations

import argparse
import getpass
import sys
import time
from typing import TYPE_CHECKING, Any

from kiosk.staff.access import Denied, StaffAccess, check_name, format_time
from kiosk.staff.credentials import check_pin_format
from kiosk.staff.who import shell_user

if TYPE_CHECKING:
    from kiosk.config.settings import Config
    from kiosk.journal import Journal


def add_commands(commands: Any) -> None:
    """Register this module's `staff` subcommands (each sets ``handler``)."""
    set_pin = commands.add_parser(
        "set-pin", help="set a staff member's PIN (a new member if the name is new)"
    )
    set_pin.add_argument("name")
    set_pin.set_defaults(handler=set_pin_command)

    add_card = commands.add_parser("add-card", help="add a staff card (its IDm) to a member")
    add_card.add_argument("name")
    add_card.add_argument("--idm", help="the card's IDm, 16 hex digits (else asked, unechoed)")
    add_card.set_defaults(handler=add_card_command)

    remove = commands.add_parser("remove", help="remove a staff member and their cards")
    remove.add_argument("name")
    remove.set_defaults(handler=remove_command)

    listing = commands.add_parser("list", help="staff members, PIN set, cards (masked)")
    listing.set_defaults(handler=list_command)

    attempts = commands.add_parser("attempts", help="recent entry attempts and the lockout")
    attempts.add_argument("--last", type=_positive, default=20, metavar="N", help="default 20")
    attempts.set_defaults(handler=attempts_command)

    check = commands.add_parser(
        "check-pin", help="try a member's PIN (an entry attempt: counts towards the lockout)"
    )
    check.add_argument("name")
    check.set_defaults(handler=check_pin_command)


def set_pin_command(config: Config, journal: Journal, args: argparse.Namespace) -> int:
    name = check_name(args.name)
    first, second = _ask([f"New PIN for {name}: ", "The same PIN again: "], "the PIN twice")
    check_pin_format(first)
    if first != second:
        raise ValueError("the two PINs differ; nothing changed")
    new = StaffAccess(journal, config.staff).set_pin(name, first, by=shell_user())
    print(f"new staff member {name}, PIN set" if new else f"PIN changed for {name}")
    return 0


def add_card_command(config: Config, journal: Journal, args: argparse.Namespace) -> int:
    name = check_name(args.name)
    idm = args.idm if args.idm is not None else _ask([f"Card IDm for {name}: "], "the IDm")[0]
    tag = StaffAccess(journal, config.staff).add_card(name, idm, by=shell_user())
    print(f"card {tag} added for {name}")
    return 0


def remove_command(config: Config, journal: Journal, args: argparse.Namespace) -> int:
    cards = StaffAccess(journal, config.staff).remove(args.name, by=shell_user())
    print(f"removed staff member {args.name.strip()} and {cards} card(s)")
    return 0


def list_command(config: Config, journal: Journal, args: argparse.Namespace) -> int:
    members = StaffAccess(journal, config.staff).members()
    if not members:
        print("no staff members yet (add one: staff set-pin NAME)")
        return 0
    width = max(len("name"), *(len(member.name) for member in members))
    print(f"{'name':<{width}}  PIN  cards")
    for member in members:
        pin = "set" if member.has_pin else "no "
        print(f"{member.name:<{width}}  {pin}  {', '.join(member.card_tags) or '-'}")
    return 0


def attempts_command(config: Config, journal: Journal, args: argparse.Namespace) -> int:
    access = StaffAccess(journal, config.staff)
    attempts = access.attempts(args.last)
    if not attempts:
        print("no entry attempts yet")
    for attempt in attempts:
        outcome = "granted" if attempt.success else "refused"
        print(
            f"{format_time(attempt.at)}  {attempt.method:<4}  {attempt.name or '-'}  "
            f"{outcome}  {attempt.detail}"
        )
    print(_lock_line(access, config.staff.max_pin_attempts))
    return 0


def check_pin_command(config: Config, journal: Journal, args: argparse.Namespace) -> int:
    name = args.name.strip()
    (pin,) = _ask([f"PIN for {name}: "], "the PIN")
    entry = StaffAccess(journal, config.staff).enter_with_pin(name, pin)
    if entry.granted:
        print(f"PIN accepted for {name}")
        return 0
    if entry.denied is Denied.LOCKED and entry.locked_until is not None:
        message = f"staff entry locked until {format_time(entry.locked_until)}"
    else:
        message = "wrong name or PIN"
    print(f"paykiosk staff: {message}", file=sys.stderr)
    return 1


def _lock_line(access: StaffAccess, max_attempts: int) -> str:
    lock = access.lock()
    if lock.holds(time.time()) and lock.until is not None:
        return f"staff entry: LOCKED until {format_time(lock.until)}"
    return f"staff entry: open ({lock.wrong_in_row} of {max_attempts} wrong PINs in a row)"


def _ask(prompts: list[str], what: str) -> list[str]:
    """One secret per prompt: unechoed on a terminal, else one line of stdin each."""
    answers: list[str] = []
    try:
        for prompt in prompts:
            if sys.stdin.isatty():
                answers.append(getpass.getpass(prompt))
                continue
            line = sys.stdin.readline()
            if not line:
                raise ValueError(f"expected {what} on standard input, one per line")
            answers.append(line.rstrip("\r\n"))
    except (EOFError, KeyboardInterrupt):
        print(file=sys.stderr)
        raise ValueError("cancelled; nothing changed") from None
    return answers


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value
