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
