"""A kiosk in the field loads only what it runs: ``paykiosk --config F`` (the real process,
against the simulator and the sandbox started by the test) comes into service with every
sandbox, simulator, demo and ``trustme`` import refused."""

from __future__ import annotations

import configparser
import subprocess
import sys
import time
from pathlib import Path

from hardware.felica.emulator import free_udp_port
from hardware.id003.simulator import AcceptorSimulator
from kiosk.sandbox_config import write_sandbox_config
from tests.wallet_support import ROOT, Sandbox

NOT_IN_PRODUCTION = (
    "trustme",
    "kiosk.wallet.sandbox",
    "kiosk.demo",
    "kiosk.sandbox_config",
    "hardware.id003.simulator",
    "hardware.id003.device",
    "hardware.id003.sim_console",
    "hardware.felica.emulator",
)

KIOSK = """
import sys

REFUSED = {refused!r}


class Refuse:
    def find_spec(self, name, path=None, target=None):
        if any(name == r or name.startswith(r + ".") for r in REFUSED):
            raise ImportError(f"the production path imports {{name}}")
        return None


sys.meta_path.insert(0, Refuse())
from kiosk.cli import main

sys.exit(main(["--config", {config!r}]))
"""


def test_the_production_path_loads_no_sandbox_simulator_or_trustme(
    tmp_path: Path, sim: AcceptorSimulator, wallet: Sandbox
) -> None:
    config = write_sandbox_config(
        tmp_path, wallet.info, sim.path, f"udp:127.0.0.1:{free_udp_port()}"
    )
    script = KIOSK.format(refused=NOT_IN_PRODUCTION, config=str(config))
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip())
        if "ready: touch your card" in line:
            break
    process.terminate()
    rest, _ = process.communicate(timeout=15)
    output = "\n".join([*lines, rest])
    assert any("ready: touch your card" in line for line in lines), output
    assert process.returncode == 0, output
    assert "ImportError" not in output


def test_the_install_requirements_carry_no_demo_only_package() -> None:
    setup = configparser.ConfigParser()
    setup.read(ROOT / "setup.cfg")
    required = setup["options"]["install_requires"]
    assert "trustme" not in required
    assert "trustme" in setup["options.extras_require"]["demo"]
    assert "paykiosk[demo,pcsc]" in setup["options.extras_require"]["test"]
    assert "pyscard" not in required  # only a kiosk with a PC/SC reader builds it
    assert "pyscard" in setup["options.extras_require"]["pcsc"]


def test_the_engine_never_imports_kivy() -> None:
    """The engine runs the same under the UI, with --no-ui and under tests: no Kivy in it."""
    probe = (
        "import sys, kiosk.engine, kiosk.runner, kiosk.cli, kiosk.view; "
        "print(sorted(m for m in sys.modules if m == 'kivy' or m.startswith(('kivy.', 'screens'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
