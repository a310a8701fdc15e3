"""A kiosk in the field loads only what it runs: ``paykiosk --config F`` (the real process,
against the simulator and the sandbox started by the test) comes into service with every
sandbox, simulator, demo and ``trustme`` import refused."""

from __future__ import annotations

import configparser
import subprocess
import sys
import time
from pathlib import Path

from hardware.felica.sim import free_udp_port
from hardware.id003.sim.process import SimulatorProcess
from kiosk.sim.config import write_sandbox_config
from tests.support.wallet import ROOT, Sandbox


def simulation_modules() -> list[str]:
    """The layout's rule: simulators live in packages or modules named ``sim``, the demo's wiring
    in modules named ``demo`` (kiosk/app/demo.py, screens/demo.py)."""
    found = []
    for package in ("kiosk", "hardware", "screens"):
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if "sim" in parts or parts[-1] == "demo":
                found.append(".".join(parts))
    return sorted(found)


NOT_IN_PRODUCTION = ("trustme", *simulation_modules())


def test_the_simulation_modules_are_found_where_the_layout_puts_them() -> None:
    found = set(simulation_modules())
    for named in (
        "kiosk.sim.sandbox.server",
        "kiosk.sim.config",
        "kiosk.app.demo",
        "screens.demo",
        "hardware.id003.sim.simulator",
        "hardware.felica.sim",
        "hardware.pcsc.sim",
    ):
        assert named in found
    assert not any(
        name.startswith(("kiosk.core", "kiosk.engine", "kiosk.journal")) for name in found
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
from kiosk.app.cli import main

sys.exit(main(["--config", {config!r}]))
"""


def test_the_production_path_loads_no_sandbox_simulator_or_trustme(
    tmp_path: Path, sim: SimulatorProcess, wallet: Sandbox
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
        "import sys, kiosk.engine.loop, kiosk.app.runner, kiosk.app.cli, kiosk.core.view; "
        "print(sorted(m for m in sys.modules if m == 'kivy' or m.startswith(('kivy.', 'screens'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
