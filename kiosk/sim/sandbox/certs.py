"""Certificates for the sandbox's mutual TLS, made once per data directory with trustme."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import trustme


@dataclass(frozen=True)
class SandboxCerts:
    ca_file: Path  # trust anchor for both sides
    server_pem: Path  # server key + certificate chain
    client_cert: Path
    client_key: Path


def ensure_certs(data_dir: Path) -> SandboxCerts:
    """Create a CA, a server certificate for 127.0.0.1/localhost and a client certificate,
    unless the directory has them already."""
    certs = SandboxCerts(
        ca_file=data_dir / "ca.pem",
        server_pem=data_dir / "server.pem",
        client_cert=data_dir / "client.pem",
        client_key=data_dir / "client.key",
    )
    if all(
        p.exists() for p in (certs.ca_file, certs.server_pem, certs.client_cert, certs.client_key)
    ):
        return certs
    ca = trustme.CA(organization_name="Pay Spot wallet sandbox")
    server = ca.issue_cert("127.0.0.1", "localhost")
    client = ca.issue_cert("kiosk@paykiosk.invalid", common_name="paykiosk sandbox client")
    ca.cert_pem.write_to_path(str(certs.ca_file))
    server.private_key_and_cert_chain_pem.write_to_path(str(certs.server_pem))
    client.cert_chain_pems[0].write_to_path(str(certs.client_cert))
    client.private_key_pem.write_to_path(str(certs.client_key))
    for secret in (certs.server_pem, certs.client_key):
        os.chmod(secret, 0o600)
    return certs
