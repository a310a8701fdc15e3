"""Placeholder: filled in by the cases work."""

from __future__ import annotations

import argparse
from typing import Any


def add_commands(commands: Any) -> None:
    """Register this module's `staff` subcommands (each sets ``handler``)."""
    del commands


_ = argparse
