"""The charge session state machine (pure): flows, refusals, and a stateful property test."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from kiosk.session import (
    TRANSITIONS,
    AcceptorFault,
    AcceptorRecovered,
    Acknowledged,
    CancelPressed,
    CardTouched,
    CardUnreadable,
    ChargeRequested,
    CreditSettled,
    EndWithoutMoney,
    FinishAndCredit,
    FinishPressed,
    LookUp,
    Member,
    MemberFound,
    MemberSuspended,
    MemberUnknown,
    MoneyChosen,
    NoteHandedBack,
    NoteStacked,
    Session,
    SessionError,
    StartAccepting,
    State,
    Timeout,
    WalletDown,
    diagram,
)
from kiosk.wallet.models import Account, PrivateMoney, User


def wallet(bucket: str, balance: int, cap: int | None = 50_000, status: str = "active") -> Account:
    money = PrivateMoney(f"money-{bucket}", bucket, cap, None, 30_000)
    return Account(
        f"acct-{bucket}",
        status,
        status == "suspended",
        balance,
        0,
        None,
        User("user-1", "生協 太郎"),
        money,
    )


MEMBER = Member(
    "user-1", "生協 太郎", {"base": wallet("base", 48_500), "cafeteria": wallet("cafeteria", 0)}
)


def accepting(bucket: str = "base") -> Session:
    session = Session()
    assert session.handle(CardTouched("0123")) == [LookUp("0123")]
    session.handle(MemberFound(MEMBER))
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
    session.handle(CreditSettled("confirmed", new_balance=49_500))
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


def test_cancel_only_while_nothing_is_inserted() -> None:
    session = accepting()
    session.handle(NoteStacked(1000))
    with pytest.raises(SessionError, match="nothing is inserted"):
        session.handle(CancelPressed())
    assert session.state is State.ACCEPTING and session.inserted == 1000
    assert accepting().handle(CancelPressed()) == [EndWithoutMoney()]


@pytest.mark.parametrize(
    ("result", "state"),
    [
        (MemberUnknown(), State.UNKNOWN_CARD),
        (MemberSuspended("x"), State.ACCOUNT_SUSPENDED),
        (WalletDown("timed out"), State.WALLET_UNAVAILABLE),
    ],
)
def test_lookup_failures_take_no_cash(result: object, state: State) -> None:
    session = Session()
    session.handle(CardTouched("0123"))
    assert session.handle(result) == []
    assert session.state is state
    with pytest.raises(SessionError):
        session.handle(MoneyChosen("base"))
    session.handle(Timeout())
    assert session.state is State.IDLE


def test_full_or_suspended_money_is_not_offered_for_accepting() -> None:
    member = Member(
        "u",
        "n",
        {"base": wallet("base", 50_000), "textbook": wallet("textbook", 0, status="suspended")},
    )
    session = Session()
    session.handle(CardTouched("1"))
    session.handle(MemberFound(member))
    for bucket in ("base", "textbook"):
        assert session.handle(MoneyChosen(bucket)) == []
        assert session.state is State.CHOOSE_MONEY and session.notice == "money_not_chargeable"


def test_acceptor_fault_while_accepting_credits_what_went_in_then_out_of_service() -> None:
    session = accepting()
    session.handle(NoteStacked(1000))
    assert session.handle(AcceptorFault("stacker jam")) == [FinishAndCredit()]
    session.handle(CreditSettled("being_credited"))
    session.handle(Acknowledged())
    assert session.state is State.OUT_OF_SERVICE
    assert session.handle(CardTouched("2")) == []
    session.handle(AcceptorRecovered())
    assert session.state is State.IDLE


def test_unreadable_card_is_told_to_the_member_without_a_lookup() -> None:
    session = Session()
    assert session.handle(CardUnreadable()) == []
    assert (session.state, session.notice) == (State.UNKNOWN_CARD, "card_unreadable")
    session.handle(Timeout())
    assert session.state is State.IDLE


def test_unexpected_events_are_errors_not_silent() -> None:
    with pytest.raises(SessionError):
        Session().handle(NoteStacked(1000))  # money with no session: the engine must know
    with pytest.raises(SessionError):
        Session().handle(CreditSettled("confirmed"))


def test_the_diagram_comes_from_the_table() -> None:
    text = diagram()
    assert "accepting --> crediting: Timeout" in text
    assert "idle --> looking_up: CardTouched" in text
    # every state appears
    for state in State:
        assert f" {state.value}" in text


class SessionMachine(RuleBasedStateMachine):
    """Random event sequences: every stacked yen is either still in the open session or was
    handed over for crediting when the session settled; nothing inserted is ever cancelled."""

    def __init__(self) -> None:
        super().__init__()
        self.session = Session()
        self.stacked = 0
        self.credited = 0

    @rule(
        event=st.sampled_from(
            [
                CardTouched("c"),
                MemberFound(MEMBER),
                MemberUnknown(),
                ChargeRequested(),
                MoneyChosen("base"),
                MoneyChosen("cafeteria"),
                FinishPressed(),
                CancelPressed(),
                Timeout(),
                Acknowledged(),
                AcceptorFault("jam"),
                AcceptorRecovered(),
                CreditSettled("confirmed"),
                NoteHandedBack(1000, "rejected"),
            ]
        )
    )
    def send(self, event: object) -> None:
        before, inserted = self.session.state, self.session.inserted
        try:
            effects = self.session.handle(event)
        except SessionError:
            allowed = (before, type(event)) in TRANSITIONS
            assert not allowed or (isinstance(event, CancelPressed) and inserted)
            return
        if any(isinstance(e, EndWithoutMoney) for e in effects):
            assert inserted == 0
        if before is State.CREDITING and isinstance(event, CreditSettled):
            self.credited += inserted

    @rule(value=st.sampled_from([1000, 2000, 5000, 10000]))
    def note(self, value: int) -> None:
        live = self.session.state in (State.ACCEPTING, State.CREDITING)
        if live and value <= self.session.remaining:
            self.session.handle(NoteStacked(value))
            self.stacked += value

    @invariant()
    def money_is_accounted_for(self) -> None:
        live = self.session.state in (State.ACCEPTING, State.CREDITING)
        assert self.stacked == self.credited + (self.session.inserted if live else 0)


TestSessionMachine = SessionMachine.TestCase


def test_the_readme_shows_the_current_diagram() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    block = readme.split("<!-- session-diagram -->\n```mermaid\n", 1)[1].split("\n```", 1)[0]
    assert block == diagram(), "run `paykiosk diagram` and paste it into the README"
