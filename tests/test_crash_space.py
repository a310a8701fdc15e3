"""Crash anywhere, the quick subset: the real kiosk process killed before durable and outward
steps spread over each scripted scenario (a charge of three notes; a charge with the wallet
answering 503 and then losing its answer after committing; a マネー移動), and at random moments.
The full sweep of every step is ``python -m bench.crash_space`` (figures in docs/figures.md)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.crash_space import SCENARIOS, Explorer, Outcome, build_shim, points
from tests.support.wallet import Sandbox

pytestmark = pytest.mark.slow
KILLS_PER_SCENARIO = 4
RANDOM_SEED = 20261203


@pytest.fixture(scope="module")
def shim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_shim(tmp_path_factory.mktemp("shim"))


@pytest.fixture
def explorer(tmp_path: Path, wallet: Sandbox, shim: Path) -> Iterator[Explorer]:
    yield Explorer(wallet, shim, tmp_path / "runs")
    wallet.clear_faults()


def _ok(outcome: Outcome) -> None:
    assert not outcome.problems, f"{outcome.scenario} killed at {outcome.step}: {outcome.problems}"


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_killed_before_steps_spread_over_the_scenario(explorer: Explorer, name: str) -> None:
    scenario = SCENARIOS[name]
    recording = explorer.run(scenario)
    _ok(recording)
    kinds = {step.what for step in recording.steps}
    assert {"fdatasync", "wallet", "port"} <= kinds | {"fsync"}, kinds
    if scenario.notes:  # each note is stacked by a STACK-2 to the acceptor
        stacks = [s for s in recording.steps if s.what == "port" and s.detail == "42"]
        assert len(stacks) == len(scenario.notes), recording.steps
    killed = 0
    for kill_at in points(len(recording.steps), 1, KILLS_PER_SCENARIO):
        outcome = explorer.run(scenario, kill_at=kill_at)
        _ok(outcome)
        killed += outcome.killed
    assert killed >= KILLS_PER_SCENARIO - 1  # the last point may lie past a shorter run


def test_killed_at_random_moments(explorer: Explorer) -> None:
    rng = random.Random(RANDOM_SEED)  # a failure replays with the same seed
    for name in sorted(SCENARIOS):
        outcome = explorer.run(SCENARIOS[name], kill_after_s=rng.uniform(1.0, 5.0))
        _ok(outcome)
