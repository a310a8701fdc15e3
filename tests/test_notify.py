"""sd_notify over a real datagram socket; never blocks."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from kiosk.ops.notify import SystemdNotifier


def test_ready_watchdog_and_status_reach_the_socket(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = str(tmp_path / "notify.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(path)
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    monkeypatch.setenv("WATCHDOG_USEC", "20000000")
    notifier = SystemdNotifier()
    assert notifier.enabled and notifier.watchdog_interval == 10.0
    assert notifier.ready("kiosk K01 ready")
    assert notifier.watchdog()
    assert server.recv(100) == b"READY=1\nSTATUS=kiosk K01 ready"
    assert server.recv(100) == b"WATCHDOG=1"


def test_a_full_socket_does_not_block(tmp_path: Path) -> None:
    path = str(tmp_path / "full.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(path)  # never read from
    notifier = SystemdNotifier(path)
    results = [notifier.watchdog() for _ in range(5000)]
    assert results[0] and not all(results)  # it filled up, and sending just failed


def test_without_systemd_nothing_is_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    notifier = SystemdNotifier()
    assert not notifier.enabled and notifier.watchdog_interval is None
    assert not notifier.ready()
