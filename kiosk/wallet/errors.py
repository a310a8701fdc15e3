"""Wallet errors, typed from the API's ``type`` field."""

from __future__ import annotations

from typing import Self

# How far this machine's clock may be from the wallet's before the kiosk calls it wrong. The
# wallet refuses a request whose timestamp is outside its window (the sandbox: ±120 s; Pokepay
# does not publish its own), so warn well inside it.
CLOCK_TOLERANCE_S = 60.0


def clock_wrong(offset_s: float) -> bool:
    """Is a measured offset (wallet time minus ours) beyond :data:`CLOCK_TOLERANCE_S`?"""
    return abs(offset_s) > CLOCK_TOLERANCE_S


def clock_behind_or_ahead(offset_s: float) -> str:
    """``"600 s behind the wallet's"`` for an offset of +600 s (wallet time minus ours)."""
    return f"{abs(offset_s):.0f} s {'behind' if offset_s > 0 else 'ahead of'} the wallet's"


def clock_off_by(offset_s: float) -> str:
    """Small print for staff: ``"clock off by -600 s"`` when this machine is 600 s behind."""
    return f"clock off by {-offset_s:+.0f} s"


def elide_ids(path: str) -> str:
    """A URL path with its ids (UUIDs, 32+ characters) replaced by "…": for logs and errors."""
    return "/".join("…" if len(part) >= 32 else part for part in path.split("/"))


class WalletError(Exception):
    """Any failure of a wallet call. ``status`` is the HTTP status (0 when none arrived);
    ``method`` and ``path`` name the request (ids elided; empty when not from a request)."""

    def __init__(
        self, message: str, *, type: str = "", status: int = 0, method: str = "", path: str = ""
    ) -> None:
        super().__init__(message)
        self.type = type
        self.status = status
        self.message = message
        self.method = method
        self.path = elide_ids(path)

    def at(self, method: str, path: str) -> Self:
        """Name the request this error came from, unless it already names one."""
        if not self.method:
            self.method, self.path = method, elide_ids(path)
        return self

    def __str__(self) -> str:
        head = f"{self.type} ({self.status})" if self.type else f"HTTP {self.status}"
        if self.method:
            head = f"{self.method} {self.path}: {head}"
        return f"{head}: {self.message}" if self.message else head


class WalletUnreachable(WalletError):
    """No answer: connection refused or reset, TLS failure, or time-out (after retries)."""


class TemporarilyUnavailable(WalletError):
    """503 ``temporarily_unavailable`` (after retries)."""


class RefusedForGood(WalletError):
    """The wallet will not take this top-up or move as asked: retrying cannot help."""


class AccountSuspended(RefusedForGood):
    pass


class AccountClosed(RefusedForGood):
    """``account_pre_closed`` or ``account_closed``."""


class LimitExceeded(RefusedForGood):
    """Any cap or limit: the amount does not fit."""


class BalanceExceeded(LimitExceeded):
    """``account_balance_exceeded``: over the money's ``max_balance``."""


class TransferLimitExceeded(LimitExceeded):
    """``account_transfer_limit_exceeded``: over the per-transaction limit."""


class TopupLimitExceeded(LimitExceeded):
    """``account_money_topup_transfer_limit_exceeded``: over the per-top-up limit."""


class PeriodTopupLimitExceeded(LimitExceeded):
    """``account_total_topup_limit_range`` / ``…_entire_period``: top-ups over a period (not
    readable in advance)."""


class CustomerNotFound(RefusedForGood):
    """``customer_user_not_found``, ``customer_account_not_found`` or ``account_not_found``."""


class BalanceNotEnough(RefusedForGood):
    """``account_balance_not_enough``: the move's sender money holds less than the amount."""


class MoveNotAllowed(RefusedForGood):
    """A move the wallet does not allow: same money, between users, restricted, bad amount."""


class MoneyUnavailable(RefusedForGood):
    """The money or the shop cannot take top-ups (closed, not found, not permitted)."""


class RequestIdConflict(RefusedForGood):
    """The ``request_id`` belongs to another user's transaction: a bug, never retried."""


class InvalidRequest(WalletError):
    """400 parameter errors and 403 permission errors."""


class NotFound(WalletError):
    """404 ``notfound`` (or 422 ``transaction_not_found``)."""


class EnvelopeRejected(WalletError):
    """The server refused the envelope: expired timestamp, reused call id, undecryptable data,
    unknown client."""


class RequestExpired(EnvelopeRejected):
    """``partner_request_expired``: the kiosk's clock is off (keep it NTP-synced).
    ``clock_offset_s`` is the wallet's time minus ours, from the answer's ``Date`` header (None
    when it had none); the text says how far off the clock is."""

    clock_offset_s: float | None = None

    def with_clock(self, offset_s: float | None) -> Self:
        self.clock_offset_s = offset_s
        return self

    @property
    def clock_note(self) -> str:
        """Small print for staff: ``"clock off by -600 s"``."""
        if self.clock_offset_s is None:
            return "clock wrong (request expired)"
        return clock_off_by(self.clock_offset_s)

    def __str__(self) -> str:
        if self.clock_offset_s is None:
            clock = "this machine's clock is probably wrong"
        else:
            clock = f"this machine's clock is {clock_behind_or_ahead(self.clock_offset_s)}"
        return f"{super().__str__()}; {clock}: set it (check NTP)"


class BadResponse(WalletError):
    """The response could not be decrypted or does not have the documented shape."""


class TransactionMismatch(WalletError):
    """The transaction returned for our ``request_id`` (a top-up's or a move's) is not what we
    asked for."""


_BY_TYPE: dict[str, type[WalletError]] = {
    "account_suspended": AccountSuspended,
    "account_pre_closed": AccountClosed,
    "account_closed": AccountClosed,
    "account_balance_exceeded": BalanceExceeded,
    "account_transfer_limit_exceeded": TransferLimitExceeded,
    "account_money_topup_transfer_limit_exceeded": TopupLimitExceeded,
    "account_total_topup_limit_range": PeriodTopupLimitExceeded,
    "account_total_topup_limit_entire_period": PeriodTopupLimitExceeded,
    "customer_account_not_found": CustomerNotFound,
    "customer_user_not_found": CustomerNotFound,
    "account_not_found": CustomerNotFound,
    "account_balance_not_enough": BalanceNotEnough,
    "can_not_exchange_between_same_private_money": MoveNotAllowed,
    "can_not_exchange_between_users": MoveNotAllowed,
    "transaction_restricted": MoveNotAllowed,
    "transaction_invalid_amount": MoveNotAllowed,
    "private_money_not_found": MoneyUnavailable,
    "private_money_closed": MoneyUnavailable,
    "account_can_not_topup": MoneyUnavailable,
    "shop_account_not_found": MoneyUnavailable,
    "request_id_conflict": RequestIdConflict,
    "temporarily_unavailable": TemporarilyUnavailable,
    "notfound": NotFound,
    "transaction_not_found": NotFound,
    "partner_request_expired": RequestExpired,
    "partner_request_already_done": EnvelopeRejected,
    "partner_decryption_failed": EnvelopeRejected,
    "partner_client_not_found": EnvelopeRejected,
}


def error_class(kind: str) -> type[WalletError] | None:
    """The typed error for an API error ``type`` (as a journal keeps it); None if unknown."""
    return _BY_TYPE.get(kind)


def error_from_response(
    status: int, body: object, *, method: str = "", path: str = ""
) -> WalletError:
    """The typed error for an error status and its (decrypted or plain) body."""
    data = body if isinstance(body, dict) else {}
    kind = str(data.get("type") or "")
    message = str(data.get("message") or "")
    cls = _BY_TYPE.get(kind)
    if cls is None:
        if status == 503:
            cls = TemporarilyUnavailable
        elif status == 404:
            cls = NotFound
        elif status in (400, 403):
            cls = InvalidRequest
        else:
            cls = WalletError
    return cls(message or f"HTTP {status}", type=kind, status=status, method=method, path=path)
