"""``paykiosk --demo``: the whole kiosk on one machine, every outside part simulated for real.

The wallet sandbox (HTTPS + mutual TLS on loopback), the ID-003 acceptor simulator on a pty,
the FeliCa card emulator over nfcpy's udp driver, and the real engine with its journal. Type
commands and Enter; the console view shows what a member would see.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import tempfile
import threading
from pathlib import Path
from typing import Any

from hardware.felica.emulator import CardEmulator, EmulatedCard, free_udp_port
from hardware.id003.sim_console import HELP as SIM_HELP
from hardware.id003.sim_console import run_command
from hardware.id003.simulator import AcceptorSimulator
from kiosk.config import load
from kiosk.engine import Engine
from kiosk.inspect import journal_report, pending
from kiosk.journal import Journal
from kiosk.runner import run as run_kiosk
from kiosk.sandbox_config import write_sandbox_config
from kiosk.wallet.sandbox import faults
from kiosk.wallet.sandbox.server import SandboxServer


def banner(members: list[dict[str, Any]]) -> str:
    cards = "\n".join(
        f"  t{i + 1}  {m['name']} ({m['status']}, base ¥{m['wallets']['base']['money_balance']:,})"
        for i, m in enumerate(members)
    )
    return f"""\
Pay Spot demo — every outside part is simulated; the engine and journal are the real ones.
Touch a card (held 5 s):
{cards}
  tx  a card linked to nobody
Then: b / c / k  charge base / cafeteria / textbook money
      1 2 5 0    feed a ¥1,000 / ¥2,000 / ¥5,000 / ¥10,000 note     x  an unreadable note
      f  finish (or wait: the session finishes by itself)   n  cancel   ok  dismiss the result
Faults: w down | w up | w slow (wallet)   jam before | power-cut | stacker open … (? lists all)
Staff:  pending   journal                 q  quit
"""


def run(data_dir: str | None = None) -> int:
    directory = Path(data_dir or tempfile.mkdtemp(prefix="paykiosk-demo-"))
    directory.mkdir(parents=True, exist_ok=True)
    sandbox = SandboxServer(directory / "sandbox")
    threading.Thread(target=sandbox.serve, name="sandbox", daemon=True).start()
    info = sandbox_info(directory)
    sim = AcceptorSimulator(link=str(directory / "acceptor")).start()
    card = CardEmulator(free_udp_port())
    config = load(
        write_sandbox_config(
            directory,
            info,
            sim.path,
            card.device_path,
            kiosk_id="DEMO",
            idle_finish_s=20,
            screen_timeout_s=60,
        )
    )
    print(banner(info["members"]), flush=True)
    engines: list[Engine] = []
    keyboard = threading.Thread(
        target=_keyboard,
        args=(engines, sim, card, sandbox, info, config.journal_path),
        daemon=True,
    )
    keyboard.start()
    try:
        asyncio.run(run_kiosk(config, no_ui=False, attach=engines.append))
    finally:
        card.close()
        sim.stop()
        sandbox.stop()
        print(f"demo files: {directory}")
    return 0


def sandbox_info(directory: Path) -> dict[str, Any]:
    info: dict[str, Any] = json.loads((directory / "sandbox" / "sandbox.json").read_text())
    return info


def _keyboard(
    engines: list[Engine],
    sim: AcceptorSimulator,
    card: CardEmulator,
    sandbox: SandboxServer,
    info: dict[str, Any],
    journal_path: Path,
) -> None:
    while True:
        try:
            line = input().strip()
        except EOFError:
            line = "q"
        if line in ("q", "quit"):
            os.kill(os.getpid(), signal.SIGINT)  # the kiosk stops as under systemd
            return
        if not engines:
            print("  > still starting…", flush=True)
            continue
        answer = _command(line, engines[0], sim, card, sandbox, info, journal_path)
        if answer:
            print(f"  > {answer}", flush=True)


def _command(
    line: str,
    engine: Engine,
    sim: AcceptorSimulator,
    card: CardEmulator,
    sandbox: SandboxServer,
    info: dict[str, Any],
    journal_path: Path,
) -> str:
    members = info["members"]
    intents = {
        "b": ("choose_money", "base"),
        "c": ("choose_money", "cafeteria"),
        "k": ("choose_money", "textbook"),
        "h": ("show_history",),
        "m": ("more_history",),
        "back": ("back",),
        "f": ("finish",),
        "n": ("cancel",),
        "ok": ("acknowledge",),
    }
    if line in intents:
        name, *args = intents[line]
        getattr(engine, name)(*args)  # intents are safe to call from this thread
        return ""
    if line.startswith("t") and (line[1:].isdigit() or line == "tx"):
        if line == "tx":
            card_id = info["unregistered_cards"][0]
        elif 0 < int(line[1:]) <= len(members):
            card_id = members[int(line[1:]) - 1]["card_idm"]
        else:
            return f"no member {line[1:]}"
        threading.Thread(
            target=card.touch, args=(EmulatedCard(card_id),), kwargs={"hold": 5.0}, daemon=True
        ).start()
        return "card on the reader"
    if line.startswith("w "):
        changes: dict[str, dict[str, object]] = {
            "down": {"refuse": True},
            "up": {"refuse": False, "latency_ms": 0},
            "slow": {"latency_ms": 4000},
        }
        change = changes.get(line[2:])
        if change is None:
            return "w down | w up | w slow"
        faults.update(sandbox.store, **change)
        return f"wallet {line[2:]}"
    if line in ("pending", "journal"):
        journal = Journal(journal_path, "DEMO")
        try:
            return "\n" + (pending(journal) if line == "pending" else journal_report(journal))
        finally:
            journal.close()
    if line == "?":
        return "\n" + SIM_HELP
    try:
        return run_command(sim, line)
    except ValueError:
        return f"unknown command {line!r} (? lists the simulator's)"
