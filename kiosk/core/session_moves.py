"""マネー移動 in the session: the member's choices (route, amount, confirmation) and the rule for
how much may move. Mixed into :class:`kiosk.core.session.Session`; its table entries are there."""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.core.events import (
    Effect,
    Member,
    MoveAmountAdded,
    MoveAmountAll,
    MoveAmountCleared,
    MoveConfirmed,
    MoveMoney,
    MoveRequested,
    MoveReviewPressed,
    MoveRouteChosen,
    MoveSettled,
    Notice,
)
from kiosk.core.money import movable
from kiosk.core.states import SessionError, State


@dataclass(frozen=True)
class MoveRoute:
    source: str
    target: str
    limit: int  # how much can move now (> 0)


class MoveSteps:
    """The move handlers; ``Session`` provides the fields they use."""

    state: State
    member: Member | None
    notice: Notice | None
    routes: tuple[tuple[str, str], ...]  # the directions configuration allows
    move_route: tuple[str, str] | None
    move_amount: int
    moved: MoveSettled | None

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
