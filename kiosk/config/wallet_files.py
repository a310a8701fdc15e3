"""The wallet's own files, checked at start the way the wallet client will load them: the
client secret (only the kiosk's user may read it; a base64url AES-256 key) and the TLS files
(the CA bundle, the client certificate, its unencrypted key). Every message names the
configuration key and the file, never the secret."""

from __future__ import annotations

import re
import ssl
import stat
from pathlib import Path


class WalletFileError(ValueError):
    """A wallet file the kiosk cannot use, worded for the operator."""


def check_secret(secret: Path) -> None:
    """Only the kiosk's user may read it, and it holds a base64url AES-256 key (never shown)."""
    from kiosk.wallet.envelope import EnvelopeError, key_from_secret

    name = "[wallet] client_secret_file"
    if not secret.is_file():
        raise WalletFileError(f"{name}: {secret} is not a file")
    if secret.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise WalletFileError(f"{name}: {secret} is readable by others; chmod 600 it")
    try:
        text = secret.read_text(encoding="ascii").strip()
    except OSError as error:
        raise WalletFileError(f"{name}: cannot read {secret}: {error.strerror}") from None
    except UnicodeDecodeError:
        text = "\0"  # not base64url: reported below
    if not text:
        raise WalletFileError(f"{name}: {secret} is empty")
    try:
        key_from_secret(text)
    except EnvelopeError as error:
        raise WalletFileError(
            f"{name}: {secret} is not the partner's client secret: {error}"
        ) from None


def _no_passphrase() -> bytes:
    # given instead of OpenSSL's prompt: an encrypted key fails to load (nobody is at a
    # terminal to type its passphrase) instead of a kiosk waiting for it on the console
    return b""


def check_tls_files(cert: Path, key: Path, ca_file: Path | None) -> None:
    """Load the TLS files the way the wallet client will: the CA bundle, the client
    certificate, and its key (unencrypted, the certificate's own)."""
    name = "[wallet] client_cert"
    try:
        pem = cert.read_text(encoding="ascii", errors="replace")
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cadata=pem)
    except (OSError, ssl.SSLError, ValueError) as error:  # ValueError: no certificate in it
        raise WalletFileError(
            f"{name}: {cert} is not a PEM certificate: {_reason(error)}"
        ) from None
    try:
        context = ssl.create_default_context(cafile=str(ca_file) if ca_file is not None else None)
    except (OSError, ssl.SSLError) as error:
        raise WalletFileError(
            f"[wallet] ca_file: {ca_file} is not a PEM CA bundle: {_reason(error)}"
        ) from None
    try:
        context.load_cert_chain(cert, key, password=_no_passphrase)
    except (OSError, ssl.SSLError) as error:
        raise WalletFileError(
            f"[wallet] client_key: {key} is not the unencrypted PEM private key of {cert}: "
            f"{_reason(error)}"
        ) from None


def _reason(error: Exception) -> str:
    """OpenSSL's or the OS's words, without the source line of CPython's ``_ssl.c``."""
    words = getattr(error, "strerror", None) or error
    return re.sub(r"\s*\(_ssl\.c:\d+\)$", "", str(words))
