"""The sandbox server's side of the contract, spoken to directly (as another partner SDK would)."""

from __future__ import annotations

import ssl
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from kiosk.wallet.client import tls_context
from kiosk.wallet.envelope import key_from_secret, open_sealed, seal
from tests.support.wallet import ROOT, Sandbox, with_client


def _envelope(sandbox: Sandbox, params: dict[str, Any], **extra: Any) -> dict[str, Any]:
    key = key_from_secret(sandbox.info["client_secret"])
    plain = {
        "request_data": params,
        "timestamp": datetime.now(UTC).isoformat(),
        "partner_call_id": str(uuid.uuid4()),
    }
    return {"partner_client_id": sandbox.info["client_id"], "data": seal(key, plain), **extra}


def _raw(sandbox: Sandbox) -> httpx.Client:
    return httpx.Client(base_url=sandbox.info["base_url"], verify=tls_context(sandbox.settings()))


def test_post_with_request_method_override_is_a_get(wallet: Sandbox) -> None:
    params = {
        "private_money_id": wallet.moneys["base"],
        "external_id": wallet.info["members"][0]["card_idm"],
    }
    with _raw(wallet) as http:
        response = http.post(
            "/accounts/customers", json=_envelope(wallet, params, request_method="GET")
        )
    assert response.status_code == 200
    result = open_sealed(
        key_from_secret(wallet.info["client_secret"]), response.json()["response_data"]
    )
    assert [row["user"]["name"] for row in result["rows"]] == ["生協 太郎"]


def test_parameters_in_the_query_string_are_not_read(wallet: Sandbox) -> None:
    with _raw(wallet) as http:
        response = http.request(
            "GET",
            f"/accounts/customers?private_money_id={wallet.moneys['base']}",
            json=_envelope(wallet, {}),
        )
    assert response.status_code == 400  # private_money_id must be inside the envelope


def test_tampered_ciphertext_gets_a_plain_decryption_error(wallet: Sandbox) -> None:
    body = _envelope(wallet, {"private_money_id": wallet.moneys["base"]})
    data = body["data"]
    body["data"] = data[:20] + ("A" if data[20] != "A" else "B") + data[21:-2] + "zz"
    with _raw(wallet) as http:
        response = http.request("GET", "/accounts/customers", json=body)
    assert response.status_code == 400
    assert response.json()["type"] == "partner_decryption_failed"  # plain JSON, not sealed


def test_mutual_tls_is_required(wallet: Sandbox) -> None:
    server_only = ssl.create_default_context(cafile=wallet.info["ca_file"])  # no client cert
    with (
        httpx.Client(base_url=wallet.info["base_url"], verify=server_only) as http,
        pytest.raises(httpx.TransportError),
    ):
        http.get("/ping")
    untrusting = ssl.create_default_context()  # the sandbox CA is not trusted
    untrusting.load_cert_chain(wallet.info["client_cert"], wallet.info["client_key"])
    with (
        httpx.Client(base_url=wallet.info["base_url"], verify=untrusting) as http,
        pytest.raises(httpx.ConnectError),
    ):
        http.get("/ping")


def test_ping_is_plain(wallet: Sandbox) -> None:
    with _raw(wallet) as http:
        assert http.get("/ping").json() == {"pong": "ok"}


# ---- the wire as Pokepay's SDKs speak it ------------------------------------------------
# How the envelope travels: a JSON body (the Node SDK, the kiosk) or an HTML form body (the
# Ruby SDK), each with the real method or as a POST naming it in ``request_method`` (the
# Python SDK: a form body, always POST).
ENCODINGS = ["json", "form", "json+override", "form+override"]


class Wire:
    """Calls to the sandbox in one body encoding, the envelope sealed and the answer opened."""

    def __init__(self, wallet: Sandbox, encoding: str) -> None:
        self.wallet, self.encoding = wallet, encoding
        self.key = key_from_secret(wallet.info["client_secret"])

    def send(self, method: str, path: str, params: dict[str, Any]) -> httpx.Response:
        override = self.encoding.endswith("+override")
        fields = _envelope(self.wallet, params, **({"request_method": method} if override else {}))
        body: dict[str, Any] = (
            {"data": fields} if self.encoding.startswith("form") else {"json": fields}
        )
        with _raw(self.wallet) as http:
            return http.request("POST" if override else method, path, **body)

    def call(self, method: str, path: str, params: dict[str, Any] | None = None) -> Any:
        """The opened result of a call that must succeed."""
        response = self.send(method, path, params or {})
        result = open_sealed(self.key, response.json()["response_data"])
        assert response.status_code == 200, result
        return result

    def refused(self, method: str, path: str, params: dict[str, Any]) -> tuple[int, str]:
        response = self.send(method, path, params)
        return response.status_code, open_sealed(self.key, response.json()["response_data"])["type"]


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_every_endpoint_answers_each_body_encoding(wallet: Sandbox, encoding: str) -> None:
    wire, moneys, shop = Wire(wallet, encoding), wallet.moneys, wallet.info["shop_id"]
    user = wallet.member({"base": 5_000, "cafeteria": 0, "textbook": 0})
    card = wallet.card_of(user)
    assert wire.call("GET", "/ping") == {"pong": "ok"}  # sealed, as the envelope came

    found = wire.call(
        "GET", "/accounts/customers", {"private_money_id": moneys["base"], "external_id": card}
    )
    assert [(row["user"]["id"], row["external_id"]) for row in found["rows"]] == [(user, card)]
    wallets = wire.call("GET", f"/users/{user}/accounts", {"page": 1, "per_page": 10})
    base_account = next(
        a["id"] for a in wallets["rows"] if a["private_money"]["id"] == moneys["base"]
    )
    assert wallets["count"] == 3

    request_id = str(uuid.uuid4())
    topup = {
        "shop_id": shop,
        "customer_id": user,
        "private_money_id": moneys["base"],
        "money_amount": 2_000,
        "point_amount": 0,
        "description": "Pay Spot",
        "metadata": "{}",
        "request_id": request_id,
    }
    credited = wire.call("POST", "/transactions/topup", topup)
    assert wire.call("POST", "/transactions/topup", topup)["id"] == credited["id"]  # once
    assert wallet.balance(user, "base") == 7_000
    moved = wire.call(
        "POST",
        "/transactions/exchange",
        {
            "user_id": user,
            "sender_private_money_id": moneys["base"],
            "receiver_private_money_id": moneys["cafeteria"],
            "amount": 1_500,
            "request_id": str(uuid.uuid4()),
        },
    )
    assert (wallet.balance(user, "base"), wallet.balance(user, "cafeteria")) == (5_500, 1_500)

    assert wire.call("GET", f"/transactions/requests/{request_id}")["id"] == credited["id"]
    assert wire.call("GET", f"/transactions/{moved['id']}")["money_amount"] == 1_500
    history = wire.call(
        "GET", "/transactions-v2", {"customer_id": user, "private_money_id": moneys["base"]}
    )
    assert [row["id"] for row in history["rows"]] == [moved["id"], credited["id"]]
    account = wire.call("GET", f"/accounts/{base_account}")
    assert (account["id"], account["money_balance"], account["user"]["id"]) == (
        base_account,
        5_500,
        user,
    )
    balances = wire.call("GET", f"/accounts/{base_account}/balances")
    assert [(b["money_amount"], b["point_amount"]) for b in balances["rows"]] == [(5_500, 0)]

    # refusals travel sealed the same way, whatever the encoding
    assert wire.refused("GET", f"/accounts/{uuid.uuid4()}", {}) == (404, "notfound")
    over_limit = {**topup, "money_amount": 45_000, "request_id": str(uuid.uuid4())}
    assert wire.refused("POST", "/transactions/topup", over_limit) == (
        422,
        "account_money_topup_transfer_limit_exceeded",
    )


def test_ping_is_sealed_only_for_a_valid_envelope(wallet: Sandbox) -> None:
    key = key_from_secret(wallet.info["client_secret"])
    as_python_sdk = _envelope(wallet, {}, request_method="GET")
    with _raw(wallet) as http:
        sealed = http.post("/ping", data=as_python_sdk).json()
        stranger = http.post(
            "/ping", data={**as_python_sdk, "partner_client_id": str(uuid.uuid4())}
        )
        garbled = http.post("/ping", data={**as_python_sdk, "data": "AAAA"})
    assert open_sealed(key, sealed["response_data"]) == {"pong": "ok"}
    assert sealed["partner_call_id"] == open_sealed(key, as_python_sdk["data"])["partner_call_id"]
    assert stranger.json() == garbled.json() == {"pong": "ok"}


def test_a_body_that_is_neither_json_nor_a_form_is_refused(wallet: Sandbox) -> None:
    with _raw(wallet) as http:
        as_text = http.post(
            "/accounts/customers",
            content=b"partner_client_id",
            headers={"Content-Type": "text/plain"},
        )
        broken_form = http.post(
            "/accounts/customers",
            content=b"partner_client_id=%zz&&=",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert as_text.status_code == broken_form.status_code == 400
    assert as_text.json()["type"] == broken_form.json()["type"] == "invalid_parameters"


def test_request_method_overrides_only_a_post(wallet: Sandbox) -> None:
    """A GET that names POST stays a GET: it cannot create a transaction."""
    user = wallet.member()
    topup = {
        "shop_id": wallet.info["shop_id"],
        "customer_id": user,
        "private_money_id": wallet.moneys["base"],
        "money_amount": 1_000,
        "request_id": str(uuid.uuid4()),
    }
    with _raw(wallet) as http:
        response = http.request(
            "GET", "/transactions/topup", data=_envelope(wallet, topup, request_method="POST")
        )
    assert response.status_code == 404 and wallet.balance(user, "base") == 0


def test_history_cursor_is_the_last_row_and_the_next_page_starts_after_it(
    wallet: Sandbox,
) -> None:
    user = wallet.member({"base": 0})
    wire = Wire(wallet, "form+override")
    made = [
        wire.call(
            "POST",
            "/transactions/topup",
            {
                "shop_id": wallet.info["shop_id"],
                "customer_id": user,
                "private_money_id": wallet.moneys["base"],
                "money_amount": 100 * (n + 1),
                "request_id": str(uuid.uuid4()),
            },
        )["id"]
        for n in range(5)
    ]
    newest_first = made[::-1]
    query = {"customer_id": user, "private_money_id": wallet.moneys["base"], "per_page": 2}
    pages = [wire.call("GET", "/transactions-v2", query)]
    while cursor := pages[-1]["next_page_cursor_id"]:
        assert cursor == pages[-1]["rows"][-1]["id"]  # the last row of this page
        pages.append(wire.call("GET", "/transactions-v2", {**query, "next_page_cursor_id": cursor}))
    assert [[row["id"] for row in page["rows"]] for page in pages] == [
        newest_first[0:2],
        newest_first[2:4],
        newest_first[4:5],
    ]  # no row twice
    assert [page["prev_page_cursor_id"] for page in pages] == [
        None,
        newest_first[2],
        newest_first[4],
    ]  # the first row of each page but the first
    back = wire.call(
        "GET", "/transactions-v2", {**query, "prev_page_cursor_id": pages[2]["prev_page_cursor_id"]}
    )
    assert [row["id"] for row in back["rows"]] == newest_first[2:4]
    assert back["next_page_cursor_id"] == newest_first[3]
    assert {page["count"] for page in pages} == {5}


# Every field of each object, as the Partner API's description of it lists them
# (``partner.yaml`` and the SDKs' response docs).
MONEY_FIELDS = {
    "id",
    "name",
    "unit",
    "currency",
    "type",
    "is_exclusive",
    "description",
    "oneline_message",
    "organization",
    "max_balance",
    "transfer_limit",
    "money_topup_transfer_limit",
    "expiration_type",
    "enable_topup_by_member",
    "display_money_and_point",
}
ORGANIZATION_FIELDS = {"code", "name"}
USER_FIELDS = {"id", "name", "is_merchant"}
ACCOUNT_DETAIL_FIELDS = {
    "id",
    "name",
    "status",
    "is_suspended",
    "balance",
    "money_balance",
    "point_balance",
    "point_debt",
    "external_id",
    "user",
    "private_money",
}
ACCOUNT_FIELDS = {"id", "name", "status", "is_suspended", "private_money"}  # in a transaction
TRANSACTION_FIELDS = {
    "id",
    "type",
    "is_modified",
    "sender",
    "sender_account",
    "receiver",
    "receiver_account",
    "amount",
    "money_amount",
    "point_amount",
    "raw_point_amount",
    "campaign_point_amount",
    "done_at",
    "description",
    "transfers",
}
TRANSFER_FIELDS = {
    "id",
    "sender_account",
    "receiver_account",
    "amount",
    "money_amount",
    "point_amount",
    "done_at",
    "type",
    "description",
    "transaction_id",
}
TRANSFER_ACCOUNT_FIELDS = {"id", "name", "status", "is_suspended", "private_money_id", "user"}
PAGE_FIELDS = {"rows", "count", "pagination"}
PAGINATION_FIELDS = {"current", "per_page", "max_page", "has_prev", "has_next"}
HISTORY_FIELDS = {"rows", "count", "per_page", "next_page_cursor_id", "prev_page_cursor_id"}
BALANCE_FIELDS = {"expires_at", "money_amount", "point_amount"}


def _money_is_complete(money: dict[str, Any]) -> None:
    assert set(money) == MONEY_FIELDS
    assert set(money["organization"]) == ORGANIZATION_FIELDS


def _account_detail_is_complete(account: dict[str, Any]) -> None:
    assert set(account) == ACCOUNT_DETAIL_FIELDS
    assert set(account["user"]) == USER_FIELDS
    _money_is_complete(account["private_money"])


def _transaction_is_complete(transaction: dict[str, Any]) -> None:
    assert set(transaction) == TRANSACTION_FIELDS
    for side in ("sender", "receiver"):
        assert set(transaction[side]) == USER_FIELDS
        assert set(transaction[f"{side}_account"]) == ACCOUNT_FIELDS
        _money_is_complete(transaction[f"{side}_account"]["private_money"])
    assert transaction["transfers"], "a transaction is made of at least one transfer"
    for transfer in transaction["transfers"]:
        assert set(transfer) == TRANSFER_FIELDS
        assert transfer["transaction_id"] == transaction["id"]
        for side in ("sender_account", "receiver_account"):
            assert set(transfer[side]) == TRANSFER_ACCOUNT_FIELDS
            assert set(transfer[side]["user"]) == USER_FIELDS


def _page_is_complete(page: dict[str, Any]) -> None:
    assert set(page) == PAGE_FIELDS and set(page["pagination"]) == PAGINATION_FIELDS


def test_objects_carry_every_field_of_the_api(wallet: Sandbox) -> None:
    wire, moneys = Wire(wallet, "json"), wallet.moneys
    user = wallet.member({"base": 3_000, "cafeteria": 0})
    found = wire.call(
        "GET",
        "/accounts/customers",
        {"private_money_id": moneys["base"], "external_id": wallet.card_of(user)},
    )
    wallets = wire.call("GET", f"/users/{user}/accounts")
    for page in (found, wallets):
        _page_is_complete(page)
        for account in page["rows"]:
            _account_detail_is_complete(account)
    base = found["rows"][0]
    _account_detail_is_complete(wire.call("GET", f"/accounts/{base['id']}"))
    balances = wire.call("GET", f"/accounts/{base['id']}/balances")
    _page_is_complete(balances)
    assert [set(row) for row in balances["rows"]] == [BALANCE_FIELDS]

    topup = wire.call(
        "POST",
        "/transactions/topup",
        {
            "shop_id": wallet.info["shop_id"],
            "customer_id": user,
            "private_money_id": moneys["base"],
            "money_amount": 1_000,
            "request_id": (request_id := str(uuid.uuid4())),
        },
    )
    move = wire.call(
        "POST",
        "/transactions/exchange",
        {
            "user_id": user,
            "sender_private_money_id": moneys["base"],
            "receiver_private_money_id": moneys["cafeteria"],
            "amount": 500,
            "request_id": str(uuid.uuid4()),
        },
    )
    history = wire.call("GET", "/transactions-v2", {"customer_id": user})
    assert set(history) == HISTORY_FIELDS
    for transaction in (
        topup,
        move,
        wire.call("GET", f"/transactions/requests/{request_id}"),
        wire.call("GET", f"/transactions/{topup['id']}"),
        *history["rows"],
    ):
        _transaction_is_complete(transaction)
    money = base["private_money"]
    assert (money["type"], money["unit"], money["display_money_and_point"]) == (
        "own",
        "円",
        "money-only",
    )  # the co-op issues its own moneys, paid value only
    assert money["organization"] == wallets["rows"][1]["private_money"]["organization"]


def _admin(wallet: Sandbox, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "kiosk", "sandbox-admin", "--data-dir", str(wallet.data_dir), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_admin_commands_add_suspend_resume_and_show(wallet: Sandbox) -> None:
    card = uuid.uuid4().hex[:16].upper()
    _admin(wallet, "add-member", "管理 追加", card, "--base", "1200")
    lookup = lambda c: c.find_account_by_card(wallet.moneys["base"], card)  # noqa: E731
    account = with_client(wallet.settings(), lookup)
    assert account is not None and account.active and account.money_balance == 1200
    assert any(m["card_idm"] == card for m in wallet.info["members"])
    _admin(wallet, "suspend", card)
    assert with_client(wallet.settings(), lookup).status == "suspended"
    _admin(wallet, "resume", card.lower())
    assert with_client(wallet.settings(), lookup).active
    table = _admin(wallet, "members")
    assert "管理 追加" in table and card in table and "1,200" in table
    assert '"next_503": 2' in _admin(wallet, "faults", "--next-503", "2")
    assert '"next_503": 0' in _admin(wallet, "faults", "--clear")
