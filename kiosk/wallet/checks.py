"""Checks that the transaction a ``request_id`` call returned is the one asked for.

The API does not say whether a replayed ``request_id`` with other parameters is detected, so
the client compares what came back with what it sent.
"""

from __future__ import annotations

from kiosk.wallet.errors import TransactionMismatch
from kiosk.wallet.models import Transaction

# What a move's answer may be called (the API's transaction types for an exchange): the
# reference does not say which type the POST's answer carries (the history shows one side each).
MOVE_TYPES = ("exchange_outflow", "exchange_inflow", "exchange")


def check_topup(
    transaction: Transaction, customer_id: str, private_money_id: str, money_amount: int
) -> None:
    """Raise :class:`TransactionMismatch` unless the transaction is the top-up we asked for."""
    expected = ("topup", customer_id, private_money_id, money_amount)
    got = (
        transaction.type,
        transaction.receiver_id,
        transaction.private_money_id,
        transaction.money_amount,
    )
    if got != expected:
        raise TransactionMismatch(
            f"transaction {transaction.id} is {got}, expected {expected}", type="mismatch"
        )


def check_move(
    transaction: Transaction,
    user_id: str,
    sender_private_money_id: str,
    receiver_private_money_id: str,
    amount: int,
) -> None:
    """Raise :class:`TransactionMismatch` unless the transaction is the move we asked for:
    an exchange type, this member on both sides (where named), both moneys and the amount."""
    problems = []
    if transaction.type not in MOVE_TYPES:
        problems.append(f"type {transaction.type}")
    for side, party in (("sender", transaction.sender_id), ("receiver", transaction.receiver_id)):
        if party is not None and party != user_id:
            problems.append(f"{side} is another user")
    if transaction.sender_private_money_id != sender_private_money_id:
        problems.append(f"sender money {transaction.sender_private_money_id}")
    if transaction.private_money_id != receiver_private_money_id:
        problems.append(f"receiver money {transaction.private_money_id}")
    if transaction.money_amount != amount:
        problems.append(f"money_amount {transaction.money_amount}, expected {amount}")
    if problems:
        raise TransactionMismatch(
            f"transaction {transaction.id} is not the move asked for: {'; '.join(problems)}",
            type="mismatch",
        )
