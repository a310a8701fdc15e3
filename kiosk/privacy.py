"""What may appear in logs, the journal's readable columns and screens about a card."""

from __future__ import annotations


def card_tag(card_id: str) -> str:
    """A card id shortened so it cannot be used as the card: ``0123…EF``."""
    card_id = card_id.strip().upper()
    if len(card_id) <= 6:
        return "…" + card_id[-2:]
    return f"{card_id[:4]}…{card_id[-2:]}"
