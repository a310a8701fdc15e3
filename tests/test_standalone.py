"""The repository stands alone: no tracked file points outside the checkout for its facts.

Users get only the repository, so docs, code and tests must not send them to a folder that
sits beside a developer's checkout. Everything the project relies on lives in ``docs/`` and
``tests/vectors/``.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Built from parts so that this file does not contain the pattern it looks for.
FORBIDDEN = "../" + "shared"


def _tracked_files() -> list[str]:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    inside = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--show-toplevel"],
        capture_output=True,
        text=True,
        check=False,
    )
    if inside.returncode != 0 or Path(inside.stdout.strip()).resolve() != ROOT:
        pytest.skip("not in a git checkout of the project")
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True, check=True
    )
    return [name for name in listed.stdout.decode().split("\0") if name]


def test_no_tracked_file_points_beside_the_checkout() -> None:
    hits = []
    for name in _tracked_files():
        path = ROOT / name
        if not path.is_file():
            continue  # deleted in the working tree, not yet committed
        data = path.read_bytes()
        if b"\0" in data:
            continue  # binary
        text = data.decode("utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            if FORBIDDEN in line:
                hits.append(f"{name}:{number}: {line.strip()}")
    assert not hits, f"files that point to {FORBIDDEN!r}:\n" + "\n".join(hits)
