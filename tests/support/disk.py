"""A data dir on a file system of its own that a test can fill (a tmpfs, mounted as root), and
the real ``paykiosk --no-ui`` rig on it. The fixtures are registered for every test module by
``tests/conftest.py``."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.rig import Rig, make_rig
from tests.support.wallet import Sandbox


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """The kiosk's data dir on its own 8 MB file system, which the test can fill."""
    data = tmp_path / "data"
    data.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(data)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.decode().strip()}")
    try:
        yield data
    finally:
        subprocess.run(["umount", "-l", str(data)], check=False)


def fill(data: Path) -> Path:
    """Write until the file system is full; the file to delete to free it."""
    filler = data / "filler"
    # unbuffered: a buffered file would flush what did not fit again at its close, and raise
    with open(filler, "wb", buffering=0) as out, contextlib.suppress(OSError):
        while True:
            out.write(b"\0" * 65536)
            os.fsync(out.fileno())
    return filler


@pytest.fixture
def disk_rig(tmp_path: Path, wallet: Sandbox, tiny_disk: Path) -> Iterator[Rig]:
    with make_rig(tmp_path, wallet, min_free_mb=0.5) as rig:
        yield rig
