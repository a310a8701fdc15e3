"""Runs the real engine on its own loop thread against the pty acceptor and the sandbox."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from hardware.id003.driver import Id003Acceptor
from hardware.id003.sim.process import Simulator
from kiosk.core.session import State
from kiosk.core.view import SessionView
from kiosk.engine.delivery import Delivery, DeliveryPolicy
from kiosk.engine.inbox import Inbox
from kiosk.engine.loop import Engine
from kiosk.engine.settings import EngineSettings
from kiosk.journal import Journal
from kiosk.wallet.client import WalletClient
from tests.support.common import FAST_DRIVER
from tests.support.wallet import FAST_RETRY, Sandbox

FAST_DELIVERY = DeliveryPolicy(first_retry_s=0.2, max_retry_s=1.0)


class EngineHarness:
    def __init__(
        self,
        tmp: Path,
        sim: Simulator,
        sandbox: Sandbox,
        delivery: DeliveryPolicy = FAST_DELIVERY,
        **settings: Any,
    ) -> None:
        self.sim, self.sandbox, self.delivery_policy = sim, sandbox, delivery
        self.journal = Journal(tmp / "journal.sqlite3", "K01")
        self.settings = replace(
            EngineSettings(kiosk_id="K01", moneys=sandbox.moneys, done_s=30.0, settle_wait_s=3.0),
            **settings,
        )
        self.views: list[SessionView] = []
        self._cond = threading.Condition()
        self.engine: Engine | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)
        self._thread.start()
        assert self._ready.wait(15), "engine did not start"
        assert self.acceptor.wait_online(10), "acceptor did not come online"
        self.wait_state(State.IDLE)  # out of service until the engine heard the acceptor

    async def _main(self) -> None:
        self.loop = asyncio.get_running_loop()
        acceptor = Id003Acceptor(self.sim.path, self.journal.notes, FAST_DRIVER)
        self.acceptor = acceptor
        async with WalletClient(self.sandbox.settings(timeout_s=2.0), FAST_RETRY) as wallet:
            delivery = Delivery(self.journal, wallet, self.delivery_policy)
            self.engine = Engine(self.settings, self.journal, acceptor, wallet, delivery)
            self.engine.listeners.append(self._view)
            self._stop = asyncio.Event()
            run = asyncio.create_task(self.engine.run(ready=self._ready.set))
            await self._stop.wait()
            run.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await run

    def _view(self, view: SessionView) -> None:
        with self._cond:
            self.views.append(view)
            self._cond.notify_all()

    def call(self, action: Callable[[Inbox], None]) -> None:
        """A member intent, called from the test's thread (intents are thread-safe)."""
        assert self.engine is not None
        action(self.engine.inbox)

    def touch(self, card_id: str) -> None:
        assert self.engine is not None
        self.engine.inbox.card_touched(card_id)

    def wait_view(
        self, predicate: Callable[[SessionView], bool], timeout: float = 10.0, what: str = ""
    ) -> SessionView:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                if self.views and predicate(self.views[-1]):
                    return self.views[-1]
                left = deadline - time.monotonic()
                if left <= 0:
                    last = self.views[-1] if self.views else None
                    raise AssertionError(f"waited for {what}; last view {last}")
                self._cond.wait(left)

    def wait_state(self, state: State, timeout: float = 10.0) -> SessionView:
        return self.wait_view(lambda v: v.state is state, timeout, state.value)

    def start_charging(self, card_id: str, bucket: str = "base") -> SessionView:
        """Touch, pick the money, and wait until the acceptor takes notes."""
        self.touch(card_id)
        self.wait_state(State.ACCOUNT)
        self.call(lambda e: e.choose_money(bucket))
        view = self.wait_state(State.ACCEPTING)
        assert self.sim.wait_for(lambda d: not d.inhibited, 3), "acceptor still inhibited"
        return view

    def feed(self, value: int) -> None:
        assert self.sim.wait_for(lambda d: not d.busy, 5), self.sim.status
        assert self.sim.insert(value), self.sim.status

    def stop(self) -> None:
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
        self.journal.close()
