"""Moving money between a member's own moneys (マネー移動): the real client against the sandbox."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace

import pytest

from kiosk.wallet import errors
from kiosk.wallet.checks import check_move
from kiosk.wallet.client import WalletClient
from kiosk.wallet.models import HistoryPage, Transaction
from kiosk.wallet.settings import RetryPolicy
from tests.support.wallet import Sandbox, with_client

Action = Callable[[WalletClient], Awaitable[Transaction]]


def _move(
    wallet: Sandbox,
    user: str,
    amount: int,
    sender: str = "base",
    receiver: str = "cafeteria",
    request_id: str = "",
) -> Action:
    async def go(client: WalletClient) -> Transaction:
        return await client.move(
            request_id=request_id or str(uuid.uuid4()),
            user_id=user,
            sender_private_money_id=wallet.moneys.get(sender, sender),
            receiver_private_money_id=wallet.moneys.get(receiver, receiver),
            amount=amount,
            description="マネー移動",
        )

    return go


def _balances(wallet: Sandbox, user: str) -> tuple[int, int, int]:
    return (
        wallet.balance(user, "base"),
        wallet.balance(user, "cafeteria"),
        wallet.balance(user, "textbook"),
    )


def test_a_move_moves_the_exact_amount_between_the_members_moneys(wallet: Sandbox) -> None:
    user = wallet.member({"base": 5_000, "cafeteria": 100, "textbook": 0})
    moved = with_client(wallet.settings(), _move(wallet, user, 1_200))
    assert _balances(wallet, user) == (3_800, 1_300, 0)
    assert (moved.type, moved.amount, moved.money_amount, moved.point_amount) == (
        "exchange_outflow",
        1_200,
        1_200,
        0,
    )
    assert (moved.sender_id, moved.receiver_id) == (user, user)
    assert moved.sender_private_money_id == wallet.moneys["base"]
    assert moved.private_money_id == wallet.moneys["cafeteria"]
    assert moved.description == "マネー移動"
    with_client(wallet.settings(), _move(wallet, user, 800, "base", "textbook"))
    assert _balances(wallet, user) == (3_000, 1_300, 800)


def test_the_same_request_id_twice_moves_once_and_can_be_looked_up(wallet: Sandbox) -> None:
    user = wallet.member({"base": 5_000, "cafeteria": 0})
    request_id = str(uuid.uuid4())
    first = with_client(wallet.settings(), _move(wallet, user, 2_000, request_id=request_id))
    again = with_client(wallet.settings(), _move(wallet, user, 2_000, request_id=request_id))
    assert again == first
    assert _balances(wallet, user) == (3_000, 2_000, 0)
    found = with_client(wallet.settings(), lambda c: c.transaction_by_request_id(request_id))
    assert found == first
    assert with_client(wallet.settings(), lambda c: c.transaction(first.id)) == first
    unknown = str(uuid.uuid4())
    assert with_client(wallet.settings(), lambda c: c.transaction_by_request_id(unknown)) is None


def test_a_replay_that_asks_for_something_else_is_a_mismatch(wallet: Sandbox) -> None:
    user = wallet.member({"base": 5_000, "cafeteria": 0})
    request_id = str(uuid.uuid4())
    with_client(wallet.settings(), _move(wallet, user, 1_000, request_id=request_id))
    with pytest.raises(errors.TransactionMismatch):
        with_client(wallet.settings(), _move(wallet, user, 3_000, request_id=request_id))
    with pytest.raises(errors.TransactionMismatch):
        with_client(
            wallet.settings(),
            _move(wallet, user, 1_000, "base", "textbook", request_id=request_id),
        )
    assert _balances(wallet, user) == (4_000, 1_000, 0)


def test_history_shows_an_outflow_in_the_sender_and_an_inflow_in_the_receiver(
    wallet: Sandbox,
) -> None:
    user = wallet.member({"base": 5_000, "cafeteria": 0})

    async def go(client: WalletClient) -> tuple[Transaction, dict[str, HistoryPage]]:
        await client.topup(
            request_id=str(uuid.uuid4()),
            customer_id=user,
            private_money_id=wallet.moneys["base"],
            money_amount=1_000,
        )
        moved = await _move(wallet, user, 1_500)(client)
        base, cafeteria = wallet.moneys["base"], wallet.moneys["cafeteria"]
        pages = {
            "base": await client.history(user, base),
            "cafeteria": await client.history(user, cafeteria),
            "base out": await client.history(user, base, types=["exchange_outflow"]),
            "base in": await client.history(user, base, types=["exchange_inflow"]),
            "base topup": await client.history(user, base, types=["topup"]),
            "base both": await client.history(user, base, types=["topup", "exchange_outflow"]),
            "cafeteria in": await client.history(user, cafeteria, types=["exchange_inflow"]),
            "cafeteria out": await client.history(user, cafeteria, types=["exchange_outflow"]),
        }
        return moved, pages

    moved, pages = with_client(wallet.settings(), go)
    kinds = {name: [(t.type, t.money_amount) for t in page.rows] for name, page in pages.items()}
    assert kinds == {
        "base": [("exchange_outflow", 1_500), ("topup", 1_000)],
        "cafeteria": [("exchange_inflow", 1_500)],
        "base out": [("exchange_outflow", 1_500)],
        "base in": [],
        "base topup": [("topup", 1_000)],
        "base both": [("exchange_outflow", 1_500), ("topup", 1_000)],
        "cafeteria in": [("exchange_inflow", 1_500)],
        "cafeteria out": [],
    }
    assert pages["base in"].count == 0 and pages["cafeteria in"].count == 1
    assert pages["base"].rows[0].id == pages["cafeteria"].rows[0].id == moved.id
    inflow = pages["cafeteria"].rows[0]
    assert inflow.sender_private_money_id == wallet.moneys["base"]
    assert inflow.private_money_id == wallet.moneys["cafeteria"]


@pytest.mark.parametrize(
    ("balances", "status", "amount", "sender", "receiver", "error", "kind"),
    [
        (
            {"base": 500},
            "active",
            1_000,
            "base",
            "cafeteria",
            errors.BalanceNotEnough,
            "account_balance_not_enough",
        ),
        (
            {"base": 5_000, "cafeteria": 29_500},
            "active",
            1_000,
            "base",
            "cafeteria",
            errors.BalanceExceeded,
            "account_balance_exceeded",
        ),
        (
            {"base": 25_000},
            "active",
            21_000,
            "base",
            "cafeteria",
            errors.TopupLimitExceeded,
            "account_money_topup_transfer_limit_exceeded",
        ),
        (
            {"base": 5_000},
            "active",
            1_000,
            "base",
            "base",
            errors.MoveNotAllowed,
            "can_not_exchange_between_same_private_money",
        ),
        (
            {"base": 5_000},
            "active",
            0,
            "base",
            "cafeteria",
            errors.MoveNotAllowed,
            "transaction_invalid_amount",
        ),
        (
            {"base": 5_000},
            "suspended",
            1_000,
            "base",
            "cafeteria",
            errors.AccountSuspended,
            "account_suspended",
        ),
        (
            {"base": 5_000, "cafeteria": None},
            "active",
            1_000,
            "base",
            "cafeteria",
            errors.CustomerNotFound,
            "account_not_found",
        ),
    ],
)
def test_refused_moves_are_typed_not_retried_and_move_nothing(
    wallet: Sandbox,
    balances: dict[str, int | None],
    status: str,
    amount: int,
    sender: str,
    receiver: str,
    error: type[errors.WalletError],
    kind: str,
) -> None:
    user = wallet.member(balances, status)
    before = wallet.balance(user, "base")
    calls = wallet.calls()
    with pytest.raises(error) as caught:
        with_client(wallet.settings(), _move(wallet, user, amount, sender, receiver))
    assert caught.value.type == kind
    assert isinstance(caught.value, errors.RefusedForGood)
    assert wallet.calls() == calls + 1
    assert wallet.balance(user, "base") == before
    if balances.get("cafeteria", 0) is not None:
        assert wallet.balance(user, "cafeteria") == balances.get("cafeteria", 0)


def test_unknown_money_and_bad_parameters_are_refused(wallet: Sandbox) -> None:
    user = wallet.member({"base": 5_000})
    with pytest.raises(errors.MoneyUnavailable) as caught:
        with_client(wallet.settings(), _move(wallet, user, 1_000, "base", str(uuid.uuid4())))
    assert caught.value.type == "private_money_not_found"
    with pytest.raises(errors.InvalidRequest):
        with_client(wallet.settings(), _move(wallet, "not-a-user-id", 1_000))
    with pytest.raises(errors.InvalidRequest):
        with_client(wallet.settings(), _move(wallet, user, True))
    assert _balances(wallet, user) == (5_000, 0, 0)


def test_request_id_of_another_members_transaction_is_a_conflict(wallet: Sandbox) -> None:
    first = wallet.member({"base": 5_000})
    second = wallet.member({"base": 5_000})
    request_id = str(uuid.uuid4())
    with_client(wallet.settings(), _move(wallet, first, 1_000, request_id=request_id))
    calls = wallet.calls()
    with pytest.raises(errors.RequestIdConflict):
        with_client(wallet.settings(), _move(wallet, second, 1_000, request_id=request_id))
    assert wallet.calls() == calls + 1
    assert _balances(wallet, first) == (4_000, 1_000, 0)
    assert _balances(wallet, second) == (5_000, 0, 0)


def test_request_id_of_the_members_own_topup_is_not_a_move(wallet: Sandbox) -> None:
    user = wallet.member({"base": 5_000})
    request_id = str(uuid.uuid4())

    async def topup(client: WalletClient) -> Transaction:
        return await client.topup(
            request_id=request_id,
            customer_id=user,
            private_money_id=wallet.moneys["base"],
            money_amount=1_000,
        )

    with_client(wallet.settings(), topup)
    with pytest.raises(errors.TransactionMismatch):
        with_client(wallet.settings(), _move(wallet, user, 1_000, request_id=request_id))
    assert _balances(wallet, user) == (6_000, 0, 0)


def test_answer_dropped_after_commit_is_retried_and_moves_once(wallet: Sandbox) -> None:
    user = wallet.member({"base": 5_000})
    request_id = str(uuid.uuid4())
    wallet.faults(drop_after_commit=1)
    calls = wallet.calls()
    moved = with_client(wallet.settings(), _move(wallet, user, 2_500, request_id=request_id))
    assert wallet.calls() == calls + 2  # the dropped attempt, then the replay
    assert moved.money_amount == 2_500
    assert _balances(wallet, user) == (2_500, 2_500, 0)
    found = with_client(wallet.settings(), lambda c: c.transaction_by_request_id(request_id))
    assert found == moved


def test_unknown_outcome_without_retry_is_resolved_by_request_id(wallet: Sandbox) -> None:
    user = wallet.member({"base": 5_000})
    request_id = str(uuid.uuid4())
    wallet.faults(drop_after_commit=1)
    with pytest.raises(errors.WalletUnreachable):
        with_client(
            wallet.settings(),
            _move(wallet, user, 1_000, request_id=request_id),
            retry=RetryPolicy(attempts=1),
        )
    found = with_client(wallet.settings(), lambda c: c.transaction_by_request_id(request_id))
    assert found is not None and found.money_amount == 1_000
    again = with_client(wallet.settings(), _move(wallet, user, 1_000, request_id=request_id))
    assert again == found
    assert _balances(wallet, user) == (4_000, 1_000, 0)


def test_503_is_retried_and_moves_once(wallet: Sandbox) -> None:
    user = wallet.member({"base": 5_000})
    wallet.faults(next_503=1)
    calls = wallet.calls()
    with_client(wallet.settings(), _move(wallet, user, 700))
    assert wallet.calls() == calls + 2
    assert _balances(wallet, user) == (4_300, 700, 0)


def test_one_members_trouble_answers_503_for_their_move_only(wallet: Sandbox) -> None:
    troubled = wallet.member({"base": 5_000})
    other = wallet.member({"base": 5_000})
    wallet.faults(unavailable_for=troubled)
    with pytest.raises(errors.TemporarilyUnavailable):
        with_client(wallet.settings(), _move(wallet, troubled, 1_000))
    with_client(wallet.settings(), _move(wallet, other, 1_000))
    assert _balances(wallet, troubled) == (5_000, 0, 0)
    assert _balances(wallet, other) == (4_000, 1_000, 0)


def _sample(user: str, sender: str, receiver: str, amount: int) -> Transaction:
    return Transaction(
        id=str(uuid.uuid4()),
        type="exchange_outflow",
        is_modified=False,
        sender_id=user,
        receiver_id=user,
        receiver_account_id=str(uuid.uuid4()),
        private_money_id=receiver,
        amount=amount,
        money_amount=amount,
        point_amount=0,
        done_at="2025-04-01T09:00:00.000Z",
        description="",
        sender_private_money_id=sender,
    )


def test_check_move_accepts_only_the_move_asked_for() -> None:
    user, base, cafeteria = (str(uuid.uuid4()) for _ in range(3))
    good = _sample(user, base, cafeteria, 1_000)
    for accepted in (
        good,
        replace(good, type="exchange_inflow"),
        replace(good, type="exchange"),
        replace(good, sender_id=None, receiver_id=None),
    ):
        check_move(accepted, user, base, cafeteria, 1_000)
    for wrong in (
        replace(good, money_amount=2_000),
        replace(good, private_money_id=base),
        replace(good, sender_private_money_id=cafeteria),
        replace(good, sender_private_money_id=None),
        replace(good, type="topup"),
        replace(good, receiver_id=str(uuid.uuid4())),
        replace(good, sender_id=str(uuid.uuid4())),
    ):
        with pytest.raises(errors.TransactionMismatch) as caught:
            check_move(wrong, user, base, cafeteria, 1_000)
        assert caught.value.type == "mismatch"
    assert errors.TransactionMismatch is errors.TransactionMismatch


@pytest.mark.parametrize(
    ("kind", "cls"),
    [
        ("account_balance_not_enough", errors.BalanceNotEnough),
        ("can_not_exchange_between_same_private_money", errors.MoveNotAllowed),
        ("can_not_exchange_between_users", errors.MoveNotAllowed),
        ("transaction_restricted", errors.MoveNotAllowed),
        ("transaction_invalid_amount", errors.MoveNotAllowed),
        ("account_not_found", errors.CustomerNotFound),
    ],
)
def test_move_refusals_map_to_typed_errors(kind: str, cls: type[errors.WalletError]) -> None:
    error = errors.error_from_response(422, {"type": kind, "message": "本文"})
    assert type(error) is cls and isinstance(error, errors.RefusedForGood)
