"""A real wallet sandbox process for the tests, and helpers to call it with the real client."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from kiosk.journal.records import SessionOutcome
from kiosk.sim.sandbox import faults as fault_settings
from kiosk.sim.sandbox.seed import add_member
from kiosk.sim.sandbox.store import SandboxStore
from kiosk.wallet.client import WalletClient
from kiosk.wallet.settings import RetryPolicy, WalletSettings

if TYPE_CHECKING:
    from kiosk.journal import Journal
    from kiosk.journal.records import Credit

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")
FAST_RETRY = RetryPolicy(attempts=3, initial_wait_s=0.05, max_wait_s=0.2, jitter_s=0.05)
# A wallet never dialled, for a client on an ``httpx.MockTransport`` (it reads no TLS file).
MOCK_SECRET = "Y9e-WZYQCH9s2YKvR-R2HyP3MgmSctLTo95boskE5FE"
MOCK_SETTINGS = WalletSettings(
    base_url="https://wallet.invalid/",
    client_id="5b0f7a2e-3f9c-4e55-9a57-0c1d2e3f4a5b",
    client_secret=MOCK_SECRET,
    client_cert="/nonexistent/client.pem",  # with a transport the TLS files are never read
    client_key="/nonexistent/client.key",
    ca_file="/nonexistent/ca.pem",
    shop_id="7d1c9f0e-2b3a-4c5d-8e9f-a0b1c2d3e4f5",
    language="en",
)
TEN_MINUTES = 600.0  # a clock this far off is refused (the wallet allows ±120 s)


@dataclass
class Sandbox:
    process: subprocess.Popen[bytes]
    data_dir: Path
    store: SandboxStore  # the same SQLite file the server uses (admin access)

    @property
    def info(self) -> dict[str, Any]:
        info: dict[str, Any] = json.loads((self.data_dir / "sandbox.json").read_text())
        return info

    @property
    def moneys(self) -> dict[str, str]:
        moneys: dict[str, str] = self.info["moneys"]
        return moneys

    def settings(self, **overrides: object) -> WalletSettings:
        return WalletSettings.from_sandbox(self.data_dir, **overrides)

    def member(self, balances: dict[str, int | None] | None = None, status: str = "active") -> str:
        """A fresh member (own card) so tests do not share balances; returns the user id."""
        card = uuid.uuid4().hex[:16].upper()
        user = add_member(self.store, "テスト 会員", card, balances or {})
        if status != "active":
            self.store.set_user_status(user, status)
        return user

    def card_of(self, user_id: str) -> str:
        row = self.store.one(
            "SELECT external_id FROM accounts WHERE user_id = ? AND external_id IS NOT NULL",
            (user_id,),
        )
        assert row is not None
        return str(row["external_id"])

    def balance(self, user_id: str, bucket: str) -> int:
        row = self.store.one(
            "SELECT money_balance FROM accounts WHERE user_id = ? AND money_id = ?",
            (user_id, self.moneys[bucket]),
        )
        assert row is not None
        return int(row["money_balance"])

    def calls(self) -> int:
        """Envelope calls the server has accepted so far (each attempt has its own call id)."""
        return self.store.calls_seen()

    def faults(self, **changes: object) -> None:
        fault_settings.update(self.store, **changes)

    def clear_faults(self) -> None:
        fault_settings.clear(self.store)
        self.store.set_meta("missing_request_status", 422)


def start_sandbox(data_dir: Path) -> Sandbox:
    process = subprocess.Popen(
        [sys.executable, "-m", "kiosk", "sandbox", "--data-dir", str(data_dir)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while not (data_dir / "sandbox.json").exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the sandbox did not start")
        time.sleep(0.05)
    return Sandbox(process, data_dir, SandboxStore(data_dir / "sandbox.sqlite3"))


def stop_sandbox(sandbox: Sandbox) -> None:
    sandbox.process.terminate()
    try:
        sandbox.process.wait(10)
    except subprocess.TimeoutExpired:
        sandbox.process.kill()
    sandbox.store.close()


def with_client(
    settings: WalletSettings,
    action: Callable[[WalletClient], Awaitable[T]],
    retry: RetryPolicy = FAST_RETRY,
    **client_options: Any,
) -> T:
    """Run ``action(client)`` on a fresh client in its own event loop."""

    async def go() -> T:
        async with WalletClient(settings, retry, **client_options) as client:
            return await action(client)

    return asyncio.run(go())


def stacked_credit(
    journal: Journal,
    wallet: Sandbox,
    user: str,
    amount: int,
    card_tag: str = "T…00",
    name: str = "n",
) -> Credit:
    """A finished session of one stacked note of ``amount`` for ``user``: its pending credit."""
    session = journal.sessions.open(card_tag, user, name, "base", wallet.moneys["base"])
    journal.gate.open(session, 10**6)
    note = journal.notes.escrow(0x61, amount)
    assert note is not None
    journal.notes.stacked(note.id)
    journal.gate.close()
    credit = journal.sessions.finish(session, SessionOutcome.FINISHED)
    assert credit is not None
    return credit


@dataclass(frozen=True)
class CashAndMoves:
    """What :func:`cash_and_moves` journaled (credit ids)."""

    cash_confirmed: int  # ¥2,000
    cash_waiting: int  # ¥1,000
    move_waiting: int  # ¥700 base → cafeteria, sent once, last error "503"
    move_done: int  # ¥300 base → textbook
    move_refused: int  # ¥50,000 base → cafeteria, nothing moved
    confirmed_at: float  # the cash credit's confirmation, before the move's


def cash_and_moves(journal: Journal, user: str = "user-1") -> CashAndMoves:
    """Two cash credits (one confirmed, one waiting) and three マネー移動 moves (one being
    processed, one confirmed after the cash, one refused): what reports must tell apart."""
    moneys = {"base": "money-b", "cafeteria": "money-c", "textbook": "money-t"}
    done = _stacked(journal, user, 2000)
    journal.credits.confirm(done, "tx-cash")
    row = journal.db.one("SELECT updated_at FROM credits WHERE id = ?", (done,))
    assert row is not None
    confirmed_at = float(row["updated_at"])
    waiting = _stacked(journal, user, 1000)

    def move(target: str, amount: int) -> int:
        return journal.moves.open(
            user, ("base", moneys["base"]), (target, moneys[target]), amount
        ).id

    move_waiting = move("cafeteria", 700)
    journal.credits.mark_sent(move_waiting)
    journal.credits.retry_later(move_waiting, "503 temporarily_unavailable", time.time() + 2)
    time.sleep(0.01)  # the move confirmed after the cash credit
    move_done = move("textbook", 300)
    journal.credits.confirm(move_done, "tx-move")
    move_refused = move("cafeteria", 50_000)
    journal.moves.decline(move_refused, "account_balance_not_enough")
    return CashAndMoves(done, waiting, move_waiting, move_done, move_refused, confirmed_at)


def _stacked(journal: Journal, user: str, amount: int) -> int:
    session = journal.sessions.open("T…00", user, "n", "base", "money-b")
    journal.gate.open(session, 10**6)
    note = journal.notes.escrow(0x61, amount)
    assert note is not None
    journal.notes.stacked(note.id)
    journal.gate.close()
    credit = journal.sessions.finish(session, SessionOutcome.FINISHED)
    assert credit is not None
    return credit.id


def skewed_client(wallet: Sandbox, off_s: float) -> WalletClient:
    """A client of the sandbox whose machine's wall clock is ``off_s`` seconds off (negative:
    behind)."""
    return WalletClient(
        wallet.settings(), FAST_RETRY, clock=lambda: datetime.now(UTC) + timedelta(seconds=off_s)
    )
