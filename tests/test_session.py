"""The charge session state machine (pure): flows, refusals, the table's truth, and a stateful
property test over every event type."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from hardware.acceptor import EventKind
from kiosk.config.settings import MoveSection
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
    CreditOutcome,
    CreditSettled,
    Effect,
    EndWithoutMoney,
    FinishAndCredit,
    FinishPressed,
    HandBack,
    HistoryEntry,
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
    MoveOutcome,
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
from kiosk.core.faults import Fault, FaultSource
from kiosk.core.money import movable
from kiosk.core.session import (
    HEARD_ONLY_IN,
    TIMEOUTS,
    TOUCH_RESTARTS,
    TRANSITIONS,
    Session,
    SessionError,
    State,
    TransitionError,
    Wait,
    diagram,
)
from kiosk.core.view import snapshot
from kiosk.engine.settings import EngineSettings
from kiosk.wallet.models import Account, PrivateMoney, User

NOTES = (1000, 2000, 5000, 10000)


def wallet(
    bucket: str, balance: int, cap: int | None = 50_000, status: str = "active", points: int = 0
) -> Account:
    money = PrivateMoney(f"money-{bucket}", bucket, cap, None, 30_000)
    return Account(
        f"acct-{bucket}",
        status,
        status == "suspended",
        balance,
        points,
        None,
        User("user-1", "生協 太郎"),
        money,
    )


MEMBER = Member(
    "user-1",
    "生協 太郎",
    {"base": wallet("base", 48_500, points=120), "cafeteria": wallet("cafeteria", 0)},
)


def new_session() -> Session:
    """A session whose acceptor is online with the yen notes (マネー移動 as by default)."""
    return Session(denominations=NOTES, routes=MoveSection.routes)


def at_account(member: Member = MEMBER) -> Session:
    session = new_session()
    assert session.handle(CardTouched("0123")) == [LookUp("0123")]
    session.handle(MemberFound(member))
    return session


def accepting(bucket: str = "base") -> Session:
    session = at_account()
    session.handle(ChargeRequested())
    effects = session.handle(MoneyChosen(bucket))
    assert session.state is State.ACCEPTING
    assert effects == [StartAccepting(bucket, session.headroom)]
    return session


def test_happy_path_to_done_and_back_to_idle() -> None:
    session = accepting()
    assert session.headroom == 1_500  # cap 50,000 - 48,500
    session.handle(NoteStacked(1000))
    assert session.remaining == 500
    assert session.handle(FinishPressed()) == [FinishAndCredit()]
    assert session.state is State.CREDITING
    session.handle(CreditSettled(CreditOutcome.CONFIRMED, new_balance=49_500))
    assert session.state is State.DONE and session.settled is not None
    session.handle(Acknowledged())
    assert session.state is State.IDLE and session.member is None


def test_inactivity_while_accepting_finishes_and_credits() -> None:
    session = accepting("cafeteria")
    session.handle(NoteStacked(5000))
    assert session.handle(Timeout()) == [FinishAndCredit()]
    assert session.state is State.CREDITING


def test_inactivity_with_nothing_inserted_ends_without_money() -> None:
    session = accepting()
    assert session.handle(Timeout()) == [EndWithoutMoney()]
    assert session.state is State.IDLE


def test_a_note_still_stacking_keeps_the_session_from_idling() -> None:
    session = accepting()
    session.handle(NoteEscrowed(1000))
    assert session.handle(Timeout()) == []  # stacking takes longer than the idle time
    assert session.state is State.ACCEPTING
    with pytest.raises(SessionError):
        session.handle(CancelPressed())  # nor can it be cancelled now
    session.handle(NoteStacked(1000))
    assert session.handle(Timeout()) == [FinishAndCredit()]
    assert session.state is State.CREDITING


def test_finishing_with_a_note_in_flight_waits_for_it() -> None:
    session = accepting()
    session.handle(NoteEscrowed(1000))
    assert session.handle(FinishPressed()) == [FinishAndCredit()]  # not "nothing inserted"
    session.handle(NoteStacked(1000))  # it lands while the session closes
    assert session.inserted == 1000


def test_a_note_the_acceptor_reserved_is_in_flight_before_the_session_can_end() -> None:
    """The acceptor thread reserves a note before its escrow reaches the session: a finish,
    cancel, fault or time-out handled meanwhile must not end the session under it."""
    for ending in (FinishPressed(), AcceptorFault("jam")):
        session = accepting()
        assert session.handle(ending, reserved=1000) == [FinishAndCredit()]
        assert session.state is State.CREDITING and session.in_flight == 1000
    session = accepting()
    assert session.handle(Timeout(), reserved=1000) == []  # not idle: the note settles first
    assert session.state is State.ACCEPTING and session.in_flight == 1000
    session = accepting()
    with pytest.raises(SessionError, match="nothing is inserted"):
        session.handle(CancelPressed(), reserved=1000)
    assert session.state is State.ACCEPTING and session.in_flight == 1000
    session = accepting()
    assert session.handle(FinishPressed(), reserved=None) == [EndWithoutMoney()]


def test_the_session_hears_notes_and_lookups_only_where_they_can_be_the_members() -> None:
    session = new_session()
    assert not session.hears(NoteStacked(1000))  # a note after its session: an orphan credit
    assert not session.hears(MemberFound(MEMBER))  # a lookup that was given up on
    assert session.hears(CardTouched("0123"))  # what is not in the rule always reaches it
    session = accepting()
    assert session.hears(NoteEscrowed(1000)) and session.hears(NoteStacked(1000))
    session.handle(NoteEscrowed(1000))
    session.handle(FinishPressed())
    assert session.state is State.CREDITING
    assert session.hears(NoteStacked(1000))  # the note in flight lands in the closing session
    assert not session.hears(NoteHandedBack(1000, HandBack.RETURNED))
    for event, states in HEARD_ONLY_IN.items():  # what it hears, its table takes
        assert all((state, event) in TRANSITIONS for state in states)


def test_a_note_handed_back_is_no_longer_in_flight() -> None:
    session = accepting()
    session.handle(NoteEscrowed(5000))
    session.handle(NoteHandedBack(5000, HandBack.RETURNED))
    assert session.handle(Timeout()) == [EndWithoutMoney()]


def test_a_lookup_without_an_answer_in_time_says_the_wallet_is_unreachable() -> None:
    session = new_session()
    session.handle(CardTouched("0123"))
    assert session.handle(Timeout()) == []
    assert (session.state, session.detail) == (State.WALLET_UNAVAILABLE, "no answer in time")


def test_cancel_only_while_nothing_is_inserted() -> None:
    session = accepting()
    session.handle(NoteStacked(1000))
    with pytest.raises(SessionError, match="nothing is inserted"):
        session.handle(CancelPressed())
    assert session.state is State.ACCEPTING and session.inserted == 1000
    assert accepting().handle(CancelPressed()) == [EndWithoutMoney()]


def test_a_note_handed_back_is_told_with_its_value_and_why() -> None:
    session = accepting()
    session.handle(NoteHandedBack(5000, HandBack.RETURNED))
    assert (session.notice, session.notice_amount) == (Notice.NOTE_RETURNED, 5000)
    session.handle(NoteHandedBack(None, HandBack.REJECTED))
    assert session.notice is Notice.NOTE_REJECTED
    session.handle(NoteStacked(1000))
    assert session.notice is None


@pytest.mark.parametrize(
    ("result", "state"),
    [
        (MemberUnknown(), State.UNKNOWN_CARD),
        (MemberSuspended("x"), State.ACCOUNT_SUSPENDED),
        (WalletDown("timed out"), State.WALLET_UNAVAILABLE),
    ],
)
def test_lookup_failures_take_no_cash(
    result: MemberUnknown | MemberSuspended | WalletDown, state: State
) -> None:
    session = new_session()
    session.handle(CardTouched("0123"))
    assert session.handle(result) == []
    assert session.state is state
    with pytest.raises(SessionError):
        session.handle(MoneyChosen("base"))
    session.handle(Timeout())
    assert session.state is State.IDLE


def test_wallet_down_reason_is_small_print_not_a_notice() -> None:
    session = new_session()
    session.handle(CardTouched("0123"))
    session.handle(WalletDown("ConnectError"))
    assert (session.notice, session.detail) == (None, "ConnectError")


def test_full_or_suspended_money_is_refused_on_the_money_choice() -> None:
    member = Member(
        "u",
        "n",
        {"base": wallet("base", 50_000), "textbook": wallet("textbook", 0, status="suspended")},
    )
    session = at_account(member)
    for bucket in ("base", "textbook"):
        assert session.handle(MoneyChosen(bucket)) == []
        assert session.state is State.CHOOSE_MONEY
        assert session.notice is Notice.MONEY_NOT_CHARGEABLE


def test_no_money_is_chargeable_while_the_notes_are_unknown() -> None:
    session = Session()  # the acceptor has not reported its notes yet
    session.handle(CardTouched("1"))
    session.handle(MemberFound(MEMBER))
    assert not session.chargeable("cafeteria")
    assert session.handle(MoneyChosen("cafeteria")) == []
    assert session.state is State.CHOOSE_MONEY


@given(
    balance=st.integers(0, 60_000),
    cap=st.none() | st.integers(0, 60_000),
    status=st.sampled_from(["active", "suspended", "closed"]),
    notes=st.sets(st.sampled_from(NOTES)).map(lambda s: tuple(sorted(s))),
)
def test_one_chargeability_rule_for_the_screen_and_the_session(
    balance: int, cap: int | None, status: str, notes: tuple[int, ...]
) -> None:
    member = Member("u", "n", {"base": wallet("base", balance, cap, status)})
    session = Session(denominations=notes)
    session.handle(CardTouched("1"))
    session.handle(MemberFound(member))
    shown = snapshot(session).buckets[0]
    session.handle(MoneyChosen("base"))
    assert shown.chargeable == (session.state is State.ACCEPTING)
    if shown.chargeable:  # the smallest note fits whenever the money is offered
        assert session.remaining >= min(notes)
        assert snapshot(session).largest_note is not None


def test_acceptor_fault_while_accepting_credits_what_went_in_then_out_of_service() -> None:
    session = accepting()
    session.handle(NoteStacked(1000))
    assert session.handle(
        AcceptorFault(Fault(FaultSource.ACCEPTOR, "jam stacker", EventKind.JAM))
    ) == [FinishAndCredit()]
    session.handle(CreditSettled(CreditOutcome.BEING_CREDITED))
    session.handle(Acknowledged())
    assert session.state is State.OUT_OF_SERVICE
    assert session.handle(CardTouched("2")) == []
    session.handle(AcceptorRecovered())
    assert session.state is State.IDLE


def test_unreadable_card_is_told_to_the_member_without_a_lookup() -> None:
    session = new_session()
    assert session.handle(CardUnreadable()) == []
    assert (session.state, session.notice) == (State.UNKNOWN_CARD, Notice.CARD_UNREADABLE)
    session.handle(Timeout())
    assert session.state is State.IDLE


def entries(*amounts: int) -> tuple[HistoryEntry, ...]:
    return tuple(HistoryEntry("2026-11-30T12:00:00+09:00", "payment", "base", -a) for a in amounts)


def test_history_pages_and_back() -> None:
    session = at_account()
    [load] = session.handle(HistoryRequested("base"))
    assert isinstance(load, LoadHistory) and (load.bucket, load.cursor) == ("base", None)
    assert session.state is State.HISTORY and session.history_view is not None
    assert session.history_view.loading
    assert session.handle(MoreHistoryRequested()) == []  # still loading: nothing twice
    session.handle(HistoryLoaded(load.token, entries(500, 300), "cursor-2"))
    assert session.history_view.entries == entries(500, 300)
    [more] = session.handle(MoreHistoryRequested())
    assert isinstance(more, LoadHistory) and more.cursor == "cursor-2"
    session.handle(HistoryLoaded(load.token, entries(999), None))  # a stale answer
    session.handle(HistoryLoaded(more.token, entries(100), None))
    view = session.history_view
    assert view.entries == entries(100) and view.pages == 2 and not view.loading  # one page
    assert session.handle(MoreHistoryRequested()) == []  # no more pages
    session.handle(BackPressed())
    assert session.state is State.ACCOUNT and session.history_view is None


def loads(effects: list[Effect]) -> LoadHistory:
    [load] = effects
    assert isinstance(load, LoadHistory)
    return load


def page(session: Session) -> HistoryView:
    assert session.history_view is not None
    return session.history_view


def test_history_shows_one_page_at_a_time_per_money() -> None:
    session = at_account()
    first = loads(session.handle(HistoryRequested("base")))
    session.handle(HistoryLoaded(first.token, entries(1, 2), "c2"))
    older = loads(session.handle(MoreHistoryRequested()))
    assert page(session).loading and page(session).entries == entries(1, 2)  # until it comes
    session.handle(HistoryLoaded(older.token, entries(3, 4), "c3"))
    assert (page(session).entries, page(session).pages, page(session).next_cursor) == (
        entries(3, 4),
        2,
        "c3",
    )
    # Another money: HISTORY -> HISTORY, its newest page; the old load's answer is ignored.
    other = loads(session.handle(HistoryRequested("cafeteria")))
    assert (other.bucket, other.cursor, session.state) == ("cafeteria", None, State.HISTORY)
    session.handle(HistoryLoaded(older.token, entries(9), None))
    assert page(session) == HistoryView("cafeteria")  # loading, nothing shown yet
    session.handle(HistoryLoaded(other.token, entries(5), None))
    # Back to the newest page of the first money: loaded again from the start.
    newest = loads(session.handle(HistoryRequested("base")))
    assert newest.cursor is None and page(session) == HistoryView("base")
    session.handle(HistoryLoaded(newest.token, entries(1, 2), "c2"))
    assert (page(session).pages, page(session).entries) == (1, entries(1, 2))


def test_a_failed_older_page_keeps_the_page_on_screen_and_can_be_retried() -> None:
    session = at_account()
    first = loads(session.handle(HistoryRequested("base")))
    session.handle(HistoryLoaded(first.token, entries(1, 2), "c2"))
    older = loads(session.handle(MoreHistoryRequested()))
    session.handle(HistoryFailed(older.token, "WalletTimeout"))
    assert session.notice is Notice.HISTORY_UNAVAILABLE and session.state is State.HISTORY
    assert (page(session).entries, page(session).pages, page(session).loading) == (
        entries(1, 2),
        1,
        False,
    )
    again = loads(session.handle(MoreHistoryRequested()))
    assert again.cursor == "c2" and session.notice is None


def test_a_failed_history_load_says_so_and_keeps_the_session() -> None:
    session = at_account()
    [load] = session.handle(HistoryRequested())
    assert isinstance(load, LoadHistory) and load.bucket == "base"  # the first money
    session.handle(HistoryFailed(load.token, "WalletDown"))
    assert session.state is State.HISTORY and session.notice is Notice.HISTORY_UNAVAILABLE
    assert session.member is MEMBER
    session.handle(ChargeRequested())  # and the member can still charge
    assert session.state is State.CHOOSE_MONEY and session.notice is None


def test_unexpected_events_are_errors_not_silent() -> None:
    with pytest.raises(SessionError):
        new_session().handle(NoteStacked(1000))  # money with no session: the engine must know
    with pytest.raises(SessionError):
        new_session().handle(CreditSettled(CreditOutcome.CONFIRMED))


def test_a_handler_that_leaves_its_table_entry_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    def astray(self: Session, event: object) -> None:
        self.state = State.DONE

    monkeypatch.setattr(Session, "_choose_money", astray)
    session = at_account()
    with pytest.raises(TransitionError, match="choose_money led account"):
        session.handle(ChargeRequested())


def test_the_table_covers_every_event_and_names_real_handlers() -> None:
    assert {event for _, event in TRANSITIONS} == set(EVENT_TYPES)
    for transition in TRANSITIONS.values():
        assert callable(getattr(Session, f"_{transition.handler}"))
        assert transition.targets


def test_a_state_times_out_exactly_where_the_table_takes_a_timeout() -> None:
    assert set(TIMEOUTS) == {state for state, event in TRANSITIONS if event is Timeout}
    assert TIMEOUTS[State.ACCEPTING] is Wait.IDLE_FINISH and TIMEOUTS[State.MOVED] is Wait.RESULT
    assert State.LOOKING_UP not in TOUCH_RESTARTS  # touching does not make the wallet answer
    settings = EngineSettings(kiosk_id="K01", moneys={})
    assert settings.timeout_for(State.ACCEPTING) == settings.idle_finish_s
    assert settings.timeout_for(State.LOOKING_UP) == settings.lookup_timeout_s
    assert settings.timeout_for(State.UNKNOWN_CARD) == settings.screen_timeout_s
    assert settings.timeout_for(State.IDLE) is None
    assert settings.timeout_for(State.CREDITING) is None  # a credit ends by itself


def test_the_diagram_is_the_table() -> None:
    edges = {}
    for line in diagram().splitlines()[2:]:
        arrow, events = line.strip().split(": ")
        edges[arrow] = events.split(", ")
    expected: dict[str, list[str]] = {}
    for (state, event), transition in TRANSITIONS.items():
        for target in transition.targets:
            expected.setdefault(f"{state.value} --> {target.value}", []).append(event.__name__)
    assert {k: sorted(v) for k, v in edges.items()} == {k: sorted(v) for k, v in expected.items()}
    assert edges["account --> choose_money"] == ["ChargeRequested", "MoneyChosen"]


# One strategy per event type (notes come from their own rule, which keeps them to the headroom).
EVENT_STRATEGIES: dict[type, st.SearchStrategy[object]] = {
    CardTouched: st.builds(CardTouched, st.sampled_from(["c1", "c2"])),
    CardUnreadable: st.just(CardUnreadable()),
    MemberFound: st.just(MemberFound(MEMBER)),
    MemberUnknown: st.just(MemberUnknown()),
    MemberSuspended: st.just(MemberSuspended("x")),
    WalletDown: st.just(WalletDown("ConnectError")),
    ChargeRequested: st.just(ChargeRequested()),
    MoneyChosen: st.builds(MoneyChosen, st.sampled_from(["base", "cafeteria"])),
    HistoryRequested: st.builds(HistoryRequested, st.sampled_from([None, "base", "cafeteria"])),
    MoreHistoryRequested: st.just(MoreHistoryRequested()),
    HistoryLoaded: st.builds(
        HistoryLoaded, st.integers(0, 3), st.just(entries(100)), st.sampled_from([None, "c"])
    ),
    HistoryFailed: st.builds(HistoryFailed, st.integers(0, 3), st.just("WalletDown")),
    BackPressed: st.just(BackPressed()),
    NoteEscrowed: st.builds(NoteEscrowed, st.sampled_from([1000, 5000])),
    NoteHandedBack: st.builds(
        NoteHandedBack, st.sampled_from([1000, None]), st.sampled_from(list(HandBack))
    ),
    FinishPressed: st.just(FinishPressed()),
    CancelPressed: st.just(CancelPressed()),
    Timeout: st.just(Timeout()),
    CreditSettled: st.builds(CreditSettled, st.sampled_from(list(CreditOutcome))),
    Acknowledged: st.just(Acknowledged()),
    AcceptorFault: st.just(AcceptorFault(Fault(FaultSource.DOOR, "cash-box door open"))),
    AcceptorRecovered: st.just(AcceptorRecovered()),
    MoveRequested: st.just(MoveRequested()),
    MoveRouteChosen: st.sampled_from(
        [MoveRouteChosen("base", "cafeteria"), MoveRouteChosen("cafeteria", "base")]
    ),
    MoveAmountAdded: st.builds(MoveAmountAdded, st.sampled_from([100, 5000, 60_000])),
    MoveAmountAll: st.just(MoveAmountAll()),
    MoveAmountCleared: st.just(MoveAmountCleared()),
    MoveReviewPressed: st.just(MoveReviewPressed()),
    MoveConfirmed: st.just(MoveConfirmed()),
    MoveSettled: st.builds(MoveSettled, st.sampled_from(list(MoveOutcome))),
}
EVENTS = st.one_of(*EVENT_STRATEGIES.values())


def test_the_property_test_draws_every_event_type() -> None:
    assert set(EVENT_STRATEGIES) | {NoteStacked} == set(EVENT_TYPES)


class SessionMachine(RuleBasedStateMachine):
    """Random event sequences of every type: every stacked yen is either still in the open
    session or was handed over for crediting when the session settled; nothing inserted is
    ever cancelled; no handler leaves its table entry (that raises TransitionError)."""

    def __init__(self) -> None:
        super().__init__()
        self.session = new_session()
        self.stacked = 0
        self.credited = 0

    @rule(event=EVENTS)
    def send(self, event: object) -> None:
        before, inserted = self.session.state, self.session.inserted
        try:
            effects = self.session.handle(event)  # type: ignore[arg-type]
        except SessionError:
            assert self.session.state is before and self.session.inserted == inserted
            allowed = (before, type(event)) in TRANSITIONS
            refusals = (CancelPressed, MoneyChosen, HistoryRequested, MoveRequested)
            moves = (MoveRouteChosen, MoveAmountAdded, MoveReviewPressed, MoveConfirmed)
            assert not allowed or isinstance(event, (*refusals, *moves))
            return
        for effect in effects:
            if isinstance(effect, MoveMoney):  # only what the member's wallets allow
                assert before is State.MOVE_CONFIRM and effect.source == "base"
                source, target = MEMBER.wallets["base"], MEMBER.wallets["cafeteria"]
                assert 0 < effect.amount <= movable(source, target)
        if any(isinstance(e, EndWithoutMoney) for e in effects):
            assert inserted == 0
        if before is State.CREDITING and isinstance(event, CreditSettled):
            self.credited += inserted

    @rule(value=st.sampled_from(NOTES))
    def note(self, value: int) -> None:
        live = self.session.state in (State.ACCEPTING, State.CREDITING)
        if live and value <= self.session.remaining:
            self.session.handle(NoteStacked(value))
            self.stacked += value

    @invariant()
    def money_is_accounted_for(self) -> None:
        live = self.session.state in (State.ACCEPTING, State.CREDITING)
        assert self.stacked == self.credited + (self.session.inserted if live else 0)

    @invariant()
    def the_acceptor_takes_notes_only_for_a_member_and_a_money(self) -> None:
        if self.session.state is State.ACCEPTING:
            assert self.session.member is not None and self.session.bucket is not None


TestSessionMachine = SessionMachine.TestCase


def test_the_design_page_shows_the_current_diagram() -> None:
    design = (Path(__file__).resolve().parents[1] / "docs" / "design.md").read_text()
    block = design.split("<!-- session-diagram -->\n```mermaid\n", 1)[1].split("\n```", 1)[0]
    assert block == diagram(), "run `paykiosk diagram` and paste it into docs/design.md"
