"""A read-only snapshot of the session for whatever shows it (Kivy screens, the console)."""

from __future__ import annotations

from dataclasses import dataclass, field

from kiosk.money import notes_that_fit
from kiosk.session import Session, State


@dataclass(frozen=True)
class BucketView:
    bucket: str
    balance: int
    max_balance: int | None
    chargeable: bool


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
    notice: str = ""
    credited: int = 0
    new_balance: int | None = None
    outcome: str | None = None  # confirmed | being_credited | refused
    reference: str | None = None
    fault: str | None = None


def snapshot(session: Session, denominations: list[int], credited: int = 0) -> SessionView:
    member = session.member
    buckets = []
    if member is not None:
        for name, wallet in member.wallets.items():
            headroom = wallet.headroom
            buckets.append(
                BucketView(
                    name,
                    wallet.money_balance,
                    wallet.private_money.max_balance,
                    wallet.active and (headroom is None or headroom >= min(denominations or [0])),
                )
            )
    fitting = notes_that_fit(denominations, session.remaining)
    settled = session.settled
    return SessionView(
        state=session.state,
        member_name=member.name if member else "",
        buckets=buckets,
        being_credited=member.being_credited if member else 0,
        bucket=session.bucket,
        inserted=session.inserted,
        remaining=session.remaining,
        largest_note=max(fitting) if fitting and session.state is State.ACCEPTING else None,
        notice=session.notice,
        credited=credited,
        new_balance=settled.new_balance if settled else None,
        outcome=settled.outcome if settled else None,
        reference=settled.reference if settled else None,
        fault=session.fault,
    )
