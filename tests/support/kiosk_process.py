"""The real ``paykiosk --no-ui`` process for crash and fault tests: config, start, freeze, kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from kiosk.journal import Journal
from kiosk.journal.records import Credit
from kiosk.sim.config import write_sandbox_config
from tests.support.common import stop_process
from tests.support.wallet import ROOT, Sandbox


def write_config(
    directory: Path,
    sandbox: Sandbox,
    acceptor_port: str,
    card_device: str,
    idle_finish_s: float = 1.5,
    no_ui_money: str = "base",
    no_ui_move: tuple[str, int] | None = None,
) -> Path:
    return write_sandbox_config(
        directory,
        sandbox.info,
        acceptor_port,
        card_device,
        idle_finish_s=idle_finish_s,
        no_ui_money=no_ui_money,
        no_ui_move=no_ui_move,
    )


class KioskProcess:
    """One ``paykiosk --config … --no-ui`` process at a time, restartable."""

    def __init__(self, config: Path) -> None:
        self.config = config
        self.journal_path = config.parent / "data" / "journal.sqlite3"
        self.process: subprocess.Popen[str] | None = None
        self.frozen = threading.Event()
        self.output: list[str] = []

    def start(
        self,
        freeze_at: str | None = None,
        ui: bool = False,
        wrapper: tuple[str, ...] = (),
        env: Mapping[str, str | None] | None = None,
        args: tuple[str, ...] = (),
    ) -> None:
        """``ui``: the touch UI instead of ``--no-ui``; ``wrapper``: a command the kiosk runs
        under (e.g. strace, a cgroup's); ``env``: more environment (None: the name left out);
        ``args``: more of the kiosk's options (``-v``)."""
        merged = {**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"}
        environ = {k: v for k, v in merged.items() if v is not None}
        environ.pop("PAYKIOSK_FREEZE_AT", None)
        if freeze_at:
            environ["PAYKIOSK_FREEZE_AT"] = freeze_at
        self.frozen.clear()
        self.output = []
        self.process = subprocess.Popen(
            [*wrapper, sys.executable, "-m", "kiosk", "--config", str(self.config), *args]
            + ([] if ui else ["--no-ui"]),
            cwd=ROOT,
            env=environ,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, args=(self.process,), daemon=True).start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.output.append(line.rstrip())
            if line.startswith("PAYKIOSK FROZEN"):
                self.frozen.set()

    def wait_ready(self, timeout: float = 20.0) -> None:
        """Both devices up: the acceptor initialised and the card reader polling."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            lines = list(self.output)
            if "bill acceptor online" in lines and any(
                line.startswith("card reader online") for line in lines
            ):
                return
            time.sleep(0.05)
        raise AssertionError("kiosk not ready; output:\n" + "\n".join(self.output[-30:]))

    def wait_frozen(self, timeout: float = 20.0) -> None:
        if not self.frozen.wait(timeout):
            raise AssertionError("kiosk never froze; output:\n" + "\n".join(self.output[-30:]))

    def kill(self) -> None:
        """SIGKILL: no cleanup code runs, as in a power cut of the host."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        stop_process(self.process)

    def journal(self) -> Journal:
        return Journal(self.journal_path, "T01")

    def moves(self) -> list[Credit]:
        """The journal's マネー移動 moves, oldest first (none before the journal exists)."""
        if not self.journal_path.exists():
            return []
        journal = self.journal()
        try:
            rows = journal.db.query("SELECT * FROM credits WHERE kind = 'exchange' ORDER BY id")
            return [Credit.from_row(row) for row in rows]
        finally:
            journal.close()

    def wait_settled(self, timeout: float = 30.0) -> None:
        """No open session, no open credit: everything the kiosk took is settled."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.journal_path.exists():
                journal = self.journal()
                try:
                    open_sessions = journal.db.one(
                        "SELECT COUNT(*) AS n FROM sessions WHERE state = 'open'"
                    )
                    busy = journal.credits.open_credits() or (open_sessions and open_sessions["n"])
                    orphans = journal.db.one(
                        "SELECT COUNT(*) AS n FROM notes WHERE state IN ('stacked', 'stack_sent')"
                        " AND credit_id IS NULL"
                    )
                finally:
                    journal.close()
                if not busy and orphans is not None and not orphans["n"]:
                    return
            time.sleep(0.2)
        journal = self.journal()
        try:
            state = {
                table: [dict(r) for r in journal.db.query(f"SELECT * FROM {table}")]
                for table in ("sessions", "notes", "credits")
            }
        finally:
            journal.close()
        raise AssertionError(
            f"kiosk did not settle: {state}\noutput:\n" + "\n".join(self.output[-40:])
        )


def run_kiosk(
    config: Path,
    *args: str,
    timeout: float = 30,
    stdin: str | None = None,
    env: Mapping[str, str | None] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``paykiosk --config F ARGS`` to its end (``pending``, or a start that must refuse);
    ``stdin``: what is typed into it (a staff command's secrets); ``env``: more environment for
    it alone (None: the name left out)."""
    merged = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "kiosk", "--config", str(config), *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={k: v for k, v in merged.items() if v is not None},
    )
