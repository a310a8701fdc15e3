"""The charge session as a pure state machine: events in, state and effects out, no I/O.

Every allowed (state, event) pair is in :data:`TRANSITIONS`; anything else raises
:class:`SessionError`, so a surprise is loud, never a silent no-op. The state diagram in the
README is generated from that table (``paykiosk diagram``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from kiosk.wallet.models import Account


class State(StrEnum):
    IDLE = "idle"
    LOOKING_UP = "looking_up"
    ACCOUNT = "account"
    CHOOSE_MONEY = "choose_money"
    ACCEPTING = "accepting"
    CREDITING = "crediting"
    DONE = "done"
    UNKNOWN_CARD = "unknown_card"
    ACCOUNT_SUSPENDED = "account_suspended"
    WALLET_UNAVAILABLE = "wallet_unavailable"
    OUT_OF_SERVICE = "out_of_service"


class SessionError(RuntimeError):
    """An event the current state does not allow."""


# ---- events -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Member:
    user_id: str
    name: str
    wallets: dict[str, Account]  # bucket → wallet
    being_credited: int = 0  # cash already taken, credit not yet confirmed


@dataclass(frozen=True)
class CardTouched:
    card_id: str


@dataclass(frozen=True)
class CardUnreadable:
    """A FeliCa card whose member number block could not be read."""


@dataclass(frozen=True)
class MemberFound:
    member: Member


@dataclass(frozen=True)
class MemberUnknown:
    pass


@dataclass(frozen=True)
class MemberSuspended:
    name: str


@dataclass(frozen=True)
class WalletDown:
    reason: str


@dataclass(frozen=True)
class ChargeRequested:
    pass


@dataclass(frozen=True)
class MoneyChosen:
    bucket: str


@dataclass(frozen=True)
class NoteStacked:
    value: int


@dataclass(frozen=True)
class NoteHandedBack:
    value: int | None
    reason: str


@dataclass(frozen=True)
class FinishPressed:
    pass


@dataclass(frozen=True)
class CancelPressed:
    pass


@dataclass(frozen=True)
class Timeout:
    pass


@dataclass(frozen=True)
class CreditSettled:
    outcome: str  # confirmed | being_credited | refused
    new_balance: int | None = None
    reference: str | None = None


@dataclass(frozen=True)
class Acknowledged:
    pass


@dataclass(frozen=True)
class AcceptorFault:
    detail: str


@dataclass(frozen=True)
class AcceptorRecovered:
    pass


Event = (
    CardTouched
    | MemberFound
    | MemberUnknown
    | MemberSuspended
    | WalletDown
    | ChargeRequested
    | MoneyChosen
    | NoteStacked
    | NoteHandedBack
    | FinishPressed
    | CancelPressed
    | Timeout
    | CreditSettled
    | Acknowledged
    | AcceptorFault
    | AcceptorRecovered
)


# ---- effects (what the engine must do) ----------------------------------------------------
@dataclass(frozen=True)
class LookUp:
    card_id: str


@dataclass(frozen=True)
class StartAccepting:
    bucket: str
    headroom: int


@dataclass(frozen=True)
class FinishAndCredit:
    """Stop the acceptor, let a note in flight settle, close the session, credit it."""


@dataclass(frozen=True)
class EndWithoutMoney:
    """Stop the acceptor and close the session: nothing was inserted."""


Effect = LookUp | StartAccepting | FinishAndCredit | EndWithoutMoney

_ERRORS = (State.UNKNOWN_CARD, State.ACCOUNT_SUSPENDED, State.WALLET_UNAVAILABLE)
_BROWSING = (State.ACCOUNT, State.CHOOSE_MONEY)

# (state, event) → handler name. The handler picks the next state (and may refuse).
TRANSITIONS: dict[tuple[State, type], str] = {
    (State.IDLE, CardTouched): "look_up",
    (State.IDLE, CardUnreadable): "unreadable",
    (State.LOOKING_UP, MemberFound): "show_account",
    (State.LOOKING_UP, MemberUnknown): "unknown_card",
    (State.LOOKING_UP, MemberSuspended): "suspended",
    (State.LOOKING_UP, WalletDown): "wallet_down",
    (State.ACCOUNT, ChargeRequested): "choose_money",
    (State.CHOOSE_MONEY, Acknowledged): "back_to_account",
    (State.ACCEPTING, NoteStacked): "note_in",
    (State.ACCEPTING, NoteHandedBack): "note_back",
    (State.ACCEPTING, FinishPressed): "finish",
    (State.ACCEPTING, Timeout): "finish",
    (State.ACCEPTING, CancelPressed): "cancel_accepting",
    (State.ACCEPTING, CardTouched): "stay",
    (State.ACCEPTING, AcceptorFault): "fault_while_accepting",
    (State.CREDITING, CreditSettled): "settled",
    (State.CREDITING, CardTouched): "stay",
    (State.CREDITING, AcceptorFault): "remember_fault",
    (State.CREDITING, NoteStacked): "note_in",  # a note in flight landed while finishing
    (State.CREDITING, NoteHandedBack): "stay",
    (State.DONE, Acknowledged): "to_idle",
    (State.DONE, Timeout): "to_idle",
    (State.DONE, CardTouched): "look_up",
    (State.DONE, AcceptorFault): "remember_fault",
    (State.OUT_OF_SERVICE, AcceptorRecovered): "recovered",
    (State.OUT_OF_SERVICE, AcceptorFault): "remember_fault",
    (State.OUT_OF_SERVICE, CardTouched): "stay",
}
for _state in (State.ACCOUNT, State.CHOOSE_MONEY):
    TRANSITIONS[(_state, MoneyChosen)] = "start_accepting"
    TRANSITIONS[(_state, CancelPressed)] = "to_idle"
    TRANSITIONS[(_state, Timeout)] = "to_idle"
    TRANSITIONS[(_state, CardTouched)] = "look_up"
for _state in (*_ERRORS, State.DONE, *_BROWSING):
    TRANSITIONS[(_state, CardUnreadable)] = "unreadable"
for _state in _ERRORS:
    TRANSITIONS[(_state, Acknowledged)] = "to_idle"
    TRANSITIONS[(_state, Timeout)] = "to_idle"
    TRANSITIONS[(_state, CardTouched)] = "look_up"
for _state in (State.IDLE, State.LOOKING_UP, *_BROWSING, *_ERRORS):
    TRANSITIONS[(_state, AcceptorFault)] = "out_of_service"
for _event in (MemberFound, MemberUnknown, MemberSuspended, WalletDown):
    TRANSITIONS[(State.OUT_OF_SERVICE, _event)] = "stay"  # a lookup that finished too late
for _state in State:
    TRANSITIONS.setdefault((_state, AcceptorRecovered), "recovered_elsewhere")

# Next states a handler may lead to (for the generated diagram).
HANDLER_TARGETS: dict[str, tuple[State, ...]] = {
    "look_up": (State.LOOKING_UP, State.OUT_OF_SERVICE),
    "show_account": (State.ACCOUNT,),
    "unknown_card": (State.UNKNOWN_CARD,),
    "unreadable": (State.UNKNOWN_CARD, State.OUT_OF_SERVICE),
    "suspended": (State.ACCOUNT_SUSPENDED,),
    "wallet_down": (State.WALLET_UNAVAILABLE,),
    "choose_money": (State.CHOOSE_MONEY,),
    "back_to_account": (State.ACCOUNT,),
    "start_accepting": (State.ACCEPTING,),
    "finish": (State.CREDITING, State.IDLE),
    "cancel_accepting": (State.IDLE,),
    "fault_while_accepting": (State.CREDITING, State.OUT_OF_SERVICE),
    "settled": (State.DONE,),
    "to_idle": (State.IDLE, State.OUT_OF_SERVICE),
    "out_of_service": (State.OUT_OF_SERVICE,),
    "recovered": (State.IDLE,),
}


@dataclass
class Session:
    """The kiosk's one charge session (or none, in IDLE)."""

    state: State = State.IDLE
    member: Member | None = None
    bucket: str | None = None
    headroom: int = 0  # what fitted when accepting started
    inserted: int = 0  # stacked notes of this session
    notice: str = ""  # last thing to tell the member (a note handed back, a refused money…)
    settled: CreditSettled | None = None
    fault: str | None = None
    history: list[tuple[State, str, State]] = field(default_factory=list)

    @property
    def remaining(self) -> int:
        return max(0, self.headroom - self.inserted)

    def handle(self, event: Any) -> list[Effect]:
        name = TRANSITIONS.get((self.state, type(event)))
        if name is None:
            raise SessionError(f"{type(event).__name__} is not expected in {self.state}")
        before = self.state
        effects: list[Effect] = getattr(self, f"_{name}")(event) or []
        self.history.append((before, type(event).__name__, self.state))
        del self.history[:-50]
        return effects

    # ---- handlers ----------------------------------------------------------------------
    def _look_up(self, event: CardTouched) -> list[Effect]:
        fault = self.fault
        self._reset()
        if fault:  # the acceptor failed meanwhile: no new session
            self.fault, self.state = fault, State.OUT_OF_SERVICE
            return []
        self.state = State.LOOKING_UP
        return [LookUp(event.card_id)]

    def _show_account(self, event: MemberFound) -> None:
        self.member, self.state = event.member, State.ACCOUNT

    def _unknown_card(self, event: MemberUnknown) -> None:
        self.state = State.UNKNOWN_CARD

    def _unreadable(self, event: CardUnreadable) -> None:
        fault = self.fault
        self._reset()
        self.fault = fault
        self.notice = "card_unreadable"
        self.state = State.OUT_OF_SERVICE if fault else State.UNKNOWN_CARD

    def _suspended(self, event: MemberSuspended) -> None:
        self.state = State.ACCOUNT_SUSPENDED

    def _wallet_down(self, event: WalletDown) -> None:
        self.notice, self.state = event.reason, State.WALLET_UNAVAILABLE

    def _choose_money(self, event: ChargeRequested) -> None:
        self.state = State.CHOOSE_MONEY

    def _back_to_account(self, event: Acknowledged) -> None:
        self.state = State.ACCOUNT

    def _start_accepting(self, event: MoneyChosen) -> list[Effect]:
        assert self.member is not None
        wallet = self.member.wallets.get(event.bucket)
        if wallet is None:
            raise SessionError(f"no {event.bucket} wallet: the screen must not offer it")
        headroom = wallet.headroom
        if not wallet.active or (headroom is not None and headroom <= 0):
            self.notice = "money_not_chargeable"
            self.state = State.CHOOSE_MONEY
            return []
        self.bucket, self.inserted = event.bucket, 0
        self.headroom = headroom if headroom is not None else 10**9
        self.state = State.ACCEPTING
        return [StartAccepting(event.bucket, self.headroom)]

    def _note_in(self, event: NoteStacked) -> None:
        self.inserted += event.value
        self.notice = ""

    def _note_back(self, event: NoteHandedBack) -> None:
        self.notice = f"note_returned:{event.reason}"

    def _finish(self, event: Any) -> list[Effect]:
        if self.inserted:
            self.state = State.CREDITING
            return [FinishAndCredit()]
        self.state = State.IDLE
        return [EndWithoutMoney()]

    def _cancel_accepting(self, event: CancelPressed) -> list[Effect]:
        if self.inserted:
            raise SessionError("cancel is possible only while nothing is inserted")
        self.state = State.IDLE
        return [EndWithoutMoney()]

    def _fault_while_accepting(self, event: AcceptorFault) -> list[Effect]:
        self.fault = event.detail
        if self.inserted:
            self.state = State.CREDITING
            return [FinishAndCredit()]
        self.state = State.OUT_OF_SERVICE
        return [EndWithoutMoney()]

    def _settled(self, event: CreditSettled) -> None:
        self.settled, self.state = event, State.DONE

    def _to_idle(self, event: Any) -> None:
        fault = self.fault
        self._reset()
        self.fault = fault
        self.state = State.OUT_OF_SERVICE if fault else State.IDLE

    def _out_of_service(self, event: AcceptorFault) -> None:
        self._reset()
        self.fault, self.state = event.detail, State.OUT_OF_SERVICE

    def _remember_fault(self, event: AcceptorFault) -> None:
        self.fault = event.detail

    def _recovered(self, event: AcceptorRecovered) -> None:
        self.fault, self.state = None, State.IDLE

    def _recovered_elsewhere(self, event: AcceptorRecovered) -> None:
        self.fault = None

    def _stay(self, event: Any) -> None:
        pass

    def _reset(self) -> None:
        self.member, self.bucket, self.headroom, self.inserted = None, None, 0, 0
        self.notice, self.settled, self.fault = "", None, None


def diagram() -> str:
    """Mermaid state diagram generated from :data:`TRANSITIONS`."""
    lines = ["stateDiagram-v2", "    [*] --> idle"]
    seen = set()
    for (state, event), handler in TRANSITIONS.items():
        for target in HANDLER_TARGETS.get(handler, (state,)):
            if target == state and handler in (
                "stay",
                "remember_fault",
                "recovered_elsewhere",
                "note_in",
                "note_back",
            ):
                continue
            edge = (state.value, target.value, event.__name__)
            if edge not in seen:
                seen.add(edge)
                lines.append(f"    {state.value} --> {target.value}: {event.__name__}")
    return "\n".join(lines)
