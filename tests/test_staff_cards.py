"""Staff cards: which staff card a touched card is, found through the card's stored hint
without a slow salted check of every staff card for each member's touch (journal schema 5);
wrong PINs typed after a staff card count towards the kiosk-wide lockout."""

from __future__ import annotations

import pytest

from hardware.card import mask_card_id
from kiosk.config.settings import Config
from kiosk.journal import Journal
from kiosk.staff.access import Denied, StaffAccess
from kiosk.staff.credentials import ScryptParams
from tests.support.staff_files import IDM, PIN, UNKNOWN_IDM, WRONG_PIN


def test_a_members_card_is_not_checked_against_every_staff_card(
    config: Config, journal: Journal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every touch asks whether the card is a staff card: with 12 staff cards a scrypt check
    of each would add ~80 ms to a member's touch. The stored hint narrows it to the cards that
    may match; a card stored before the hint existed (schema 4) is still checked, and found."""
    access = StaffAccess(journal, config.staff)
    access.set_pin("tanaka", PIN)
    cards = [f"0116{n:012X}" for n in range(12)]
    for idm in cards:
        access.add_card("tanaka", idm)
    with journal.db.write() as tx:  # as a card added by the kiosk before schema 5 is stored
        tx.execute(
            "UPDATE staff_cards SET hint = NULL WHERE card_tag = ?", (mask_card_id(cards[0]),)
        )
    derive = ScryptParams.derive
    calls: list[int] = []

    def counted(self: ScryptParams, secret: bytes, salt: bytes) -> bytes:
        calls.append(self.n)
        return derive(self, secret, salt)

    monkeypatch.setattr(ScryptParams, "derive", counted)
    assert access.card_owner(UNKNOWN_IDM) is None
    assert len(calls) == 1  # only the card without a hint
    calls.clear()
    assert access.card_owner(cards[7]) == "tanaka" and len(calls) <= 2
    assert access.card_owner(cards[0]) == "tanaka"


def test_wrong_pins_after_a_staff_card_lock_entry_like_any_other(
    config: Config, journal: Journal
) -> None:
    """(A card's attempt is journaled as "wrong_pin card 0116…7F": the lockout once counted
    only details that were the bare code, so a staff card could be tried without end.)"""
    access = StaffAccess(journal, config.staff)
    access.set_pin("tanaka", PIN)
    access.add_card("tanaka", IDM)
    outcomes = [access.enter_with_card(IDM, WRONG_PIN).denied for _ in range(5)]
    assert outcomes == [Denied.WRONG_PIN] * 4 + [Denied.LOCKED]
    assert access.enter_with_card(IDM, PIN).denied is Denied.LOCKED
    assert access.enter_with_key("tanaka", PIN).denied is Denied.LOCKED  # kiosk-wide
