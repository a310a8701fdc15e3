"""What the charge session hears (events), what it asks the engine to do (effects), and the
closed vocabularies a screen can ``match`` on (notices, credit outcomes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import get_args

from kiosk.core.faults import Fault
from kiosk.wallet.models import Account


class Notice(StrEnum):
    """The last thing to tell the member, beside the screen itself."""

    CARD_UNREADABLE = "card_unreadable"  # a card was touched but its number could not be read
    MONEY_NOT_CHARGEABLE = "money_not_chargeable"  # the chosen money cannot take a note now
    NOTE_RETURNED = "note_returned"  # a note was handed back (it did not fit, or not now)
    NOTE_REJECTED = "note_rejected"  # the acceptor did not recognise a note
    HISTORY_UNAVAILABLE = "history_unavailable"  # the wallet did not give the history
    MOVE_AT_LIMIT = "move_at_limit"  # マネー移動: the amount stopped at what can move


class CreditOutcome(StrEnum):
    """How the cash of a finished session stands when the member is told."""

    CONFIRMED = "confirmed"  # the wallet confirmed the credit
    BEING_CREDITED = "being_credited"  # taken and journaled; delivery goes on in the background
    REFUSED = "refused"  # refused for good: a staff case with a reference
    NOTHING_TAKEN = "nothing_taken"  # the note in flight came back: no money was taken
    NOTE_HELD = "note_held"  # nothing credited; a note is still inside the unit: staff settle it
    # taken, but the kiosk's journal failed as it closed the session: credited once the journal
    # can be written again (nothing is lost; the kiosk is out of service until then)
    KIOSK_FAULT = "kiosk_fault"


class MoveOutcome(StrEnum):
    """How a マネー移動 stands when the member is told."""

    MOVED = "moved"  # the wallet confirmed it
    BEING_PROCESSED = "being_processed"  # journaled; the wallet's answer is not in yet
    REFUSED = "refused"  # the wallet refused it: nothing moved (why: :class:`MoveRefusal`)
    NOT_STARTED = "not_started"  # the kiosk could not record it: nothing sent, nothing moved


class MoveRefusal(StrEnum):
    """Why the wallet refused a move, in the words a member can act on."""

    NOT_ENOUGH = "not_enough"  # the source money has less than that
    OVER_CAP = "over_cap"  # the target money cannot take that much (cap or transfer limit)
    ACCOUNT_STOPPED = "account_stopped"  # suspended or closed: ask at the store
    NOT_ALLOWED = "not_allowed"  # any other refusal: ask at the store


class HandBack(StrEnum):
    """Why a note came back out of the acceptor."""

    RETURNED = "returned"
    REJECTED = "rejected"


@dataclass(frozen=True)
class MoveNews:
    """A move the member made earlier: still being processed, or how it ended (once)."""

    source: str
    target: str
    amount: int
    outcome: MoveOutcome
    reference: str
    refusal: MoveRefusal | None = None
    credit_id: int | None = None  # the journal's row (marked told once shown)


@dataclass(frozen=True)
class Member:
    user_id: str
    name: str
    wallets: dict[str, Account]  # bucket → wallet
    being_credited: int = 0  # cash already taken, credit not yet confirmed
    moves: tuple[MoveNews, ...] = ()  # earlier moves: being processed, or ended since last seen
    # bucket → yen the kiosk sent its way that the wallet has not confirmed (cash and moves)
    on_its_way: dict[str, int] = field(default_factory=dict)

    @property
    def move_in_progress(self) -> bool:
        return any(m.outcome is MoveOutcome.BEING_PROCESSED for m in self.moves)


@dataclass(frozen=True)
class HistoryEntry:
    """One line of the member's history, as a screen shows it."""

    done_at: str  # ISO-8601, as the wallet gives it
    kind: str  # topup | payment | exchange_outflow | exchange_inflow | cashback | expire
    bucket: str
    amount: int  # signed: money in is positive, money out negative
    points: int = 0


# ---- events -------------------------------------------------------------------------------
@dataclass(frozen=True)
class CardTouched:
    card_id: str


@dataclass(frozen=True)
class CardUnreadable:
    """A card was touched but its member number could not be read."""


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
    reason: str  # for staff (small print, logs), not for members


@dataclass(frozen=True)
class ChargeRequested:
    pass


@dataclass(frozen=True)
class MoneyChosen:
    bucket: str


@dataclass(frozen=True)
class HistoryRequested:
    """Show the history of one money (``None``: the first of the member's moneys)."""

    bucket: str | None = None


@dataclass(frozen=True)
class MoreHistoryRequested:
    """The next (older) page of the history on screen."""


@dataclass(frozen=True)
class HistoryLoaded:
    token: int  # the load it answers; a stale answer is ignored
    entries: tuple[HistoryEntry, ...]
    next_cursor: str | None


@dataclass(frozen=True)
class HistoryFailed:
    token: int
    reason: str


@dataclass(frozen=True)
class BackPressed:
    pass


@dataclass(frozen=True)
class NoteEscrowed:
    """A note is on its way in (held in escrow, then stacking): the session is not idle."""

    value: int


@dataclass(frozen=True)
class NoteStacked:
    value: int


@dataclass(frozen=True)
class NoteHandedBack:
    value: int | None
    reason: HandBack


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
    outcome: CreditOutcome
    new_balance: int | None = None
    reference: str | None = None
    held: int = 0  # a note still inside the unit (jammed): staff settle it
    at: float | None = None  # wall clock when the member was told (the receipt's time)


@dataclass(frozen=True)
class Acknowledged:
    pass


# マネー移動: account → route (source → target) → amount → confirmation → moving → moved
@dataclass(frozen=True)
class MoveRequested:
    pass


@dataclass(frozen=True)
class MoveRouteChosen:
    source: str
    target: str


@dataclass(frozen=True)
class MoveAmountAdded:
    amount: int  # a step (+¥100, +¥500…); the total stops at what can move


@dataclass(frozen=True)
class MoveAmountAll:
    """All that can move."""


@dataclass(frozen=True)
class MoveAmountCleared:
    pass


@dataclass(frozen=True)
class MoveReviewPressed:
    """From the amount to the confirmation (balances before and after)."""


@dataclass(frozen=True)
class MoveConfirmed:
    """確定: move it."""


@dataclass(frozen=True)
class MoveSettled:
    outcome: MoveOutcome
    refusal: MoveRefusal | None = None
    source_balance: int | None = None  # new balances, when moved
    target_balance: int | None = None
    reference: str | None = None  # the receipt (journaled moves only)
    at: float | None = None  # wall clock when the member was told (the receipt's time)


@dataclass(frozen=True)
class AcceptorFault:
    """Out of service: the acceptor, the door, the service key, the journal… (the latest
    ``fault`` that holds)."""

    fault: Fault


@dataclass(frozen=True)
class AcceptorRecovered:
    """The last fault cleared: back in service."""


Event = (
    CardTouched
    | CardUnreadable
    | MemberFound
    | MemberUnknown
    | MemberSuspended
    | WalletDown
    | ChargeRequested
    | MoneyChosen
    | HistoryRequested
    | MoreHistoryRequested
    | HistoryLoaded
    | HistoryFailed
    | BackPressed
    | NoteEscrowed
    | NoteStacked
    | NoteHandedBack
    | FinishPressed
    | CancelPressed
    | Timeout
    | CreditSettled
    | Acknowledged
    | AcceptorFault
    | AcceptorRecovered
    | MoveRequested
    | MoveRouteChosen
    | MoveAmountAdded
    | MoveAmountAll
    | MoveAmountCleared
    | MoveReviewPressed
    | MoveConfirmed
    | MoveSettled
)
EVENT_TYPES: tuple[type[Event], ...] = get_args(Event)


# ---- effects (what the engine must do) ----------------------------------------------------
@dataclass(frozen=True)
class LookUp:
    card_id: str


@dataclass(frozen=True)
class LoadHistory:
    token: int
    user_id: str
    bucket: str
    cursor: str | None = None


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


@dataclass(frozen=True)
class MoveMoney:
    """Journal the move with a new request id, then have delivery carry it out."""

    user_id: str
    source: str
    target: str
    amount: int


Effect = LookUp | LoadHistory | StartAccepting | FinishAndCredit | EndWithoutMoney | MoveMoney


@dataclass(frozen=True)
class HistoryView:
    """The history on screen: which money, the page shown, whether an older one can be asked for.

    One page at a time: a loaded page replaces the one before (what a screen fits); the newest
    page again is a new :class:`HistoryRequested`."""

    bucket: str
    entries: tuple[HistoryEntry, ...] = ()  # the page on screen, newest first
    next_cursor: str | None = None  # the older page's cursor (None: this is the oldest)
    loading: bool = True
    pages: int = 0  # pages loaded so far: the one on screen is page ``pages`` (1 = newest)
