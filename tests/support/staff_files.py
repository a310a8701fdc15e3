"""A kiosk's own files for the staff tests: the example configuration with local TLS files and a
``[staff]`` section, its journal, and the staff credentials those tests use. The fixtures are
registered for every test module by ``tests/conftest.py``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.config.settings import Config, load
from kiosk.journal import Journal

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = (ROOT / "systemd" / "paykiosk.toml.example").read_text()

PIN = "73914682"  # digits found nowhere else in these files
OTHER_PIN = "260518"
WRONG_PIN = "55501234"
IDM = "01162A3B4C5D6E7F"
BOB_IDM = "0116F0E1D2C3B4A5"
UNKNOWN_IDM = "0116999988887777"


def write_config(directory: Path, tls: dict[str, bytes], lockout_minutes: float = 15.0) -> Path:
    """The example configuration with local files and a ``[staff]`` section."""
    for name, content in tls.items():
        (directory / name).write_bytes(content)
    secret = directory / "client_secret"
    secret.write_text("Y9e-WZYQCH9s2YKvR-R2HyP3MgmSctLTo95boskE5FE\n")
    secret.chmod(0o600)
    text = (
        EXAMPLE.replace("/etc/paykiosk/", "")
        .replace("/etc/ssl/certs/ca-certificates.crt", "ca.pem")
        .replace("/var/lib/paykiosk", "data")
    )
    text = text.replace("lockout_minutes = 15", f"lockout_minutes = {lockout_minutes}")
    path = directory / "paykiosk.toml"
    path.write_text(text)
    return path


@pytest.fixture
def config_path(tmp_path: Path, tls_files: dict[str, bytes]) -> Path:
    """The example configuration, written with local TLS files (``write_config``)."""
    return write_config(tmp_path, tls_files)


@pytest.fixture
def config(config_path: Path) -> Config:
    """That configuration, loaded."""
    return load(config_path)


@pytest.fixture
def journal(config: Config) -> Iterator[Journal]:
    """Held open for the whole test: the WAL file stays on disk to be searched too."""
    journal = Journal(config.journal_path, config.kiosk.id)
    yield journal
    journal.close()


def stacked_session(
    journal: Journal, values: list[int], bucket: str = "base", finish: bool = True
) -> int:
    """A member's session whose notes the acceptor stacked, through the journal's own ledger
    hooks, finished into its credit unless ``finish`` is False; the session's id."""
    from hardware.card import mask_card_id
    from kiosk.journal.records import SessionOutcome

    session = journal.sessions.open(
        mask_card_id("0123456789ABCDEF"), "user-1", "太郎", bucket, "money-b"
    )
    journal.gate.open(session, 10**6)
    for value in values:
        note = journal.notes.escrow(0x61, value)
        assert note is not None
        journal.notes.stacked(note.id)
    journal.gate.close()
    if finish:
        journal.sessions.finish(session, SessionOutcome.FINISHED)
    return session
