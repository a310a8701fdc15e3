"""A read-only snapshot of the session for whatever shows it (Kivy screens, the console).

Screens render only this: every amount, limit and yes/no a member sees is decided here from
the session, so no money rule lives in a screen.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kiosk.core.events import CreditOutcome, HistoryView, MoveNews, MoveSettled, Notice
from kiosk.core.faults import Fault
from kiosk.core.money import MOVE_STEPS, notes_that_fit
from kiosk.core.session import MoveRoute, Session, State

LANGUAGES = ("ja", "en")  # what the screens speak; the first is what an idle kiosk shows


@dataclass(frozen=True)
class BucketView:
    bucket: str
    balance: int  # money balance (paid value)
    points: int  # point balance (free value)
    max_balance: int | None
    room: int | None  # how much more cash fits (None: no limit)
    chargeable: bool  # can take at least the smallest note now


@dataclass(frozen=True)
class MovePreview:
    """A マネー移動 on screen: the route, the amount chosen, both balances before and after."""

    source: str
    target: str
    amount: int
    limit: int  # the most that can move now
    source_before: int
    target_before: int
    steps: tuple[int, ...] = MOVE_STEPS

    @property
    def source_after(self) -> int:
        return self.source_before - self.amount

    @property
    def target_after(self) -> int:
        return self.target_before + self.amount


@dataclass(frozen=True)
class SessionView:
    state: State
    member_name: str = ""
    buckets: list[BucketView] = field(default_factory=list)
    being_credited: int = 0
    bucket: str | None = None
    inserted: int = 0
    remaining: int = 0
    largest_note: int | None = None  # the largest note still accepted
    notes_off: tuple[int, ...] = ()  # notes below the largest that staff switched off
    notice: Notice | None = None
    notice_amount: int | None = None
    detail: str = ""  # small print for staff
    history: HistoryView | None = None
    credited: int = 0
    new_balance: int | None = None
    outcome: CreditOutcome | None = None
    reference: str | None = None
    held: int = 0  # a note of the session still inside the unit (jammed): staff settle it
    fault: Fault | None = None  # why out of service (the latest that holds)
    deadline: float | None = None  # time.monotonic() when this screen times out
    finished_at: float | None = None  # DONE: time.time() when the charge ended (the receipt)
    move_routes: tuple[MoveRoute, ...] = ()  # the moves offered now (none: no マネー移動 button)
    moves: tuple[MoveNews, ...] = ()  # earlier moves: being processed, or how they ended
    move: MovePreview | None = None  # the move being chosen or made
    move_result: MoveSettled | None = None  # MOVED: how it went

    @property
    def points(self) -> int:
        return sum(b.points for b in self.buckets)


def snapshot(
    session: Session,
    credited: int = 0,
    deadline: float | None = None,
) -> SessionView:
    member = session.member
    buckets = []
    if member is not None:
        for name, wallet in member.wallets.items():
            buckets.append(
                BucketView(
                    name,
                    wallet.money_balance,
                    wallet.point_balance,
                    wallet.private_money.max_balance,
                    session.room(name),
                    session.chargeable(name),
                )
            )
    fitting = notes_that_fit(list(session.denominations), session.remaining)
    largest = max(fitting) if fitting and session.state is State.ACCEPTING else None
    settled = session.settled
    return SessionView(
        state=session.state,
        member_name=member.name if member else "",
        buckets=buckets,
        being_credited=member.being_credited if member else 0,
        bucket=session.bucket,
        inserted=session.inserted,
        remaining=session.remaining,
        largest_note=largest,
        notes_off=tuple(v for v in session.notes_off if largest and v < largest),
        notice=session.notice,
        notice_amount=session.notice_amount,
        detail=session.detail,
        history=session.history_view,
        credited=credited,
        new_balance=settled.new_balance if settled else None,
        outcome=settled.outcome if settled else None,
        reference=settled.reference if settled else None,
        held=settled.held if settled else 0,
        fault=session.fault,
        deadline=deadline,
        finished_at=settled.at if settled and session.state is State.DONE else None,
        move_routes=tuple(session.move_routes()),
        moves=member.moves if member else (),
        move=_move_preview(session),
        move_result=session.moved if session.state is State.MOVED else None,
    )


def _move_preview(session: Session) -> MovePreview | None:
    member, route = session.member, session.move_route
    if member is None or route is None:
        return None
    source, target = route
    if source not in member.wallets or target not in member.wallets:
        return None
    return MovePreview(
        source,
        target,
        session.move_amount,
        session.move_limit(),
        member.wallets[source].money_balance,
        member.wallets[target].money_balance,
    )
