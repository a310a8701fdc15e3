"""``paykiosk staff notes``: which notes the kiosk takes, and switching one on or off (``--by``
the staff member, journaled). A running kiosk takes the change at the next member's touch.
The acceptor's reset and test mode are at the kiosk's touch menu: they need the unit's port,
which the running kiosk holds, and someone at the unit to feed the test notes."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from kiosk.core.money import DENOMINATIONS, yen
from kiosk.staff.who import staff_member

if TYPE_CHECKING:
    from kiosk.config.settings import Config
    from kiosk.journal import Journal


def add_commands(commands: Any) -> None:
    """Register ``staff notes``."""
    notes = commands.add_parser("notes", help="the notes the kiosk takes; switch one on or off")
    change = notes.add_mutually_exclusive_group()
    change.add_argument("--on", type=_value, metavar="YEN", help="take this note again")
    change.add_argument("--off", type=_value, metavar="YEN", help="hand this note back")
    notes.add_argument("--by", default="", metavar="NAME", help="the staff member (to change)")
    notes.set_defaults(handler=notes_command)


def notes_command(config: Config, journal: Journal, args: argparse.Namespace) -> int:
    value: int | None = args.on if args.on is not None else args.off
    if value is not None:
        who = staff_member(journal, args.by)
        on = args.on is not None
        changed = journal.note_choice.switch(value, on, who)
        state = "on" if on else "off"
        print(f"{yen(value)} notes {'switched' if changed else 'were'} {state}")
    off = journal.note_choice.disabled()
    for note in DENOMINATIONS:
        print(f"  {yen(note):>7}  {'off (handed back)' if note in off else 'on'}")
    return 0


def _value(text: str) -> int:
    cleaned = text.replace(",", "").replace("¥", "").strip()
    if not cleaned.isdigit():
        raise argparse.ArgumentTypeError(f"not a note value in yen: {text!r}")
    return int(cleaned)
