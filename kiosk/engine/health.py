"""The kiosk's own machine, watched from the engine's loop: free disk space for the journal,
whether a journal that failed to write can be written again, and whether the clock agrees with
the wallet's.

A kiosk whose journal cannot record a note must not take one: below the free-space reserve no
new session starts (the kiosk is out of service with the reason), and after a failed write the
journal is probed until a durable write succeeds again; then the kiosk comes back by itself.
A clock the wallet refuses (every request would be refused as expired) is out of service too,
with the offset in the reason; the wallet is pinged now and then until the clock is set.

The journal's file is watched too (``file_s``): removed, replaced or truncated under the open
connection, the kiosk is out of service at once (every write is refused from that moment, see
:meth:`Database.file_problem`), the journal is restored to its path from the open connection,
a staff case records it, and the probe write brings the kiosk back. If it cannot be restored,
the kiosk stays out of service saying why.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from kiosk.core.faults import FaultSource
from kiosk.journal import Journal, JournalUnwritable
from kiosk.journal.db import JournalRestoreFailed, quick_check
from kiosk.journal.integrity import Sweep
from kiosk.wallet.client import WalletClient
from kiosk.wallet.errors import WalletError

log = logging.getLogger("paykiosk.health")


def journal_size(path: Path) -> int:
    """Bytes of the journal file and its WAL on disk."""
    size = 0
    for part in (path, path.with_name(path.name + "-wal")):
        with contextlib.suppress(OSError):
            size += part.stat().st_size
    return size


def free_bytes(path: Path) -> int:
    """Bytes an unprivileged process may still write on the file system holding ``path``."""
    stat = os.statvfs(path)
    return stat.f_bavail * stat.f_frsize


class Health:
    """Checks every ``interval_s``; reports ``(source, detail or None)`` through ``report``."""

    def __init__(
        self,
        journal: Journal,
        reserve_bytes: int,
        report: Callable[[FaultSource, str | None], None],
        wallet: WalletClient | None = None,
        interval_s: float = 2.0,
        clock_ping_s: float = 10.0,
        integrity_s: float = 600.0,
        file_s: float = 0.5,
        restore_retry_s: float = 5.0,
    ) -> None:
        self.journal = journal
        self.reserve_bytes = reserve_bytes
        self.report = report
        self.wallet = wallet
        self.interval_s = interval_s
        self.clock_ping_s = clock_ping_s
        self.journal_failed = False  # set by the engine after a failed write
        self.integrity_s = integrity_s
        self.file_s = file_s
        self.restore_retry_s = restore_retry_s
        self.restore_failed: str | None = None  # why the lost journal file is not back yet
        self._restore_retry_at = 0.0
        # SQLite's last quick_check answer ("ok"); a journal checked as it was opened is not
        # read through again at once (on an SD card that takes a while): one interval later
        checked = journal.db.checked
        self.journal_check: str | None = "ok" if checked else None
        self._next_integrity: float | None = None if checked else 0.0
        # where the bounded check's rounds are (kiosk.journal.integrity): a big journal is read a
        # slice a round, all of it over a day or two
        self.sweep = Sweep.anywhere()
        self._disk_low = False
        self._clock: str | None = None
        self._next_ping = 0.0

    def check_disk(self) -> None:
        try:
            free = free_bytes(self.journal.db.path.parent)
        except OSError as error:
            free, why = 0, f"cannot be checked ({error.strerror})"
        else:
            why = f"{free / 1e6:.1f} MB free, {self.reserve_bytes / 1e6:.1f} MB needed"
        low = free < self.reserve_bytes
        if low != self._disk_low:
            self._disk_low = low
            log.log(logging.ERROR if low else logging.WARNING, "disk space: %s", why)
            self.report(FaultSource.DISK, f"nearly full ({why})" if low else None)

    async def check_file(self) -> None:
        """The journal's path still names the file the kiosk writes: else out of service at
        once, the journal restored from the open connection, a staff case, and back. A restore
        that fails (no room for the copy, a damaged copy) is tried again every
        ``restore_retry_s``: until the kiosk stops, the open connection is the only copy."""
        db = self.journal.db
        problem = db.file_problem()
        if problem is None:
            return
        now = time.monotonic()
        if self.restore_failed is None:
            log.critical("journal file %s: %s", db.path, problem)
            self.journal_failed = True  # back only through a probe write, after the restore
            self.report(FaultSource.JOURNAL, f"file {problem}")
        elif now < self._restore_retry_at:
            return
        try:
            # off the loop: it keeps answering the watchdog while a big journal is copied
            done = await asyncio.to_thread(db.restore)
        except JournalRestoreFailed as error:
            self._restore_retry_at = now + self.restore_retry_s
            if str(error) != self.restore_failed:
                self.restore_failed = str(error)
                log.critical("journal file %s: %s; out of service, tried again", problem, error)
                self.report(FaultSource.JOURNAL, f"file {problem}; {error}")
            return
        self.restore_failed = None
        log.warning("journal %s: %s", db.path, done)
        try:
            reference = self.journal.cases.open("journal_file", amount=None, detail=done)
        except JournalUnwritable as error:
            log.error("journal restored, but its staff case could not be written: %s", error)
        else:
            log.warning("journal file %s: staff case %s", problem, reference)
        self.probe_journal()

    def probe_journal(self) -> None:
        """After a failed write: one durable write; back in service if it lands."""
        if self.journal.db.lost is not None:
            return  # restored by check_file, or lost for good
        try:
            self.journal.probe()
        except JournalUnwritable as error:
            log.debug("journal still unwritable: %s", error)
            return
        log.warning("journal writable again")
        self.journal_failed = False
        self.report(FaultSource.JOURNAL, None)

    def check_integrity(self) -> None:
        """One round of the journal's bounded check (SQLite's quick check of a small journal):
        a damaged journal takes no more cash until staff have looked at it."""
        self._integrity(quick_check(self.journal.db.path, self.sweep))

    def damaged(self, error: str) -> None:
        """A write found the journal damaged: out of service as if the check had said so."""
        if self.journal_check in (None, "ok"):
            self._integrity(error)

    def _integrity(self, answer: str) -> None:
        was_ok = self.journal_check in (None, "ok")
        self.journal_check = answer
        if (answer == "ok") != was_ok:
            if answer != "ok":
                log.error("journal integrity check failed: %s", answer)
            self.report(
                FaultSource.JOURNAL_CHECK, None if answer == "ok" else f"damaged ({answer[:120]})"
            )

    def check_clock(self) -> None:
        problem = self.wallet.clock_problem if self.wallet is not None else None
        if problem != self._clock:
            self._clock = problem
            self.report(FaultSource.CLOCK, f"{problem} (check NTP)" if problem else None)

    async def _ping_for_the_clock(self) -> None:
        """While the clock is wrong nothing else asks the wallet: ask now and then."""
        now = asyncio.get_running_loop().time()
        if self.wallet is None or self._clock is None or now < self._next_ping:
            return
        self._next_ping = now + self.clock_ping_s
        try:
            await asyncio.wait_for(self.wallet.ping(), timeout=self.clock_ping_s)
        except (WalletError, TimeoutError) as error:
            log.info("clock check: the wallet did not answer (%s)", type(error).__name__)

    async def run(self) -> None:
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self._watch_file())
            tasks.create_task(self._run_checks())

    async def _watch_file(self) -> None:
        while True:
            await self.check_file()
            await asyncio.sleep(self.file_s)

    async def _run_checks(self) -> None:
        while True:
            now = asyncio.get_running_loop().time()
            if self._next_integrity is None:
                self._next_integrity = now + self.integrity_s
            if now >= self._next_integrity:
                self._next_integrity = now + self.integrity_s
                # off the loop: a round still reads a few MB, a while on an SD card
                self._integrity(
                    await asyncio.to_thread(quick_check, self.journal.db.path, self.sweep)
                )
            self.check_disk()
            if self.journal_failed:
                self.probe_journal()
            await self._ping_for_the_clock()
            self.check_clock()
            await asyncio.sleep(self.interval_s)
