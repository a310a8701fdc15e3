"""The sandbox's HTTPS server: the standard library's threading HTTP server behind mutual TLS.

Why the standard library: no extra dependency, ``ssl`` gives mutual TLS directly, and the
low-level faults the kiosk must survive (drop the connection after the commit, stop listening)
are a few lines on a plain socket server.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import logging
import random
import signal
import socket
import ssl
import threading
import time
import urllib.parse
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from kiosk.sim.sandbox import faults as fault_settings
from kiosk.sim.sandbox.api import dispatch
from kiosk.sim.sandbox.certs import ensure_certs
from kiosk.sim.sandbox.seed import ensure_seeded, write_sandbox_json
from kiosk.sim.sandbox.store import Refused, SandboxStore
from kiosk.wallet.envelope import EnvelopeError, key_from_secret, open_sealed, seal

log = logging.getLogger("paykiosk.sandbox")


class _Drop(Exception):
    """Close the connection without answering."""


class SandboxServer:
    """Serves the Partner API contract from ``data_dir`` on 127.0.0.1."""

    def __init__(self, data_dir: str | Path, port: int = 0, window_s: float = 120.0) -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.chmod(0o700)  # client secret, keys, member data
        self.window_s = window_s
        self.store = SandboxStore(self.data_dir / "sandbox.sqlite3")
        ensure_seeded(self.store)
        self.certs = ensure_certs(self.data_dir)
        self.client_id = self.store.get_meta("client_id")
        self.key = key_from_secret(self.store.get_meta("client_secret"))
        self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.tls.load_cert_chain(self.certs.server_pem)
        self.tls.load_verify_locations(self.certs.ca_file)
        self.tls.verify_mode = ssl.CERT_REQUIRED
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), _Handler, bind_and_activate=False)
        self.httpd.daemon_threads = True
        self.httpd.sandbox = self  # type: ignore[attr-defined]
        self.port = port
        self._listen()
        self._stop = threading.Event()
        write_sandbox_json(self.store, self.data_dir, self.certs, self.port)

    def _listen(self) -> None:
        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        raw.bind(("127.0.0.1", self.port))
        raw.listen(64)
        self.port = raw.getsockname()[1]
        self.httpd.socket = self.tls.wrap_socket(
            raw, server_side=True, do_handshake_on_connect=False
        )
        self.httpd.timeout = 0.05
        self.listening = True

    def serve(self) -> None:
        """Serve until :meth:`stop`; follows the ``refuse`` fault by closing/reopening."""
        while not self._stop.is_set():
            refuse = fault_settings.load(self.store).refuse
            if refuse and self.listening:
                self.httpd.socket.close()
                self.listening = False
            elif not refuse and not self.listening:
                self._listen()
            if self.listening:
                self.httpd.handle_request()
            else:
                time.sleep(0.05)
        if self.listening:
            self.httpd.socket.close()

    def stop(self) -> None:
        self._stop.set()

    def now(self, faults: fault_settings.Faults | None = None) -> datetime:
        """The sandbox's clock: the machine's, moved by the ``clock_offset_s`` fault (a test
        skews the wallet's clock against the kiosk's this way)."""
        offset = (faults or fault_settings.load(self.store)).clock_offset_s
        return datetime.now(UTC) + timedelta(seconds=offset)

    # ---- one call ----------------------------------------------------------------------
    def answer(
        self, method: str, path: str, body: bytes, content_type: str = ""
    ) -> tuple[int, dict[str, Any]]:
        """Status and JSON body for one request. Raises :class:`_Drop` to hang up.

        The envelope comes as a JSON body (the Node SDK, the kiosk) or an HTML form body (the
        Python and Ruby SDKs); a POST may name the real method in ``request_method``."""
        faults = fault_settings.load(self.store)
        if faults.refuse:
            raise _Drop
        if faults.latency_ms:
            time.sleep(faults.latency_ms / 1000)
        path = path.split("?", 1)[0]
        envelope = read_envelope(body, content_type)
        if path == "/ping":
            return 200, self._pong(envelope, faults)
        if envelope is None:
            return 400, {
                "type": "invalid_parameters",
                "message": "body is neither a JSON object nor a form",
            }
        if envelope.get("partner_client_id") != self.client_id:
            return 400, {"type": "partner_client_not_found", "message": "unknown client"}
        try:
            params, call_id, stamp = self._open(envelope)
        except (EnvelopeError, ValueError):
            return 400, {"type": "partner_decryption_failed", "message": "cannot decrypt data"}
        override = envelope.get("request_method")
        if override is not None and method == "POST":
            if str(override).upper() not in ("GET", "POST", "PATCH", "DELETE"):
                return 400, {"type": "invalid_parameters", "message": "unknown request_method"}
            method = str(override).upper()
        status, result = self._checked_call(method, path, params, call_id, stamp, faults)
        document = self._sealed(result, call_id, faults)
        if fault_settings.take(self.store, "corrupt_responses"):
            document["response_data"] = document["response_data"][:-8] + "AAAAAAAA"
        return status, document

    def _open(self, envelope: dict[str, str]) -> tuple[dict[str, Any], str, datetime]:
        return _unwrap(open_sealed(self.key, envelope.get("data", "")))

    def _sealed(self, result: Any, call_id: str, faults: fault_settings.Faults) -> dict[str, Any]:
        return {
            "response_data": seal(self.key, result),
            "timestamp": _iso(self.now(faults)),
            "partner_call_id": call_id,
        }

    def _pong(
        self, envelope: dict[str, str] | None, faults: fault_settings.Faults
    ) -> dict[str, Any]:
        """Plain ``{"pong": "ok"}``, sealed when the request carried a valid envelope (the
        Python SDK sends one and reads ``response_data``). A ping changes nothing, so its call id
        is not held against a later call."""
        if envelope is not None and envelope.get("partner_client_id") == self.client_id:
            try:
                _, call_id, _ = self._open(envelope)
            except (EnvelopeError, ValueError):
                pass
            else:
                return self._sealed({"pong": "ok"}, call_id, faults)
        return {"pong": "ok"}

    def _checked_call(
        self,
        method: str,
        path: str,
        params: dict[str, Any],
        call_id: str,
        stamp: datetime,
        faults: fault_settings.Faults,
    ) -> tuple[int, Any]:
        if abs((self.now(faults) - stamp).total_seconds()) > self.window_s:
            return 400, {"type": "partner_request_expired", "message": "timestamp out of window"}
        if not self.store.remember_call(call_id, self.window_s):
            return 400, {
                "type": "partner_request_already_done",
                "message": "partner_call_id was used before",
            }
        one_member = faults.unavailable_for and faults.unavailable_for in (
            params.get("customer_id"),
            params.get("user_id"),
        )
        if (
            one_member
            or fault_settings.take(self.store, "next_503")
            or random.random() < faults.rate_503
        ):
            return 503, {"type": "temporarily_unavailable", "message": "try again later"}
        try:
            result = dispatch(self.store, method, path, params)
        except Refused as refused:
            return refused.status, {"type": refused.type, "message": refused.message}
        if fault_settings.take(self.store, "drop_after_commit"):
            raise _Drop  # committed, but the kiosk never hears about it
        if faults.hold_after_commit_ms:
            time.sleep(faults.hold_after_commit_ms / 1000)
        return 200, result


FORM = "application/x-www-form-urlencoded"


def read_envelope(body: bytes, content_type: str) -> dict[str, str] | None:
    """The envelope's fields (``partner_client_id``, ``data``, ``request_method``) from a JSON
    or form body; None when there is none or it is neither."""
    if not body.strip():
        return None
    try:
        text = body.decode("utf-8")
        if content_type.split(";", 1)[0].strip().lower() == FORM:
            fields: dict[str, Any] = {}
            for key, value in urllib.parse.parse_qsl(
                text, keep_blank_values=True, strict_parsing=True
            ):
                fields.setdefault(key, value)  # a repeated field: the first one counts
        else:
            fields = json.loads(text)
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(fields, dict):
        return None
    return {key: value for key, value in fields.items() if isinstance(value, str)}


def _unwrap(plain: Any) -> tuple[dict[str, Any], str, datetime]:
    if not isinstance(plain, dict):
        raise ValueError("plaintext is not an object")
    params = plain.get("request_data") or {}
    call_id = plain.get("partner_call_id")
    stamp = datetime.fromisoformat(str(plain.get("timestamp")).replace("Z", "+00:00"))
    if not isinstance(params, dict) or not isinstance(call_id, str) or not call_id:
        raise ValueError("request_data or partner_call_id missing")
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return params, call_id, stamp


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "PaySpotSandbox/1"

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        sandbox: SandboxServer = self.server.sandbox  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            status, document = sandbox.answer(
                method, self.path, body, self.headers.get("Content-Type", "")
            )
        except _Drop:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        payload = json.dumps(document, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The standard ``Date`` header (sent with every answer, ``/ping`` too), on the
        sandbox's clock: a client learns from it how far off its own clock is."""
        if timestamp is None:
            sandbox: SandboxServer = self.server.sandbox  # type: ignore[attr-defined]
            timestamp = sandbox.now().timestamp()
        return email.utils.formatdate(timestamp, usegmt=True)

    def setup(self) -> None:
        super().setup()
        # Headers and body go out as separate writes: without this, Nagle + delayed ACK add
        # ~40 ms to every answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle(self) -> None:
        try:
            super().handle()
        except (ssl.SSLError, ConnectionError, OSError) as error:
            log.info("sandbox connection ended: %s", type(error).__name__)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("sandbox %s", format % args)


def run(data_dir: str, port: int = 0) -> int:
    """``paykiosk sandbox``: serve until interrupted."""
    server = SandboxServer(data_dir, port)
    signal.signal(signal.SIGTERM, lambda *_: server.stop())
    print(
        f"wallet sandbox on https://127.0.0.1:{server.port} (data in {server.data_dir}; "
        f"connection details in {server.data_dir / 'sandbox.json'})",
        flush=True,
    )
    with contextlib.suppress(KeyboardInterrupt):
        server.serve()
    return 0
