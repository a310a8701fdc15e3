"""The money-path model (tests/support/money_model.py) searched long, with figures.

    python -m bench.money_model [--examples 5000] [--steps 50] [--seed N] [--no-startup-crash]

Runs the hypothesis state machine over the real journal, note ledger, sessions, closing, moves
and delivery against the fake wallet, crashing and restarting the kiosk. Prints the examples
run, steps, crashes by kind, wallet behaviours by call, money outcomes and the time taken; on a
failure, the seed, the failing steps and hypothesis's ``@reproduce_failure`` blob, and exits 1.
The kiosk may also die again during start-up before the engine took the acceptor's events
(``--no-startup-crash`` leaves that out); that is how the search found an unresolved note's staff
case lost to a crash (fixed, see tests/test_money_model.py).
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import time
import traceback

from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from tests.support.money_model import STATS, MoneyMachine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=5000)
    parser.add_argument("--steps", type=int, default=50, help="rules per example at most")
    parser.add_argument("--seed", type=int, default=None, help="default: a random one")
    parser.add_argument("--no-startup-crash", action="store_true")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(2**32)

    class Machine(MoneyMachine):
        startup_crashes = not args.no_startup_crash

    Machine._hypothesis_internal_use_seed = seed
    Machine.__name__ = Machine.__qualname__ = "MoneyMachine"
    run = settings(
        max_examples=args.examples,
        stateful_step_count=args.steps,
        deadline=None,
        database=None,
        print_blob=True,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.generate, Phase.shrink],
    )
    print(f"money model: {args.examples} examples of up to {args.steps} steps, seed {seed}")
    logging.disable(logging.CRITICAL)  # the kiosk's own logs (a note did not settle, …)
    STATS.reset()
    started = time.perf_counter()
    failed = False
    try:
        run_state_machine_as_test(Machine, settings=run)
    except Exception:
        failed = True
        traceback.print_exc()
    elapsed = time.perf_counter() - started
    report(elapsed)
    if failed:
        print(
            f"FAILED (seed {seed}): rerun with --seed {seed}, or paste the @reproduce_failure"
            " line above onto MoneyMachine.TestCase"
        )
        sys.exit(1)
    print(f"every invariant held (seed {seed})")


def report(elapsed: float) -> None:
    print(
        f"  {STATS.examples} examples (incl. shrinking), {STATS.steps} steps in {elapsed:.1f} s"
        f" ({STATS.steps / max(elapsed, 1e-9):.0f} steps/s)"
    )
    print(f"  crashes: {sum(STATS.crashes.values())}")
    for what, n in sorted(STATS.crashes.items()):
        print(f"    {n:8d}  {what}")
    print(f"  wallet calls: {sum(STATS.calls.values())}")
    for what, n in sorted(STATS.calls.items()):
        print(f"    {n:8d}  {what}")
    print("  outcomes:")
    for what, n in sorted(STATS.outcomes.items()):
        print(f"    {n:8d}  {what}")


if __name__ == "__main__":
    main()
