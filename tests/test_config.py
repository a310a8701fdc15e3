"""Configuration: a valid file loads; every bad key gets a message naming it."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from kiosk.config.settings import ConfigError, load

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = (ROOT / "systemd" / "paykiosk.toml.example").read_text()


@pytest.fixture
def config_dir(tmp_path: Path, tls_files: dict[str, bytes]) -> Path:
    for name, content in tls_files.items():
        (tmp_path / name).write_bytes(content)
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
        ("poll_timeout_s", "poll_timeout_s = 1", "[card] poll_timeout_s: must be between 3.0"),
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
        (
            "reconcile_at",
            'reconcile_at = "25:00"',
            "[staff] reconcile_at: must be a time like 03:30 or off, got '25:00'",
        ),
        (
            "archive_at",
            'archive_at = "4 am"',
            "[journal] archive_at: must be a time like 03:30 or off, got '4 am'",
        ),
        ("working_days", "working_days = 3", "[journal] working_days: must be between 7"),
        (
            "working_days",
            "working_days = 3000",
            "[journal] retention_years: must be longer than working_days (7 years ≤ 3000 days)",
        ),
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


@pytest.mark.parametrize(
    ("routes", "message"),
    [
        ('"base->cafeteria"', "[move] routes: must be a list"),
        ('["base->points"]', "[move] routes: 'base->points' is not SOURCE->TARGET"),
        ('["base cafeteria"]', "is not SOURCE->TARGET"),
        ('["base->base"]', "[move] routes: 'base->base' moves a money to itself"),
        ('["base->textbook", "base -> textbook"]', "is listed twice"),
    ],
)
def test_bad_move_routes_are_named(config_dir: Path, routes: str, message: str) -> None:
    text = EXAMPLE.replace('routes = ["base->cafeteria", "base->textbook"]', f"routes = {routes}")
    with pytest.raises(ConfigError) as caught:
        load(_write(config_dir, text))
    assert message in str(caught.value)


def test_move_routes_default_configured_and_none(config_dir: Path) -> None:
    default = (("base", "cafeteria"), ("base", "textbook"))
    assert load(_write(config_dir, EXAMPLE)).move.routes == default
    without = EXAMPLE.replace('routes = ["base->cafeteria", "base->textbook"]', "")
    assert load(_write(config_dir, without)).move.routes == default
    none = EXAMPLE.replace('routes = ["base->cafeteria", "base->textbook"]', "routes = []")
    assert load(_write(config_dir, none)).move.routes == ()
    other = EXAMPLE.replace('["base->cafeteria", "base->textbook"]', '["cafeteria->textbook"]')
    assert load(_write(config_dir, other)).move.routes == (("cafeteria", "textbook"),)
    with pytest.raises(ConfigError, match=r"\[move\] colour: unknown key"):
        load(_write(config_dir, EXAMPLE.replace("[move]\n", "[move]\ncolour = 1\n")))
    with pytest.raises(ConfigError, match=r"\[no_ui\] move_to: must be one of"):
        load(_write(config_dir, EXAMPLE.replace('# move_to = "cafeteria"', 'move_to = "x"')))


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


@pytest.mark.parametrize(
    ("device", "message"),
    [
        ("garbage::42", "[card] device: 'garbage::42' is not an nfcpy reader path"),
        ("usb:001:002", "[card] device: 'usb:001:002' is a USB bus and device number"),
        ("/dev/ttyUSB0", "[card] device: '/dev/ttyUSB0' is not an nfcpy reader path"),
        ("udp:127.0.0.1:0", "[card] device: 'udp:127.0.0.1:0': the udp port must be between"),
        ("pcsc:", "[card] device: 'pcsc:' is not a PC/SC reader path: use pcsc or pcsc:NAME"),
        ("nfc:RC-S300", "[card] device: 'nfc:RC-S300' is not an nfcpy reader path"),
    ],
)
def test_a_card_reader_path_nfcpy_cannot_keep_is_refused(
    config_dir: Path, device: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load(_write(config_dir, _replace(EXAMPLE, "device", f'device = "{device}"')))
    assert message in str(caught.value)


@pytest.mark.parametrize(
    "device", ["usb", "usb:054c:06c3", "tty:USB0:pn532", "udp:127.0.0.1:1", "pcsc", "pcsc:RC-S300"]
)
def test_card_reader_paths(config_dir: Path, device: str) -> None:
    config = load(_write(config_dir, _replace(EXAMPLE, "device", f'device = "{device}"')))
    assert config.card.device == device


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "is empty"),
        ("\n  \n", "is empty"),
        ("c2hvcnQ\n", "must decode to 32 bytes, got 5"),
        ("QUJD" * 16 + "\n", "must decode to 32 bytes, got 48"),
    ],
)
def test_a_secret_file_without_a_key_is_refused(
    config_dir: Path, content: str, message: str
) -> None:
    (config_dir / "client_secret").write_text(content)
    with pytest.raises(ConfigError) as caught:
        load(_write(config_dir, EXAMPLE))
    assert str(caught.value).startswith("[wallet] client_secret_file: ")
    assert message in str(caught.value)
    assert content.strip() == "" or content.strip() not in str(caught.value)


def _key_pem(password: bytes | None = None) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("client.pem", b"x", "[wallet] client_cert: {dir}/client.pem is not a PEM certificate"),
        ("client.pem", b"", "[wallet] client_cert: {dir}/client.pem is not a PEM certificate"),
        ("client.key", b"x", "[wallet] client_key: {dir}/client.key is not the unencrypted PEM"),
        ("client.key", _key_pem(), "[wallet] client_key: {dir}/client.key is not the unencrypted"),
        ("client.key", _key_pem(b"pw"), "[wallet] client_key: {dir}/client.key"),
        ("ca.pem", b"x", "[wallet] ca_file: {dir}/ca.pem is not a PEM CA bundle"),
    ],
    ids=[
        "cert-not-pem",
        "cert-empty",
        "key-not-pem",
        "someone-elses-key",
        "encrypted-key",
        "ca-not-pem",
    ],
)
def test_tls_files_are_loaded_as_the_client_will(
    config_dir: Path, name: str, content: bytes, message: str
) -> None:
    (config_dir / name).write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        load(_write(config_dir, EXAMPLE))
    assert message.format(dir=config_dir) in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_data_dir_that_is_a_file_is_refused(config_dir: Path) -> None:
    (config_dir / "data").write_text("")
    with pytest.raises(ConfigError, match=r"\[kiosk\] data_dir: .*/data is not a directory"):
        load(_write(config_dir, EXAMPLE))


def test_a_config_path_that_is_no_toml_file(config_dir: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory, not a config file"):
        load(config_dir)
    binary = config_dir / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ConfigError, match=r"binary\.toml: not valid TOML: not UTF-8 text"):
        load(binary)


@pytest.mark.parametrize(
    ("line", "portal"),
    [
        (None, "https://krm-system.powerappsportals.com/"),
        ('portal_url = "https://coop.example.ac.jp/join"', "https://coop.example.ac.jp/join"),
        ('portal_url = "http://www.univcoop.jp/"', None),
        ('portal_url = "www.univcoop.jp"', None),
        ('portal_url = "https://"', None),
        ('portal_url = "https://coop example"', None),
    ],
)
def test_the_portal_url_is_an_https_address(
    config_dir: Path, line: str | None, portal: str | None
) -> None:
    text = EXAMPLE if line is None else _replace(EXAMPLE, "portal_url", line)
    if portal is not None:
        assert load(_write(config_dir, text)).kiosk.portal_url == portal
        return
    with pytest.raises(ConfigError, match=r"^\[kiosk\] portal_url: must be an https:// URL"):
        load(_write(config_dir, text))


@pytest.mark.parametrize(
    ("line", "zone"),
    [
        (None, "Asia/Tokyo"),
        ("", "Asia/Tokyo"),  # left out: the default
        ('time_zone = "Europe/Berlin"', "Europe/Berlin"),
        ('time_zone = "Asia/Tokio"', None),
        ('time_zone = "JST"', None),  # an abbreviation is no zone
        ('time_zone = "../etc/passwd"', None),
        ('time_zone = "Asia"', None),  # a folder of zones
    ],
)
def test_the_time_zone_is_one_the_system_has(
    config_dir: Path, line: str | None, zone: str | None
) -> None:
    text = EXAMPLE if line is None else _replace(EXAMPLE, "time_zone", line)
    if zone is not None:
        assert load(_write(config_dir, text)).kiosk.time_zone == zone
        return
    with pytest.raises(ConfigError, match=r"^\[kiosk\] time_zone: no time zone '"):
        load(_write(config_dir, text))


def test_the_ui_section_sets_the_frame_rate_and_sound(config_dir: Path) -> None:
    ui = load(_write(config_dir, EXAMPLE)).ui
    assert (ui.maxfps, ui.idle_fps, ui.sound) == (30, 10, True)
    text = _replace(_replace(EXAMPLE, "maxfps", "maxfps = 40"), "sound", "sound = false")
    ui = load(_write(config_dir, text)).ui
    assert (ui.maxfps, ui.sound) == (40, False)
    with pytest.raises(ConfigError, match=r"^\[ui\] maxfps: must be between 5 and 60, got 0"):
        load(_write(config_dir, _replace(EXAMPLE, "maxfps", "maxfps = 0")))
    with pytest.raises(ConfigError, match=r"^\[ui\] fps: unknown key"):
        load(_write(config_dir, _replace(EXAMPLE, "maxfps", "fps = 30")))


def test_a_key_left_out_takes_its_documented_default(config_dir: Path) -> None:
    """Each default is written once (its section's dataclass); the example file shows the same
    values, and a file with only the required keys gets them all."""
    from dataclasses import replace

    from kiosk.config.settings import (
        AcceptorSection,
        CardSection,
        ChargeSection,
        MetricsSection,
        MoveSection,
        NoUiSection,
        StaffSection,
        UiSection,
    )

    example = load(_write(config_dir, EXAMPLE))
    keys = {"id", "data_dir", "base_url", "client_id", "client_secret_file", "client_cert"}
    keys |= {"client_key", "ca_file", "shop_id", "base", "cafeteria", "textbook", "device", "port"}
    lines = _write(config_dir, EXAMPLE).read_text().replace("port = 9489", "").splitlines()
    required = [line for line in lines if line.startswith("[") or line.split(" ")[0] in keys]
    bare = load(_write(config_dir, "\n".join(required)))
    for config in (example, bare):
        assert config.charge == ChargeSection() and config.ui == UiSection()
        assert config.no_ui == NoUiSection() and config.move == MoveSection()
        assert config.card == CardSection(config.card.device)
        assert config.acceptor == AcceptorSection(config.acceptor.port)
        assert replace(config.kiosk, id="K", data_dir=Path()) == type(config.kiosk)("K", Path())
        assert config.wallet.timeout_s == 10.0
    assert replace(example.staff, export_dir=None) == bare.staff == StaffSection()
    assert bare.metrics == MetricsSection() == example.metrics
    assert bare.gpio.enabled is False and bare.gpio.pins == {}
