"""Read-only connections to SQLite files: the journal read beside the kiosk, its archives."""

from __future__ import annotations

import sqlite3
import urllib.parse
from pathlib import Path


def read_only(path: Path, autocommit: bool = False) -> sqlite3.Connection:
    """A read-only connection to the SQLite file at ``path`` (its name quoted: a folder with
    ``#``, ``?`` or ``%`` in it is a folder, not part of the URI); ``autocommit``: the caller
    opens and ends its own transactions."""
    uri = f"file:{urllib.parse.quote(str(Path(path).absolute()))}?mode=ro"
    return sqlite3.connect(uri, uri=True, isolation_level=None if autocommit else "DEFERRED")
