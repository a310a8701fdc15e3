"""Who a staff command from a shell is done by: a staff member on record (``--by NAME``), or,
for a command that names nobody, the shell's user."""

from __future__ import annotations

import getpass
from typing import TYPE_CHECKING

from kiosk.staff.access import check_name

if TYPE_CHECKING:
    from kiosk.journal import Journal


def staff_member(journal: Journal, text: str) -> str:
    """``--by``: a staff member on record, so every record names someone accountable (a PIN
    typed as the name is refused, never journaled)."""
    if not text.strip():
        raise ValueError("--by NAME is required: the staff member doing this")
    try:
        name = check_name(text)
    except ValueError as error:
        raise ValueError(f"--by: {error}") from None
    if journal.db.one("SELECT 1 FROM staff WHERE name = ?", (name,)) is None:
        raise ValueError(
            f"--by {name}: no staff member of that name (no such staff member in `staff list`;"
            " a new one: `staff set-pin`)"
        )
    return name


def shell_user() -> str:
    """Who ran a command that names nobody (the shell's user)."""
    try:
        return f"shell user {getpass.getuser()}"
    except (KeyError, OSError):
        return "shell user unknown"
