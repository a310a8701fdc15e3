"""The production wallet client against the sandbox server: HTTPS, mutual TLS, AES envelope."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from kiosk.wallet import errors
from kiosk.wallet.client import WalletClient
from kiosk.wallet.settings import RetryPolicy
from tests.support.common import wait_until
from tests.support.wallet import Sandbox, with_client


def _topup(wallet: Sandbox, user: str, amount: int, bucket: str = "base", request_id: str = ""):  # type: ignore[no-untyped-def]
    async def go(client: WalletClient):  # type: ignore[no-untyped-def]
        return await client.topup(
            request_id=request_id or str(uuid.uuid4()),
            customer_id=user,
            private_money_id=wallet.moneys[bucket],
            money_amount=amount,
            description="Pay Spot",
            metadata={"kiosk": "test-01"},
        )

    return go


def test_ping_and_card_lookup(wallet: Sandbox) -> None:
    seeded = wallet.info["members"][0]

    async def go(client: WalletClient):  # type: ignore[no-untyped-def]
        return (
            await client.ping(),
            await client.find_account_by_card(wallet.moneys["base"], seeded["card_idm"]),
            await client.find_account_by_card(
                wallet.moneys["base"], wallet.info["unregistered_cards"][0]
            ),
        )

    pong, account, nobody = with_client(wallet.settings(), go)
    assert pong is True
    assert account is not None and nobody is None
    assert (account.user.id, account.user.name) == (seeded["user_id"], "生協 太郎")
    assert account.external_id == seeded["card_idm"] and account.active


def test_member_wallets_carry_balances_caps_and_headroom(wallet: Sandbox) -> None:
    user = wallet.member({"base": 48_500, "cafeteria": 700, "textbook": 0})
    accounts = with_client(wallet.settings(), lambda c: c.user_accounts(user))
    by_money = {a.private_money.id: a for a in accounts}
    base, cafeteria = by_money[wallet.moneys["base"]], by_money[wallet.moneys["cafeteria"]]
    assert len(accounts) == 3 and all(a.user.id == user for a in accounts)
    assert (base.money_balance, base.private_money.max_balance) == (48_500, 50_000)
    assert base.headroom == 1_500  # the cap, not the 30,000 top-up limit
    assert cafeteria.headroom == 20_000  # the top-up limit is tighter than 30,000 - 700
    assert by_money[wallet.moneys["textbook"]].private_money.transfer_limit == 50_000


def test_topup_credits_once_and_a_replay_returns_the_same_transaction(wallet: Sandbox) -> None:
    user = wallet.member({"base": 100})
    request_id = str(uuid.uuid4())
    first = with_client(wallet.settings(), _topup(wallet, user, 3000, request_id=request_id))
    again = with_client(wallet.settings(), _topup(wallet, user, 3000, request_id=request_id))
    assert again == first
    assert (first.type, first.money_amount, first.receiver_id) == ("topup", 3000, user)
    assert wallet.balance(user, "base") == 3100
    found = with_client(wallet.settings(), lambda c: c.transaction_by_request_id(request_id))
    assert found == first
    assert with_client(wallet.settings(), lambda c: c.transaction(first.id)) == first


def test_replay_that_does_not_match_what_was_sent_is_an_error(wallet: Sandbox) -> None:
    user = wallet.member()
    request_id = str(uuid.uuid4())
    with_client(wallet.settings(), _topup(wallet, user, 1000, request_id=request_id))
    with pytest.raises(errors.TransactionMismatch):
        with_client(wallet.settings(), _topup(wallet, user, 5000, request_id=request_id))
    assert wallet.balance(user, "base") == 1000


def test_request_id_of_another_members_topup_is_a_conflict_and_not_retried(
    wallet: Sandbox,
) -> None:
    first, second = wallet.member(), wallet.member()
    request_id = str(uuid.uuid4())
    with_client(wallet.settings(), _topup(wallet, first, 1000, request_id=request_id))
    calls = wallet.calls()
    with pytest.raises(errors.RequestIdConflict):
        with_client(wallet.settings(), _topup(wallet, second, 1000, request_id=request_id))
    assert wallet.calls() == calls + 1
    assert wallet.balance(second, "base") == 0


@pytest.mark.parametrize(
    ("balances", "status", "amount", "bucket", "error", "kind"),
    [
        ({}, "suspended", 1000, "base", errors.AccountSuspended, "account_suspended"),
        ({}, "closed", 1000, "base", errors.AccountClosed, "account_closed"),
        ({}, "pre-closed", 1000, "base", errors.AccountClosed, "account_pre_closed"),
        (
            {"base": 49_500},
            "active",
            1000,
            "base",
            errors.BalanceExceeded,
            "account_balance_exceeded",
        ),
        (
            {},
            "active",
            31_000,
            "base",
            errors.TopupLimitExceeded,
            "account_money_topup_transfer_limit_exceeded",
        ),
        (
            {},
            "active",
            60_000,
            "textbook",
            errors.TransferLimitExceeded,
            "account_transfer_limit_exceeded",
        ),
        (
            {"cafeteria": None},
            "active",
            1000,
            "cafeteria",
            errors.CustomerNotFound,
            "customer_account_not_found",
        ),
        (
            {},
            "active",
            0,
            "base",
            errors.InvalidRequest,
            "invalid_parameter_both_point_and_money_are_zero",
        ),
    ],
)
def test_refused_topups_are_typed_not_retried_and_credit_nothing(
    wallet: Sandbox,
    balances,
    status,
    amount,
    bucket,
    error,
    kind,  # type: ignore[no-untyped-def]
) -> None:
    user = wallet.member(balances, status)
    before, calls = wallet.balance(user, "base"), wallet.calls()
    with pytest.raises(error) as caught:
        with_client(wallet.settings(), _topup(wallet, user, amount, bucket))
    assert caught.value.type == kind
    assert wallet.calls() == calls + 1
    assert wallet.balance(user, "base") == before


def test_unknown_money_is_refused(wallet: Sandbox) -> None:
    user = wallet.member()

    async def go(client: WalletClient):  # type: ignore[no-untyped-def]
        return await client.topup(
            request_id=str(uuid.uuid4()),
            customer_id=user,
            private_money_id=str(uuid.uuid4()),
            money_amount=1000,
        )

    with pytest.raises(errors.MoneyUnavailable):
        with_client(wallet.settings(), go)


@pytest.mark.parametrize("style", [404, 422])
def test_unknown_request_id_means_not_created_in_both_styles(wallet: Sandbox, style: int) -> None:
    wallet.store.set_meta("missing_request_status", style)
    missing = str(uuid.uuid4())
    assert with_client(wallet.settings(), lambda c: c.transaction_by_request_id(missing)) is None
    with pytest.raises(errors.NotFound):
        with_client(wallet.settings(), lambda c: c.transaction(missing))


def test_history_pages_with_a_cursor_newest_first(wallet: Sandbox) -> None:
    user = wallet.member()
    made = [
        with_client(wallet.settings(), _topup(wallet, user, 1000 * (i + 1))).id for i in range(5)
    ]

    async def all_pages(client: WalletClient):  # type: ignore[no-untyped-def]
        pages, cursor = [], None
        while True:
            page = await client.history(
                user, wallet.moneys["base"], per_page=2, cursor=cursor, types=["topup"]
            )
            pages.append(page)
            if not (cursor := page.next_page_cursor_id):
                return pages

    pages = with_client(wallet.settings(), all_pages)
    assert [len(p.rows) for p in pages] == [2, 2, 1]
    assert [t.id for p in pages for t in p.rows] == made[::-1]
    assert {p.count for p in pages} == {5}


def test_response_dropped_after_commit_is_retried_and_credited_once(wallet: Sandbox) -> None:
    user = wallet.member()
    wallet.faults(drop_after_commit=1)
    transaction = with_client(wallet.settings(), _topup(wallet, user, 2000))
    assert transaction.money_amount == 2000
    assert wallet.balance(user, "base") == 2000


def test_unknown_outcome_is_resolved_by_request_id(wallet: Sandbox) -> None:
    user = wallet.member()
    request_id = str(uuid.uuid4())
    wallet.faults(drop_after_commit=1)
    with pytest.raises(errors.WalletUnreachable):
        with_client(
            wallet.settings(),
            _topup(wallet, user, 5000, request_id=request_id),
            retry=RetryPolicy(attempts=1),
        )
    found = with_client(wallet.settings(), lambda c: c.transaction_by_request_id(request_id))
    assert found is not None and found.money_amount == 5000
    assert wallet.balance(user, "base") == 5000


def test_corrupt_response_is_a_bad_response_and_the_topup_can_be_found(wallet: Sandbox) -> None:
    user = wallet.member()
    request_id = str(uuid.uuid4())
    wallet.faults(corrupt_responses=1)
    with pytest.raises(errors.BadResponse):
        with_client(wallet.settings(), _topup(wallet, user, 1000, request_id=request_id))
    assert with_client(wallet.settings(), lambda c: c.transaction_by_request_id(request_id))
    assert wallet.balance(user, "base") == 1000


def test_503_is_retried_with_fresh_call_ids_then_given_up(wallet: Sandbox) -> None:
    user = wallet.member()
    wallet.faults(next_503=2)
    calls = wallet.calls()
    with_client(wallet.settings(), _topup(wallet, user, 1000))
    assert wallet.calls() == calls + 3  # two 503s, then success: three distinct call ids
    wallet.faults(rate_503=1.0)
    with pytest.raises(errors.TemporarilyUnavailable):
        with_client(wallet.settings(), _topup(wallet, user, 1000))
    assert wallet.balance(user, "base") == 1000


def test_slow_wallet_times_out_and_is_retried(wallet: Sandbox) -> None:
    wallet.faults(latency_ms=800)
    settings = wallet.settings(timeout_s=0.3)
    calls = wallet.calls()
    with pytest.raises(errors.WalletUnreachable, match="timed out"):
        with_client(settings, lambda c: c.find_account_by_card(wallet.moneys["base"], "00"))
    # The server notes each attempt's call id once its delay is over: three distinct ids.
    wait_until(lambda: wallet.calls() - calls == 3, 5, "three attempts")
    wallet.faults(latency_ms=0)


def test_refused_connections_then_back(wallet: Sandbox) -> None:
    wallet.faults(refuse=True)
    with pytest.raises(errors.WalletUnreachable):
        with_client(
            wallet.settings(),
            lambda c: c.ping(),
            retry=RetryPolicy(attempts=8, initial_wait_s=0.1, max_wait_s=0.3),
        )
    wallet.faults(refuse=False)
    assert with_client(
        wallet.settings(),
        lambda c: c.ping(),
        retry=RetryPolicy(attempts=8, initial_wait_s=0.1, max_wait_s=0.3),
    )


def test_expired_timestamp_is_refused(wallet: Sandbox) -> None:
    late = lambda: datetime.now(UTC) - timedelta(minutes=10)  # noqa: E731
    with pytest.raises(errors.RequestExpired):
        with_client(
            wallet.settings(),
            lambda c: c.find_account_by_card(wallet.moneys["base"], "00"),
            clock=late,
        )


def test_reused_partner_call_id_is_refused(wallet: Sandbox) -> None:
    call_id = str(uuid.uuid4())

    async def twice(client: WalletClient):  # type: ignore[no-untyped-def]
        await client.find_account_by_card(wallet.moneys["base"], "00")
        await client.find_account_by_card(wallet.moneys["base"], "00")

    with pytest.raises(errors.EnvelopeRejected) as caught:
        with_client(wallet.settings(), twice, new_call_id=lambda: call_id)
    assert caught.value.type == "partner_request_already_done"


def test_wrong_secret_and_unknown_client_are_refused(wallet: Sandbox) -> None:
    other_secret = "Y9e-WZYQCH9s2YKvR-R2HyP3MgmSctLTo95boskE5FE"
    lookup = lambda c: c.find_account_by_card(wallet.moneys["base"], "00")  # noqa: E731
    with pytest.raises(errors.EnvelopeRejected) as caught:
        with_client(wallet.settings(client_secret=other_secret), lookup)
    assert caught.value.type == "partner_decryption_failed"
    with pytest.raises(errors.EnvelopeRejected) as caught:
        with_client(wallet.settings(client_id=str(uuid.uuid4())), lookup)
    assert caught.value.type == "partner_client_not_found"


def test_logs_hold_no_secret_and_no_card_id(
    wallet: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    user = wallet.member()
    card = wallet.card_of(user)
    caplog.set_level("DEBUG")
    with_client(wallet.settings(), lambda c: c.find_account_by_card(wallet.moneys["base"], card))
    with_client(wallet.settings(), _topup(wallet, user, 1000))
    with_client(wallet.settings(), lambda c: c.user_accounts(user))  # the user id is in its path
    text = caplog.text
    assert "wallet GET" in text and "wallet POST" in text
    for secret in (card, wallet.info["client_secret"], wallet.info["client_id"], user):
        assert secret not in text
