"""The sandbox's SQLite store: moneys, users, accounts, transactions, call ids, settings."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS moneys (
    id TEXT PRIMARY KEY, bucket TEXT NOT NULL, name TEXT NOT NULL, max_balance INTEGER,
    transfer_limit INTEGER, topup_limit INTEGER, status TEXT NOT NULL DEFAULT 'active');
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, is_merchant INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS accounts (
    id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id),
    money_id TEXT NOT NULL REFERENCES moneys(id), money_balance INTEGER NOT NULL DEFAULT 0,
    point_balance INTEGER NOT NULL DEFAULT 0, status TEXT NOT NULL DEFAULT 'active',
    external_id TEXT, UNIQUE (user_id, money_id));
CREATE INDEX IF NOT EXISTS accounts_by_card ON accounts (money_id, external_id);
CREATE TABLE IF NOT EXISTS transactions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, type TEXT NOT NULL,
    request_id TEXT UNIQUE, sender_account TEXT, receiver_account TEXT,
    money_amount INTEGER NOT NULL, point_amount INTEGER NOT NULL DEFAULT 0,
    done_at TEXT NOT NULL, description TEXT NOT NULL DEFAULT '', metadata TEXT,
    shop_id TEXT, is_modified INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS calls (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, call_id TEXT UNIQUE NOT NULL, at REAL NOT NULL);
"""


class Refused(Exception):
    """A business rule refused the call: becomes an error response."""

    def __init__(self, status: int, type: str, message: str) -> None:
        super().__init__(message)
        self.status, self.type, self.message = status, type, message


def new_id() -> str:
    return str(uuid.uuid4())


def now_iso() -> str:
    return iso(datetime.now(UTC))


def iso(moment: datetime) -> str:
    """A moment as the sandbox stores and sends it (UTC, milliseconds, ``Z``): such strings
    sort as their moments do."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _add_columns(db: sqlite3.Connection) -> None:
    """Columns a sandbox made before they existed lacks: the shop a transaction was made
    through, and whether it was cancelled after it was done (the API's ``is_modified``)."""
    have = {row[1] for row in db.execute("PRAGMA table_info(transactions)")}
    for column, kind in (("shop_id", "TEXT"), ("is_modified", "INTEGER NOT NULL DEFAULT 0")):
        if column not in have:
            db.execute(f"ALTER TABLE transactions ADD COLUMN {column} {kind}")


class SandboxStore:
    """Thread-safe access to the sandbox database (one connection, one lock)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        # The sandbox stands in for a remote service: commits must be visible at once (the
        # fault tests read them), but surviving a power cut of this machine is not its job.
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA busy_timeout=5000")
        self.db.executescript(SCHEMA)
        _add_columns(self.db)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def query(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self.db.execute(sql, args).fetchall()

    def one(self, sql: str, args: tuple[Any, ...] = ()) -> sqlite3.Row | None:
        rows = self.query(sql, args)
        return rows[0] if rows else None

    # ---- settings --------------------------------------------------------------------
    def get_meta(self, key: str, default: Any = None) -> Any:
        row = self.one("SELECT value FROM meta WHERE key = ?", (key,))
        return json.loads(row["value"]) if row else default

    def set_meta(self, key: str, value: Any) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, json.dumps(value)),
            )

    def remember_call(self, call_id: str, window_s: float) -> bool:
        """Record a ``partner_call_id``; False if it was seen before (a replay)."""
        now = time.time()
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM calls WHERE call_id = ?", (call_id,)).fetchone():
                return False
            db.execute("INSERT INTO calls (call_id, at) VALUES (?, ?)", (call_id, now))
            db.execute("DELETE FROM calls WHERE at < ?", (now - 2 * window_s,))
        return True

    def calls_seen(self) -> int:
        """How many envelope calls were ever accepted (a counter that pruning leaves alone)."""
        row = self.one("SELECT seq FROM sqlite_sequence WHERE name = 'calls'")
        return int(row["seq"]) if row else 0

    # ---- members ---------------------------------------------------------------------
    def add_money(
        self,
        bucket: str,
        name: str,
        max_balance: int | None,
        transfer_limit: int | None,
        topup_limit: int | None,
    ) -> str:
        money_id = new_id()
        with self.transaction() as db:
            db.execute(
                "INSERT INTO moneys (id, bucket, name, max_balance, transfer_limit, topup_limit)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (money_id, bucket, name, max_balance, transfer_limit, topup_limit),
            )
        return money_id

    def add_user(self, name: str, *, merchant: bool = False) -> str:
        user_id = new_id()
        with self.transaction() as db:
            db.execute(
                "INSERT INTO users (id, name, is_merchant) VALUES (?, ?, ?)",
                (user_id, name, int(merchant)),
            )
        return user_id

    def add_account(
        self, user_id: str, money_id: str, balance: int = 0, external_id: str | None = None
    ) -> str:
        account_id = new_id()
        with self.transaction() as db:
            db.execute(
                "INSERT INTO accounts (id, user_id, money_id, money_balance, external_id)"
                " VALUES (?, ?, ?, ?, ?)",
                (account_id, user_id, money_id, balance, external_id),
            )
        return account_id

    def set_user_status(self, user_id: str, status: str) -> int:
        with self.transaction() as db:
            return db.execute(
                "UPDATE accounts SET status = ? WHERE user_id = ?", (status, user_id)
            ).rowcount

    def user_by_card(self, card_id: str) -> str | None:
        row = self.one("SELECT user_id FROM accounts WHERE external_id = ?", (card_id,))
        return row["user_id"] if row else None

    def moneys(self) -> dict[str, str]:
        return {r["bucket"]: r["id"] for r in self.query("SELECT bucket, id FROM moneys")}

    # ---- money -----------------------------------------------------------------------
    def topup(
        self,
        shop_id: str,
        customer_id: str,
        money_id: str,
        money_amount: int,
        request_id: str,
        description: str,
        metadata: str,
    ) -> str:
        """Credit a customer's account from the shop's; returns the transaction id.

        A known ``request_id`` returns the transaction it created (nothing new); one that
        belongs to another user is a conflict.
        """
        with self.transaction() as db:
            existing = _replayed(db, request_id, customer_id)
            if existing is not None:
                return existing
            money = db.execute("SELECT * FROM moneys WHERE id = ?", (money_id,)).fetchone()
            if money is None:
                raise Refused(422, "private_money_not_found", "private money not found")
            if money["status"] != "active":
                raise Refused(422, "private_money_closed", "private money is closed")
            shop = db.execute(
                "SELECT a.id FROM accounts a JOIN users u ON u.id = a.user_id"
                " WHERE u.id = ? AND u.is_merchant = 1 AND a.money_id = ?",
                (shop_id, money_id),
            ).fetchone()
            if shop is None:
                raise Refused(422, "shop_account_not_found", "shop account not found")
            if not db.execute("SELECT 1 FROM users WHERE id = ?", (customer_id,)).fetchone():
                raise Refused(422, "customer_user_not_found", "customer not found")
            account = db.execute(
                "SELECT * FROM accounts WHERE user_id = ? AND money_id = ?",
                (customer_id, money_id),
            ).fetchone()
            if account is None:
                raise Refused(422, "customer_account_not_found", "no account in this money")
            _check_active(account)
            _check_fits(money, account, money_amount)
            transaction_id = new_id()
            db.execute(
                "INSERT INTO transactions (id, type, request_id, sender_account,"
                " receiver_account, money_amount, done_at, description, metadata, shop_id)"
                " VALUES (?, 'topup', ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    transaction_id,
                    request_id,
                    shop["id"],
                    account["id"],
                    money_amount,
                    now_iso(),
                    description,
                    metadata,
                    shop_id,
                ),
            )
            db.execute(
                "UPDATE accounts SET money_balance = money_balance + ? WHERE id = ?",
                (money_amount, account["id"]),
            )
            return transaction_id

    def move(
        self,
        user_id: str,
        sender_money_id: str,
        receiver_money_id: str,
        amount: int,
        request_id: str,
        description: str,
        shop_id: str | None = None,
    ) -> str:
        """Move a member's value from one of their moneys to another (マネー移動: a transaction
        of the API's type ``exchange``); returns the transaction id. ``request_id`` works as
        for :meth:`topup` (one namespace for both). ``shop_id``: the shop whose partner
        credentials made it (a shop's day lists it)."""
        with self.transaction() as db:
            existing = _replayed(db, request_id, user_id)
            if existing is not None:
                return existing
            if sender_money_id == receiver_money_id:
                raise Refused(
                    422,
                    "can_not_exchange_between_same_private_money",
                    "sender and receiver are the same private money",
                )
            moneys = [
                db.execute("SELECT * FROM moneys WHERE id = ?", (money_id,)).fetchone()
                for money_id in (sender_money_id, receiver_money_id)
            ]
            if None in moneys:
                raise Refused(422, "private_money_not_found", "private money not found")
            if any(money["status"] != "active" for money in moneys):
                raise Refused(422, "private_money_closed", "private money is closed")
            sender, receiver = (
                db.execute(
                    "SELECT * FROM accounts WHERE user_id = ? AND money_id = ?",
                    (user_id, money_id),
                ).fetchone()
                for money_id in (sender_money_id, receiver_money_id)
            )
            if sender is None or receiver is None:
                raise Refused(422, "account_not_found", "no such user or account in this money")
            _check_active(sender)
            _check_active(receiver)
            if amount > sender["money_balance"]:
                raise Refused(422, "account_balance_not_enough", "not enough in the sender money")
            _check_fits(moneys[1], receiver, amount)
            transaction_id = new_id()
            db.execute(
                "INSERT INTO transactions (id, type, request_id, sender_account,"
                " receiver_account, money_amount, done_at, description, shop_id)"
                " VALUES (?, 'exchange', ?, ?, ?, ?, ?, ?, ?)",
                (
                    transaction_id,
                    request_id,
                    sender["id"],
                    receiver["id"],
                    amount,
                    now_iso(),
                    description,
                    shop_id,
                ),
            )
            for account_id, change in ((sender["id"], -amount), (receiver["id"], amount)):
                db.execute(
                    "UPDATE accounts SET money_balance = money_balance + ? WHERE id = ?",
                    (change, account_id),
                )
            return transaction_id

    def cancel(self, transaction_id: str) -> bool:
        """Cancel a done top-up or move in the back office: its value goes back and it shows
        ``is_modified``. False if there is no such transaction or it was cancelled already."""
        with self.transaction() as db:
            row = db.execute(
                "SELECT * FROM transactions WHERE id = ? AND is_modified = 0", (transaction_id,)
            ).fetchone()
            if row is None:
                return False
            db.execute("UPDATE transactions SET is_modified = 1 WHERE id = ?", (transaction_id,))
            for account_id, change in (
                (row["receiver_account"], -row["money_amount"]),
                (row["sender_account"], row["money_amount"]),
            ):
                db.execute(
                    "UPDATE accounts SET money_balance = money_balance + ? WHERE id = ?",
                    (change, account_id),
                )
        return True

    def correct_amount(self, transaction_id: str, amount: int) -> bool:
        """Change a transaction's amount in the back office (a correction the kiosk was not
        told of): the receiver's balance follows. False if there is no such transaction."""
        with self.transaction() as db:
            row = db.execute(
                "SELECT * FROM transactions WHERE id = ?", (transaction_id,)
            ).fetchone()
            if row is None:
                return False
            change = amount - row["money_amount"]
            db.execute(
                "UPDATE transactions SET money_amount = ? WHERE id = ?", (amount, transaction_id)
            )
            db.execute(
                "UPDATE accounts SET money_balance = money_balance + ? WHERE id = ?",
                (change, row["receiver_account"]),
            )
        return True

    def record_payment(
        self, account_id: str, shop_account_id: str, amount: int, description: str
    ) -> str:
        """A purchase (seed data for the member's history)."""
        transaction_id = new_id()
        with self.transaction() as db:
            db.execute(
                "INSERT INTO transactions (id, type, sender_account, receiver_account,"
                " money_amount, done_at, description) VALUES (?, 'payment', ?, ?, ?, ?, ?)",
                (transaction_id, account_id, shop_account_id, amount, now_iso(), description),
            )
            db.execute(
                "UPDATE accounts SET money_balance = money_balance - ? WHERE id = ?",
                (amount, account_id),
            )
        return transaction_id


def _replayed(db: sqlite3.Connection, request_id: str, user_id: str) -> str | None:
    """The id of the transaction a known ``request_id`` made (None if new); a conflict if it is
    another user's (the user of its receiver account)."""
    existing = db.execute(
        "SELECT t.id, a.user_id FROM transactions t JOIN accounts a"
        " ON a.id = t.receiver_account WHERE t.request_id = ?",
        (request_id,),
    ).fetchone()
    if existing is None:
        return None
    if existing["user_id"] != user_id:
        raise Refused(422, "request_id_conflict", "request_id is used by another transaction")
    return str(existing["id"])


def _check_active(account: sqlite3.Row) -> None:
    status = account["status"]
    if status != "active":
        kind = {"suspended": "account_suspended", "pre-closed": "account_pre_closed"}
        raise Refused(422, kind.get(status, "account_closed"), f"account is {status}")


def _check_fits(money: sqlite3.Row, account: sqlite3.Row, amount: int) -> None:
    """The money's per-transfer and per-top-up limits, then its balance cap."""
    limits = (
        (money["transfer_limit"], "account_transfer_limit_exceeded"),
        (money["topup_limit"], "account_money_topup_transfer_limit_exceeded"),
    )
    for limit, kind in limits:
        if limit is not None and amount > limit:
            raise Refused(422, kind, f"over the limit of {limit}")
    cap = money["max_balance"]
    if cap is not None and account["money_balance"] + amount > cap:
        raise Refused(422, "account_balance_exceeded", f"over the balance cap of {cap}")
