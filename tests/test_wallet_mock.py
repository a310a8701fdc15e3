"""The wallet client on ``httpx.MockTransport``: retries, error mapping and reconciliation.

No TLS and no sandbox process: a fake wallet behind the transport opens every request's real
AES envelope with :mod:`kiosk.wallet.envelope` and seals its answers the same way, so these
tests go through the client's real request encoding and response decoding.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
import pytest

from kiosk.wallet import errors
from kiosk.wallet.client import WalletClient
from kiosk.wallet.envelope import b64url_encode, key_from_secret, open_sealed, seal
from kiosk.wallet.models import Transaction
from kiosk.wallet.settings import RetryPolicy
from tests.support.wallet import MOCK_SECRET, MOCK_SETTINGS, with_client

T = TypeVar("T")
KEY = key_from_secret(MOCK_SECRET)
QUICK = RetryPolicy(attempts=3, initial_wait_s=0.001, max_wait_s=0.005, jitter_s=0.001)
MONEY = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
USER = "1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b"
ACCOUNT = "2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d"
CARD = "0123456789ABCDEF"


@dataclass(frozen=True)
class Call:
    """One attempt as the fake wallet received it, envelope opened."""

    method: str
    path: str
    params: dict[str, Any]
    call_id: str
    timestamp: datetime


@dataclass(frozen=True)
class Answer:
    """A scripted answer: ``document`` is sealed into ``response_data`` unless ``plain``."""

    status: int
    document: Any
    plain: bool = False


DROP_AFTER_COMMIT = "drop after commit"  # handle the call, then hang up before answering
CORRUPT_AFTER_COMMIT = "corrupt after commit"  # handle the call, then garble the answer
Fault = Answer | type[httpx.TransportError] | httpx.Response | str


def refusal(status: int, kind: str, message: str = "refused") -> Answer:
    return Answer(status, {"type": kind, "message": message})


def account_json(page: int = 1) -> dict[str, Any]:
    return {
        "id": ACCOUNT if page == 1 else str(uuid.UUID(int=page)),
        "status": "active",
        "is_suspended": False,
        "money_balance": 1200,
        "point_balance": 0,
        "external_id": CARD,
        "user": {"id": USER, "name": "生協 太郎"},
        "private_money": {
            "id": MONEY,
            "name": "base",
            "max_balance": 50_000,
            "transfer_limit": None,
            "money_topup_transfer_limit": 30_000,
        },
    }


@dataclass
class FakeWallet:
    """The Partner API subset the client uses, behind ``httpx.MockTransport``.

    ``faults`` are taken one per request, before the normal handling; ``not_found_style`` is
    how an unknown ``request_id`` is answered (404 ``notfound`` or 422
    ``transaction_not_found``)."""

    faults: list[Fault] = field(default_factory=list)
    not_found_style: int = 422
    calls: list[Call] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)
    by_request_id: dict[str, dict[str, Any]] = field(default_factory=dict)
    decorate: Callable[[Any], Any] | None = None  # changes every answer on its way out

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/ping":
            return httpx.Response(200, json=self._out({"pong": "ok"}))
        envelope = json.loads(request.content)
        assert set(envelope) == {"partner_client_id", "data"}  # parameters only inside
        assert envelope["partner_client_id"] == MOCK_SETTINGS.client_id
        plain = open_sealed(KEY, envelope["data"])
        assert set(plain) == {"request_data", "timestamp", "partner_call_id"}
        assert plain["timestamp"].endswith("Z")
        call = Call(
            request.method,
            request.url.path,
            plain["request_data"],
            plain["partner_call_id"],
            datetime.fromisoformat(plain["timestamp"].replace("Z", "+00:00")),
        )
        self.calls.append(call)
        fault = self.faults.pop(0) if self.faults else None
        if isinstance(fault, httpx.Response):
            return fault
        if isinstance(fault, Answer):
            return self._reply(fault)
        if isinstance(fault, type):
            raise fault("injected", request=request)
        answer = self._handle(call)
        if fault == DROP_AFTER_COMMIT:
            raise httpx.RemoteProtocolError("server disconnected", request=request)
        response = self._reply(answer)
        if fault == CORRUPT_AFTER_COMMIT:
            sealed = json.loads(response.content)["response_data"]
            return httpx.Response(200, json={"response_data": sealed[:-8] + "AAAAAAAA"})
        return response

    def _reply(self, answer: Answer) -> httpx.Response:
        if answer.plain:
            return httpx.Response(answer.status, json=answer.document)
        sealed = seal(KEY, self._out(answer.document))
        return httpx.Response(answer.status, json=self._out({"response_data": sealed}))

    def _out(self, document: Any) -> Any:
        return document if self.decorate is None else self.decorate(document)

    def _handle(self, call: Call) -> Answer:
        parts = call.path.strip("/").split("/")
        match call.method, parts:
            case "GET", ["accounts", "customers"]:
                found = call.params.get("external_id") == CARD
                return Answer(200, {"rows": [account_json()] if found else []})
            case "GET", ["users", user, "accounts"]:
                page = int(call.params["page"])
                rows = [account_json(page)] if user == USER else []
                return Answer(200, {"rows": rows, "pagination": {"has_next": page < 2}})
            case "POST", ["transactions", "topup"]:
                request_id = str(call.params["request_id"])
                if request_id not in self.by_request_id:
                    self.by_request_id[request_id] = topup_json(call.params)
                return Answer(200, self.by_request_id[request_id])
            case "GET", ["transactions-v2"]:
                rows = list(self.by_request_id.values())[::-1]
                return Answer(200, {"rows": rows, "count": len(rows), "per_page": 20})
            case "GET", ["transactions", "requests", request_id]:
                if request_id in self.by_request_id:
                    return Answer(200, self.by_request_id[request_id])
                if self.not_found_style == 404:
                    return refusal(404, "notfound", "not found")
                return refusal(422, "transaction_not_found", "no transaction")
            case "GET", ["transactions", transaction_id]:
                for transaction in self.by_request_id.values():
                    if transaction["id"] == transaction_id:
                        return Answer(200, transaction)
                return refusal(404, "notfound", "transaction not found")
        return refusal(404, "notfound", f"no route {call.method} {call.path}")


def topup_json(params: dict[str, Any]) -> dict[str, Any]:
    money = {"id": params["private_money_id"], "name": "base"}
    return {
        "id": str(uuid.uuid4()),
        "type": "topup",
        "is_modified": False,
        "sender": {"id": params["shop_id"], "name": "Pay Spot"},
        "receiver": {"id": params["customer_id"], "name": "生協 太郎"},
        "receiver_account": {"id": ACCOUNT, "private_money": money},
        "amount": params["money_amount"] + params["point_amount"],
        "money_amount": params["money_amount"],
        "point_amount": params["point_amount"],
        "done_at": "2026-04-01T10:00:00.000Z",
        "description": params["description"],
    }


def run(
    wallet: FakeWallet,
    action: Callable[[WalletClient], Awaitable[T]],
    retry: RetryPolicy = QUICK,
    **options: Any,
) -> T:
    return with_client(
        MOCK_SETTINGS, action, retry, transport=httpx.MockTransport(wallet), **options
    )


def topup(amount: int = 1000, request_id: str = "") -> Callable[[WalletClient], Awaitable[Any]]:
    async def go(client: WalletClient) -> Transaction:
        return await client.topup(
            request_id=request_id or str(uuid.uuid4()),
            customer_id=USER,
            private_money_id=MONEY,
            money_amount=amount,
            description="Pay Spot K01",
            metadata={"kiosk": "K01"},
        )

    return go


def lookup(client: WalletClient) -> Awaitable[Any]:
    return client.find_account_by_card(MONEY, CARD)


def distinct_call_ids(wallet: FakeWallet) -> bool:
    ids = [c.call_id for c in wallet.calls]
    return len(set(ids)) == len(ids) and all(uuid.UUID(i) for i in ids)


# ---- the happy path through the real envelope ------------------------------------------
def test_requests_travel_in_the_envelope_without_the_tls_files() -> None:
    wallet = FakeWallet()
    request_id = str(uuid.uuid4())
    transaction = run(wallet, topup(3000, request_id))
    assert (transaction.type, transaction.money_amount, transaction.receiver_id) == (
        "topup",
        3000,
        USER,
    )
    (call,) = wallet.calls
    assert (call.method, call.path) == ("POST", "/transactions/topup")
    assert call.params == {
        "shop_id": MOCK_SETTINGS.shop_id,
        "customer_id": USER,
        "private_money_id": MONEY,
        "money_amount": 3000,
        "point_amount": 0,
        "description": "Pay Spot K01",
        "metadata": '{"kiosk": "K01"}',
        "request_id": request_id,
    }
    assert abs((datetime.now(UTC) - call.timestamp).total_seconds()) < 60
    assert wallet.requests[0].headers["Accept-Language"] == "en"
    assert wallet.requests[0].url.host == "wallet.invalid"


def test_without_a_transport_the_tls_files_are_needed() -> None:
    with pytest.raises(OSError):
        WalletClient(MOCK_SETTINGS)


def test_lookups_pages_and_ping() -> None:
    wallet = FakeWallet()

    async def go(client: WalletClient) -> tuple[Any, ...]:
        return (
            await client.ping(),
            await client.find_account_by_card(MONEY, CARD),
            await client.find_account_by_card(MONEY, "FFFFFFFFFFFFFFFF"),
            await client.user_accounts(USER),
        )

    pong, account, nobody, accounts = run(wallet, go)
    assert pong is True and nobody is None
    assert account is not None and account.user.id == USER and account.headroom == 30_000
    assert [a.id for a in accounts] == [ACCOUNT, str(uuid.UUID(int=2))]
    assert [c.params.get("page") for c in wallet.calls[2:]] == [1, 2]


def with_unknown_fields(document: Any) -> Any:
    """``document`` with a field no client knows in every object, at every depth."""
    if isinstance(document, list):
        return [with_unknown_fields(item) for item in document]
    if isinstance(document, dict):
        return {
            **{key: with_unknown_fields(value) for key, value in document.items()},
            "added_by_a_later_api": {"rows": [None], "id": 7},
        }
    return document


def test_the_client_sends_json_and_ignores_fields_it_does_not_use() -> None:
    """The API may add fields (the sandbox sends the whole objects, transfers and all): every
    call still works, and reads the same values."""
    plain, decorated = FakeWallet(), FakeWallet(decorate=with_unknown_fields)

    async def go(client: WalletClient) -> tuple[Any, ...]:
        credited = await topup(3000, "6c0a3f52-9d1e-4b7a-8f2c-5e4d3c2b1a09")(client)
        return (
            await client.ping(),
            await client.find_account_by_card(MONEY, CARD),
            await client.user_accounts(USER),
            credited,
            await client.transaction(credited.id),
            await client.transaction_by_request_id("6c0a3f52-9d1e-4b7a-8f2c-5e4d3c2b1a09"),
            await client.history(USER, MONEY),
        )

    seen_plain, seen_decorated = run(plain, go), run(decorated, go)
    assert seen_decorated[1] == seen_plain[1] and seen_decorated[2] == seen_plain[2]
    assert seen_decorated[0] is True and seen_decorated[3].money_amount == 3000
    assert seen_decorated[6].rows == [seen_decorated[4]] == [seen_decorated[5]]
    assert {r.headers["Content-Type"] for r in decorated.requests if r.content} == {
        "application/json"
    }


# ---- retries ---------------------------------------------------------------------------
def test_503_is_retried_with_fresh_call_ids_then_succeeds() -> None:
    unavailable = refusal(503, "temporarily_unavailable", "try again later")
    wallet = FakeWallet(faults=[unavailable, unavailable])
    request_id = str(uuid.uuid4())
    transaction = run(wallet, topup(2000, request_id))
    assert transaction.money_amount == 2000
    assert len(wallet.calls) == 3 and distinct_call_ids(wallet)
    assert {c.params["request_id"] for c in wallet.calls} == {request_id}
    assert len(wallet.by_request_id) == 1


def test_503_every_time_gives_up_after_the_policy_attempts() -> None:
    wallet = FakeWallet(faults=[refusal(503, "temporarily_unavailable")] * 5)
    with pytest.raises(errors.TemporarilyUnavailable) as caught:
        run(wallet, topup())
    assert len(wallet.calls) == QUICK.attempts and distinct_call_ids(wallet)
    assert (caught.value.method, caught.value.path) == ("POST", "/transactions/topup")


def test_plain_503_without_a_body_is_retried_too() -> None:
    wallet = FakeWallet(faults=[httpx.Response(503, text="Service Unavailable")])
    assert run(wallet, lookup) is not None
    assert len(wallet.calls) == 2 and distinct_call_ids(wallet)


@pytest.mark.parametrize(
    "failure", [httpx.ReadTimeout, httpx.ConnectTimeout, httpx.ConnectError, httpx.ReadError]
)
@pytest.mark.parametrize("operation", ["lookup", "topup"])
def test_time_outs_and_connection_errors_are_retried(
    failure: type[httpx.TransportError], operation: str
) -> None:
    wallet = FakeWallet(faults=[failure, failure])
    action = lookup if operation == "lookup" else topup()
    assert run(wallet, action) is not None
    assert len(wallet.calls) == 3 and distinct_call_ids(wallet)
    assert {c.method for c in wallet.calls} == {"GET" if operation == "lookup" else "POST"}


@pytest.mark.parametrize(
    ("failure", "words"), [(httpx.ReadTimeout, "timed out"), (httpx.ConnectError, "ConnectError")]
)
def test_a_wallet_that_never_answers_is_unreachable(
    failure: type[httpx.TransportError], words: str
) -> None:
    wallet = FakeWallet(faults=[failure] * 5)
    with pytest.raises(errors.WalletUnreachable, match=words) as caught:
        run(wallet, lambda c: c.user_accounts(USER))
    assert len(wallet.calls) == QUICK.attempts
    assert (caught.value.method, caught.value.path) == ("GET", "/users/…/accounts")
    assert caught.value.status == 0


# ---- refusals: typed, never retried ----------------------------------------------------
@pytest.mark.parametrize(
    ("status", "kind", "cls"),
    [
        (422, "account_suspended", errors.AccountSuspended),
        (422, "account_closed", errors.AccountClosed),
        (422, "account_balance_exceeded", errors.BalanceExceeded),
        (422, "account_transfer_limit_exceeded", errors.TransferLimitExceeded),
        (422, "account_money_topup_transfer_limit_exceeded", errors.TopupLimitExceeded),
        (422, "account_total_topup_limit_range", errors.PeriodTopupLimitExceeded),
        (422, "customer_account_not_found", errors.CustomerNotFound),
        (422, "private_money_closed", errors.MoneyUnavailable),
        (422, "request_id_conflict", errors.RequestIdConflict),
    ],
)
def test_422_refusals_are_typed_and_not_retried(
    status: int, kind: str, cls: type[errors.RefusedForGood]
) -> None:
    wallet = FakeWallet(faults=[refusal(status, kind, "お断り")])
    with pytest.raises(cls) as caught:
        run(wallet, topup())
    error = caught.value
    assert isinstance(error, errors.RefusedForGood) and type(error) is cls
    assert (error.type, error.status, error.message) == (kind, status, "お断り")
    assert (error.method, error.path) == ("POST", "/transactions/topup")
    assert len(wallet.calls) == 1
    assert not wallet.by_request_id


@pytest.mark.parametrize(
    ("answer", "cls"),
    [
        (refusal(400, "invalid_parameters"), errors.InvalidRequest),
        (refusal(403, "unpermitted_admin_user"), errors.InvalidRequest),
        (refusal(400, "partner_request_expired"), errors.RequestExpired),
        (refusal(400, "partner_request_already_done"), errors.EnvelopeRejected),
        (Answer(400, {"type": "partner_decryption_failed"}, plain=True), errors.EnvelopeRejected),
        (refusal(500, "internal_server_error"), errors.WalletError),
    ],
)
def test_other_errors_are_typed_and_not_retried(
    answer: Answer, cls: type[errors.WalletError]
) -> None:
    wallet = FakeWallet(faults=[answer])
    with pytest.raises(cls) as caught:
        run(wallet, lookup)
    assert type(caught.value) is cls and caught.value.status == answer.status
    assert len(wallet.calls) == 1


# ---- answers that cannot be read -------------------------------------------------------
def _tampered(document: Any) -> str:
    sealed = seal(KEY, document)
    return sealed[:-8] + "AAAAAAAA"


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, json={"response_data": _tampered({"rows": []})}),
        httpx.Response(200, json={"response_data": seal(bytes(32), {"rows": []})}),
        httpx.Response(200, json={"response_data": "not base64!"}),
        httpx.Response(200, json={"response_data": b64url_encode(b"short")}),
        httpx.Response(200, text="<html>proxy error</html>"),
        httpx.Response(200, json={"response_data": seal(KEY, ["not", "an", "object"])}),
        httpx.Response(200, json={"response_data": seal(KEY, {"rows": "none"})}),
        httpx.Response(200, json={"response_data": seal(KEY, {"rows": [{"id": ACCOUNT}]})}),
    ],
    ids=[
        "tampered",
        "other-key",
        "not-base64",
        "short",
        "not-json",
        "not-object",
        "no-rows",
        "bad-row",
    ],
)
def test_unreadable_answers_are_bad_responses_and_not_retried(answer: httpx.Response) -> None:
    wallet = FakeWallet(faults=[answer])
    with pytest.raises(errors.BadResponse) as caught:
        run(wallet, lookup)
    assert (caught.value.method, caught.value.path) == ("GET", "/accounts/customers")
    assert len(wallet.calls) == 1


def test_unreadable_topup_answer_is_not_retried_and_is_resolved_by_request_id() -> None:
    wallet = FakeWallet(faults=[CORRUPT_AFTER_COMMIT])
    request_id = str(uuid.uuid4())
    with pytest.raises(errors.BadResponse, match="undecryptable") as caught:
        run(wallet, topup(1000, request_id))
    assert (caught.value.method, caught.value.path) == ("POST", "/transactions/topup")
    assert len(wallet.calls) == 1  # outcome unknown: no blind retry
    found = run(wallet, lambda c: c.transaction_by_request_id(request_id))
    assert found is not None and found.id == wallet.by_request_id[request_id]["id"]


# ---- reconciliation by request_id ------------------------------------------------------
@pytest.mark.parametrize("style", [404, 422])
def test_unknown_request_id_means_not_created_in_both_styles(style: int) -> None:
    wallet = FakeWallet(not_found_style=style)
    missing = str(uuid.uuid4())
    assert run(wallet, lambda c: c.transaction_by_request_id(missing)) is None
    (call,) = wallet.calls  # a definite answer: not retried
    assert call.path == f"/transactions/requests/{missing}"
    with pytest.raises(errors.NotFound):
        run(wallet, lambda c: c.transaction(missing))


def test_answer_lost_after_commit_is_found_by_request_id() -> None:
    wallet = FakeWallet(faults=[DROP_AFTER_COMMIT])
    request_id = str(uuid.uuid4())
    with pytest.raises(errors.WalletUnreachable, match="RemoteProtocolError"):
        run(wallet, topup(5000, request_id), retry=RetryPolicy(attempts=1))
    found = run(wallet, lambda c: c.transaction_by_request_id(request_id))
    assert found is not None and found.money_amount == 5000
    assert run(wallet, lambda c: c.transaction(found.id)) == found


def test_answer_lost_after_commit_is_retried_and_credited_once() -> None:
    wallet = FakeWallet(faults=[DROP_AFTER_COMMIT])
    request_id = str(uuid.uuid4())
    transaction = run(wallet, topup(2000, request_id))
    assert len(wallet.calls) == 2 and distinct_call_ids(wallet)
    assert list(wallet.by_request_id) == [request_id]
    assert wallet.by_request_id[request_id]["id"] == transaction.id


def test_replayed_request_id_that_is_another_topup_is_a_mismatch() -> None:
    wallet = FakeWallet()
    request_id = str(uuid.uuid4())
    run(wallet, topup(1000, request_id))
    with pytest.raises(errors.TransactionMismatch) as caught:
        run(wallet, topup(5000, request_id))
    assert (caught.value.method, caught.value.path) == ("POST", "/transactions/topup")


# ---- errors name the request, never its ids --------------------------------------------
def test_errors_name_method_and_path_without_ids(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    missing = str(uuid.uuid4())
    wallet = FakeWallet(faults=[httpx.ConnectError] * 3)
    with pytest.raises(errors.WalletUnreachable) as unreachable:
        run(wallet, lambda c: c.user_accounts(USER))
    with pytest.raises(errors.NotFound) as not_found:
        run(FakeWallet(), lambda c: c.transaction(missing))
    with pytest.raises(errors.BalanceExceeded) as refused:
        run(FakeWallet(faults=[refusal(422, "account_balance_exceeded")]), topup())
    with pytest.raises(errors.BadResponse) as bad:
        run(FakeWallet(faults=[Answer(200, [1, 2])]), lambda c: c.transaction(missing))

    expected = [
        (unreachable.value, "GET", "/users/…/accounts"),
        (not_found.value, "GET", "/transactions/…"),
        (refused.value, "POST", "/transactions/topup"),
        (bad.value, "GET", "/transactions/…"),
    ]
    for error, method, path in expected:
        assert (error.method, error.path) == (method, path)
        assert f"{method} {path}" in str(error)
    # The client's own log lines (httpx's INFO lines carry full URLs: see docs/wallet-client.md).
    logged = [r.getMessage() for r in caplog.records if r.name.startswith("paykiosk")]
    assert any("/users/…/accounts" in line for line in logged)
    for text in [str(e) for e, _, _ in expected] + logged:
        for secret in (USER, missing, CARD, MOCK_SECRET, MOCK_SETTINGS.client_id):
            assert secret not in text
    assert str(refused.value) == (
        "POST /transactions/topup: account_balance_exceeded (422): refused"
    )


def test_errors_made_outside_a_request_name_none() -> None:
    error = errors.error_from_response(422, {"type": "account_suspended", "message": "止"})
    assert (error.method, error.path) == ("", "")
    assert str(error) == "account_suspended (422): 止"
    located = errors.WalletError("x", status=404, method="GET", path=f"/transactions/{USER}")
    assert located.path == "/transactions/…" and str(located) == "GET /transactions/…: HTTP 404: x"
