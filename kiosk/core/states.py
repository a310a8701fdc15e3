"""The states of the kiosk's member session (the screens and the panel follow them)."""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    IDLE = "idle"
    LOOKING_UP = "looking_up"
    ACCOUNT = "account"
    HISTORY = "history"
    CHOOSE_MONEY = "choose_money"
    ACCEPTING = "accepting"
    CREDITING = "crediting"
    DONE = "done"
    MOVE_ROUTE = "move_route"  # マネー移動: from which money to which
    MOVE_AMOUNT = "move_amount"
    MOVE_CONFIRM = "move_confirm"  # both balances before and after; 確定 / cancel
    MOVING = "moving"  # journaled, on its way to the wallet
    MOVED = "moved"  # the result (moved, refused, or being processed)
    UNKNOWN_CARD = "unknown_card"
    ACCOUNT_SUSPENDED = "account_suspended"
    WALLET_UNAVAILABLE = "wallet_unavailable"
    OUT_OF_SERVICE = "out_of_service"


class SessionError(RuntimeError):
    """An event the current state does not allow (or refuses): the state is unchanged."""
