"""Every documented error ``type`` maps to its typed error; malformed results are refused."""

from __future__ import annotations

import pytest

from kiosk.wallet import errors
from kiosk.wallet.models import Account, HistoryPage, Transaction

DOCUMENTED = {
    "account_suspended": errors.AccountSuspended,
    "account_pre_closed": errors.AccountClosed,
    "account_closed": errors.AccountClosed,
    "customer_account_not_found": errors.CustomerNotFound,
    "customer_user_not_found": errors.CustomerNotFound,
    "account_balance_exceeded": errors.BalanceExceeded,
    "account_transfer_limit_exceeded": errors.TransferLimitExceeded,
    "account_money_topup_transfer_limit_exceeded": errors.TopupLimitExceeded,
    "account_total_topup_limit_range": errors.PeriodTopupLimitExceeded,
    "account_total_topup_limit_entire_period": errors.PeriodTopupLimitExceeded,
    "private_money_not_found": errors.MoneyUnavailable,
    "private_money_closed": errors.MoneyUnavailable,
    "account_can_not_topup": errors.MoneyUnavailable,
    "shop_account_not_found": errors.MoneyUnavailable,
    "request_id_conflict": errors.RequestIdConflict,
    "partner_request_expired": errors.RequestExpired,
    "partner_request_already_done": errors.EnvelopeRejected,
    "partner_decryption_failed": errors.EnvelopeRejected,
    "partner_client_not_found": errors.EnvelopeRejected,
    "temporarily_unavailable": errors.TemporarilyUnavailable,
    "notfound": errors.NotFound,
    "transaction_not_found": errors.NotFound,
}


@pytest.mark.parametrize(("kind", "cls"), DOCUMENTED.items())
def test_documented_types_map_to_typed_errors(kind: str, cls: type[errors.WalletError]) -> None:
    error = errors.error_from_response(422, {"type": kind, "message": "本文"})
    assert type(error) is cls
    assert (error.type, error.status, error.message) == (kind, 422, "本文")


def test_refusals_for_good_are_told_apart_from_transient_failures() -> None:
    for_good = [k for k, c in DOCUMENTED.items() if issubclass(c, errors.RefusedForGood)]
    assert "account_suspended" in for_good and "account_balance_exceeded" in for_good
    assert not issubclass(errors.TemporarilyUnavailable, errors.RefusedForGood)
    assert not issubclass(errors.WalletUnreachable, errors.RefusedForGood)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (503, errors.TemporarilyUnavailable),
        (404, errors.NotFound),
        (400, errors.InvalidRequest),
        (403, errors.InvalidRequest),
        (500, errors.WalletError),
    ],
)
def test_unknown_types_fall_back_on_the_status(status: int, cls: type) -> None:
    assert type(errors.error_from_response(status, {"type": "something_new"})) is cls
    assert type(errors.error_from_response(status, None)) is cls


@pytest.mark.parametrize(
    ("parse", "data"),
    [
        (Account.parse, {"id": "a", "status": "active", "user": {"id": "u"}}),
        (
            Account.parse,
            {
                "id": "a",
                "status": "active",
                "user": {"id": "u"},
                "private_money": {"id": "m", "max_balance": "lots"},
            },
        ),
        (Account.parse, ["not", "an", "object"]),
        (
            Transaction.parse,
            {
                "id": "t",
                "type": "topup",
                "amount": 1,
                "money_amount": True,
                "point_amount": 0,
                "done_at": "now",
            },
        ),
        (HistoryPage.parse, {"rows": "none", "count": 0, "per_page": 1}),
    ],
)
def test_malformed_results_are_bad_responses(parse, data) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(errors.BadResponse):
        parse(data)
