"""The engine's settings (from the configuration) and the time-out each member screen has."""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.core.events import (
    Event,
    MoneyChosen,
    MoveAmountAdded,
    MoveConfirmed,
    MoveRequested,
    MoveReviewPressed,
    MoveRouteChosen,
)
from kiosk.core.session import Session, State

_SCREEN_STATES = {
    State.ACCOUNT,
    State.HISTORY,
    State.CHOOSE_MONEY,
    State.UNKNOWN_CARD,
    State.ACCOUNT_SUSPENDED,
    State.WALLET_UNAVAILABLE,
    State.MOVE_ROUTE,
    State.MOVE_AMOUNT,
    State.MOVE_CONFIRM,
}
DEFAULT_MOVE_ROUTES = (("base", "cafeteria"), ("base", "textbook"))


@dataclass(frozen=True)
class EngineSettings:
    kiosk_id: str
    moneys: dict[str, str]  # bucket → private money id
    lookup_bucket: str = "base"
    idle_finish_s: float = 30.0
    screen_timeout_s: float = 60.0
    done_s: float = 15.0  # how long the result stays up
    settle_wait_s: float = 8.0  # how long the member waits for the wallet's confirmation
    note_settle_s: float = 30.0  # longest wait for a note in flight when finishing
    lookup_timeout_s: float = 12.0  # the member is told the wallet did not answer after this
    min_free_bytes: int = 32_000_000  # below this free space no session starts
    stop_s: float = 20.0  # longest a stop waits for the session to be closed into its credit
    auto_money: str | None = None  # --no-ui: charge this bucket without asking
    move_routes: tuple[tuple[str, str], ...] = DEFAULT_MOVE_ROUTES  # マネー移動 (source, target)
    auto_move: tuple[str, int] | None = None  # --no-ui: move this much to this bucket instead

    def timeout_for(self, state: State) -> float | None:
        """Seconds the session may stay in ``state`` untouched (None: no time-out)."""
        delays = {
            State.ACCEPTING: self.idle_finish_s,
            State.DONE: self.done_s,
            State.MOVED: self.done_s,
            State.LOOKING_UP: self.lookup_timeout_s,
        }
        return delays.get(state, self.screen_timeout_s if state in _SCREEN_STATES else None)

    def auto_steps(self, session: Session) -> list[Event]:
        """``--no-ui`` at the account screen: what the member would press (a charge of
        ``auto_money``, or the move ``auto_move``)."""
        if session.state is not State.ACCOUNT:
            return []
        if self.auto_move is None:
            return [MoneyChosen(self.auto_money)] if self.auto_money else []
        target, amount = self.auto_move
        routes = [r for r in session.move_routes() if r.target == target]
        if not routes:
            return []  # nothing can move there: the account stays until its time-out
        return [
            MoveRequested(),
            MoveRouteChosen(routes[0].source, target),
            MoveAmountAdded(amount),
            MoveReviewPressed(),
            MoveConfirmed(),
        ]
