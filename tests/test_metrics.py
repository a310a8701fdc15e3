"""The metrics endpoint of a running ``paykiosk --no-ui`` (acceptor simulator, card emulator,
wallet sandbox), scraped over HTTP as Prometheus would, against what happened: notes fed and
credited, a credit waiting while the wallet is away, and back; and マネー移動 moves in their own
families, never counted as cash."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from kiosk import __version__
from kiosk.journal import Journal
from tests.support.common import wait_until
from tests.support.metrics import journal_collector
from tests.support.rig import make_rig
from tests.support.wallet import Sandbox, cash_and_moves


def free_tcp_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def scrape(port: int) -> dict[str, float]:
    """Every sample of one scrape: name{labels} → value (no labels: the bare name)."""
    response = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples: dict[str, float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return samples


def test_the_metrics_follow_the_notes_the_credits_and_the_wallet(
    tmp_path: Path, wallet: Sandbox
) -> None:
    port = free_tcp_port()
    with make_rig(tmp_path, wallet, metrics_port=port) as rig:
        _, card = rig.member({"base": 0})
        rig.kiosk.start()
        rig.kiosk.wait_ready()
        wait_until(lambda: scrape(port)["paykiosk_in_service"] == 1, 10, "in service")
        at_start = scrape(port)
        assert at_start[f'paykiosk_build_info{{version="{__version__}"}}'] == 1
        assert at_start["paykiosk_acceptor_online"] == 1 == at_start["paykiosk_reader_online"]
        assert at_start["paykiosk_credits_pending"] == 0
        assert at_start["paykiosk_credit_oldest_pending_age_seconds"] == 0
        assert at_start["paykiosk_staff_cases_open"] == 0
        assert at_start["paykiosk_cashbox_notes"] == 0 == at_start["paykiosk_notes_stacked_total"]
        assert at_start["paykiosk_disk_free_bytes"] > 0
        assert at_start["paykiosk_journal_size_bytes"] > 0
        assert at_start["paykiosk_journal_ok"] == 1
        assert "paykiosk_last_note_timestamp_seconds" not in at_start

        fed_at = time.time()
        rig.start_session(card)
        rig.feed(1_000)
        rig.feed(5_000)
        rig.kiosk.wait_settled()
        charged = scrape(port)
        assert charged["paykiosk_cashbox_notes"] == 2 == charged["paykiosk_notes_stacked_total"]
        assert (
            charged["paykiosk_cashbox_yen"] == 6_000 == charged["paykiosk_notes_stacked_yen_total"]
        )
        assert (
            charged["paykiosk_cashbox_fill_ratio"] == 2 / charged["paykiosk_cashbox_capacity_notes"]
        )
        assert charged["paykiosk_credits_confirmed_total"] == 1
        assert charged["paykiosk_credited_yen_total"] == 6_000
        assert fed_at <= charged["paykiosk_last_note_timestamp_seconds"] <= time.time()
        assert fed_at <= charged["paykiosk_last_credit_timestamp_seconds"] <= time.time()
        assert charged["paykiosk_wallet_reachable"] == 1
        assert 0 < charged["paykiosk_wallet_latency_seconds"] < 3
        assert abs(charged["paykiosk_clock_offset_seconds"]) < 2

        rig.start_session(card)
        rig.wallet.faults(refuse=True)  # the wallet goes away with the member at the kiosk
        rig.feed(10_000)
        wait_until(lambda: scrape(port)["paykiosk_credits_pending"] == 1, 20, "a credit waiting")
        wait_until(lambda: scrape(port)["paykiosk_wallet_reachable"] == 0, 20, "wallet unreachable")
        time.sleep(1.2)
        waiting = scrape(port)
        assert waiting["paykiosk_credit_oldest_pending_age_seconds"] >= 1
        assert waiting["paykiosk_cashbox_yen"] == 16_000  # the cash is in; the credit is not
        assert waiting["paykiosk_credited_yen_total"] == 6_000

        rig.wallet.faults(refuse=False)
        wait_until(lambda: scrape(port)["paykiosk_credits_pending"] == 0, 40, "the credit sent")
        after = scrape(port)
        assert after["paykiosk_credited_yen_total"] == 16_000 == after["paykiosk_cashbox_yen"]
        assert after["paykiosk_wallet_reachable"] == 1
        assert after["paykiosk_credit_oldest_pending_age_seconds"] == 0


def test_a_taken_metrics_port_is_said_and_the_kiosk_runs_on(
    tmp_path: Path, wallet: Sandbox
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        with make_rig(tmp_path, wallet, metrics_port=port) as rig:
            rig.kiosk.start()
            rig.kiosk.wait_ready()
            lines = "\n".join(rig.kiosk.output)
            assert f"metrics: cannot listen on 127.0.0.1:{port}" in lines
            assert rig.kiosk.process is not None and rig.kiosk.process.poll() is None


def test_a_move_is_counted_in_its_own_families_never_as_cash(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite3", "T01")
    try:
        made = cash_and_moves(journal)
        collector = journal_collector(journal)
        samples = {
            sample.name: sample.value
            for family in collector._money()
            for sample in family.samples
        }
    finally:
        journal.close()
    assert samples["paykiosk_credits_pending"] == 1  # the cash credit, not the move
    assert samples["paykiosk_credits_confirmed_total"] == 1
    assert samples["paykiosk_credited_yen_total"] == 2_000
    assert samples["paykiosk_last_credit_timestamp_seconds"] == made.confirmed_at
    assert samples["paykiosk_cashbox_yen"] == 3_000
    assert samples["paykiosk_exchanges_pending"] == 1
    assert 0 <= samples["paykiosk_exchange_oldest_pending_age_seconds"] < 60
    assert samples["paykiosk_exchanges_confirmed_total"] == 1
    assert samples["paykiosk_exchanged_yen_total"] == 300
    assert samples["paykiosk_exchanges_refused_total"] == 1
