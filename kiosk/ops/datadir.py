"""The kiosk's data directory: made at start, and held by one kiosk process at a time.

Two kiosk processes on one journal would each replay it at start: the second would close the
first one's live session and credit it while the first still takes notes into it. So a kiosk
takes an exclusive ``flock`` on ``DATA_DIR/paykiosk.lock`` before it runs, without waiting,
and holds it (the open file) for the life of the process; the kernel drops the lock however
the process ends (exit, crash, SIGKILL), so a stale file never blocks a start. The holder's pid
is written into the file, for the message a second process gives. The file is never removed
(removing a lock file races with the next process taking it).

The read-only reports (``pending``, ``journal``) take no lock: they run beside a kiosk.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from pathlib import Path
from types import TracebackType

from kiosk.config.settings import ConfigError

# sysexits.h EX_TEMPFAIL: another kiosk process holds the data dir. The systemd unit lists it
# in RestartPreventExitStatus: a second kiosk is an operator's mistake that a restart every
# 2 s would not mend (the running one goes on; start this one again once that one stopped).
EXIT_LOCKED = 75
LOCK_NAME = "paykiosk.lock"


class DataDirBusy(RuntimeError):
    """Another process holds the data dir's lock."""

    def __init__(self, data_dir: Path, pid: int | None) -> None:
        self.data_dir, self.pid = data_dir, pid
        holder = f"pid {pid}" if pid is not None else "pid unknown"
        super().__init__(
            f"{data_dir} is in use by another kiosk process ({holder}); not starting a second "
            "kiosk on the same journal (stop the other one first)"
        )


def prepare(data_dir: Path) -> None:
    """Make the data dir (and its parents) if needed: ``ConfigError`` naming ``[kiosk]
    data_dir`` when it is not a directory or this user cannot make or write it."""
    name = "[kiosk] data_dir"
    if data_dir.exists() and not data_dir.is_dir():
        raise ConfigError(f"{name}: {data_dir} is not a directory")
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(f"{name}: cannot create {data_dir}: {error.strerror}") from None
    if not os.access(data_dir, os.W_OK | os.X_OK):
        raise ConfigError(f"{name}: {data_dir} is not writable by this user (uid {os.getuid()})")


class DataDirLock:
    """``with DataDirLock(data_dir):`` — the data dir is this process's until the block ends
    (``DataDirBusy`` if another process has it)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        try:  # O_CLOEXEC: a program the kiosk might start does not inherit the lock
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as error:
            raise ConfigError(
                f"[kiosk] data_dir: cannot open the lock file {self.path}: {error.strerror}"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # held by another process
            pid = _holder(fd)
            os.close(fd)
            raise DataDirBusy(self.data_dir, pid) from None
        except OSError as error:  # a file system without flock
            os.close(fd)
            raise ConfigError(
                f"[kiosk] data_dir: cannot lock {self.path}: {error.strerror}"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)  # the pid no longer names a holder
            os.close(self._fd)  # closing drops the lock
            self._fd = None

    def __enter__(self) -> DataDirLock:
        self.acquire()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()


def _holder(fd: int, wait_s: float = 1.0) -> int | None:
    """The pid the holder wrote (it writes it just after taking the lock: wait a little)."""
    deadline = time.monotonic() + wait_s
    while True:
        text = os.pread(fd, 32, 0).decode("ascii", errors="replace").strip()
        if text.isdigit():
            return int(text)
        if time.monotonic() > deadline:
            return None
        time.sleep(0.05)
