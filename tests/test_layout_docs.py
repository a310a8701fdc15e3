"""The documents that describe the tree agree with it, so they cannot drift: ``docs/layout.md``
has one table per folder and lists every module once, and only modules that exist; the README's
folder list names every top-level folder and every ``kiosk/`` sub-package; the layer order is
written once, in ``kiosk/__init__.py``, and ``docs/design.md`` (and import-linter's layers
contract, where ``setup.cfg`` has one) say the same; tests and benchmarks share code only
through ``tests/support/``."""

from __future__ import annotations

import ast
import configparser
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYOUT = ROOT / "docs" / "layout.md"
# The folders whose modules docs/layout.md lists (test modules are not listed: see its intro).
LISTED = ("kiosk", "hardware", "screens", "assets", "tests/support", "bench")
MODULE_SUFFIXES = (".py", ".c")
ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|")

Layers = list[tuple[str, ...]]


def _holds_code(init: Path) -> bool:
    """An ``__init__.py`` with more than its docstring (it is then listed like a module)."""
    body = ast.parse(init.read_text()).body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return bool(body)


def modules_on_disk() -> set[str]:
    found = set()
    for top in LISTED:
        for path in (ROOT / top).rglob("*"):
            if path.suffix not in MODULE_SUFFIXES or "__pycache__" in path.parts:
                continue
            if path.name == "__init__.py" and not _holds_code(path):
                continue
            found.add(path.relative_to(ROOT).as_posix())
    return found


def layout_rows() -> list[tuple[str, str]]:
    """(folder, name) for every module row of docs/layout.md, in order."""
    rows: list[tuple[str, str]] = []
    folder = ""
    for line in LAYOUT.read_text().splitlines():
        if line.startswith("## "):
            folder = line[3:].strip().strip("`").rstrip("/")
        elif match := ROW.match(line):
            rows.append((folder, match.group(1)))
    return rows


def listed_modules() -> set[str]:
    return {f"{folder}/{name}" for folder, name in layout_rows()}


def test_every_module_is_in_its_folders_table() -> None:
    missing = sorted(modules_on_disk() - listed_modules())
    assert not missing, (
        "modules that no table in docs/layout.md lists (add a row to the folder's table): "
        + ", ".join(missing)
    )


def test_every_module_a_table_lists_exists() -> None:
    listed = listed_modules()
    modules = {path for path in listed if path.endswith(MODULE_SUFFIXES)}
    gone = sorted(modules - modules_on_disk())
    gone += sorted(path for path in listed - modules if not (ROOT / path).is_file())
    assert not gone, "docs/layout.md lists files that do not exist: " + ", ".join(gone)


def test_one_table_per_folder_and_one_row_per_module() -> None:
    headings = [
        line[3:].strip().strip("`").rstrip("/")
        for line in LAYOUT.read_text().splitlines()
        if line.startswith("## ")
    ]
    twice = [folder for folder, n in Counter(headings).items() if n > 1]
    assert not twice, f"folders with more than one table: {twice}"
    rows = layout_rows()
    assert all(folder for folder, _ in rows), "a module row before the first folder heading"
    nested = [f"{folder}: {name}" for folder, name in rows if "/" in name]
    assert not nested, f"modules listed in a parent folder's table (give them their own): {nested}"
    repeated = [path for path, n in Counter(f"{f}/{m}" for f, m in rows).items() if n > 1]
    assert not repeated, f"modules listed twice: {repeated}"
    folders = {path.rsplit("/", 1)[0] for path in modules_on_disk()}
    assert folders <= set(headings), f"folders without a table: {sorted(folders - set(headings))}"


def _top_level_folders() -> set[str]:
    """The repository's top-level folders: those git tracks a file in, or, outside a git
    checkout, every folder but caches, builds and the virtual environment."""
    if shutil.which("git"):
        listed = subprocess.run(
            ["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True, check=False
        )
        top = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--show-toplevel"],
            capture_output=True,
            text=True,
            check=False,
        )
        if listed.returncode == 0 and Path(top.stdout.strip()).resolve() == ROOT:
            names = listed.stdout.decode().split("\0")
            return {name.split("/", 1)[0] for name in names if "/" in name}
    skipped = {"build", "dist", "__pycache__"}
    return {
        path.name
        for path in ROOT.iterdir()
        if path.is_dir()
        and not path.name.startswith(".")
        and path.name not in skipped
        and not path.name.endswith(".egg-info")
    }


def readme_folders() -> set[str]:
    """The folders the README's "Folders" section names in its table's first column."""
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Folders\n", 1)[1].split("\n## ", 1)[0]
    return {
        match.group(1).rstrip("/") for line in section.splitlines() if (match := ROW.match(line))
    }


def test_the_readme_names_every_top_level_folder_and_kiosk_sub_package() -> None:
    kiosk_packages = {
        f"kiosk/{path.parent.name}" for path in (ROOT / "kiosk").glob("*/__init__.py")
    }
    named = readme_folders()
    missing = sorted((_top_level_folders() | kiosk_packages) - named)
    assert not missing, f"folders the README's folder list does not name: {missing}"
    gone = sorted(folder for folder in named if not (ROOT / folder).is_dir())
    assert not gone, f"the README names folders that do not exist: {gone}"


def _layers(lines: list[str]) -> Layers:
    return [tuple(part.strip() for part in line.split("|")) for line in lines if line.strip()]


def layers_in_the_package_docstring() -> Layers:
    """The indented block after "in layers, top to bottom" in ``kiosk/__init__.py``."""
    doc = ast.get_docstring(ast.parse((ROOT / "kiosk" / "__init__.py").read_text())) or ""
    after = doc.split("in layers, top to bottom", 1)[1]
    block = after.split("\n\n", 2)[1]  # the paragraph that introduces it, then the block
    lines = block.splitlines()
    assert all(line.startswith("    ") for line in lines), f"not an indented block: {block!r}"
    return _layers(lines)


def test_docs_design_quotes_the_layer_order_of_the_package_docstring() -> None:
    design = (ROOT / "docs" / "design.md").read_text()
    block = design.split("<!-- layer-order -->\n```\n", 1)[1].split("\n```", 1)[0]
    assert _layers(block.splitlines()) == layers_in_the_package_docstring(), (
        "docs/design.md's layer order differs from kiosk/__init__.py's (the docstring owns it)"
    )


def test_import_linter_checks_the_layer_order_of_the_package_docstring() -> None:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    contracts = [
        config[name]
        for name in config.sections()
        if name.startswith("importlinter:contract:") and config[name].get("type") == "layers"
    ]
    if not contracts:
        pytest.skip("setup.cfg has no import-linter layers contract")
    [contract] = contracts
    assert _layers(contract["layers"].splitlines()) == layers_in_the_package_docstring(), (
        "setup.cfg's layers contract differs from kiosk/__init__.py's layer order"
    )


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_tests_and_benchmarks_share_code_only_through_tests_support() -> None:
    """No test module, support module or benchmark imports a test module (``tests.test_*``):
    what several of them need lives in ``tests/support/`` (fixtures registered by conftest)."""
    offenders = []
    for path in sorted([*(ROOT / "tests").rglob("*.py"), *(ROOT / "bench").rglob("*.py")]):
        bad = sorted(name for name in _imported(path) if name.startswith("tests.test_"))
        if bad:
            offenders.append(f"{path.relative_to(ROOT)}: {', '.join(bad)}")
    assert not offenders, "imports of test modules:\n" + "\n".join(offenders)
