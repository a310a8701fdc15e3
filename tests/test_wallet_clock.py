"""A kiosk whose clock is off, against the real sandbox: the wallet's ``Date`` header tells by
how much, and the start line, the refusal, a card lookup and a credit all say so."""

from __future__ import annotations

import asyncio
import email.utils
import logging
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from kiosk.core.events import MemberFound, WalletDown
from kiosk.engine.delivery import Delivered, Delivery
from kiosk.engine.lookup import look_up_member
from kiosk.journal import Journal
from kiosk.wallet.client import WalletClient, tls_context
from kiosk.wallet.errors import RequestExpired
from tests.support.engine import FAST_DELIVERY
from tests.support.wallet import (
    MOCK_SETTINGS,
    TEN_MINUTES,
    Sandbox,
    skewed_client,
    stacked_credit,
    with_client,
)


def test_the_sandbox_sends_a_date_header_on_its_own_clock(wallet: Sandbox) -> None:
    with httpx.Client(
        base_url=wallet.info["base_url"], verify=tls_context(wallet.settings())
    ) as http:
        plain = email.utils.parsedate_to_datetime(http.get("/ping").headers["Date"])
        wallet.faults(clock_offset_s=-TEN_MINUTES)
        behind = email.utils.parsedate_to_datetime(http.get("/ping").headers["Date"])
    assert abs((plain - datetime.now(UTC)).total_seconds()) < 3
    assert abs((behind - datetime.now(UTC)).total_seconds() + TEN_MINUTES) < 3


def test_a_right_clock_measures_about_zero(wallet: Sandbox) -> None:
    async def ping(client: WalletClient) -> tuple[float | None, str | None]:
        assert await client.ping()
        return client.clock_offset_s, client.clock_problem

    offset, problem = with_client(wallet.settings(), ping)
    assert offset is not None and abs(offset) < 2
    assert problem is None


@pytest.mark.parametrize("off_s", [-TEN_MINUTES, TEN_MINUTES])
def test_a_request_refused_as_expired_says_how_far_off_the_clock_is(
    wallet: Sandbox, off_s: float
) -> None:
    async def go() -> tuple[float | None, RequestExpired]:
        async with skewed_client(wallet, off_s) as client:
            with pytest.raises(RequestExpired) as refused:
                await client.find_account_by_card(wallet.moneys["base"], "0123456789ABCDEF")
            return client.clock_offset_s, refused.value

    offset, error = asyncio.run(go())
    assert offset is not None and abs(offset + off_s) < 2  # the wallet's time minus ours
    side = "behind" if off_s < 0 else "ahead of"
    assert f"this machine's clock is 600 s {side} the wallet's" in str(error)
    assert "check NTP" in str(error) and "partner_request_expired" in str(error)
    assert error.clock_note == f"clock off by {off_s:+.0f} s"


def test_the_sandbox_clock_can_be_skewed_instead(wallet: Sandbox) -> None:
    """The same refusal when it is the wallet's clock that is moved (a fault, for tests of the
    real kiosk process, whose own clock cannot be moved without root)."""
    wallet.faults(clock_offset_s=TEN_MINUTES)

    async def go(client: WalletClient) -> str:
        with pytest.raises(RequestExpired) as refused:
            await client.transaction_by_request_id("6a0e6f2c-2f57-4c6b-9a38-0c6d7f0e8d11")
        return str(refused.value)

    assert "this machine's clock is 600 s behind the wallet's" in with_client(wallet.settings(), go)


def test_a_card_lookup_refused_for_the_clock_names_it(tmp_path: Path, wallet: Sandbox) -> None:
    journal = Journal(tmp_path / "journal.sqlite3", "K01")
    card = wallet.card_of(wallet.member())

    async def look_up(off_s: float) -> object:
        async with skewed_client(wallet, off_s) as client:
            return await look_up_member(client, journal, wallet.moneys, "base", card)

    assert asyncio.run(look_up(-TEN_MINUTES)) == WalletDown("clock off by -600 s")
    assert isinstance(asyncio.run(look_up(0.0)), MemberFound)
    journal.close()


def test_a_credit_refused_for_the_clock_waits_and_says_why(
    tmp_path: Path, wallet: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    journal = Journal(tmp_path / "journal.sqlite3", "K01")
    member = wallet.member()
    credit = stacked_credit(journal, wallet, member, 1000)

    async def go() -> Delivered:
        async with skewed_client(wallet, TEN_MINUTES) as client:
            outcome = await Delivery(journal, client, FAST_DELIVERY).deliver(credit)
            return outcome.state

    with caplog.at_level(logging.INFO, logger="paykiosk.delivery"):
        assert asyncio.run(go()) is Delivered.RETRY
    error = journal.credits.get(credit.id).last_error or ""
    assert "this machine's clock is 600 s ahead of the wallet's" in error
    assert any(
        r.levelno == logging.ERROR and "600 s ahead" in r.getMessage() for r in caplog.records
    )
    assert journal.credits.get(credit.id).state == "sent"  # retried later, never dropped
    assert wallet.balance(member, "base") == 0
    journal.close()


def _expired_without_date(request: httpx.Request) -> httpx.Response:
    """A wallet that refuses as expired, in plain JSON, with no ``Date`` header."""
    return httpx.Response(400, json={"type": "partner_request_expired", "message": "expired"})


def test_a_refusal_without_a_date_header_still_names_the_clock() -> None:
    async def go(client: WalletClient) -> tuple[float | None, RequestExpired]:
        with pytest.raises(RequestExpired) as refused:
            await client.transaction("6a0e6f2c-2f57-4c6b-9a38-0c6d7f0e8d11")
        return client.clock_offset_s, refused.value

    offset, error = with_client(
        MOCK_SETTINGS, go, transport=httpx.MockTransport(_expired_without_date)
    )
    assert offset is None
    assert "this machine's clock is probably wrong: set it (check NTP)" in str(error)
    assert error.clock_note == "clock wrong (request expired)"
