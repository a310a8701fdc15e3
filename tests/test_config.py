"""Configuration: a valid file loads; every bad key gets a message naming it."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from kiosk.config import ConfigError, load

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = (ROOT / "systemd" / "paykiosk.toml.example").read_text()


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    for name in ("client.pem", "client.key", "ca.pem"):
        (tmp_path / name).write_text("x")
    secret = tmp_path / "client_secret"
    secret.write_text("Y9e-WZYQCH9s2YKvR-R2HyP3MgmSctLTo95boskE5FE\n")
    secret.chmod(0o600)
    return tmp_path


def _write(config_dir: Path, text: str) -> Path:
    text = (
        text.replace("/etc/paykiosk/", "")
        .replace("/etc/ssl/certs/ca-certificates.crt", "ca.pem")
        .replace("/var/lib/paykiosk", "data")
    )
    path = config_dir / "paykiosk.toml"
    path.write_text(text)
    return path


def _replace(text: str, key: str, line: str | None) -> str:
    pattern = re.compile(rf"^{re.escape(key)} = .*$", re.M)
    assert pattern.search(text), key
    return pattern.sub(line or "", text, count=1)


def test_example_config_loads(config_dir: Path) -> None:
    config = load(_write(config_dir, EXAMPLE))
    assert config.kiosk.id == "K01" and config.kiosk.data_dir == config_dir / "data"
    assert config.acceptor.poll_ms == 150 and config.charge.idle_finish_s == 30.0
    assert set(config.moneys) == {"base", "cafeteria", "textbook"}
    assert config.wallet.read_secret().startswith("Y9e")
    assert "Y9e-WZYQ" not in repr(config)  # only the file's path is kept


@pytest.mark.parametrize(
    ("key", "line", "message"),
    [
        ("id", None, "[kiosk] id: missing"),
        ("base_url", 'base_url = "http://wallet"', "[wallet] base_url: must be an https:// URL"),
        ("client_id", 'client_id = "nope"', "[wallet] client_id: must be a UUID"),
        ("client_cert", 'client_cert = "missing.pem"', "[wallet] client_cert: "),
        ("timeout_s", 'timeout_s = "ten"', "[wallet] timeout_s: must be float"),
        ("cafeteria", None, "[moneys] cafeteria: missing"),
        ("lookup_money", 'lookup_money = "points"', "[card] lookup_money: must be one of"),
        ("poll_ms", "poll_ms = 50", "[acceptor] poll_ms: must be between 100 and 200"),
        ("idle_finish_s", "idle_finish_s = 0", "[charge] idle_finish_s: must be between"),
        ("money", 'money = ""', "[no_ui] money: must not be empty"),
        ("language", 'language = "fr"', "[kiosk] language: must be ja or en"),
        ("port", 'port = "/dev/x"\ncolour = "red"', "[acceptor] colour: unknown key"),
        (
            "enabled",
            'enabled = false\npin_factory = "lgpoi"',
            "[gpio] pin_factory: must be one of lgpio, mock, native, pigpio, rpigpio",
        ),
        ("enabled", "enabled = false\npin_factory = 1", "[gpio] pin_factory: must be str"),
        ("enabled", 'enabled = false\npin_factory = ""', "[gpio] pin_factory: must not be empty"),
    ],
)
def test_each_bad_key_is_named(config_dir: Path, key: str, line: str | None, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(_write(config_dir, _replace(EXAMPLE, key, line)))
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("line", "factory"),
    [(None, None), ('pin_factory = "mock"', "mock"), ('pin_factory = "LGPIO"', "lgpio")],
)
def test_gpio_pin_factory(config_dir: Path, line: str | None, factory: str | None) -> None:
    text = EXAMPLE if line is None else EXAMPLE.replace('# pin_factory = "mock"', line)
    assert load(_write(config_dir, text)).gpio.pin_factory == factory


def test_secret_file_readable_by_others_is_refused(config_dir: Path) -> None:
    os.chmod(config_dir / "client_secret", 0o644)
    with pytest.raises(ConfigError, match=r"\[wallet\] client_secret_file: .* chmod 600"):
        load(_write(config_dir, EXAMPLE))


def test_unknown_section_and_broken_toml(config_dir: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[printer\]: unknown section"):
        load(_write(config_dir, EXAMPLE + "\n[printer]\nmodel = 'x'\n"))
    with pytest.raises(ConfigError, match="not valid TOML"):
        load(_write(config_dir, EXAMPLE + "\n[kiosk\n"))
    with pytest.raises(ConfigError, match="no such config file"):
        load(config_dir / "absent.toml")
