"""The layer contracts in setup.cfg (run by ``lint-imports`` in the test command) hold for the
tree, and they bite: an upward import, an I/O import in the pure core, a screen reaching into
the journal or a field module loading a simulator, each planted in a copy of the tree, fails."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.wallet import ROOT

LINT = Path(sys.executable).with_name("lint-imports")


def tree_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "tree"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in ("kiosk", "screens", "hardware", "bench"):
        shutil.copytree(ROOT / package, copy / package, ignore=ignore)
    (copy / "tests").mkdir()
    shutil.copy(ROOT / "tests" / "__init__.py", copy / "tests")
    shutil.copytree(ROOT / "tests" / "support", copy / "tests" / "support", ignore=ignore)
    shutil.copy(ROOT / "setup.cfg", copy)
    return copy


def lint(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT), "--config", "setup.cfg", "--no-cache"],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )


def test_the_tree_keeps_every_layer_contract(tmp_path: Path) -> None:
    result = lint(tree_copy(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "planted", "broken"),
    [
        ("kiosk/engine/lookup.py", "from kiosk.app import runner", "kiosk layers"),
        ("kiosk/core/money.py", "import sqlite3", "kiosk.core is pure"),
        ("kiosk/journal/db.py", "import screens.fonts", "only the composition root"),
        ("kiosk/engine/loop.py", "import kiosk.sim.sandbox.server", "only the composition root"),
        ("hardware/card.py", "import kiosk.core.money", "hardware/ knows nothing"),
        ("screens/done.py", "import kiosk.journal.db", "screens are presentation only"),
    ],
)
def test_a_planted_import_breaks_its_contract(
    tmp_path: Path, module: str, planted: str, broken: str
) -> None:
    tree = tree_copy(tmp_path)
    with (tree / module).open("a") as source:
        source.write(f"\n{planted}  # planted by the test\n")
    result = lint(tree)
    assert result.returncode != 0
    report = result.stdout.split("Broken contracts")[-1]
    assert broken in report, result.stdout
