"""The engine's settings: the configuration's values it runs with (its defaults are the
configuration's, :mod:`kiosk.config.settings`) and the seconds of each time-out the session's
table names (:data:`kiosk.core.session.TIMEOUTS`)."""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.config.settings import CardSection, ChargeSection, KioskSection, MoveSection
from kiosk.core.events import (
    Event,
    MoneyChosen,
    MoveAmountAdded,
    MoveConfirmed,
    MoveRequested,
    MoveReviewPressed,
    MoveRouteChosen,
)
from kiosk.core.session import TIMEOUTS, Session, State, Wait

MB = 1_000_000  # ``[kiosk] min_free_mb``'s megabyte


@dataclass(frozen=True)
class EngineSettings:
    kiosk_id: str
    moneys: dict[str, str]  # bucket → private money id
    lookup_money: str = CardSection.lookup_money
    idle_finish_s: float = ChargeSection.idle_finish_s
    screen_timeout_s: float = ChargeSection.screen_timeout_s
    done_s: float = 15.0  # how long the result stays up
    settle_wait_s: float = 8.0  # how long the member waits for the wallet's confirmation
    note_settle_s: float = 30.0  # longest wait for a note in flight when finishing
    lookup_timeout_s: float = ChargeSection.lookup_timeout_s
    min_free_mb: float = KioskSection.min_free_mb  # below this free space no session starts
    stop_s: float = 20.0  # longest a stop waits for the session to be closed into its credit
    auto_money: str | None = None  # --no-ui: charge this bucket without asking
    move_routes: tuple[tuple[str, str], ...] = MoveSection.routes  # マネー移動 (source, target)
    auto_move: tuple[str, int] | None = None  # --no-ui: move this much to this bucket instead

    @property
    def min_free_bytes(self) -> int:
        return int(self.min_free_mb * MB)

    def timeout_for(self, state: State) -> float | None:
        """Seconds the session may stay in ``state`` untouched (None: no time-out)."""
        wait = TIMEOUTS.get(state)
        if wait is None:
            return None
        return {
            Wait.IDLE_FINISH: self.idle_finish_s,
            Wait.RESULT: self.done_s,
            Wait.LOOKUP: self.lookup_timeout_s,
            Wait.SCREEN: self.screen_timeout_s,
        }[wait]

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
