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


@contextlib.contextmanager
def small_file_system(folder: Path, size: str = "8m") -> Iterator[Path]:
    """``folder`` (made here) on a tmpfs of its own of ``size``, which the test can fill; the
    test is skipped where it cannot be mounted."""
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """The kiosk's data dir on its own 8 MB file system, which the test can fill."""
    with small_file_system(tmp_path / "data") as data:
        yield data


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
