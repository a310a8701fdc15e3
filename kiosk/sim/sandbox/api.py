"""The sandbox's endpoints: decrypted parameters in, result documents out (no HTTP here)."""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from kiosk.sim.sandbox.seed import MONEY_TEXT, ORGANIZATION
from kiosk.sim.sandbox.store import Refused, SandboxStore, iso

_ACCOUNT_SQL = (
    "SELECT a.*, u.name AS user_name, u.is_merchant, m.name AS money_name, m.bucket,"
    " m.max_balance, m.transfer_limit, m.topup_limit FROM accounts a"
    " JOIN users u ON u.id = a.user_id JOIN moneys m ON m.id = a.money_id"
)
# Money here never expires while its wallet is used: ten years after the last transaction.
EXPIRY_YEARS = 10


def _money_json(row: sqlite3.Row) -> dict[str, Any]:
    """A private money, every field of the API's object: the co-op issues its own moneys
    (``own``), to members only (``is_exclusive``), as money without points."""
    description, oneline = MONEY_TEXT.get(row["bucket"], ("", ""))
    return {
        "id": row["money_id"],
        "name": row["money_name"],
        "unit": "円",
        # ``unit`` is the SDKs' name for it; some descriptions of the API call it ``currency``
        "currency": "JPY",
        "type": "own",
        "is_exclusive": True,
        "description": description,
        "oneline_message": oneline,
        "organization": dict(ORGANIZATION),
        "max_balance": row["max_balance"],
        "transfer_limit": row["transfer_limit"],
        "money_topup_transfer_limit": row["topup_limit"],
        "expiration_type": "last-update",
        "enable_topup_by_member": False,
        "display_money_and_point": "money-only",
    }


def _user_json(row: sqlite3.Row) -> dict[str, Any]:
    return {"id": row["user_id"], "name": row["user_name"], "is_merchant": bool(row["is_merchant"])}


def _account_head(row: sqlite3.Row) -> dict[str, Any]:
    """The fields every rendering of an account starts with."""
    return {
        "id": row["id"],
        "name": row["money_name"],
        "status": row["status"],
        "is_suspended": row["status"] == "suspended",
    }


def account_json(row: sqlite3.Row) -> dict[str, Any]:
    """An account detail: what the account lists and ``GET /accounts/{id}`` answer."""
    return {
        **_account_head(row),
        "balance": row["money_balance"] + row["point_balance"],
        "money_balance": row["money_balance"],
        "point_balance": row["point_balance"],
        "point_debt": 0,
        "external_id": row["external_id"],
        "user": _user_json(row),
        "private_money": _money_json(row),
    }


def _account(store: SandboxStore, account_id: str | None) -> sqlite3.Row | None:
    if account_id is None:
        return None
    return store.one(_ACCOUNT_SQL + " WHERE a.id = ?", (account_id,))


def transaction_json(
    store: SandboxStore, row: sqlite3.Row, money_id: str | None = None
) -> dict[str, Any]:
    """One transaction, with the transfer it is made of. An exchange is ``exchange_inflow`` in
    a history of its receiver money (``money_id``), ``exchange_outflow`` everywhere else."""
    sender, receiver = (
        _account(store, row["sender_account"]),
        _account(store, row["receiver_account"]),
    )
    kind = row["type"]
    if kind == "exchange":
        inflow = money_id is not None and receiver is not None and receiver["money_id"] == money_id
        kind = "exchange_inflow" if inflow else "exchange_outflow"

    def user(account: sqlite3.Row | None) -> dict[str, Any] | None:
        return None if account is None else _user_json(account)

    def account(account: sqlite3.Row | None) -> dict[str, Any] | None:
        return (
            None
            if account is None
            else {**_account_head(account), "private_money": _money_json(account)}
        )

    def transfer_account(account: sqlite3.Row | None) -> dict[str, Any] | None:
        if account is None:
            return None
        return {
            **_account_head(account),
            "private_money_id": account["money_id"],
            "user": _user_json(account),
        }

    amounts = {
        "amount": row["money_amount"] + row["point_amount"],
        "money_amount": row["money_amount"],
        "point_amount": row["point_amount"],
    }
    transfer = {
        # one transfer per transaction here; its id is derived, so every rendering agrees
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"transfer:{row['id']}")),
        "sender_account": transfer_account(sender),
        "receiver_account": transfer_account(receiver),
        **amounts,
        "done_at": row["done_at"],
        "type": kind.replace("_", "-"),  # transfers spell exchange-inflow with a hyphen
        "description": row["description"],
        "transaction_id": row["id"],
    }
    return {
        "id": row["id"],
        "type": kind,
        "is_modified": bool(row["is_modified"]),
        "sender": user(sender),
        "sender_account": account(sender),
        "receiver": user(receiver),
        "receiver_account": account(receiver),
        **amounts,
        "raw_point_amount": row["point_amount"],
        "campaign_point_amount": 0,
        "done_at": row["done_at"],
        "description": row["description"],
        "transfers": [transfer],
    }


def _uuid(params: dict[str, Any], key: str, required: bool = True) -> str | None:
    value = params.get(key)
    if value is None and not required:
        return None
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise Refused(400, "invalid_parameters", f"{key} must be a UUID") from None


def _int(params: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = params.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Refused(400, "invalid_parameters", f"{key} must be an integer in {low}..{high}")
    return value


def _page(rows: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    page, per_page = _int(params, "page", 1, 1, 10**6), _int(params, "per_page", 30, 1, 1000)
    max_page = max(1, -(-len(rows) // per_page))
    return {
        "rows": rows[(page - 1) * per_page : page * per_page],
        "count": len(rows),
        "pagination": {
            "current": page,
            "per_page": per_page,
            "max_page": max_page,
            "has_prev": page > 1,
            "has_next": page < max_page,
        },
    }


def list_customer_accounts(store: SandboxStore, params: dict[str, Any], _: re.Match[str]) -> Any:
    money_id = _uuid(params, "private_money_id")
    sql, args = _ACCOUNT_SQL + " WHERE a.money_id = ? AND u.is_merchant = 0", [money_id]
    if params.get("external_id") is not None:
        sql, args = sql + " AND a.external_id = ?", [*args, str(params["external_id"])]
    return _page(
        [account_json(r) for r in store.query(sql + " ORDER BY a.id", tuple(args))], params
    )


def list_user_accounts(store: SandboxStore, params: dict[str, Any], match: re.Match[str]) -> Any:
    user_id = match["id"]
    if not store.one("SELECT 1 FROM users WHERE id = ?", (user_id,)):
        raise Refused(404, "notfound", "user not found")
    rows = store.query(_ACCOUNT_SQL + " WHERE a.user_id = ? ORDER BY m.bucket", (user_id,))
    return _page([account_json(r) for r in rows], params)


def create_topup(store: SandboxStore, params: dict[str, Any], _: re.Match[str]) -> Any:
    money_amount = _int(params, "money_amount", 0, 0, 10**9)
    if _int(params, "point_amount", 0, 0, 10**9):
        raise Refused(400, "invalid_parameters", "the sandbox takes point_amount 0 only")
    if money_amount == 0:
        raise Refused(400, "invalid_parameter_both_point_and_money_are_zero", "amount is zero")
    description = str(params.get("description") or "")
    if len(description) > 200:
        raise Refused(400, "invalid_parameters", "description is over 200 characters")
    metadata = params.get("metadata") or "{}"
    try:
        parsed = json.loads(metadata)
        assert isinstance(parsed, dict) and all(isinstance(v, str) for v in parsed.values())
    except (ValueError, TypeError, AssertionError):
        raise Refused(
            400, "invalid_parameters", "metadata must be a flat JSON string map"
        ) from None
    transaction_id = store.topup(
        shop_id=str(_uuid(params, "shop_id")),
        customer_id=str(_uuid(params, "customer_id")),
        money_id=str(_uuid(params, "private_money_id")),
        money_amount=money_amount,
        request_id=str(_uuid(params, "request_id")),
        description=description,
        metadata=metadata,
    )
    return _transaction(store, "id", transaction_id)


def create_move(store: SandboxStore, params: dict[str, Any], _: re.Match[str]) -> Any:
    """``POST /transactions/exchange`` (the API's name for a move)."""
    ids = [
        str(_uuid(params, key))
        for key in ("user_id", "sender_private_money_id", "receiver_private_money_id", "request_id")
    ]
    amount = params.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount > 10**9:
        raise Refused(400, "invalid_parameters", "amount must be an integer up to 10**9")
    if amount < 1:
        raise Refused(422, "transaction_invalid_amount", "amount must be at least 1")
    description = str(params.get("description") or "")
    if len(description) > 200:
        raise Refused(400, "invalid_parameters", "description is over 200 characters")
    user_id, sender_money_id, receiver_money_id, request_id = ids
    transaction_id = store.move(
        user_id=user_id,
        sender_money_id=sender_money_id,
        receiver_money_id=receiver_money_id,
        amount=amount,
        request_id=request_id,
        description=description,
        # one partner client here, issued to the co-op's shop: its moves are that shop's
        shop_id=store.get_meta("shop_id"),
    )
    return _transaction(store, "id", transaction_id)


def _transaction(store: SandboxStore, column: str, value: str) -> Any:
    row = store.one(f"SELECT * FROM transactions WHERE {column} = ?", (value,))
    if row is None:
        if column == "request_id" and store.get_meta("missing_request_status", 422) == 422:
            raise Refused(422, "transaction_not_found", "no transaction for this request_id")
        raise Refused(404, "notfound", "transaction not found")
    return transaction_json(store, row)


def get_by_request_id(store: SandboxStore, params: dict[str, Any], match: re.Match[str]) -> Any:
    return _transaction(store, "request_id", match["id"])


def get_transaction(store: SandboxStore, params: dict[str, Any], match: re.Match[str]) -> Any:
    return _transaction(store, "id", match["id"])


def list_transactions_v2(store: SandboxStore, params: dict[str, Any], _: re.Match[str]) -> Any:
    per_page = _int(params, "per_page", 50, 1, 1000)
    where: list[str] = ["1 = 1"]
    args: list[Any] = []
    customer_id = _uuid(params, "customer_id", required=False)
    money_id = _uuid(params, "private_money_id", required=False)
    if customer_id or money_id:
        accounts = "SELECT id FROM accounts WHERE 1 = 1"
        account_args = []
        if customer_id:
            accounts, account_args = accounts + " AND user_id = ?", [customer_id]
        if money_id:
            accounts, account_args = accounts + " AND money_id = ?", [*account_args, money_id]
        where.append(f"(sender_account IN ({accounts}) OR receiver_account IN ({accounts}))")
        args += account_args * 2
    shop_id = _uuid(params, "shop_id", required=False)
    if shop_id:
        where.append("shop_id = ?")
        args.append(shop_id)
    for key, op in (("from", ">="), ("to", "<")):
        if params.get(key) is not None:
            where.append(f"done_at {op} ?")
            args.append(_moment(params, key))
    types = params.get("types")
    if types:
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            raise Refused(400, "invalid_parameters", "types must be a list of strings")
        clause, type_args = _types_clause(types, money_id)
        where.append(clause)
        args += type_args
    count = len(
        store.query(f"SELECT seq FROM transactions WHERE {' AND '.join(where)}", tuple(args))
    )
    # The API's cursor rule: ``next_page_cursor_id`` is the last row of this page and the
    # next page starts after it; ``prev_page_cursor_id`` is the first row of this page and the
    # previous page ends before it. Null: no page that way. A cursor row is never repeated.
    after, before = (
        _cursor_seq(store, params, "next_page_cursor_id"),
        _cursor_seq(store, params, "prev_page_cursor_id"),
    )
    if before is not None and after is None:
        newer = store.query(
            f"SELECT * FROM transactions WHERE {' AND '.join(where)} AND seq > ?"
            " ORDER BY seq ASC LIMIT ?",
            (*args, before, per_page + 1),
        )
        rows, older, newer_left = newer[:per_page][::-1], True, len(newer) > per_page
    else:
        if after is not None:
            where, args = [*where, "seq < ?"], [*args, after]
        older_rows = store.query(
            f"SELECT * FROM transactions WHERE {' AND '.join(where)} ORDER BY seq DESC LIMIT ?",
            (*args, per_page + 1),
        )
        rows, older, newer_left = (
            older_rows[:per_page],
            len(older_rows) > per_page,
            after is not None,
        )
    return {
        "rows": [transaction_json(store, r, money_id) for r in rows],
        "count": count,
        "per_page": per_page,
        "next_page_cursor_id": rows[-1]["id"] if rows and older else None,
        "prev_page_cursor_id": rows[0]["id"] if rows and newer_left else None,
    }


def _moment(params: dict[str, Any], key: str) -> str:
    """``from``/``to`` (ISO 8601 with an offset) as the store keeps ``done_at``."""
    try:
        moment = datetime.fromisoformat(str(params[key]).replace("Z", "+00:00"))
    except ValueError:
        raise Refused(400, "invalid_parameters", f"{key} must be an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise Refused(400, "invalid_parameters", f"{key} must carry a time zone")
    return iso(moment)


def _cursor_seq(store: SandboxStore, params: dict[str, Any], key: str) -> int | None:
    """The position of the transaction a cursor names (None: no cursor)."""
    cursor = params.get(key)
    if cursor is None:
        return None
    row = store.one("SELECT seq FROM transactions WHERE id = ?", (str(cursor),))
    if row is None:
        raise Refused(400, "invalid_parameters", f"unknown {key}")
    return int(row["seq"])


def get_account(store: SandboxStore, params: dict[str, Any], match: re.Match[str]) -> Any:
    """``GET /accounts/{id}``: one account detail."""
    return account_json(_known_account(store, match["id"]))


def list_account_balances(store: SandboxStore, params: dict[str, Any], match: re.Match[str]) -> Any:
    """``GET /accounts/{id}/balances``: the balance by expiry date. Here all of a wallet's value
    expires together (``last-update``: ten years after its last transaction), so there is one
    row, or none for an empty wallet."""
    row = _known_account(store, match["id"])
    rows: list[dict[str, Any]] = []
    if row["money_balance"] or row["point_balance"]:
        last = store.one(
            "SELECT MAX(done_at) AS at FROM transactions"
            " WHERE sender_account = ? OR receiver_account = ?",
            (row["id"], row["id"]),
        )
        since = (
            datetime.fromisoformat(last["at"].replace("Z", "+00:00"))
            if last is not None and last["at"]
            else datetime.now(UTC)
        )
        expires = since + timedelta(days=round(365.25 * EXPIRY_YEARS))
        rows.append(
            {
                "expires_at": expires.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "money_amount": row["money_balance"],
                "point_amount": row["point_balance"],
            }
        )
    return _page(rows, params)


def _known_account(store: SandboxStore, account_id: str) -> sqlite3.Row:
    row = _account(store, account_id)
    if row is None:
        raise Refused(404, "notfound", "account not found")
    return row


def _types_clause(types: list[str], money_id: str | None) -> tuple[str, list[str]]:
    """SQL for the ``types`` filter, on the types as :func:`transaction_json` renders them:
    an exchange row is ``exchange_inflow`` only on its receiver money's side."""
    plain = [t for t in types if t not in ("exchange", "exchange_outflow", "exchange_inflow")]
    clauses = [f"type IN ({','.join('?' * len(plain))})"] if plain else []
    args = list(plain)
    in_money = "IN (SELECT id FROM accounts WHERE money_id = ?)"
    if "exchange_inflow" in types and money_id:
        clauses.append(f"(type = 'exchange' AND receiver_account {in_money})")
        args.append(money_id)
    if "exchange_outflow" in types:
        if money_id:
            clauses.append(f"(type = 'exchange' AND receiver_account NOT {in_money})")
            args.append(money_id)
        else:
            clauses.append("type = 'exchange'")
    return f"({' OR '.join(clauses) or '0'})", args


Handler = Callable[[SandboxStore, dict[str, Any], re.Match[str]], Any]
_ID = r"(?P<id>[0-9a-fA-F-]{36})"
ROUTES: list[tuple[str, re.Pattern[str], Handler]] = [
    ("GET", re.compile(r"/accounts/customers"), list_customer_accounts),
    ("GET", re.compile(rf"/accounts/{_ID}"), get_account),
    ("GET", re.compile(rf"/accounts/{_ID}/balances"), list_account_balances),
    ("GET", re.compile(rf"/users/{_ID}/accounts"), list_user_accounts),
    ("POST", re.compile(r"/transactions/topup"), create_topup),
    ("POST", re.compile(r"/transactions/exchange"), create_move),
    ("GET", re.compile(rf"/transactions/requests/{_ID}"), get_by_request_id),
    ("GET", re.compile(r"/transactions-v2"), list_transactions_v2),
    ("GET", re.compile(rf"/transactions/{_ID}"), get_transaction),
]


def dispatch(store: SandboxStore, method: str, path: str, params: dict[str, Any]) -> Any:
    for route_method, pattern, handler in ROUTES:
        match = pattern.fullmatch(path)
        if match and route_method == method:
            return handler(store, params, match)
    raise Refused(404, "notfound", f"no such endpoint: {method} {path}")
