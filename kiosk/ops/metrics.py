"""The kiosk's health for a fleet monitor: a Prometheus text-format endpoint (``prometheus_client``)
on ``[metrics] address:port`` (127.0.0.1 by default).

Every figure is read when the monitor scrapes, from the journal (credits, cases, cash box, the
last note and credit) and from the running devices (acceptor, reader, wallet, the engine's faults):
nothing is counted twice in memory, and counters taken from the journal survive restarts. The
scrape runs on the exporter's own thread; the journal serialises its reads with the engine's
writes, and the devices' flags are plain reads.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from threading import Thread
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from hardware.acceptor import BillAcceptor
from hardware.card import CardReader
from kiosk import __version__
from kiosk.config.settings import Config
from kiosk.core.faults import Fault, FaultSource
from kiosk.engine.health import Health, free_bytes, journal_size
from kiosk.engine.loop import Engine
from kiosk.journal import Journal
from kiosk.journal.credits import oldest_age
from kiosk.journal.reconciliations import AGREED, POSTPONED
from kiosk.journal.records import CreditKind
from kiosk.journal.retention import last_run
from kiosk.journal.tallies import STACKED, credits_in, tally
from kiosk.ops.archiving import archive_status
from kiosk.wallet.client import WalletClient

log = logging.getLogger("paykiosk.metrics")


@dataclass(frozen=True)
class Sources:
    """What the metrics are read from (each read at scrape time)."""

    journal: Journal
    faults: Callable[[], Mapping[FaultSource, Fault]]  # the engine's faults now (a copy)
    acceptor: BillAcceptor
    reader: CardReader | None
    wallet: WalletClient
    stacker_capacity: int
    data_dir_free: Callable[[], int]
    journal_ok: Callable[[], bool | None] = lambda: None  # writable and passing its check
    archive_dir: Path | None = None  # the journal's archives (kiosk.ops.archiving)


class KioskCollector(Collector):
    """Yields the kiosk's metric families on each scrape."""

    def __init__(self, sources: Sources) -> None:
        self.sources = sources

    def collect(self) -> Iterator[Metric]:
        yield from self._devices()
        yield from self._money()
        yield from self._machine()

    def _devices(self) -> Iterator[Metric]:
        src = self.sources
        info = InfoMetricFamily("paykiosk_build", "The kiosk software's version.")
        info.add_metric([], {"version": __version__})
        yield info
        faults = src.faults()
        yield _gauge("paykiosk_in_service", "1 while members can use the kiosk.", not faults)
        fault = GaugeMetricFamily(
            "paykiosk_fault", "1 per source holding the kiosk out of service.", labels=["source"]
        )
        for source in sorted(faults):
            fault.add_metric([str(source)], 1)
        yield fault
        yield _gauge(
            "paykiosk_acceptor_online", "1 while the bill acceptor talks.", src.acceptor.online
        )
        if src.reader is not None:
            yield _gauge(
                "paykiosk_reader_online", "1 while the card reader is there.", src.reader.online
            )
        wallet = src.wallet
        if wallet.reachable is not None:
            yield _gauge(
                "paykiosk_wallet_reachable", "1 if the wallet's last answer came.", wallet.reachable
            )
        if wallet.last_latency_s is not None:
            yield _gauge(
                "paykiosk_wallet_latency_seconds",
                "How long the wallet's last answer took.",
                wallet.last_latency_s,
            )
        if wallet.clock_offset_s is not None:
            yield _gauge(
                "paykiosk_clock_offset_seconds",
                "The wallet's clock minus this machine's (from its Date header).",
                wallet.clock_offset_s,
            )

    def _money(self) -> Iterator[Metric]:
        journal, now = self.sources.journal, time.time()
        waiting = journal.credits.open_credits(kind=CreditKind.CASH)
        yield _gauge(
            "paykiosk_credits_pending",
            "Cash credits not yet confirmed by the wallet.",
            len(waiting),
        )
        yield _gauge(
            "paykiosk_credit_oldest_pending_age_seconds",
            "Age of the oldest cash credit not yet confirmed (0: none).",
            oldest_age(waiting, now) or 0.0,
        )
        cases = journal.cases.list()
        yield _gauge("paykiosk_staff_cases_open", "Staff cases not yet resolved.", len(cases))
        box = journal.cashbox.count()
        capacity = self.sources.stacker_capacity
        yield _gauge(
            "paykiosk_cashbox_notes", "Notes in the cash box since the last collection.", box.notes
        )
        yield _gauge(
            "paykiosk_cashbox_yen", "Yen in the cash box since the last collection.", box.total
        )
        yield _gauge("paykiosk_cashbox_capacity_notes", "Notes the stacker holds.", capacity)
        yield _gauge(
            "paykiosk_cashbox_fill_ratio",
            "Cash-box notes / stacker capacity.",
            box.notes / capacity,
        )
        stacked = tally(journal.db, STACKED)  # kept as notes are stacked: nothing is counted
        yield _counter("paykiosk_notes_stacked", "Notes stacked, ever.", stacked.n)
        yield _counter(
            "paykiosk_notes_stacked_yen", "Yen of the notes stacked, ever.", stacked.total
        )
        if stacked.last is not None:
            yield _gauge(
                "paykiosk_last_note_timestamp_seconds",
                "When the last note was stacked.",
                stacked.last,
            )
        credited = credits_in(journal.db, CreditKind.CASH, "confirmed")
        yield _counter(
            "paykiosk_credits_confirmed", "Cash credits the wallet confirmed, ever.", credited.n
        )
        yield _counter(
            "paykiosk_credited_yen", "Cash yen the wallet confirmed, ever.", credited.total
        )
        if credited.last is not None:
            yield _gauge(
                "paykiosk_last_credit_timestamp_seconds",
                "When the wallet last confirmed a cash credit.",
                credited.last,
            )
        yield from self._moves(now)
        yield from self._reconciliation()

    def _moves(self, now: float) -> Iterator[Metric]:
        """マネー移動: the member's own money moved between their moneys (no cash). The metrics
        keep the names "exchange…" they have had since they were first published (a fleet
        monitor's dashboards and alerts use them)."""
        journal = self.sources.journal
        waiting = journal.credits.open_credits(kind=CreditKind.MOVE)
        yield _gauge(
            "paykiosk_exchanges_pending", "Moves not yet settled by the wallet.", len(waiting)
        )
        yield _gauge(
            "paykiosk_exchange_oldest_pending_age_seconds",
            "Age of the oldest move not yet settled (0: none).",
            oldest_age(waiting, now) or 0.0,
        )
        moved = credits_in(journal.db, CreditKind.MOVE, "confirmed")
        yield _counter(
            "paykiosk_exchanges_confirmed", "Moves the wallet carried out, ever.", moved.n
        )
        yield _counter("paykiosk_exchanged_yen", "Yen the wallet moved, ever.", moved.total)
        refused = credits_in(journal.db, CreditKind.MOVE, "refused")
        yield _counter(
            "paykiosk_exchanges_refused",
            "Moves refused for good (nothing moved), ever.",
            refused.n,
        )

    def _since(self, at: float | None) -> float:
        """When a daily job last did its work; never: the journal's oldest event (a new kiosk
        is alerted when the job has not run for its alert's time since it began)."""
        if at is not None:
            return at
        first = self.sources.journal.db.one("SELECT at FROM events ORDER BY id LIMIT 1")
        return float(first["at"]) if first is not None and first["at"] is not None else time.time()

    def _reconciliation(self) -> Iterator[Metric]:
        """The last check of a day against the wallet's ledger (kiosk.ops.reconcile)."""
        journal = self.sources.journal
        done = journal.reconciliations.last(done=True)
        yield _gauge(
            "paykiosk_reconciliation_last_timestamp_seconds",
            "When a day was last checked against the wallet's ledger (never: the journal's start).",
            self._since(None if done is None else done.at),
        )
        yield _gauge(
            "paykiosk_reconciliation_mismatches",
            "Mismatches the last reconciliation found (0: agreed, or none yet).",
            0 if done is None else done.mismatches,
        )
        if done is not None:
            yield _gauge(
                "paykiosk_reconciliation_agreed",
                "1 if the last reconciliation found the wallet and the journal agreeing.",
                done.result == AGREED,
            )
        latest = journal.reconciliations.last()
        yield _gauge(
            "paykiosk_reconciliation_postponed",
            "1 while the latest reconciliation is postponed (the wallet did not answer).",
            latest is not None and latest.result == POSTPONED,
        )

    def _archive(self) -> Iterator[Metric]:
        """The journal's archive job (kiosk.ops.archiving) and the archives it keeps."""
        journal, folder = self.sources.journal, self.sources.archive_dir
        if folder is None:
            return
        status = archive_status(journal, folder)
        finished = last_run(journal.db, finished=True)
        yield _gauge(
            "paykiosk_journal_archive_last_timestamp_seconds",
            "When the journal's archive job last did its work (never: the journal's start).",
            self._since(None if finished is None else finished.at),
        )
        yield _gauge(
            "paykiosk_journal_archived_rows",
            "Rows the newest run of the archive job moved out of the live journal.",
            0 if status.last is None else status.last.rows,
        )
        yield _gauge(
            "paykiosk_journal_archive_failed",
            "1 while the newest run of the archive job failed (see the staff status).",
            status.failed,
        )
        yield _gauge(
            "paykiosk_journal_archive_bytes",
            "The journal's monthly archive files.",
            status.archive_bytes,
        )
        yield _gauge(
            "paykiosk_journal_archive_months", "Months in the journal's archive.", status.months
        )

    def _machine(self) -> Iterator[Metric]:
        size = journal_size(self.sources.journal.db.path)
        yield _gauge("paykiosk_journal_size_bytes", "The live journal file and its WAL.", size)
        yield from self._archive()
        ok = self.sources.journal_ok()
        if ok is not None:
            yield _gauge(
                "paykiosk_journal_ok", "1 while the journal is writable and passes its check.", ok
            )
        try:
            free = self.sources.data_dir_free()
        except OSError:
            return
        yield _gauge("paykiosk_disk_free_bytes", "Free space where the journal lives.", free)


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=float(value))


def _counter(name: str, documentation: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, documentation, value=float(value))


class MetricsEndpoint:
    """The exporter's HTTP server; :meth:`close` stops it."""

    def __init__(self, sources: Sources, address: str, port: int) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(KioskCollector(sources))
        self._server: WSGIServer
        self._thread: Thread
        self._server, self._thread = start_http_server(port, address, self.registry)
        self.port = int(self._server.server_port)
        log.info("metrics on http://%s:%d/metrics", address, self.port)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def journal_ok(health: Health) -> bool | None:
    """None until the first check; then whether the journal is writable and passed it."""
    if health.journal_check is None:
        return None
    return health.journal_check == "ok" and not health.journal_failed


def start_metrics(
    config: Config,
    journal: Journal,
    engine: Engine,
    reader: CardReader | None,
    wallet: WalletClient,
) -> MetricsEndpoint | None:
    """The endpoint of ``[metrics]``, or None (off, or its port taken: the kiosk runs on and
    says so; the monitor then sees the kiosk as down)."""
    settings = config.metrics
    if not settings.enabled:
        return None
    sources = Sources(
        journal=journal,
        faults=engine.faults.snapshot,
        acceptor=engine.acceptor,
        reader=reader,
        wallet=wallet,
        stacker_capacity=config.staff.stacker_capacity,
        data_dir_free=lambda: free_bytes(journal.db.path.parent),
        journal_ok=lambda: journal_ok(engine.health),
        archive_dir=config.archive_dir,
    )
    try:
        return MetricsEndpoint(sources, settings.address, settings.port)
    except OSError as error:
        log.error(
            "metrics: cannot listen on %s:%d (%s); running without them",
            settings.address,
            settings.port,
            error.strerror,
        )
        return None
