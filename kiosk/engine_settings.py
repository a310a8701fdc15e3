"""The engine's settings (from the configuration) and the time-out each member screen has."""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.session import State

_SCREEN_STATES = {
    State.ACCOUNT,
    State.HISTORY,
    State.CHOOSE_MONEY,
    State.UNKNOWN_CARD,
    State.ACCOUNT_SUSPENDED,
    State.WALLET_UNAVAILABLE,
}


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

    def timeout_for(self, state: State) -> float | None:
        """Seconds the session may stay in ``state`` untouched (None: no time-out)."""
        delays = {
            State.ACCEPTING: self.idle_finish_s,
            State.DONE: self.done_s,
            State.LOOKING_UP: self.lookup_timeout_s,
        }
        return delays.get(state, self.screen_timeout_s if state in _SCREEN_STATES else None)
