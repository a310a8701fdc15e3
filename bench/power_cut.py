"""A power cut for a data dir: every write not yet fsynced is lost.

``bench/crash_shim.c`` in power-cut mode keeps, in a shadow folder, the data dir's durable state:
the tree as it was when the process started, then each regular file's content as of its last
fsync/fdatasync and each directory's listing as of its last one. Once the process is dead,
:func:`cut` rebuilds the data dir from that state alone, as a card would come back after losing
power (the model of LazyFS's "lose unsynced data" and of ALICE's clean cuts; torn or reordered
writes inside one fsync interval are not explored):

- a file's content is what its last fsync saw; a file never fsynced is empty;
- a directory holds what its last fsync saw: a file made, renamed or removed since then is not
  there, is under its old name, or is back;
- two names of one file (a hard link) stay one file;
- SQLite's ``-shm`` is never fsynced, so it comes back empty or not at all: SQLite rebuilds the
  WAL index from the ``-wal`` when it first opens the journal after the cut, as after a real one.

The cut replaces the data dir's contents in place (the folder itself stays: its own entry in its
parent is the rig's, made before the kiosk ran).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

ENV_ROOT = "PAYKIOSK_POWER_ROOT"
ENV_SHADOW = "PAYKIOSK_POWER_SHADOW"


def shim_env(data_dir: Path, shadow: Path) -> dict[str, str]:
    """The environment that puts the shim in power-cut mode for ``data_dir``."""
    data_dir.mkdir(parents=True, exist_ok=True)
    shadow.mkdir(parents=True, exist_ok=True)
    return {ENV_ROOT: os.path.realpath(data_dir), ENV_SHADOW: os.path.realpath(shadow)}


@dataclass
class Cut:
    """What a cut dropped (paths relative to the data dir)."""

    gone: list[str] = field(default_factory=list)  # names that were there and are not now
    back: list[str] = field(default_factory=list)  # names that were not there and are now
    reverted: list[str] = field(default_factory=list)  # files whose content changed
    bytes_dropped: int = 0  # bytes that differ or are gone from files that stay (sizes)

    @property
    def dropped(self) -> bool:
        return bool(self.gone or self.back or self.reverted)

    def summary(self) -> str:
        if not self.dropped:
            return "nothing unsynced"
        parts = []
        if self.reverted:
            parts.append(f"{len(self.reverted)} files reverted")
        if self.gone:
            parts.append(f"{len(self.gone)} gone")
        if self.back:
            parts.append(f"{len(self.back)} back")
        return ", ".join(parts)


@dataclass(frozen=True)
class _Entry:
    key: str
    is_dir: bool


def _listing(shadow: Path, name: str) -> dict[str, _Entry]:
    path = shadow / "dirs" / name
    entries: dict[str, _Entry] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8", errors="surrogateescape").splitlines():
            kind, key, entry = line.split(" ", 2)
            entries[entry] = _Entry(key, kind == "d")
    return entries


def _durable(shadow: Path) -> dict[str, tuple[str, bytes] | None]:
    """relative path → (file key, content), or None for a directory."""
    tree: dict[str, tuple[str, bytes] | None] = {}

    def walk(prefix: str, listing: dict[str, _Entry]) -> None:
        for name, entry in sorted(listing.items()):
            relative = f"{prefix}{name}"
            if entry.is_dir:
                tree[relative] = None
                walk(relative + "/", _listing(shadow, entry.key))
            else:
                image = shadow / "files" / entry.key
                tree[relative] = (entry.key, image.read_bytes() if image.exists() else b"")

    walk("", _listing(shadow, "root"))
    return tree


def _current(root: Path) -> dict[str, bytes | None]:
    tree: dict[str, bytes | None] = {}
    for folder, dirs, files in os.walk(root):
        base = Path(folder).relative_to(root)
        for name in dirs:
            tree[str(base / name) if str(base) != "." else name] = None
        for name in files:
            path = Path(folder) / name
            relative = str(base / name) if str(base) != "." else name
            tree[relative] = path.read_bytes() if path.is_file() else b""
    return tree


def cut(root: Path, shadow: Path) -> Cut:
    """Rebuild ``root`` from its durable state in ``shadow`` (no process may be writing it)."""
    if not (shadow / "baseline").exists():
        raise RuntimeError(f"no durable state in {shadow}: was the shim in power-cut mode?")
    durable, now = _durable(shadow), _current(root)
    report = Cut()
    for name, content in now.items():
        if name not in durable:
            report.gone.append(name)
            report.bytes_dropped += len(content or b"")
            continue
        kept = durable[name]
        if content is not None and kept is not None and kept[1] != content:
            report.reverted.append(name)
            report.bytes_dropped += sum(
                1 for a, b in zip(kept[1], content, strict=False) if a != b
            ) + abs(len(content) - len(kept[1]))
    report.back = [name for name in durable if name not in now]
    for child in root.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    made: dict[str, Path] = {}
    for name, entry in durable.items():  # parents before children: the walk's order
        path = root / name
        if entry is None:
            path.mkdir()
        elif entry[0] in made:  # a second name of one file
            os.link(made[entry[0]], path)
        else:
            path.write_bytes(entry[1])
            made[entry[0]] = path
    return report
