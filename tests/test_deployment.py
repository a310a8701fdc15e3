"""The kiosk as a co-op technician installs it: ``systemd/install.sh`` into a staging root
(files, modes, owners, the service enabled, a second run changing nothing), the unit checked by
``systemd-analyze`` (any word it says is a failure: it exits 0 on unknown keys and bad
values), its sandbox against the paths the kiosk writes, and the Prometheus alert rules
checked and unit-tested by ``promtool``."""

from __future__ import annotations

import configparser
import os
import stat
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UNIT = ROOT / "systemd" / "paykiosk.service"
RULES = ROOT / "systemd" / "prometheus"
OWNER, GROUP = "nobody", "nogroup"  # on every Debian machine; staging makes no user
AS_ROOT = os.geteuid() == 0

pytestmark = pytest.mark.timeout(300)


def install(stage: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DESTDIR": str(stage), "KIOSK_USER": OWNER, "KIOSK_GROUP": GROUP}
    return subprocess.run(
        ["sh", str(ROOT / "systemd" / "install.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


@pytest.fixture(scope="module")
def stage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("stage")
    result = install(root)
    assert result.returncode == 0, result.stdout + result.stderr
    yield root


def mode_and_owner(path: Path) -> tuple[str, str, str]:
    import grp
    import pwd

    info = path.lstat()
    return (
        oct(stat.S_IMODE(info.st_mode)),
        pwd.getpwuid(info.st_uid).pw_name,
        grp.getgrgid(info.st_gid).gr_name,
    )


def unit() -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(UNIT)
    return parser


def test_the_staged_install_lays_out_each_file_with_its_mode_and_owner(stage: Path) -> None:
    expected = {
        "etc/paykiosk": ("0o750", "root", GROUP),
        "etc/paykiosk/paykiosk.toml": ("0o640", "root", GROUP),
        "etc/paykiosk/client_secret": ("0o600", OWNER, GROUP),
        "var/lib/paykiosk": ("0o700", OWNER, GROUP),
        "etc/systemd/system/paykiosk.service": ("0o644", "root", "root"),
        "etc/udev/rules.d/99-paykiosk.rules": ("0o644", "root", "root"),
        "etc/modprobe.d/paykiosk-blacklist-port100.conf": ("0o644", "root", "root"),
    }
    for name, (mode, owner, group) in expected.items():
        found = mode_and_owner(stage / name)
        if AS_ROOT:
            assert found == (mode, owner, group), name
        else:
            assert found[0] == mode, name
    assert (stage / "etc/paykiosk/paykiosk.toml").read_bytes() == (
        ROOT / "systemd" / "paykiosk.toml.example"
    ).read_bytes()
    enabled = stage / "etc/systemd/system/multi-user.target.wants/paykiosk.service"
    assert enabled.is_symlink()
    assert os.readlink(enabled) == "/etc/systemd/system/paykiosk.service"
    for page in ("README.md", "docs/operations.md", "docs/staff.md", "docs/deployment.md"):
        assert (stage / "opt/paykiosk" / page).is_file(), page  # the unit's Documentation=
    program = stage / "opt/paykiosk/.venv/bin/paykiosk"
    assert os.access(program, os.X_OK)
    usage = subprocess.run([str(program), "--help"], capture_output=True, text=True, timeout=60)
    assert usage.returncode == 0 and "--config" in usage.stdout


def test_a_second_install_keeps_the_edited_configuration_and_the_secret(stage: Path) -> None:
    config = stage / "etc/paykiosk/paykiosk.toml"
    secret = stage / "etc/paykiosk/client_secret"
    edited = config.read_text().replace('id = "K01"', 'id = "K07"')
    config.write_text(edited)
    secret.write_text("a secret the operator put there\n")
    result = install(stage)
    assert result.returncode == 0, result.stderr
    assert config.read_text() == edited
    assert secret.read_text() == "a secret the operator put there\n"
    assert mode_and_owner(secret)[0] == "0o600" and mode_and_owner(config)[0] == "0o640"


def test_systemd_analyze_verifies_the_installed_unit_without_a_word(
    stage: Path, tmp_path: Path
) -> None:
    # ExecStart must exist for verify: point it at the staged program, nothing else changes
    installed = (stage / "etc/systemd/system/paykiosk.service").read_text()
    copy = tmp_path / "paykiosk.service"
    copy.write_text(installed.replace("ExecStart=/opt/", f"ExecStart={stage}/opt/"))
    result = subprocess.run(
        ["systemd-analyze", "verify", str(copy)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, "")
    broken = tmp_path / "broken.service"
    broken.write_text(installed.replace("ProtectSystem=strict", "ProtectSystem=stirct"))
    said = subprocess.run(
        ["systemd-analyze", "verify", str(broken)], capture_output=True, text=True, cwd=tmp_path
    )
    assert "protect system" in said.stderr.lower()  # the check would catch a typo
    exposure = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", str(copy)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert "Overall exposure level for paykiosk.service" in exposure.stdout
    level = float(exposure.stdout.rsplit("paykiosk.service:", 1)[1].split()[0])
    assert level < 5.0, exposure.stdout[-400:]  # "OK" or better


def test_the_units_sandbox_leaves_the_kiosk_every_path_it_writes() -> None:
    service = unit()["Service"]
    example = tomllib.loads((ROOT / "systemd" / "paykiosk.toml.example").read_text())
    data_dir = Path(example["kiosk"]["data_dir"])
    assert service["ProtectSystem"] == "strict" and service["ProtectHome"] == "yes"
    # the journal, its lock and Kivy's settings (data_dir/kivy) live in the StateDirectory
    assert data_dir == Path("/var/lib") / service["StateDirectory"]
    # the staff's CSV export: the example's export_dir is writable (if a stick is mounted)
    export_dir = example["staff"]["export_dir"]
    assert f"-{export_dir}" in service["ReadWritePaths"].split()
    assert service["User"] == "paykiosk" and service["NoNewPrivileges"] == "yes"
    # devices: the display, touch screen, serial port, reader and GPIO must stay reachable
    for closing in ("PrivateDevices", "DeviceAllow", "DevicePolicy", "ProtectClock"):
        assert closing not in service, closing
    groups = service["SupplementaryGroups"].split()
    assert {"video", "render", "input", "dialout", "plugdev", "gpio"} <= set(groups)
    assert "--no-ui" not in service["ExecStart"]  # the touch UI at boot
    assert service["Environment"]  # the last Environment= line at least
    text = UNIT.read_text()
    assert "Environment=SDL_VIDEODRIVER=kmsdrm" in text
    assert "Environment=TZ=" not in text  # the zone is the configuration's, one owner
    # a broken configuration exits 78 and a second kiosk 75: neither is restarted in a loop
    assert service["RestartPreventExitStatus"].split() == ["78", "75"]


def test_promtool_checks_the_alert_rules_and_their_unit_tests_pass() -> None:
    def promtool(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["promtool", *args], capture_output=True, text=True, cwd=RULES, timeout=60
        )

    checked = promtool("check", "rules", "paykiosk-rules.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 12 rules found" in checked.stdout
    tested = promtool("test", "rules", "paykiosk-rules.test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr
