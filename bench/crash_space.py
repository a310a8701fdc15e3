"""Crash anywhere: the real ``paykiosk --no-ui`` process killed at every durable or outward step
of a scripted session, restarted, settled and checked.

A step is an fsync/fdatasync of the journal, a write to the acceptor's port (not the status
poll) or a send to the wallet, numbered by a shim LD_PRELOADed into the kiosk
(``bench/crash_shim.c``, built here with the system's C compiler). Each scenario is recorded
once (its steps counted), then run again once per step K with the kiosk SIGKILLing itself at
the K-th step, before its system call. After every kill the kiosk is started again (without the
shim), left to settle and checked: the notes in the simulator's cash box are what the sandbox
credited, no request id carried out twice, the journal sound, nothing left open. ``--random N``
adds N kills at random moments (seeded; the seed is printed, so a failure replays).

    python -m bench.crash_space                  # every step of every scenario
    python -m bench.crash_space --every 5        # every 5th step
    python -m bench.crash_space --random 50 --seed 7
    python -m bench.crash_space --power-cut      # each kill a power cut: unsynced writes lost

With ``--power-cut`` the shim also keeps the data dir's durable state (``bench/power_cut.py``)
and counts every fsync under it (the data dir's own too) as a step; after the kill the data dir
is rebuilt from what was fsynced, as a card comes back after losing power, and the kiosk boots
normally on it. The point past the last step pulls the plug once the session is done.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench.crash_checks import settle_and_check
from bench.power_cut import Cut, cut, shim_env
from hardware.felica.sim import EmulatedCard
from tests.support.rig import CRASH_TIMING, Rig, make_rig
from tests.support.wallet import Sandbox, start_sandbox, stop_sandbox

SHIM_SOURCE = Path(__file__).with_name("crash_shim.c")


def build_shim(directory: Path) -> Path:
    """Compile the shim into ``directory`` (gcc or cc); returns the shared object's path."""
    compiler = shutil.which("gcc") or shutil.which("cc")
    if compiler is None:
        raise RuntimeError("no C compiler (gcc) to build the crash shim")
    target = directory / "crash_shim.so"
    subprocess.run(
        [compiler, "-shared", "-fPIC", "-O2", "-o", str(target), str(SHIM_SOURCE), "-ldl"],
        check=True,
        capture_output=True,
    )
    return target


@dataclass(frozen=True)
class Step:
    number: int
    what: str  # fsync | fdatasync | port | wallet
    detail: str  # the journal file, the command byte, "send"


def read_steps(log: Path) -> tuple[list[Step], bool]:
    """The steps a run logged, and whether the shim killed it."""
    steps, killed = [], False
    if log.exists():
        for line in log.read_text().splitlines():
            if line == "KILLED":
                killed = True
                continue
            number, what, detail = line.split(" ", 2)
            steps.append(Step(int(number), what, detail))
    return steps, killed


@dataclass
class Outcome:
    scenario: str
    kill_at: int | None  # the step (None: a kill at a random moment, or no kill)
    killed: bool
    step: Step | None  # the step the kill came before
    seconds: float
    problems: list[str] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    cut: Cut | None = None  # power-cut mode: what the cut dropped


class Driver:
    """One scripted member, tolerant of the kiosk dying under it at any moment."""

    def __init__(self, rig: Rig) -> None:
        self.rig = rig

    def alive(self) -> bool:
        process = self.rig.kiosk.process
        return process is not None and process.poll() is None

    def until(self, check: Callable[[], bool], timeout: float) -> bool:
        """True once ``check`` holds; False if the kiosk died or the time ran out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return True
            if not self.alive():
                return False
            time.sleep(0.05)
        return False

    def said(self, text: str) -> bool:
        return any(text in line for line in list(self.rig.kiosk.output))

    def touch(self, card_id: str) -> bool:
        rig = self.rig
        if not self.until(lambda: self.said("ready: touch your card"), 20):
            return False
        if not self.until(lambda: not rig.sim.device.busy and rig.sim.device.inhibited, 15):
            return False
        rig.card.touch(EmulatedCard(card_id), hold=3.0)
        return True

    def feed(self, value: int) -> bool:
        rig = self.rig
        return self.until(lambda: not rig.sim.device.busy, 15) and rig.sim.insert(value)


@dataclass(frozen=True)
class Scenario:
    """A scripted member: their wallets, the kiosk's configuration, what they do, what the
    wallet does meanwhile."""

    name: str
    balances: dict[str, int | None]
    config: dict[str, object]
    notes: tuple[int, ...] = ()
    flaky_wallet: bool = False  # 503, then the answer dropped after the wallet committed
    remove_journal_after: int | None = None  # rm the journal's files once this many are in

    def drive(self, driver: Driver, card_id: str) -> None:
        rig = driver.rig
        if not driver.touch(card_id):
            return
        if not self.notes:  # a move: one at each touch
            driver.until(lambda: driver.said("moved ") or driver.said("being processed"), 20)
            return
        if not driver.until(lambda: not rig.sim.device.inhibited, 15):
            return
        if self.flaky_wallet:
            rig.wallet.faults(next_503=1, drop_after_commit=1)
        for fed, value in enumerate(self.notes, start=1):
            if not driver.feed(value):
                return
            if fed == self.remove_journal_after:  # an operator's rm under the running kiosk
                stacked = sum(self.notes[:fed])  # once the notes fed are in the box
                if not driver.until(lambda s=stacked: sum(rig.sim.stacked) >= s, 15):
                    return
                path = rig.kiosk.journal_path
                for part in path.parent.glob(path.name + "*"):
                    part.unlink(missing_ok=True)
        driver.until(lambda: driver.said("done:"), 25)


SCENARIOS = {
    "charge": Scenario("charge", {"base": 500}, {}, notes=(1000, 2000, 5000)),
    "flaky": Scenario("flaky", {"base": 0}, {}, notes=(1000,), flaky_wallet=True),
    "move": Scenario("move", {"base": 3000, "cafeteria": 200}, {"no_ui_move": ("cafeteria", 1000)}),
    # the journal's files removed once the note is in the box: the session closes on the fault
    "removed": Scenario("removed", {"base": 0}, {}, notes=(5000,), remove_journal_after=1),
}


class Explorer:
    """Runs scenarios against one sandbox, one fresh kiosk (data dir, simulator) per run."""

    def __init__(self, wallet: Sandbox, shim: Path, workdir: Path, power_cut: bool = False) -> None:
        self.wallet, self.shim, self.workdir = wallet, shim, workdir
        self.power_cut = power_cut
        self._runs = 0

    @contextmanager
    def _rig(self, scenario: Scenario) -> Iterator[Rig]:
        self._runs += 1
        directory = self.workdir / f"{scenario.name}-{self._runs}"
        directory.mkdir(parents=True)
        try:
            with make_rig(directory, self.wallet, CRASH_TIMING, idle_finish_s=1.0,
                          **scenario.config) as rig:  # fmt: skip
                yield rig
        finally:
            shutil.rmtree(directory, ignore_errors=True)

    def run(
        self, scenario: Scenario, kill_at: int | None = None, kill_after_s: float | None = None
    ) -> Outcome:
        """One run: killed before step ``kill_at``, or ``kill_after_s`` after the start, or not
        at all (a recording); then restarted, settled and checked."""
        started = time.monotonic()
        with self._rig(scenario) as rig:
            user, card = rig.member(scenario.balances)
            before = {b: rig.wallet.balance(user, b) for b in ("base", "cafeteria")}
            log = rig.kiosk.config.parent / "steps.log"
            env = {"LD_PRELOAD": str(self.shim), "PAYKIOSK_STEP_LOG": str(log)}
            if kill_at is not None:
                env["PAYKIOSK_KILL_AT"] = str(kill_at)
            data_dir, shadow = rig.kiosk.journal_path.parent, rig.kiosk.config.parent / "durable"
            if self.power_cut:
                env.update(shim_env(data_dir, shadow))
            rig.kiosk.start(env=env)
            timer = None if kill_after_s is None else _KillLater(rig, kill_after_s)
            try:
                scenario.drive(Driver(rig), card)
            finally:
                if timer is not None:
                    timer.cancel()
            dropped = None
            if self.power_cut and (kill_at is not None or kill_after_s is not None):
                dropped = self._cut_power(rig, data_dir, shadow)
            rig.card.remove()  # a card left on the reader would be a new touch after the restart
            rig.wallet.clear_faults()
            problems = settle_and_check(rig, user, before, scenario.notes)
            steps, killed = read_steps(log)
            rig.kiosk.stop()
        step = next((s for s in steps if s.number == kill_at), None) if killed else None
        if killed and kill_at is not None and step is None:
            step = Step(kill_at, "?", "")
        return Outcome(
            scenario.name,
            kill_at,
            killed or (timer is not None and timer.fired) or dropped is not None,
            step,
            time.monotonic() - started,
            problems,
            steps,
            dropped,
        )

    @staticmethod
    def _cut_power(rig: Rig, data_dir: Path, shadow: Path) -> Cut:
        """The kiosk dead (killed at its step, or now if it ran past it: the plug pulled once
        the session is done), its data dir as the card keeps it after a power cut."""
        process = rig.kiosk.process
        if process is not None:
            if process.poll() is None:
                os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        return cut(data_dir, shadow)


class _KillLater:
    """SIGKILL the kiosk ``seconds`` from now, from outside (a power cut at a random moment)."""

    def __init__(self, rig: Rig, seconds: float) -> None:
        self.rig, self.fired = rig, False
        self._timer = threading.Timer(seconds, self._kill)
        self._timer.daemon = True
        self._timer.start()

    def _kill(self) -> None:
        process = self.rig.kiosk.process
        if process is not None and process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            self.fired = True

    def cancel(self) -> None:
        self._timer.cancel()


def points(count: int, every: int, limit: int | None) -> list[int]:
    """Kill points 1..count (one past the last step too: it changes nothing), every
    ``every``-th, spread evenly over at most ``limit``."""
    chosen = list(range(1, count + 2, max(1, every)))
    if limit is not None and len(chosen) > limit:
        chosen = [chosen[round(i * (len(chosen) - 1) / (limit - 1))] for i in range(limit)]
    return chosen


def explore(
    explorer: Explorer,
    names: list[str],
    every: int = 1,
    limit: int | None = None,
    random_runs: int = 0,
    seed: int = 0,
    report: Callable[[Outcome], None] = lambda outcome: None,
) -> list[Outcome]:
    """Record each scenario, then kill it at each chosen step and at random moments."""
    outcomes = []
    rng = random.Random(seed)
    for name in names:
        scenario = SCENARIOS[name]
        recording = explorer.run(scenario)
        report(recording)
        outcomes.append(recording)
        count = len(recording.steps)
        for kill_at in points(count, every, limit):
            outcome = explorer.run(scenario, kill_at=kill_at)
            report(outcome)
            outcomes.append(outcome)
        for _ in range(random_runs):
            moment = rng.uniform(0.5, max(1.0, recording.seconds - 2.0))
            outcome = explorer.run(scenario, kill_after_s=moment)
            outcome.kill_at = None
            report(outcome)
            outcomes.append(outcome)
    return outcomes


def _line(outcome: Outcome) -> str:
    if outcome.kill_at is None and not outcome.killed:
        what = f"recorded {len(outcome.steps)} steps"
    elif outcome.step is not None:
        what = (
            f"killed before step {outcome.step.number} ({outcome.step.what} {outcome.step.detail})"
        )
    else:
        what = (
            "killed at a random moment"
            if outcome.kill_at is None
            else f"step {outcome.kill_at} not reached: ran to the end"
        )
    if outcome.cut is not None:
        what += f"; cut: {outcome.cut.summary()}"
    verdict = "ok" if not outcome.problems else "FAILED: " + "; ".join(outcome.problems)
    return f"{outcome.scenario:7} {what:60} {outcome.seconds:5.1f} s  {verdict}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS))
    parser.add_argument("--every", type=int, default=1, help="every N-th step (default: all)")
    parser.add_argument(
        "--random", type=int, default=0, help="kills at random moments, per scenario"
    )
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--power-cut", action="store_true", help="each kill a power cut: unsynced writes lost"
    )
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(10**6)
    print(f"seed {seed}", flush=True)
    names = args.scenario or list(SCENARIOS)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="crash-space-") as tmp:
        work = Path(tmp)
        wallet = start_sandbox(work / "wallet")
        try:
            explorer = Explorer(wallet, build_shim(work), work / "runs", args.power_cut)
            outcomes = explore(
                explorer, names, args.every, None, args.random, seed,
                report=lambda outcome: print(_line(outcome), flush=True),
            )  # fmt: skip
        finally:
            stop_sandbox(wallet)
    failed = [o for o in outcomes if o.problems]
    kills = [o for o in outcomes if o.killed]
    print(
        f"\n{len(outcomes)} runs ({len(kills)} killed: "
        + ", ".join(f"{name} {sum(1 for o in kills if o.scenario == name)}" for name in names)
        + f") in {time.monotonic() - started:.0f} s; seed {seed}; {len(failed)} failed"
    )
    if args.power_cut:
        cuts = [o.cut for o in outcomes if o.cut is not None]
        print(
            f"power cuts: {len(cuts)}, {sum(c.dropped for c in cuts)} dropped unsynced writes"
            f" ({sum(len(c.reverted) for c in cuts)} files reverted,"
            f" {sum(len(c.gone) for c in cuts)} gone, {sum(len(c.back) for c in cuts)} back,"
            f" {sum(c.bytes_dropped for c in cuts) / 1024:.0f} KiB)"
        )
    for outcome in failed:
        print("  " + _line(outcome))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
