"""A kiosk set up wrong refuses to start with one line on stderr and exit 78 (EX_CONFIG), never
a traceback: under systemd (``Restart=always``) a traceback is a crash loop, while 78 is in
``RestartPreventExitStatus`` and stops the unit with its reason. Each case runs the real
``python -m kiosk --config F`` process."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from hardware.felica.sim import free_udp_port
from hardware.id003.sim.process import SimulatorProcess
from kiosk.config.settings import EXIT_CONFIG
from kiosk.journal import Journal
from kiosk.journal.db import MIGRATIONS
from kiosk.sim.config import write_sandbox_config
from tests.support.kiosk_process import run_kiosk
from tests.support.wallet import Sandbox

NEWEST = len(MIGRATIONS)


def assert_refused(result: subprocess.CompletedProcess[str], *words: str) -> str:
    """Exit 78 and one line on stderr carrying ``words``; returns that line."""
    output = f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert "Traceback" not in result.stderr + result.stdout, output
    assert result.returncode == EXIT_CONFIG, output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("paykiosk: "), output
    for word in words:
        assert word in lines[0], output
    return lines[0]


def _set(config: Path, key: str, value: str) -> None:
    text = config.read_text()
    pattern = re.compile(rf"^{re.escape(key)} = .*$", re.M)
    assert pattern.search(text), key
    config.write_text(pattern.sub(lambda _: f"{key} = {value}", text, count=1))


def _journal(config: Path) -> Path:
    data = config.parent / "data"
    data.mkdir(exist_ok=True)
    return data / "journal.sqlite3"


def _not_a_database(config: Path) -> tuple[str, ...]:
    _journal(config).write_bytes(b"these are not the pages of an SQLite database\n" * 100)
    return str(_journal(config)), "not an SQLite database"


def _short_garbage(config: Path) -> tuple[str, ...]:
    _journal(config).write_bytes(b"x")  # SQLite would silently start a new journal over it
    return str(_journal(config)), "not an SQLite database"


def _newer_schema(config: Path) -> tuple[str, ...]:
    """A journal a newer kiosk wrote: today's tables and one more migration."""
    Journal(_journal(config), "T01").close()
    with sqlite3.connect(_journal(config)) as db:
        db.execute("ALTER TABLE credits ADD COLUMN from_the_future TEXT")
        db.execute(f"PRAGMA user_version = {NEWEST + 1}")
    db.close()
    return str(_journal(config)), f"schema version {NEWEST + 1}", f"version {NEWEST}"


def _card(device: str, *words: str) -> Callable[[Path], tuple[str, ...]]:
    def setup(config: Path) -> tuple[str, ...]:
        _set(config, "device", f'"{device}"')
        return ("[card] device", device, *words)

    return setup


def _empty_secret(config: Path) -> tuple[str, ...]:
    (config.parent / "client_secret").write_text("")
    return "[wallet] client_secret_file", "empty"


def _short_secret(config: Path) -> tuple[str, ...]:
    (config.parent / "client_secret").write_text("c2hvcnQ\n")
    return "[wallet] client_secret_file", "32 bytes"


def _cert_not_pem(config: Path) -> tuple[str, ...]:
    path = config.parent / "client.pem"
    path.write_text("this is not a certificate\n")
    _set(config, "client_cert", f'"{path}"')
    return "[wallet] client_cert", str(path)


def _someone_elses_key(config: Path) -> tuple[str, ...]:
    path = config.parent / "other.key"
    key = ec.generate_private_key(ec.SECP256R1())
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    _set(config, "client_key", f'"{path}"')
    return "[wallet] client_key", str(path)


def _ca_not_pem(config: Path) -> tuple[str, ...]:
    path = config.parent / "ca.pem"
    path.write_text("no certificates in here\n")
    _set(config, "ca_file", f'"{path}"')
    return "[wallet] ca_file", str(path)


def _data_dir_is_a_file(config: Path) -> tuple[str, ...]:
    path = config.parent / "data-file"
    path.write_text("a file, not a directory\n")
    _set(config, "data_dir", f'"{path}"')
    return "[kiosk] data_dir", str(path)


def _data_dir_cannot_be_made(config: Path) -> tuple[str, ...]:
    (config.parent / "plain-file").write_text("")
    path = config.parent / "plain-file" / "data"
    _set(config, "data_dir", f'"{path}"')
    return "[kiosk] data_dir", str(path)


def _unknown_time_zone(config: Path) -> tuple[str, ...]:
    text = config.read_text()
    config.write_text(text.replace("[kiosk]\n", '[kiosk]\ntime_zone = "Asia/Tokio"\n', 1))
    return "[kiosk] time_zone", "Asia/Tokio"


SETUPS: dict[str, Callable[[Path], tuple[str, ...]]] = {
    "journal-not-a-database": _not_a_database,
    "journal-short-garbage": _short_garbage,
    "journal-newer-schema": _newer_schema,
    "card-garbage": _card("garbage::42", "not an nfcpy reader path"),
    "card-usb-bus-device": _card("usb:001:002", "plugged in again"),
    "card-udp-port": _card("udp:127.0.0.1:99999", "port"),
    "empty-secret": _empty_secret,
    "short-secret": _short_secret,
    "cert-not-pem": _cert_not_pem,
    "key-not-the-certs": _someone_elses_key,
    "ca-not-pem": _ca_not_pem,
    "data-dir-is-a-file": _data_dir_is_a_file,
    "data-dir-cannot-be-made": _data_dir_cannot_be_made,
    "time-zone-unknown": _unknown_time_zone,
}


@pytest.fixture
def config(tmp_path: Path, sim: SimulatorProcess, wallet: Sandbox) -> Path:
    return write_sandbox_config(tmp_path, wallet.info, sim.path, f"udp:127.0.0.1:{free_udp_port()}")


@pytest.mark.parametrize("setup", SETUPS.values(), ids=SETUPS.keys())
def test_a_bad_setup_is_one_line_and_exit_78(
    config: Path, setup: Callable[[Path], tuple[str, ...]]
) -> None:
    words = setup(config)
    assert_refused(run_kiosk(config, "--no-ui"), *words)


# ---- an optional part the configuration asks for is not installed ------------------------
# Each is taken away for the kiosk's process alone: a module by a folder first on its
# PYTHONPATH, a program by a PATH without it. The kiosk refuses before a device starts or a
# window opens, so the touch UI's cases need no display.
def _shadow(folder: Path, package: str, init: str) -> str:
    """A PYTHONPATH for the kiosk on which ``package`` is the stand-in ``init`` makes."""
    (folder / package).mkdir(parents=True)
    (folder / package / "__init__.py").write_text(init)
    return os.pathsep.join(p for p in (str(folder), os.environ.get("PYTHONPATH")) if p)


NO_PYSCARD = "raise ModuleNotFoundError(\"No module named 'smartcard'\", name='smartcard')\n"
KIVY_WITHOUT_AUDIO = "# Kivy built without its SDL2 audio: no kivy/core/audio here\n"


def _ui(config: Path, **keys: str) -> None:
    config.write_text(
        config.read_text() + "\n[ui]\n" + "".join(f"{k} = {v}\n" for k, v in keys.items())
    )


@pytest.mark.parametrize("device", ["pcsc", "pcsc:RC-S300"])
def test_a_pcsc_reader_without_pyscard_installed(config: Path, tmp_path: Path, device: str) -> None:
    _set(config, "device", f'"{device}"')
    shadow = _shadow(tmp_path / "no-pyscard", "smartcard", NO_PYSCARD)
    result = run_kiosk(config, "--no-ui", env={"PYTHONPATH": shadow})
    line = assert_refused(
        result, "[card] device", device, "pip install 'paykiosk[pcsc]'", "WITH_PCSC=1"
    )
    assert "No module named 'smartcard'" in line


def test_the_touch_ui_without_its_font(config: Path, tmp_path: Path) -> None:
    font = tmp_path / "no-such-font.ttf"
    result = run_kiosk(config, env={"PAYKIOSK_FONT": str(font)})
    assert_refused(result, "PAYKIOSK_FONT", str(font), "apt-get install fonts-ipaexfont-gothic")


def test_the_voice_without_its_synthesizers(config: Path, tmp_path: Path) -> None:
    _ui(config, sound="true", voice="true")
    no_programs = tmp_path / "bin"
    no_programs.mkdir()
    environment = {"PATH": str(no_programs), "PAYKIOSK_SOUND": None}
    line = assert_refused(
        run_kiosk(config, env=environment),
        "[ui] voice",
        "open_jtalk",
        "espeak-ng",
        "apt-get install open-jtalk open-jtalk-mecab-naist-jdic espeak-ng",
        "voice = false",
    )
    assert "[ui] sound" not in line


def test_sound_without_an_audio_library(config: Path, tmp_path: Path) -> None:
    _ui(config, sound="true", voice="true")
    kivy = _shadow(tmp_path / "kivy-without-audio", "kivy", KIVY_WITHOUT_AUDIO)
    environment = {"PYTHONPATH": kivy, "PAYKIOSK_SOUND": None}
    assert_refused(run_kiosk(config, env=environment), "[ui] sound", "audio", "sound = false")


def test_voice_off_needs_no_synthesizer(config: Path, tmp_path: Path) -> None:
    """``voice = false`` passes the voice's check: the next one (the audio library, taken away
    too) is the one that speaks."""
    _ui(config, sound="true", voice="false")
    (tmp_path / "bin").mkdir()
    kivy = _shadow(tmp_path / "kivy-without-audio", "kivy", KIVY_WITHOUT_AUDIO)
    environment = {"PATH": str(tmp_path / "bin"), "PYTHONPATH": kivy, "PAYKIOSK_SOUND": None}
    line = assert_refused(run_kiosk(config, env=environment), "[ui] sound")
    assert "[ui] voice" not in line


@pytest.mark.parametrize("command", ["pending", "journal"])
@pytest.mark.parametrize(
    "setup", [_not_a_database, _newer_schema], ids=["not-a-database", "newer-schema"]
)
def test_the_reports_refuse_a_journal_they_cannot_read(
    config: Path, command: str, setup: Callable[[Path], tuple[str, ...]]
) -> None:
    words = setup(config)
    assert_refused(run_kiosk(config, command), *words)


def test_a_time_zone_the_c_library_has_no_data_for(
    config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Python finds Asia/Tokyo, the C library (which shows the times) does not: it would show UTC
    monkeypatch.setenv("TZDIR", str(tmp_path / "no-zones"))
    assert_refused(run_kiosk(config, "--no-ui"), "[kiosk] time_zone", "Asia/Tokyo", "tzdata")


def test_a_newer_journal_is_left_as_it_was(config: Path) -> None:
    path = _journal(config)
    _newer_schema(config)
    before = path.read_bytes()
    assert_refused(run_kiosk(config, "--no-ui"))
    assert path.read_bytes() == before
    assert not path.with_name(path.name + "-wal").exists()


def test_a_config_path_that_is_a_directory(tmp_path: Path) -> None:
    assert_refused(run_kiosk(tmp_path, "--no-ui"), str(tmp_path), "is a directory")


def test_a_config_file_that_is_missing(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    assert_refused(run_kiosk(path, "--no-ui"), str(path), "no such config file")


@pytest.mark.parametrize(
    "content", [b"[kiosk\nid = 1\n", b"\xff\xfe\x00binary"], ids=["not-toml", "not-text"]
)
def test_a_config_file_that_is_not_toml(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "paykiosk.toml"
    path.write_bytes(content)
    assert_refused(run_kiosk(path, "--no-ui"), str(path))
