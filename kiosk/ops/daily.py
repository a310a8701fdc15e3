"""A job the kiosk runs by itself once a day at a quiet hour, on a thread of its own (never on
the engine's loop), and only while no member is at the kiosk: the reconciliation with the
wallet's ledger (:mod:`kiosk.ops.reconcile`) and the journal's archive (:mod:`kiosk.ops.archiving`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Generic, TypeVar

log = logging.getLogger("paykiosk.daily")

Due = TypeVar("Due")
Result = TypeVar("Result")


def quiet_hour(text: str) -> tuple[int, int]:
    """``HH:MM`` (checked by the configuration) as (hour, minute)."""
    hours, minutes = text.split(":")
    return int(hours), int(minutes)


class QuietHourJob(Generic[Due, Result]):
    """Checks every ``check_s`` whether the job is :meth:`due` (what to do, or None) and, unless
    ``busy()`` (a member in a session: it waits, said once), does it (:meth:`work`). The first
    check is at once: a kiosk (re)started after the quiet hour does the day's run then."""

    what = "the daily job"  # for the log

    def __init__(self, busy: Callable[[], bool], check_s: float = 30.0) -> None:
        self.busy = busy
        self.check_s = check_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=type(self).__name__, daemon=True)
        self._waiting_said = False

    def due(self, now: datetime) -> Due | None:
        raise NotImplementedError

    def work(self, due: Due) -> Result:
        raise NotImplementedError

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():  # (never started: the kiosk stopped while it started)
            self._thread.join(timeout=5)  # a run under way: each of its writes lands whole or not

    def _run(self) -> None:
        while True:
            try:
                self.tick()
            except Exception:  # the thread must live on: tried again at the next check
                log.exception("%s failed; tried again later", self.what)
            if self._stop.wait(self.check_s):
                return

    def tick(self) -> Result | None:
        due = self.due(datetime.now(UTC))
        if due is None:
            return None
        if self.busy():
            if not self._waiting_said:
                log.info("%s waits: a member is using the kiosk", self.what)
                self._waiting_said = True
            return None
        self._waiting_said = False
        return self.work(due)
