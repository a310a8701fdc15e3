"""Typed results of the Partner API calls the kiosk makes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kiosk.wallet.errors import BadResponse


class MalformedResponse(BadResponse):
    """A decrypted response that does not have the documented shape."""


def _get(data: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    value = data.get(key)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise MalformedResponse(f"field {key!r}: expected {kind}, got {value!r}")
    return value


def _opt_int(data: dict[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedResponse(f"field {key!r}: expected a number, got {value!r}")
    return int(value)


def _int(data: dict[str, Any], key: str) -> int:
    value = _opt_int(data, key)
    if value is None:
        raise MalformedResponse(f"field {key!r} missing")
    return value


@dataclass(frozen=True)
class PrivateMoney:
    """One money bucket (base, cafeteria, textbook money): its caps; None means no cap."""

    id: str
    name: str
    max_balance: int | None
    transfer_limit: int | None
    money_topup_transfer_limit: int | None

    @classmethod
    def parse(cls, data: dict[str, Any]) -> PrivateMoney:
        return cls(
            id=_get(data, "id", str),
            name=str(data.get("name", "")),
            max_balance=_opt_int(data, "max_balance"),
            transfer_limit=_opt_int(data, "transfer_limit"),
            money_topup_transfer_limit=_opt_int(data, "money_topup_transfer_limit"),
        )


@dataclass(frozen=True)
class User:
    id: str
    name: str

    @classmethod
    def parse(cls, data: dict[str, Any]) -> User:
        return cls(id=_get(data, "id", str), name=str(data.get("name", "")))


@dataclass(frozen=True)
class Account:
    """A member's wallet in one money."""

    id: str
    status: str  # active | suspended | pre-closed | closed
    is_suspended: bool
    money_balance: int
    point_balance: int
    external_id: str | None
    user: User
    private_money: PrivateMoney

    @property
    def active(self) -> bool:
        return self.status == "active" and not self.is_suspended

    @property
    def headroom(self) -> int | None:
        """Cash that still fits: the tightest of the cap and the per-transfer limits."""
        money = self.private_money
        limits = [
            v
            for v in (
                None if money.max_balance is None else money.max_balance - self.money_balance,
                money.transfer_limit,
                money.money_topup_transfer_limit,
            )
            if v is not None
        ]
        return max(0, min(limits)) if limits else None

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Account:
        if not isinstance(data, dict):
            raise MalformedResponse(f"account: expected an object, got {data!r}")
        return cls(
            id=_get(data, "id", str),
            status=_get(data, "status", str),
            is_suspended=bool(data.get("is_suspended", False)),
            money_balance=_opt_int(data, "money_balance") or 0,
            point_balance=_opt_int(data, "point_balance") or 0,
            external_id=data.get("external_id"),
            user=User.parse(_get(data, "user", dict)),
            private_money=PrivateMoney.parse(_get(data, "private_money", dict)),
        )


@dataclass(frozen=True)
class Transaction:
    id: str
    type: str
    is_modified: bool
    sender_id: str | None
    receiver_id: str | None
    receiver_account_id: str | None
    private_money_id: str | None
    amount: int
    money_amount: int
    point_amount: int
    done_at: str
    description: str
    sender_private_money_id: str | None = None  # the money value left (a move's sender)

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Transaction:
        if not isinstance(data, dict):
            raise MalformedResponse(f"transaction: expected an object, got {data!r}")
        receiver_account = data.get("receiver_account") or {}
        money = receiver_account.get("private_money") or {}
        sender_money = (data.get("sender_account") or {}).get("private_money") or {}
        return cls(
            id=_get(data, "id", str),
            type=_get(data, "type", str),
            is_modified=bool(data.get("is_modified", False)),
            sender_id=(data.get("sender") or {}).get("id"),
            receiver_id=(data.get("receiver") or {}).get("id"),
            receiver_account_id=receiver_account.get("id"),
            private_money_id=money.get("id"),
            amount=_int(data, "amount"),
            money_amount=_int(data, "money_amount"),
            point_amount=_int(data, "point_amount"),
            done_at=_get(data, "done_at", str),
            description=str(data.get("description") or ""),
            sender_private_money_id=sender_money.get("id"),
        )


@dataclass(frozen=True)
class HistoryPage:
    rows: list[Transaction]
    count: int
    per_page: int
    next_page_cursor_id: str | None
    prev_page_cursor_id: str | None

    @classmethod
    def parse(cls, data: dict[str, Any]) -> HistoryPage:
        return cls(
            rows=[Transaction.parse(r) for r in _get(data, "rows", list)],
            count=_int(data, "count"),
            per_page=_int(data, "per_page"),
            next_page_cursor_id=data.get("next_page_cursor_id"),
            prev_page_cursor_id=data.get("prev_page_cursor_id"),
        )
