"""The charge session as a pure state machine: events in, state and effects out, no I/O.

Every allowed (state, event) pair is in :data:`TRANSITIONS` with its handler **and** the states
it may lead to. Anything else raises :class:`SessionError` (a surprise is loud, never a silent
no-op); a handler that lands outside its entry's targets raises :class:`TransitionError` (a bug).
The state diagram in docs/design.md is generated from that table (``paykiosk diagram``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from kiosk.core.events import (
    EVENT_TYPES,
    AcceptorFault,
    AcceptorRecovered,
    Acknowledged,
    BackPressed,
    CancelPressed,
    CardTouched,
    CardUnreadable,
    ChargeRequested,
    CreditSettled,
    Effect,
    EndWithoutMoney,
    Event,
    FinishAndCredit,
    FinishPressed,
    HandBack,
    HistoryFailed,
    HistoryLoaded,
    HistoryRequested,
    HistoryView,
    LoadHistory,
    LookUp,
    Member,
    MemberFound,
    MemberSuspended,
    MemberUnknown,
    MoneyChosen,
    MoreHistoryRequested,
    MoveAmountAdded,
    MoveAmountAll,
    MoveAmountCleared,
    MoveConfirmed,
    MoveMoney,
    MoveRequested,
    MoveReviewPressed,
    MoveRouteChosen,
    MoveSettled,
    NoteEscrowed,
    NoteHandedBack,
    NoteStacked,
    Notice,
    StartAccepting,
    Timeout,
    WalletDown,
)
from kiosk.core.faults import Fault
from kiosk.core.money import chargeable, movable, room

__all__ = [
    "TIMEOUTS",
    "TOUCH_RESTARTS",
    "TRANSITIONS",
    "MoveRoute",
    "Session",
    "SessionError",
    "State",
    "TransitionError",
    "Wait",
    "diagram",
]


class State(StrEnum):
    """The states of the kiosk's member session (the screens and the panel follow them)."""

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


class TransitionError(AssertionError):
    """A handler landed in a state its table entry does not name: a bug, never ignored."""


@dataclass(frozen=True)
class Transition:
    handler: str
    targets: frozenset[State]


TRANSITIONS: dict[tuple[State, type[Event]], Transition] = {}


def _on(
    states: Iterable[State],
    events: Iterable[type[Event]],
    handler: str,
    targets: Iterable[State] | None = None,
) -> None:
    """Allow ``events`` in ``states``; ``targets`` None: the state does not change."""
    for state in states:
        for event in events:
            to = frozenset(targets) if targets is not None else frozenset((state,))
            TRANSITIONS[(state, event)] = Transition(handler, to)


_S = State
_ERRORS = (_S.UNKNOWN_CARD, _S.ACCOUNT_SUSPENDED, _S.WALLET_UNAVAILABLE)
_MOVE_STEPS = (_S.MOVE_ROUTE, _S.MOVE_AMOUNT, _S.MOVE_CONFIRM)  # マネー移動, nothing sent yet
# a member on screen, no cash yet, nothing on its way to the wallet
_BROWSING = (_S.ACCOUNT, _S.HISTORY, _S.CHOOSE_MONEY, *_MOVE_STEPS)
_LOOKUP_RESULTS = (MemberFound, MemberUnknown, MemberSuspended, WalletDown)
_HISTORY_RESULTS = (HistoryLoaded, HistoryFailed)

_on([_S.IDLE, *_BROWSING, *_ERRORS], [CardTouched], "look_up", [_S.LOOKING_UP])
_on([_S.IDLE, *_BROWSING, *_ERRORS], [CardUnreadable], "unreadable", [_S.UNKNOWN_CARD])
_on([_S.LOOKING_UP], [MemberFound], "show_account", [_S.ACCOUNT])
_on([_S.LOOKING_UP], [MemberUnknown], "unknown_card", [_S.UNKNOWN_CARD])
_on([_S.LOOKING_UP], [MemberSuspended], "suspended", [_S.ACCOUNT_SUSPENDED])
_on([_S.LOOKING_UP], [WalletDown], "wallet_down", [_S.WALLET_UNAVAILABLE])
_on([_S.LOOKING_UP], [Timeout], "lookup_timed_out", [_S.WALLET_UNAVAILABLE])
_on([_S.ACCOUNT, _S.HISTORY], [ChargeRequested], "choose_money", [_S.CHOOSE_MONEY])
_on([_S.ACCOUNT, _S.HISTORY], [HistoryRequested], "show_history", [_S.HISTORY])
_on([_S.HISTORY], [MoreHistoryRequested], "more_history")
_on([_S.HISTORY], [HistoryLoaded], "history_loaded")
_on([_S.HISTORY], [HistoryFailed], "history_failed")
_on([_S.HISTORY, _S.CHOOSE_MONEY], [BackPressed], "back_to_account", [_S.ACCOUNT])
# A money that cannot take the smallest note is refused with a notice on the money choice.
_on([_S.ACCOUNT, _S.CHOOSE_MONEY], [MoneyChosen], "start_accepting",
    [_S.ACCEPTING, _S.CHOOSE_MONEY])  # fmt: skip
_on([_S.ACCOUNT, _S.HISTORY, _S.CHOOSE_MONEY, *_ERRORS], [CancelPressed], "to_idle", [_S.IDLE])
_on([*_BROWSING, *_ERRORS], [Timeout], "to_idle", [_S.IDLE])
# マネー移動: no cash; the move is journaled at 確定 and carried out like a credit.
_on([_S.ACCOUNT, _S.HISTORY], [MoveRequested], "move_start", [_S.MOVE_ROUTE])
_on([_S.MOVE_ROUTE, _S.MOVE_AMOUNT], [MoveRouteChosen], "move_route", [_S.MOVE_AMOUNT])
_on([_S.MOVE_AMOUNT], [MoveAmountAdded], "move_add")
_on([_S.MOVE_AMOUNT], [MoveAmountAll], "move_all")
_on([_S.MOVE_AMOUNT], [MoveAmountCleared], "move_clear")
_on([_S.MOVE_AMOUNT], [MoveReviewPressed], "move_review", [_S.MOVE_CONFIRM])
_on([_S.MOVE_CONFIRM], [MoveConfirmed], "move_confirm", [_S.MOVING])
_on(_MOVE_STEPS, [BackPressed], "move_back", [_S.ACCOUNT, _S.MOVE_ROUTE, _S.MOVE_AMOUNT])
_on(_MOVE_STEPS, [CancelPressed], "move_cancel", [_S.ACCOUNT])
_on([_S.MOVING], [MoveSettled], "move_settled", [_S.MOVED])
_on(_ERRORS, [Acknowledged], "to_idle", [_S.IDLE])
_on([_S.ACCEPTING, _S.CREDITING], [NoteStacked], "note_in")  # CREDITING: a note in flight
_on([_S.ACCEPTING], [NoteEscrowed], "note_escrowed")
_on([_S.ACCEPTING], [NoteHandedBack], "note_back")
_on([_S.ACCEPTING], [FinishPressed], "finish", [_S.CREDITING, _S.IDLE])
# Idle only when no note is on its way in: a note still stacking keeps the session open.
_on([_S.ACCEPTING], [Timeout], "idle_finish", [_S.CREDITING, _S.IDLE, _S.ACCEPTING])
_on([_S.ACCEPTING], [CancelPressed], "cancel_accepting", [_S.IDLE])
_on([_S.ACCEPTING], [AcceptorFault], "fault_while_accepting", [_S.CREDITING, _S.OUT_OF_SERVICE])
_on([_S.CREDITING], [CreditSettled], "settled", [_S.DONE])
_on([_S.DONE, _S.MOVED], [Acknowledged, Timeout], "to_idle", [_S.IDLE, _S.OUT_OF_SERVICE])
_on([_S.DONE, _S.MOVED], [CardTouched], "look_up", [_S.LOOKING_UP, _S.OUT_OF_SERVICE])
_on([_S.DONE, _S.MOVED], [CardUnreadable], "unreadable", [_S.UNKNOWN_CARD, _S.OUT_OF_SERVICE])
_on([_S.IDLE, _S.LOOKING_UP, *_BROWSING, *_ERRORS], [AcceptorFault], "out_of_service",
    [_S.OUT_OF_SERVICE])  # fmt: skip
# A move on its way finishes whatever the acceptor does: it takes no cash.
_on([_S.CREDITING, _S.DONE, _S.MOVING, _S.MOVED, _S.OUT_OF_SERVICE], [AcceptorFault],
    "remember_fault")  # fmt: skip
_on([_S.OUT_OF_SERVICE], [AcceptorRecovered], "recovered", [_S.IDLE])
# Late or repeated things that change nothing where they arrive:
_on([_S.ACCEPTING, _S.CREDITING, _S.MOVING, _S.OUT_OF_SERVICE], [CardTouched, CardUnreadable],
    "stay")  # fmt: skip
_on([_S.CREDITING], [NoteEscrowed, NoteHandedBack], "stay")
_on([_S.OUT_OF_SERVICE], _LOOKUP_RESULTS, "stay")  # a lookup that finished too late
for _state in State:
    if _state is not _S.HISTORY:
        _on([_state], _HISTORY_RESULTS, "stay")  # a history load that finished too late
    if _state is not _S.OUT_OF_SERVICE:
        _on([_state], [AcceptorRecovered], "recovered_elsewhere")

# What the devices and the wallet report reaches the session only where it can concern the
# member at the kiosk (see :meth:`Session.hears`): a note escrowed or handed back outside
# ACCEPTING, or stacked after its session, is the journal's alone (a stacked one is credited as
# an orphan); a lookup's answer after the lookup ended (timed out, a fault) is dropped.
HEARD_ONLY_IN: dict[type[Event], frozenset[State]] = {
    NoteEscrowed: frozenset({_S.ACCEPTING}),
    NoteHandedBack: frozenset({_S.ACCEPTING}),
    NoteStacked: frozenset({_S.ACCEPTING, _S.CREDITING}),
    **{result: frozenset({_S.LOOKING_UP}) for result in _LOOKUP_RESULTS},
}
# The table's ways out of ACCEPTING (finish, cancel, the idle time-out, a fault): a note the
# acceptor has already reserved must be in flight before one of them is handled.
_ENDS_ACCEPTING = tuple(
    event
    for (state, event), transition in TRANSITIONS.items()
    if state is _S.ACCEPTING and transition.targets != {_S.ACCEPTING}
)


@dataclass(frozen=True)
class MoveRoute:
    """A マネー移動 the member can make now."""

    source: str
    target: str
    limit: int  # how much can move now (> 0)


# ---- time-outs: which state times out after which setting -----------------------------------
# The engine applies these (its settings give the seconds): a :class:`Timeout` comes after
# that long untouched in the state, and the table above allows ``Timeout`` in exactly these
# states (tests/test_session.py checks both agree).
class Wait(StrEnum):
    IDLE_FINISH = "idle_finish"  # accepting: no note for this long finishes and credits
    RESULT = "result"  # how long the result of a charge or a move stays up
    LOOKUP = "lookup"  # no member found by then: the wallet did not answer
    SCREEN = "screen"  # any other member screen: back to idle


TIMEOUTS: dict[State, Wait] = {
    _S.ACCEPTING: Wait.IDLE_FINISH,
    _S.DONE: Wait.RESULT,
    _S.MOVED: Wait.RESULT,
    _S.LOOKING_UP: Wait.LOOKUP,
    **{_state: Wait.SCREEN for _state in (*_BROWSING, *_ERRORS)},
}
# A member's touch starts the time-out again, except while the wallet is asked (touching does
# not make it answer sooner).
TOUCH_RESTARTS = frozenset(TIMEOUTS) - {_S.LOOKING_UP}
# ---- end of time-outs ------------------------------------------------------------------------


@dataclass
class Session:
    """The kiosk's one charge session (or none, in IDLE)."""

    state: State = State.IDLE
    member: Member | None = None
    bucket: str | None = None
    headroom: int = 0  # what fitted when accepting started
    inserted: int = 0  # stacked notes of this session
    in_flight: int | None = None  # a note on its way in (escrow → stacked or handed back)
    notice: Notice | None = None  # the last thing to tell the member
    notice_amount: int | None = None  # the note a notice is about, if any
    detail: str = ""  # small print for staff (why the wallet could not be reached…)
    history_view: HistoryView | None = None
    settled: CreditSettled | None = None
    fault: Fault | None = None
    denominations: tuple[int, ...] = ()  # the notes the acceptor takes (set when it is online)
    notes_off: tuple[int, ...] = ()  # notes the acceptor knows that staff switched off
    routes: tuple[tuple[str, str], ...] = ()  # マネー移動 directions allowed (configuration)
    move_route: tuple[str, str] | None = None
    move_amount: int = 0
    moved: MoveSettled | None = None
    trail: list[tuple[State, str, State]] = field(default_factory=list)
    _history_token: int = 0

    @property
    def remaining(self) -> int:
        return max(0, self.headroom - self.inserted)

    def chargeable(self, bucket: str) -> bool:
        """The one rule, for the screens and for :class:`MoneyChosen`: see ``money.chargeable``."""
        wallet = self.member.wallets.get(bucket) if self.member else None
        on_its_way = self.on_its_way(bucket)
        return wallet is not None and chargeable(wallet, self.denominations, on_its_way)

    def room(self, bucket: str) -> int | None:
        """What still fits ``bucket`` now (None: no limit): see ``money.room``."""
        wallet = self.member.wallets.get(bucket) if self.member else None
        return None if wallet is None else room(wallet, self.on_its_way(bucket))

    def on_its_way(self, bucket: str) -> int:
        """Yen on their way into ``bucket`` that the wallet has not confirmed yet."""
        return self.member.on_its_way.get(bucket, 0) if self.member else 0

    def move_routes(self) -> list[MoveRoute]:
        """The moves the member can make now: allowed, both wallets there and active, something
        to move and room for it; none while an earlier move is still being processed."""
        member = self.member
        if member is None or member.move_in_progress:
            return []
        routes = []
        for source, target in self.routes:
            if source in member.wallets and target in member.wallets:
                limit = movable(
                    member.wallets[source], member.wallets[target], self.on_its_way(target)
                )
                if limit > 0:
                    routes.append(MoveRoute(source, target, limit))
        return routes

    def move_limit(self) -> int:
        route = self.move_route
        found = [r for r in self.move_routes() if route == (r.source, r.target)]
        return found[0].limit if found else 0

    def hears(self, event: Event) -> bool:
        """Whether a device's or the wallet's report concerns the session now
        (:data:`HEARD_ONLY_IN`); one it does not hear is not handed to it."""
        states = HEARD_ONLY_IN.get(type(event))
        return states is None or self.state in states

    def handle(self, event: Event, reserved: int | None = None) -> list[Effect]:
        """Apply ``event``: the state changes as its table entry allows; returns the effects
        for the engine. ``reserved``: a note the acceptor has reserved for this session (its
        escrow may not have reached the session yet); it is in flight before anything that
        could end accepting, so that no finish, cancel, fault or time-out ends the session
        under it."""
        if (
            reserved is not None
            and self.state is State.ACCEPTING
            and self.in_flight is None
            and isinstance(event, _ENDS_ACCEPTING)
        ):
            self.handle(NoteEscrowed(reserved))
        transition = TRANSITIONS.get((self.state, type(event)))
        if transition is None:
            raise SessionError(f"{type(event).__name__} is not expected in {self.state}")
        before = self.state
        handler: Callable[[Any], list[Effect] | None] = getattr(self, f"_{transition.handler}")
        effects = handler(event) or []
        if self.state not in transition.targets:
            raise TransitionError(
                f"{transition.handler} led {before} --{type(event).__name__}--> {self.state},"
                f" not one of {sorted(transition.targets)}"
            )
        self.trail.append((before, type(event).__name__, self.state))
        del self.trail[:-50]
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
        self.notice = Notice.CARD_UNREADABLE
        self.state = State.OUT_OF_SERVICE if fault else State.UNKNOWN_CARD

    def _suspended(self, event: MemberSuspended) -> None:
        self.state = State.ACCOUNT_SUSPENDED

    def _wallet_down(self, event: WalletDown) -> None:
        self.detail, self.state = event.reason, State.WALLET_UNAVAILABLE

    def _lookup_timed_out(self, event: Timeout) -> None:
        self.detail, self.state = "no answer in time", State.WALLET_UNAVAILABLE

    def _choose_money(self, event: ChargeRequested) -> None:
        self.notice, self.history_view, self.state = None, None, State.CHOOSE_MONEY

    def _back_to_account(self, event: BackPressed) -> None:
        self.notice, self.history_view, self.state = None, None, State.ACCOUNT

    def _show_history(self, event: HistoryRequested) -> list[Effect]:
        assert self.member is not None
        bucket = event.bucket or next(iter(self.member.wallets), None)
        if bucket is None or bucket not in self.member.wallets:
            raise SessionError(f"no {event.bucket} wallet: the screen must not offer it")
        self.notice, self.state = None, State.HISTORY
        self.history_view = HistoryView(bucket)
        return [self._load_history(bucket, None)]

    def _more_history(self, event: MoreHistoryRequested) -> list[Effect]:
        view = self.history_view
        assert view is not None
        if view.loading or view.next_cursor is None:
            return []  # nothing more, or already on its way
        self.notice = None
        self.history_view = replace(view, loading=True)
        return [self._load_history(view.bucket, view.next_cursor)]

    def _load_history(self, bucket: str, cursor: str | None) -> LoadHistory:
        assert self.member is not None
        self._history_token += 1
        return LoadHistory(self._history_token, self.member.user_id, bucket, cursor)

    def _history_loaded(self, event: HistoryLoaded) -> None:
        view = self.history_view
        if view is None or event.token != self._history_token:
            return  # an answer to a load that was superseded
        # One page at a time (what fits a screen): the newest page is a new HistoryRequested.
        self.history_view = replace(
            view,
            entries=event.entries,
            next_cursor=event.next_cursor,
            loading=False,
            pages=view.pages + 1,
        )

    def _history_failed(self, event: HistoryFailed) -> None:
        view = self.history_view
        if view is None or event.token != self._history_token:
            return
        self.history_view = replace(view, loading=False)
        self.notice, self.detail = Notice.HISTORY_UNAVAILABLE, event.reason

    def _start_accepting(self, event: MoneyChosen) -> list[Effect]:
        assert self.member is not None
        wallet = self.member.wallets.get(event.bucket)
        if wallet is None:
            raise SessionError(f"no {event.bucket} wallet: the screen must not offer it")
        if not self.chargeable(event.bucket):
            self.notice, self.state = Notice.MONEY_NOT_CHARGEABLE, State.CHOOSE_MONEY
            return []
        headroom = self.room(event.bucket)
        self.bucket, self.inserted, self.notice = event.bucket, 0, None
        self.headroom = headroom if headroom is not None else 10**9
        self.state = State.ACCEPTING
        return [StartAccepting(event.bucket, self.headroom)]

    def _note_escrowed(self, event: NoteEscrowed) -> None:
        self.in_flight = event.value

    def _note_in(self, event: NoteStacked) -> None:
        self.inserted += event.value
        self.in_flight, self.notice, self.notice_amount = None, None, None

    def _note_back(self, event: NoteHandedBack) -> None:
        self.in_flight = None
        rejected = event.reason is HandBack.REJECTED
        self.notice = Notice.NOTE_REJECTED if rejected else Notice.NOTE_RETURNED
        self.notice_amount = event.value

    def _idle_finish(self, event: Timeout) -> list[Effect]:
        if self.in_flight is not None:
            return []  # not idle: the time-out starts again when the note has settled
        return self._finish(event)

    def _finish(self, event: FinishPressed | Timeout) -> list[Effect]:
        if self.inserted or self.in_flight is not None:
            self.state = State.CREDITING
            return [FinishAndCredit()]
        self.state = State.IDLE
        return [EndWithoutMoney()]

    def _cancel_accepting(self, event: CancelPressed) -> list[Effect]:
        if self.inserted or self.in_flight is not None:
            raise SessionError("cancel is possible only while nothing is inserted")
        self.state = State.IDLE
        return [EndWithoutMoney()]

    def _fault_while_accepting(self, event: AcceptorFault) -> list[Effect]:
        self.fault = event.fault
        if self.inserted or self.in_flight is not None:
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
        self.fault, self.state = event.fault, State.OUT_OF_SERVICE

    def _remember_fault(self, event: AcceptorFault) -> None:
        self.fault = event.fault

    def _recovered(self, event: AcceptorRecovered) -> None:
        self.fault, self.state = None, State.IDLE

    def _recovered_elsewhere(self, event: AcceptorRecovered) -> None:
        self.fault = None

    def _stay(self, event: Any) -> None:
        pass

    # マネー移動: the member's choices (route, amount, confirmation); nothing moves before 確定
    def _move_start(self, event: MoveRequested) -> None:
        if not self.move_routes():
            raise SessionError("nothing can move: the screen must not offer it")
        self.notice, self.move_route, self.move_amount = None, None, 0
        self.state = State.MOVE_ROUTE

    def _move_route(self, event: MoveRouteChosen) -> None:
        self.move_route = (event.source, event.target)
        if not self.move_limit():
            self.move_route = None
            raise SessionError(f"no move {event.source} → {event.target}: not offered")
        self.notice, self.move_amount, self.state = None, 0, State.MOVE_AMOUNT

    def _move_add(self, event: MoveAmountAdded) -> None:
        if event.amount <= 0:
            raise SessionError(f"a step adds a positive amount, not {event.amount}")
        self._set_amount(self.move_amount + event.amount)

    def _move_all(self, event: MoveAmountAll) -> None:
        self._set_amount(self.move_limit())

    def _move_clear(self, event: MoveAmountCleared) -> None:
        self.notice, self.move_amount = None, 0

    def _set_amount(self, amount: int) -> None:
        limit = self.move_limit()
        self.move_amount = min(amount, limit)
        self.notice = Notice.MOVE_AT_LIMIT if amount >= limit else None

    def _move_review(self, event: MoveReviewPressed) -> None:
        if self.move_amount <= 0:
            raise SessionError("no amount chosen")
        self.notice, self.state = None, State.MOVE_CONFIRM

    def _move_confirm(self, event: MoveConfirmed) -> list[Effect]:
        assert self.member is not None and self.move_route is not None
        if not 0 < self.move_amount <= self.move_limit():
            raise SessionError(f"{self.move_amount} cannot move now")
        self.state = State.MOVING
        source, target = self.move_route
        return [MoveMoney(self.member.user_id, source, target, self.move_amount)]

    def _move_back(self, event: object) -> None:
        """Back one step (the route, the amount); from the route choice, the account."""
        self.notice = None
        if self.state is State.MOVE_CONFIRM:
            self.state = State.MOVE_AMOUNT
        elif self.state is State.MOVE_AMOUNT:
            self.state = State.MOVE_ROUTE
        else:
            self.move_route, self.move_amount, self.state = None, 0, State.ACCOUNT

    def _move_cancel(self, event: object) -> None:
        """Cancel: nothing moves; the member is back at their account."""
        self.notice, self.move_route, self.move_amount = None, None, 0
        self.state = State.ACCOUNT

    def _move_settled(self, event: MoveSettled) -> None:
        self.moved, self.state = event, State.MOVED

    def _reset(self) -> None:
        self.member, self.bucket, self.headroom, self.inserted = None, None, 0, 0
        self.in_flight = None
        self.notice, self.notice_amount, self.detail = None, None, ""
        self.settled, self.fault, self.history_view = None, None, None
        self.move_route, self.move_amount, self.moved = None, 0, None


def diagram() -> str:
    """Mermaid state diagram of :data:`TRANSITIONS`: every (state → state) edge the table
    allows, self-loops included, with the events that take it."""
    states = list(State)
    edges: dict[tuple[State, State], set[type[Event]]] = {}
    for (state, event), transition in TRANSITIONS.items():
        for target in transition.targets:
            edges.setdefault((state, target), set()).add(event)
    lines = ["stateDiagram-v2", "    [*] --> idle"]
    for state, target in sorted(edges, key=lambda e: (states.index(e[0]), states.index(e[1]))):
        names = ", ".join(e.__name__ for e in EVENT_TYPES if e in edges[(state, target)])
        lines.append(f"    {state.value} --> {target.value}: {names}")
    return "\n".join(lines)
