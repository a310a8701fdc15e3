"""Async client of the Pokepay Partner API subset the kiosk uses (see docs/wallet-api.md).

Every call travels in the AES envelope over mutual TLS, with a fresh ``partner_call_id`` and
timestamp per attempt. Only idempotent calls are retried (GETs, and top-ups and moves,
which always carry a ``request_id``), only on time-outs, connection errors and 503.

The wallet's ``Date`` header on every answer (``/ping`` too) tells how far this machine's clock
is from the wallet's (``clock_offset_s``); a request refused as expired says by how much.
"""

from __future__ import annotations

import email.utils
import json
import logging
import ssl
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from kiosk.wallet.checks import check_move
from kiosk.wallet.checks import check_topup as check_topup  # re-exported (kiosk.engine.delivery)
from kiosk.wallet.envelope import EnvelopeError, key_from_secret, open_sealed, seal
from kiosk.wallet.errors import (
    BadResponse,
    NotFound,
    RequestExpired,
    TemporarilyUnavailable,
    WalletError,
    WalletUnreachable,
    clock_behind_or_ahead,
    clock_wrong,
    elide_ids,
    error_from_response,
)
from kiosk.wallet.models import Account, HistoryPage, Transaction
from kiosk.wallet.settings import RetryPolicy, WalletSettings

log = logging.getLogger("paykiosk.wallet")
# httpx logs every request's full URL at INFO, member and transaction ids included; this client
# logs each call itself with the ids elided, so theirs stay quiet below WARNING.
for _name in ("httpx", "httpcore"):
    logging.getLogger(_name).setLevel(logging.WARNING)

RETRYABLE = (WalletUnreachable, TemporarilyUnavailable)
T = TypeVar("T")


def tls_context(settings: WalletSettings) -> ssl.SSLContext:
    """Server verification against the CA bundle, and our client certificate."""
    context = ssl.create_default_context(cafile=settings.ca_file)
    context.load_cert_chain(settings.client_cert, settings.client_key)
    return context


def _now() -> datetime:
    return datetime.now(UTC)


def _new_call_id() -> str:
    return str(uuid.uuid4())


class WalletClient:
    """One kiosk's connection to the wallet. Use as ``async with WalletClient(...) as w``.

    ``transport`` (an ``httpx.AsyncBaseTransport``, e.g. ``httpx.MockTransport(handler)``)
    replaces the network, as with httpx itself: the TLS files are then not read.
    """

    def __init__(
        self,
        settings: WalletSettings,
        retry: RetryPolicy | None = None,
        *,
        clock: Callable[[], datetime] = _now,
        new_call_id: Callable[[], str] = _new_call_id,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.retry = retry or RetryPolicy()
        self._key = key_from_secret(settings.client_secret)
        self._clock = clock
        self._new_call_id = new_call_id
        # the wallet's time minus ours, from the last answer's Date header (None: none yet)
        self.clock_offset_s: float | None = None
        # whether the last request got an answer, and how long it took (None: no request yet)
        self.reachable: bool | None = None
        self.last_latency_s: float | None = None
        connection: dict[str, Any] = (
            {"verify": tls_context(settings)} if transport is None else {"transport": transport}
        )
        self._http = httpx.AsyncClient(
            base_url=settings.base_url.rstrip("/"),
            timeout=settings.timeout_s,
            headers={"Accept-Language": settings.language, "Accept": "application/json"},
            **connection,
        )

    async def __aenter__(self) -> WalletClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    @property
    def clock_problem(self) -> str | None:
        """``"this machine's clock is 600 s behind the wallet's"`` while the last measured
        offset is beyond ``CLOCK_TOLERANCE_S``; None while it is within (or not known)."""
        offset = self.clock_offset_s
        if offset is None or not clock_wrong(offset):
            return None
        return f"this machine's clock is {clock_behind_or_ahead(offset)}"

    # ---- operations ------------------------------------------------------------------
    async def ping(self) -> bool:
        async for attempt in self._retrying(idempotent=True):
            with attempt:
                response = await self._send("GET", "/ping", None)
                return response.status_code == 200 and response.json().get("pong") == "ok"
        raise AssertionError("unreachable")

    async def find_account_by_card(self, private_money_id: str, card_id: str) -> Account | None:
        """The member account whose ``external_id`` in the lookup money is this card's id."""
        rows = await self._call(
            "GET",
            "/accounts/customers",
            {"private_money_id": private_money_id, "external_id": card_id, "per_page": 2},
            lambda data: [Account.parse(row) for row in _rows(data)[:1]],
        )
        return rows[0] if rows else None

    async def user_accounts(self, user_id: str) -> list[Account]:
        """All wallets of a member, one per money, with balances and caps."""
        accounts: list[Account] = []
        page = 1
        while True:
            rows, has_next = await self._call(
                "GET",
                f"/users/{_path_id(user_id)}/accounts",
                {"page": page, "per_page": 50},
                lambda data: (
                    [Account.parse(row) for row in _rows(data)],
                    bool((data.get("pagination") or {}).get("has_next")),
                ),
            )
            accounts += rows
            if not has_next:
                return accounts
            page += 1

    async def topup(
        self,
        *,
        request_id: str,
        customer_id: str,
        private_money_id: str,
        money_amount: int,
        description: str = "",
        metadata: dict[str, str] | None = None,
    ) -> Transaction:
        """Credit cash. Safe to repeat with the same ``request_id``: credited once."""
        params = {
            "shop_id": self.settings.shop_id,
            "customer_id": customer_id,
            "private_money_id": private_money_id,
            "money_amount": money_amount,
            "point_amount": 0,
            "description": description[:200],
            "metadata": json.dumps(metadata or {}, ensure_ascii=False),
            "request_id": str(uuid.UUID(request_id)),
        }

        def checked(data: dict[str, Any]) -> Transaction:
            transaction = Transaction.parse(data)
            check_topup(transaction, customer_id, private_money_id, money_amount)
            return transaction

        return await self._call("POST", "/transactions/topup", params, checked)

    async def move(
        self,
        *,
        request_id: str,
        user_id: str,
        sender_private_money_id: str,
        receiver_private_money_id: str,
        amount: int,
        description: str = "",
    ) -> Transaction:
        """Move a member's value between two of their moneys (マネー移動; the API calls it an
        exchange: ``POST /transactions/exchange``). Safe to repeat with the same
        ``request_id``: moved once."""
        params = {
            "user_id": user_id,
            "sender_private_money_id": sender_private_money_id,
            "receiver_private_money_id": receiver_private_money_id,
            "amount": amount,
            "description": description[:200],
            "request_id": str(uuid.UUID(request_id)),
        }

        def checked(data: dict[str, Any]) -> Transaction:
            transaction = Transaction.parse(data)
            check_move(
                transaction, user_id, sender_private_money_id, receiver_private_money_id, amount
            )
            return transaction

        return await self._call("POST", "/transactions/exchange", params, checked)

    async def transaction_by_request_id(self, request_id: str) -> Transaction | None:
        """The transaction a ``request_id`` created, or None if none was created."""
        path = f"/transactions/requests/{uuid.UUID(request_id)}"
        try:
            return await self._call("GET", path, {}, Transaction.parse)
        except NotFound:  # 404 notfound or 422 transaction_not_found
            return None

    async def transaction(self, transaction_id: str) -> Transaction:
        path = f"/transactions/{_path_id(transaction_id)}"
        return await self._call("GET", path, {}, Transaction.parse)

    async def history(
        self,
        customer_id: str,
        private_money_id: str,
        *,
        per_page: int = 20,
        cursor: str | None = None,
        types: list[str] | None = None,
    ) -> HistoryPage:
        """Newest first; pass ``next_page_cursor_id`` back as ``cursor`` for the next page."""
        params: dict[str, Any] = {
            "customer_id": customer_id,
            "private_money_id": private_money_id,
            "per_page": per_page,
        }
        if cursor:
            params["next_page_cursor_id"] = cursor
        if types:
            params["types"] = types
        return await self._call("GET", "/transactions-v2", params, HistoryPage.parse)

    async def shop_transactions(
        self, start: datetime, end: datetime, types: tuple[str, ...], per_page: int = 1000
    ) -> list[Transaction]:
        """Every transaction of types ``types`` made through this kiosk's shop from ``start``
        (included) to ``end`` (not), every page (the shop's day, for reconciliation). A row is
        listed once even if a type filter lists it twice (a move's two sides)."""
        params: dict[str, Any] = {
            "shop_id": self.settings.shop_id,
            "from": start.isoformat(),
            "to": end.isoformat(),
            "types": list(types),
            "per_page": per_page,
        }
        rows: dict[str, Transaction] = {}
        cursor: str | None = None
        while True:
            page = await self._call(
                "GET",
                "/transactions-v2",
                {**params, "next_page_cursor_id": cursor} if cursor else params,
                HistoryPage.parse,
            )
            for row in page.rows:
                rows.setdefault(row.id, row)
            # the cursor names this page's last row; the next page starts after it
            if not page.rows or page.next_page_cursor_id in (None, cursor):
                return list(rows.values())
            cursor = page.next_page_cursor_id

    # ---- transport -------------------------------------------------------------------
    def _retrying(self, idempotent: bool) -> AsyncRetrying:
        policy = self.retry
        return AsyncRetrying(
            stop=stop_after_attempt(policy.attempts if idempotent else 1),
            wait=wait_exponential_jitter(
                multiplier=policy.initial_wait_s, max=policy.max_wait_s, jitter=policy.jitter_s
            ),
            retry=retry_if_exception_type(RETRYABLE),
            reraise=True,
        )

    async def _call(
        self,
        method: str,
        path: str,
        params: dict[str, Any],
        parse: Callable[[dict[str, Any]], T],
    ) -> T:
        """Send, decode and ``parse`` the answer; any :class:`WalletError` names the request
        (method and path, ids elided)."""
        # Every call the kiosk makes is idempotent: GETs; top-ups and moves carry a
        # request_id.
        try:
            async for attempt in self._retrying(idempotent=True):
                with attempt:
                    return parse(self._decode(await self._send(method, path, params)))
        except WalletError as error:
            error.at(method, path)
            raise
        raise AssertionError("unreachable")

    async def _send(self, method: str, path: str, params: dict[str, Any] | None) -> httpx.Response:
        body = None
        if params is not None:
            plain = {
                "request_data": params,
                "timestamp": self._clock()
                .isoformat(timespec="milliseconds")
                .replace("+00:00", "Z"),
                "partner_call_id": self._new_call_id(),
            }
            body = {"partner_client_id": self.settings.client_id, "data": seal(self._key, plain)}
        started = time.monotonic()
        try:
            response = await self._http.request(method, path, json=body)
        except httpx.TimeoutException as error:
            self.reachable = False
            log.warning("wallet %s %s timed out", method, _loggable(path))
            raise WalletUnreachable(
                f"timed out: {type(error).__name__}", method=method, path=path
            ) from error
        except httpx.TransportError as error:
            self.reachable = False
            log.warning("wallet %s %s failed: %s", method, _loggable(path), type(error).__name__)
            raise WalletUnreachable(
                f"{type(error).__name__}: {error}", method=method, path=path
            ) from error
        self.reachable, self.last_latency_s = True, time.monotonic() - started
        log.debug(
            "wallet %s %s -> %s in %.0f ms",
            method,
            _loggable(path),
            response.status_code,
            self.last_latency_s * 1000,
        )
        self._measure_clock(response)
        return response

    def _measure_clock(self, response: httpx.Response) -> None:
        """Keep the wallet's time minus ours from the answer's ``Date`` header. Whole seconds,
        cut down: the wallet's time was within the second after it, hence the half second."""
        header = response.headers.get("Date")
        if not header:
            return
        try:
            wallet_time = email.utils.parsedate_to_datetime(header)
        except (TypeError, ValueError, IndexError):
            return
        if wallet_time.tzinfo is None:
            wallet_time = wallet_time.replace(tzinfo=UTC)
        offset = (wallet_time + timedelta(seconds=0.5) - self._clock()).total_seconds()
        was_wrong = self.clock_offset_s is not None and clock_wrong(self.clock_offset_s)
        self.clock_offset_s = offset
        if clock_wrong(offset) and not was_wrong:
            log.warning("%s (check NTP)", self.clock_problem)
        elif was_wrong and not clock_wrong(offset):
            log.info("this machine's clock agrees with the wallet's again")

    def _decode(self, response: httpx.Response) -> Any:
        try:
            payload = response.json()
        except ValueError:
            if response.status_code >= 400:
                raise error_from_response(response.status_code, None) from None
            raise BadResponse("response is not JSON", status=response.status_code) from None
        data = payload
        if isinstance(payload, dict) and "response_data" in payload:
            try:
                data = open_sealed(self._key, str(payload["response_data"]))
            except EnvelopeError as error:
                raise BadResponse(
                    f"undecryptable response: {error}", status=response.status_code
                ) from None
        if response.status_code >= 400:
            refused = error_from_response(response.status_code, data)
            if isinstance(refused, RequestExpired):
                refused.with_clock(self.clock_offset_s)  # from this answer's Date header
            raise refused
        if not isinstance(data, dict):
            raise BadResponse("response is not a JSON object", status=response.status_code)
        return data


def _rows(data: dict[str, Any]) -> list[Any]:
    rows = data.get("rows")
    if not isinstance(rows, list):
        raise BadResponse("page without rows")
    return rows


def _path_id(value: str) -> str:
    """Ids go into URL paths: accept only UUIDs."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ValueError(f"not an id: {value!r}") from None


def _loggable(path: str) -> str:
    """Paths without ids, for logs (errors carry the same)."""
    return elide_ids(path)
