"""``paykiosk --demo``: the whole kiosk on one machine, every outside part simulated for real.

The wallet sandbox (HTTPS + mutual TLS on loopback), the ID-003 acceptor simulator on a pty,
the FeliCa card emulator over nfcpy's udp driver, and the real engine with its journal. With a
display, the kiosk's touch UI opens in a window beside a strip of buttons for the outside
world (screens/demo.py); typed commands work too (the console view shows what a member
would see). ``--console`` (or no display) runs the typed commands alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import json
import os
import signal
import stat
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from hardware.felica.sim import CardEmulator, EmulatedCard, free_udp_port
from hardware.id003.sim.console import HELP as SIM_HELP
from hardware.id003.sim.console import NOTE_KEYS, run_command
from hardware.id003.sim.process import SimulatorProcess
from kiosk.app.runner import run as run_kiosk
from kiosk.app.settings import front_settings, wallet_settings
from kiosk.config.settings import Config, load
from kiosk.engine.loop import Engine
from kiosk.journal import Journal
from kiosk.ops.pending import journal_report, pending
from kiosk.ops.reconcile import reconcile_now
from kiosk.sim.config import write_sandbox_config
from kiosk.sim.sandbox import faults
from kiosk.sim.sandbox.server import SandboxServer
from kiosk.staff.day_close import close_day, day_text

if TYPE_CHECKING:
    from kiosk.app.runner import Front, FrontFactory

CARD_HOLD_S = 5.0  # how long a touched demo card stays on the reader
# The kiosk's 800×480 screen beside the demo strip (240 units wide, screens/demo.py).
WINDOW_SIZE = (800 + 240, 480)
DISPLAY_VARIABLES = ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER")


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
      mv c 1000 / mv k 500  move base money to cafeteria / textbook money (マネー移動); y  confirm
Faults: w down | w up | w slow (wallet)   jam before | power-cut | stacker open … (? lists all)
Staff:  pending   journal   close [YYYY-MM-DD]  the day's close, checked with the wallet   q  quit
"""


class DemoControls:
    """The outside world a demo user acts on: cards, notes, acceptor faults, the wallet. Each
    action blocks (a card stays on the reader for 5 s) and returns a short answer; the strip
    (screens/demo.py ``DemoActions``) and the typed commands call them off the UI loop."""

    notes: tuple[int, ...] = tuple(NOTE_KEYS.values())

    def __init__(
        self,
        sim: SimulatorProcess,
        card: CardEmulator,
        sandbox: SandboxServer,
        info: Mapping[str, Any],
    ) -> None:
        self.sim, self.card, self.sandbox = sim, card, sandbox
        self.cards: list[tuple[str, str]] = [
            (m["name"] + ("" if m["status"] == "active" else f" ({m['status']})"), m["card_idm"])
            for m in info["members"]
        ]
        self.cards.append(("unregistered card", info["unregistered_cards"][0]))
        self._touching = threading.Lock()  # one hand at the reader
        self._touches = 0

    def touch_card(self, card_id: str) -> str:
        """Put the card on the reader; returns when it has been taken away (5 s, or sooner
        when another card is touched)."""
        with self._touching:
            self._touches += 1
            touch = self._touches
            self.card.touch(EmulatedCard(card_id), hold=CARD_HOLD_S)
        deadline = time.monotonic() + CARD_HOLD_S + 1
        while self.card.present and self._touches == touch and time.monotonic() < deadline:
            time.sleep(0.1)
        return "card taken off the reader" if self._touches == touch else "another card"

    def feed_note(self, value: int) -> str:
        if self.sim.insert(value):
            return f"¥{value:,} note fed"
        return "the acceptor is busy: note not taken"

    def jam(self) -> str:
        return run_command(self.sim, "jam before")

    def clear_jam(self) -> str:
        return run_command(self.sim, "clear")

    def power_cut(self) -> str:
        return run_command(self.sim, "power-cut")  # 1 s without power

    def set_wallet(self, up: bool) -> str:
        faults.update(self.sandbox.store, refuse=not up, latency_ms=0)
        return "wallet up" if up else "wallet down"


def has_display(env: Mapping[str, str] = os.environ, dri: str = "/dev/dri") -> bool:
    """A window can open: an X or Wayland session, an explicit SDL video driver (e.g. the tests'
    offscreen one) or a kernel display device (SDL's kmsdrm on a console)."""
    return any(env.get(name) for name in DISPLAY_VARIABLES) or bool(glob.glob(f"{dri}/card*"))


def run(data_dir: str | None = None, console: bool = False) -> int:
    """The demo: in a window if there is a display and not ``console``, else typed commands."""
    window = not console and _window_possible()
    directory = Path(data_dir or tempfile.mkdtemp(prefix="paykiosk-demo-"))
    directory.mkdir(parents=True, exist_ok=True)
    sandbox = SandboxServer(directory / "sandbox")
    threading.Thread(target=sandbox.serve, name="sandbox", daemon=True).start()
    info = sandbox_info(directory)
    # the unit in a process of its own: a thread here, beside Kivy drawing, went unheard
    sim = SimulatorProcess(directory / "acceptor").start()
    card = CardEmulator(free_udp_port())
    config = load(
        write_sandbox_config(
            directory,
            info,
            sim.path,
            card.device_path,
            kiosk_id="DEMO",
            idle_finish_s=20,
            screen_timeout_s=None,  # the kiosk's own
            reconcile_at=None,  # the kiosk's own daily runs
            archive_at=None,
        )
    )
    controls = DemoControls(sim, card, sandbox, info)
    print(banner(info["members"]), flush=True)
    if window:
        print(
            "The kiosk opens in a window: the strip on its right is the outside world (F2 or"
            " Tab hides it); these commands work too.",
            flush=True,
        )
    engines: list[Engine] = []
    if _stdin_readable():
        keyboard = threading.Thread(
            target=_keyboard, args=(engines, controls, info, config), daemon=True
        )
        keyboard.start()
    front = demo_front(controls, config, directory / "kivy") if window else None
    try:
        with contextlib.suppress(KeyboardInterrupt):  # a quit before the kiosk took SIGINT
            asyncio.run(run_kiosk(config, no_ui=False, attach=engines.append, front=front))
    finally:
        card.close()
        sim.stop()
        sandbox.stop()
        print(f"demo files: {directory}")
    return 0


def _window_possible() -> bool:
    """A display and the UI's Japanese font; if not, one line says why (the console runs)."""
    if not has_display():
        names = ", ".join(DISPLAY_VARIABLES)
        print(
            f"no display ({names} unset, no /dev/dri/card*): running the console demo", flush=True
        )
        return False
    from screens.fonts import FontMissing, font_path  # no Kivy import

    try:
        font_path()
    except FontMissing as error:
        print(f"{error}: running the console demo", flush=True)
        return False
    return True


def demo_front(controls: DemoControls, config: Config, kivy_home: Path) -> FrontFactory:
    """The kiosk's touch UI in a window (cursor shown) with the demo strip beside it."""

    def make(engine: Engine) -> Front:
        from screens.front import FrontSettings, KioskFront

        settings = front_settings(config, fullscreen=False, size=WINDOW_SIZE, kivy_home=kivy_home)

        def make_app(intents: Any, settings: FrontSettings) -> Any:
            from screens.demo import DemoApp  # Kivy: only once configure_kivy has run

            return DemoApp(
                controls,
                intents,
                lang=settings.lang,
                kiosk_id=settings.kiosk_id,
                portal_url=settings.portal_url,
            )

        return KioskFront(engine.inbox, settings, make_app=make_app)

    return make


def sandbox_info(directory: Path) -> dict[str, Any]:
    info: dict[str, Any] = json.loads((directory / "sandbox" / "sandbox.json").read_text())
    return info


def _stdin_readable() -> bool:
    """A terminal or a pipe: someone may type. Not /dev/null (a desktop launcher), where EOF
    would quit the demo at once."""
    try:
        mode = os.fstat(sys.stdin.fileno()).st_mode
    except (OSError, ValueError, AttributeError):  # closed, or replaced (pytest)
        return False
    return sys.stdin.isatty() or stat.S_ISFIFO(mode)


def _keyboard(
    engines: list[Engine], controls: DemoControls, info: dict[str, Any], config: Config
) -> None:
    while True:
        try:
            line = input().strip()
        except EOFError:
            line = "q"
        if line in ("q", "quit"):
            while not engines:  # the kiosk's stop handler comes with its engine
                time.sleep(0.1)
            os.kill(os.getpid(), signal.SIGINT)  # the kiosk stops as under systemd
            return
        if not engines:
            print("  > still starting…", flush=True)
            continue
        answer = _command(line, engines[0], controls, info, config)
        if answer:
            print(f"  > {answer}", flush=True)


def _move(line: str, engine: Engine) -> str:
    """``mv c 1000``: the member's steps up to the confirmation (``y`` confirms, ``n`` cancels)."""
    parts = line.split()
    targets = {"c": "cafeteria", "k": "textbook"}
    if len(parts) != 3 or parts[1] not in targets or not parts[2].isdigit() or not int(parts[2]):
        return "mv c AMOUNT | mv k AMOUNT (e.g. mv c 1000)"
    engine.inbox.move_money()
    engine.inbox.move_route("base", targets[parts[1]])
    engine.inbox.move_add(int(parts[2]))
    engine.inbox.move_review()
    return ""


def close_text(config: Config, day_text_given: str = "") -> str:
    """``close [YYYY-MM-DD]``: the day's close (today by default), checked against the wallet's
    ledger first (on this thread, with its own wallet client: the engine's loop runs on)."""
    zone = config.kiosk.time_zone
    try:
        day = date.fromisoformat(day_text_given) if day_text_given else None
    except ValueError:
        return f"close YYYY-MM-DD (not {day_text_given!r})"
    day = day or datetime.now(ZoneInfo(zone)).date()
    buckets = {money: bucket for bucket, money in config.moneys.items()}
    journal = Journal(config.journal_path, config.kiosk.id)
    try:
        reconcile_now(journal, wallet_settings(config), day, zone, buckets, "demo")
        return "\n" + day_text(close_day(journal, config.kiosk.id, day, zone))
    finally:
        journal.close()


def _command(
    line: str, engine: Engine, controls: DemoControls, info: dict[str, Any], config: Config
) -> str:
    journal_path = config.journal_path
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
        getattr(engine.inbox, name)(*args)  # intents are safe to call from this thread
        return ""
    if line.startswith("mv"):
        return _move(line, engine)
    if line == "y":
        engine.inbox.move_confirm()
        return ""
    if line.startswith("t") and (line[1:].isdigit() or line == "tx"):
        if line == "tx":
            card_id = info["unregistered_cards"][0]
        elif 0 < int(line[1:]) <= len(members):
            card_id = members[int(line[1:]) - 1]["card_idm"]
        else:
            return f"no member {line[1:]}"
        threading.Thread(target=controls.touch_card, args=(card_id,), daemon=True).start()
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
        faults.update(controls.sandbox.store, **change)
        return f"wallet {line[2:]}"
    if line == "close" or line.startswith("close "):
        return close_text(config, line[len("close") :].strip())
    if line in ("pending", "journal"):
        journal = Journal(journal_path, "DEMO")
        try:
            return "\n" + (pending(journal) if line == "pending" else journal_report(journal))
        finally:
            journal.close()
    if line == "?":
        return "\n" + SIM_HELP
    try:
        return run_command(controls.sim, line)
    except ValueError:
        return f"unknown command {line!r} (? lists the simulator's)"
