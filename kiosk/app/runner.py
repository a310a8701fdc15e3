"""Builds the kiosk from its configuration and runs it (``paykiosk --config FILE``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import TYPE_CHECKING, Any, Protocol

from hardware.acceptor import AcceptorEvent, EventKind
from hardware.id003.driver import DriverConfig, Id003Acceptor
from hardware.id003.protocol import ProtocolConfig
from kiosk.app.console import ConsoleView, say
from kiosk.app.settings import (
    check_font,
    engine_settings,
    front_settings,
    use_time_zone,
    wallet_settings,
)
from kiosk.config.settings import Config, ConfigError
from kiosk.core.faults import FaultSource
from kiosk.core.session import State
from kiosk.core.view import SessionView
from kiosk.engine.delivery import Delivery, describe_for
from kiosk.engine.loop import Engine
from kiosk.journal import Journal
from kiosk.journal.db import JournalDamaged, damage_in
from kiosk.ops.archiving import DailyArchive
from kiosk.ops.daily import QuietHourJob
from kiosk.ops.metrics import start_metrics
from kiosk.ops.notify import SystemdNotifier
from kiosk.ops.reconcile import DailyReconciliation
from kiosk.staff.desk import StaffDesk
from kiosk.wallet.client import WalletClient
from kiosk.wallet.errors import WalletError

if TYPE_CHECKING:
    from kiosk.app.panel import Panel

log = logging.getLogger("paykiosk")


class Front(Protocol):
    """What members see and touch (the Kivy UI): shows the engine's views, runs until stopped."""

    def show(self, view: SessionView) -> None: ...

    async def run(self) -> None: ...

    async def up(self) -> None:
        """Returns once the first frame is on the display."""
        ...

    async def warmed(self) -> None:
        """Returns once every screen is ready to be drawn at once (made after the first
        frame, while the kiosk rests)."""
        ...

    def stop(self) -> None: ...

    def attach_staff(self, desk: StaffDesk) -> None: ...


FrontFactory = Callable[[Engine], Front]


def start_card_reader(
    config: Config, engine: Engine, desk: Callable[[], StaffDesk | None] = lambda: None
) -> Any:
    """The FeliCa reader on the configured nfcpy path; touches go to the staff desk, if there
    is one by then (it hands members' cards on), else to the engine."""
    from hardware.card import CardEventKind
    from hardware.readers import Backend, card_backend

    reader: Any
    card = config.card
    backend = card_backend(card.device)  # checked with the configuration: no ValueError here
    if backend.kind is Backend.PCSC:
        from hardware.pcsc.reader import PcscConfig, PcscReader

        reader = PcscReader(PcscConfig(reader=backend.where, poll_timeout_s=card.poll_timeout_s))
    else:
        from hardware.felica.reader import FelicaReader, ReaderConfig

        reader = FelicaReader(
            ReaderConfig(device=backend.where, poll_timeout_s=card.poll_timeout_s)
        )

    def listener(event: Any) -> None:
        if event.kind is CardEventKind.TOUCHED:
            staff = desk()
            if staff is not None:
                staff.card_from_reader(event.card_id)
            else:
                engine.inbox.card_touched(event.card_id)
        elif event.kind is CardEventKind.UNREADABLE:
            engine.inbox.card_unreadable()
        elif event.kind in (CardEventKind.ONLINE, CardEventKind.OFFLINE):
            say(f"card reader {event.kind.value} {event.detail}".rstrip())
            # a kiosk that cannot read cards serves no one, at start (no reader) as later
            online = event.kind is CardEventKind.ONLINE
            engine.inbox.device_fault(
                FaultSource.CARD_READER, None if online else event.detail or "offline"
            )

    reader.add_listener(listener)
    reader.start()
    return reader


def member_present(engine: Engine) -> bool:
    """A member is using the kiosk (a session past the attract screen, or one taking notes):
    the reconciliation waits (a plain read from its thread)."""
    idle = engine.session.state in (State.IDLE, State.OUT_OF_SERVICE)
    return not idle or engine.journal.gate.session_id is not None


def start_panel(config: Config, engine: Engine) -> Panel | None:
    """LEDs, buzzer and switches on GPIO, if ``[gpio] enabled``."""
    if not config.gpio.enabled:
        return None
    from gpiozero.exc import BadPinFactory

    from hardware.gpio import GpioConfig, KioskGpio
    from kiosk.app.panel import Panel

    section = config.gpio
    gpio = KioskGpio(
        GpioConfig(
            enabled=True,
            pin_factory=section.pin_factory,
            door_closed_when_pressed=section.door_closed_when_pressed,
            **section.pins,  # type: ignore[arg-type]
        )
    )
    panel = Panel(gpio, engine)
    try:
        gpio.start()
    except BadPinFactory as error:
        raise ConfigError(f"[gpio]: {error}") from error
    return panel


async def run(
    config: Config,
    no_ui: bool = True,
    attach: Callable[[Engine], None] | None = None,
    front: FrontFactory | None = None,
) -> int:
    """Run the kiosk until SIGTERM/SIGINT. ``attach`` gets the engine once it exists (the demo
    drives it from the keyboard); without ``no_ui`` the member picks the money; ``front`` makes
    the screen members touch (it runs on this loop and ends with the kiosk, and the kiosk
    stops when it ends).

    The first SIGTERM/SIGINT stops taking notes, closes an accepting session into its credit
    (a note in flight settles first, ``stop_s`` at most) and returns 0; a second one stops at
    once. An engine task that died ends the run with 1, for systemd to restart the kiosk.

    The engine's run starts first (it starts the acceptor), then the screen is made beside it:
    the devices come online while Kivy loads; the kiosk is out of service until the screen's
    first frame is on the display (``FaultSource.SCREEN``).

    What it starts is stopped in reverse order on every path, a failed start included (one
    exit stack): systemd's stopping notice, the screen, the engine's run (if the screen could
    not be made), the watchdog, the daily jobs (reconciliation, archive: started once the
    screen is warmed up, at once without one), the metrics endpoint, the card reader, the GPIO
    panel, the wallet client and last the journal (its close puts back a journal file lost
    under it). The engine starts and stops the acceptor and its own tasks inside its run."""
    status = 0
    use_time_zone(config.kiosk.time_zone)  # also run without the command line (the demo)
    async with contextlib.AsyncExitStack() as stack:
        notifier = stack.enter_context(contextlib.closing(SystemdNotifier()))
        # SQLite's quick check first: a damaged journal is refused (JournalDamaged) before a
        # device starts, not met halfway through the replay
        journal = Journal(config.journal_path, config.kiosk.id, owner=True, check=True)
        stack.callback(journal.close)
        if journal.db.adopted is not None:  # the last run's file, lost under it, put back
            journal.cases.open("journal_file", amount=None, detail=journal.db.adopted)
        acceptor = Id003Acceptor(
            config.acceptor.port,
            journal.notes,
            DriverConfig(protocol=ProtocolConfig(poll_interval=config.acceptor.poll_ms / 1000)),
        )
        wallet = await stack.enter_async_context(WalletClient(wallet_settings(config)))
        await _check_wallet(wallet)
        delivery = Delivery(journal, wallet, describe=describe_for(config.kiosk.id))
        engine = Engine(engine_settings(config, no_ui), journal, acceptor, wallet, delivery)
        engine.listeners.append(ConsoleView())
        acceptor.add_listener(_print_acceptor_status)
        if attach is not None:
            attach(engine)
        panel = start_panel(config, engine)  # first: a set-up error stops before any thread
        if panel is not None:
            stack.callback(panel.gpio.close)
        desk: StaffDesk | None = None  # made with the screen (there is none without one)
        reader = start_card_reader(config, engine, lambda: desk)
        stack.callback(reader.stop)
        metrics = start_metrics(config, journal, engine, reader, wallet)
        if metrics is not None:
            stack.callback(metrics.close)
        # the daily jobs (each on its own thread, never on the engine's loop) start once the
        # screen is warmed up: a kiosk restarted after their hour does not run them while it
        # starts (its CPU is the screen's then)
        daily_jobs: list[QuietHourJob[Any, Any]] = []
        if config.staff.reconcile_at != "off":
            daily = DailyReconciliation(
                journal,
                wallet_settings(config),
                config.kiosk.time_zone,
                config.staff.reconcile_at,
                {money: bucket for bucket, money in config.moneys.items()},
                busy=lambda: member_present(engine),
            )
            daily_jobs.append(daily)
        if config.journal.archive_at != "off":
            daily_jobs.append(DailyArchive(journal, config, busy=lambda: member_present(engine)))
        for job in daily_jobs:
            stack.callback(job.stop)
        _stop_on_signals(engine)
        await stack.enter_async_context(_task(_watchdog(notifier)))
        if front is not None:
            # Out of service until members can see the screen: a card touched or a note fed
            # while the UI starts is not taken (the acceptor stays inhibited)
            engine.inbox.device_fault(FaultSource.SCREEN, "starting")
        running = await stack.enter_async_context(_engine_running(engine, config, notifier))
        if front is not None:
            # The engine's run has started the acceptor: both devices come online while the
            # screen is made (Kivy's import and its window hold this loop meanwhile; what the
            # devices report waits in the engine's inbox).
            await asyncio.sleep(0)
            screen = front(engine)
            desk = _staff_desk(config, journal, engine, delivery, screen, panel)
            desk.reader = reader
            engine.listeners.append(screen.show)
            screen.show(engine.view())  # what the engine published before the screen was made
            await stack.enter_async_context(
                _task(_in_service_when_up(screen, engine, daily_jobs))
            )
            shown = asyncio.get_running_loop().create_task(screen.run())
            shown.add_done_callback(lambda _: engine.inbox.stop())  # the window went: stop too

            async def close_screen(screen: Front = screen) -> None:
                nonlocal status
                if not await _stop_front(screen, shown):
                    status = 1  # the screen failed: restart

            stack.push_async_callback(close_screen)
        else:
            for job in daily_jobs:
                job.start()
        stack.callback(notifier.stopping)
        status = await running
    return status


@contextlib.asynccontextmanager
async def _engine_running(
    engine: Engine, config: Config, notifier: SystemdNotifier
) -> AsyncIterator[asyncio.Task[int]]:
    """The engine's run as a task (the screen is made beside it); if the block ends before
    it (the screen could not be made), the engine stops as on SIGTERM and is awaited."""
    task = asyncio.get_running_loop().create_task(_run_engine(engine, config, notifier))
    try:
        yield task
    finally:
        if not task.done():
            engine.inbox.stop()
            await asyncio.wait({task})
        if not task.cancelled() and task.exception() is not None:
            log.error("the engine failed as the kiosk stopped: %r", task.exception())


async def _in_service_when_up(
    screen: Front, engine: Engine, daily_jobs: list[QuietHourJob[Any, Any]]
) -> None:
    await screen.up()
    say("touch screen up")
    engine.inbox.device_fault(FaultSource.SCREEN, None)
    await screen.warmed()
    say("touch screen: every screen warmed up")
    for job in daily_jobs:
        job.start()


def _stop_on_signals(engine: Engine) -> None:
    """SIGTERM/SIGINT: the first stops the engine (a session closed into its credit), a second
    cancels the run at once. The handlers stay until the loop closes: a signal during the
    stop must not kill the process before the journal is closed."""
    main, loop = asyncio.current_task(), asyncio.get_running_loop()
    signals = 0

    def on_signal() -> None:
        nonlocal signals
        signals += 1
        if signals == 1:
            engine.inbox.stop()
        elif main is not None:
            main.cancel()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_signal)


@contextlib.asynccontextmanager
async def _task(coroutine: Coroutine[Any, Any, None]) -> AsyncIterator[asyncio.Task[None]]:
    """A task for as long as the block: cancelled and awaited at its end."""
    task = asyncio.get_running_loop().create_task(coroutine)
    try:
        yield task
    finally:
        task.cancel()
        await asyncio.wait({task})  # its end, not its cancellation: this task runs on


async def _run_engine(engine: Engine, config: Config, notifier: SystemdNotifier) -> int:
    """The engine's run: 0 when it stopped, 1 when it failed (for a restart)."""
    started = False

    def ready() -> None:
        nonlocal started
        started = True
        notifier.ready(f"kiosk {config.kiosk.id} ready")

    try:
        await engine.run(ready=ready)
        log.info("stopped")
    except asyncio.CancelledError:
        log.info("stopped at once")
    except Exception as error:  # EngineFailed, or a journal that cannot even be read any more
        what = damage_in(error)
        if not started and what is not None:  # the replay: a restart would meet it again
            raise JournalDamaged(config.journal_path, what) from None
        log.critical("the engine failed; exiting for a restart", exc_info=True)
        return 1
    return 0


def _staff_desk(
    config: Config,
    journal: Journal,
    engine: Engine,
    delivery: Delivery,
    screen: Front,
    panel: Panel | None,
) -> StaffDesk:
    """The staff menu, on the touch screen: staff cards and the service key go to it."""
    desk = StaffDesk(journal, config, engine, engine.acceptor, wake_delivery=delivery.wake)
    desk.bind(asyncio.get_running_loop())
    engine.acceptor.add_listener(desk.acceptor_from_driver)
    engine.listeners.append(desk.member_view)
    desk.member_view(engine.view())  # the engine published before the desk was made
    screen.attach_staff(desk)
    if panel is not None:
        panel.on_key = desk.key_from_switch
    return desk


async def _stop_front(screen: Front, shown: asyncio.Task[None]) -> bool:
    """Close the screen; False if it had failed (the kiosk then exits for a restart)."""
    if not shown.done():
        screen.stop()
    try:
        await asyncio.wait_for(asyncio.shield(shown), timeout=5)
    except TimeoutError:
        log.error("the screen did not close within 5 s")
        shown.cancel()
    except asyncio.CancelledError:
        shown.cancel()
        raise
    except Exception:
        log.critical("the screen failed; exiting for a restart", exc_info=True)
        return False
    return True


async def _check_wallet(wallet: WalletClient) -> None:
    """Reach the wallet once at start: the operator sees at once whether it answers, and the
    TLS connection and its modules are set up before the first member arrives."""
    try:
        reachable = await asyncio.wait_for(wallet.ping(), timeout=5)
    except (WalletError, TimeoutError) as error:
        reachable = False
        log.warning("wallet not reachable at start: %s", type(error).__name__)
    clock = wallet.clock_problem  # from the ping's Date header
    if reachable and clock is not None:
        line = (
            f"wallet reachable, but {clock}:"
            " every request will be refused until the clock is set (check NTP)"
        )
        log.error("%s", line)
        say(line)
        return
    say(f"wallet {'reachable' if reachable else 'NOT reachable (credits will wait)'}")


def _print_acceptor_status(event: AcceptorEvent) -> None:
    if event.kind in (EventKind.ONLINE, EventKind.OFFLINE):
        say(f"bill acceptor {event.kind.value}")


async def _watchdog(notifier: SystemdNotifier) -> None:
    """Pings the systemd watchdog from the engine's loop: it stops only if the loop is stuck
    (a kiosk out of service for a full disk is alive and must not be killed)."""
    interval = notifier.watchdog_interval
    if interval is None:
        return
    while True:
        notifier.watchdog()
        await asyncio.sleep(interval)


def ui_front(config: Config) -> FrontFactory:
    """The fullscreen touch UI (Kivy is imported only when it is made)."""
    check_font()  # no Japanese font: said before a device starts or a window opens

    def make(engine: Engine) -> Front:
        from screens.front import KioskFront

        return KioskFront(engine.inbox, front_settings(config))

    return make


def run_blocking(config: Config, no_ui: bool) -> int:
    front = None if no_ui else ui_front(config)
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(run(config, no_ui, front=front))
    return 0
