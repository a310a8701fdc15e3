"""Demo data for the sandbox, and the ``sandbox.json`` that tells clients how to connect."""

from __future__ import annotations

import base64
import json
import os
import uuid
from pathlib import Path
from typing import Any

from kiosk.sim.sandbox.certs import SandboxCerts
from kiosk.sim.sandbox.store import SandboxStore

# bucket: (name, max_balance, transfer_limit, money_topup_transfer_limit)
MONEYS = {
    "base": ("ベースマネー", 50_000, None, 30_000),
    "cafeteria": ("学食マネー", 30_000, None, 20_000),
    "textbook": ("教科書マネー", 100_000, 50_000, None),
}
# What the API says about each money besides its caps: (description, oneline_message).
MONEY_TEXT = {
    "base": ("生協の店舗・食堂・購買で使える基本のマネーです。", "生協のお店で使えるマネー"),
    "cafeteria": ("学生食堂でだけ使えるマネーです。", "学食で使えるマネー"),
    "textbook": ("教科書・参考書の購入に使えるマネーです。", "教科書に使えるマネー"),
}
# The issuer of every money: the co-op (the API's Organization: code, name).
ORGANIZATION = {"code": "univ-coop", "name": "大学生活協同組合"}
LOOKUP_MONEY = "base"  # the card id is the external_id of the member's base-money account
# name, card IDm, status, balances per bucket (None: no wallet in that money)
MEMBERS: list[tuple[str, str, str, dict[str, int | None]]] = [
    ("生協 太郎", "012E4CD5A1B2C3D4", "active", {"base": 3_200, "cafeteria": 1_500, "textbook": 0}),
    ("停止 花子", "012E4CD5A1B2C3D5", "suspended", {"base": 800, "cafeteria": 0, "textbook": 0}),
    ("上限 近子", "012E4CD5A1B2C3D6", "active", {"base": 48_500, "cafeteria": 0, "textbook": 0}),
    ("学食 なし男", "012E4CD5A1B2C3D7", "active", {"base": 0, "cafeteria": None, "textbook": 0}),
]
UNREGISTERED_CARDS = ["012E4CD5A1B2C3FF"]


def ensure_seeded(store: SandboxStore) -> None:
    """Fill an empty sandbox with the demo moneys, shop and members."""
    if store.get_meta("client_id"):
        return
    store.set_meta("client_id", str(uuid.uuid4()))
    store.set_meta("client_secret", base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("="))
    moneys = {b: store.add_money(b, *spec) for b, spec in MONEYS.items()}
    shop = store.add_user("大学生協 Pay Spot", merchant=True)
    store.set_meta("shop_id", shop)
    shop_accounts = {b: store.add_account(shop, m) for b, m in moneys.items()}
    for name, card, status, balances in MEMBERS:
        add_member(store, name, card, balances, moneys)
        if status != "active":
            store.set_user_status(str(store.user_by_card(card)), status)
    first = store.one("SELECT id FROM accounts WHERE external_id = ?", (MEMBERS[0][1],))
    assert first is not None
    for amount, what in ((580, "学食 日替わり定食"), (120, "購買 お茶"), (1_430, "書籍 参考書")):
        store.record_payment(first["id"], shop_accounts["base"], amount, what)


def add_member(
    store: SandboxStore,
    name: str,
    card: str,
    balances: dict[str, int | None],
    moneys: dict[str, str] | None = None,
) -> str:
    """A member with a wallet per bucket (None: none in that bucket), the card on base money."""
    moneys = moneys or store.moneys()
    user = store.add_user(name)
    for bucket, money_id in moneys.items():
        balance = balances.get(bucket, 0)
        if balance is not None:
            store.add_account(user, money_id, balance, card if bucket == LOOKUP_MONEY else None)
    return user


def write_sandbox_json(store: SandboxStore, data_dir: Path, certs: SandboxCerts, port: int) -> Path:
    """Everything a client (and the demo, and tests) needs to talk to this sandbox."""
    moneys = store.moneys()
    members: list[dict[str, Any]] = []
    for user in store.query("SELECT id, name FROM users WHERE is_merchant = 0 ORDER BY rowid"):
        accounts = store.query(
            "SELECT a.*, m.bucket, m.max_balance FROM accounts a JOIN moneys m"
            " ON m.id = a.money_id WHERE a.user_id = ?",
            (user["id"],),
        )
        members.append(
            {
                "name": user["name"],
                "user_id": user["id"],
                "card_idm": next((a["external_id"] for a in accounts if a["external_id"]), None),
                "status": accounts[0]["status"] if accounts else "active",
                "wallets": {
                    a["bucket"]: {
                        "account_id": a["id"],
                        "money_balance": a["money_balance"],
                        "max_balance": a["max_balance"],
                    }
                    for a in accounts
                },
            }
        )
    info = {
        "base_url": f"https://127.0.0.1:{port}",
        "client_id": store.get_meta("client_id"),
        "client_secret": store.get_meta("client_secret"),
        "ca_file": str(certs.ca_file),
        "client_cert": str(certs.client_cert),
        "client_key": str(certs.client_key),
        "shop_id": store.get_meta("shop_id"),
        "moneys": moneys,
        "lookup_money": LOOKUP_MONEY,
        "members": members,
        "unregistered_cards": UNREGISTERED_CARDS,
    }
    path = data_dir / "sandbox.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(info, ensure_ascii=False, indent=1))
    os.chmod(tmp, 0o600)  # it holds the client secret
    tmp.replace(path)
    return path
