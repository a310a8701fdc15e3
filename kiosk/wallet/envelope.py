"""The Partner API envelope: AES-256-CBC + PKCS#7 with a throw-away first block, base64url.

The sender prepends 16 random bytes to the plaintext and encrypts with a random IV that is not
sent; the receiver decrypts with any IV and drops the first 16 plaintext bytes (with CBC only
the first block depends on the IV).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 16


class EnvelopeError(ValueError):
    """Ciphertext that cannot be decoded, decrypted or parsed."""


def b64url_decode(text: str) -> bytes:
    """base64url with or without '=' padding."""
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as error:
        raise EnvelopeError(f"not base64url: {error}") from None


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def key_from_secret(client_secret: str) -> bytes:
    """The AES-256 key inside a base64url ``client_secret``."""
    key = b64url_decode(client_secret.strip())
    if len(key) != 32:
        raise EnvelopeError(f"client_secret must decode to 32 bytes, got {len(key)}")
    return key


def encrypt(key: bytes, plaintext: bytes) -> str:
    padder = padding.PKCS7(128).padder()
    padded = padder.update(os.urandom(BLOCK) + plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(os.urandom(BLOCK))).encryptor()
    return b64url_encode(encryptor.update(padded) + encryptor.finalize())


def decrypt(key: bytes, ciphertext: str) -> bytes:
    raw = b64url_decode(ciphertext)
    if not raw or len(raw) % BLOCK or len(raw) < 2 * BLOCK:
        raise EnvelopeError("ciphertext is not whole AES blocks")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(bytes(BLOCK))).decryptor()
    padded = decryptor.update(raw) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        plain = unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise EnvelopeError("bad padding: wrong key or tampered data") from None
    return plain[BLOCK:]


def seal(key: bytes, document: Any) -> str:
    """JSON-encode and encrypt."""
    return encrypt(key, json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode())


def open_sealed(key: bytes, ciphertext: str) -> Any:
    """Decrypt and JSON-decode."""
    plain = decrypt(key, ciphertext)
    try:
        return json.loads(plain.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise EnvelopeError(f"decrypted data is not JSON: {error}") from None
