"""The AES envelope against the openssl-made vectors, and a round-trip property."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.wallet.envelope import (
    EnvelopeError,
    b64url_encode,
    decrypt,
    encrypt,
    key_from_secret,
    open_sealed,
    seal,
)

VECTORS = json.loads(
    (Path(__file__).resolve().parents[2] / "shared" / "vectors" / "envelope.json").read_text()
)["vectors"]


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["client_secret"][:8])
def test_openssl_vectors_decrypt(vector: dict[str, str]) -> None:
    key = key_from_secret(vector["client_secret"])
    assert decrypt(key, vector["data"]).decode() == vector["plaintext"]
    assert decrypt(key, vector["data_padded"]).decode() == vector["plaintext"]


def test_wrong_key_or_tampering_is_an_error() -> None:
    vector = VECTORS[0]
    other = key_from_secret(VECTORS[1]["client_secret"])
    with pytest.raises(EnvelopeError):
        open_sealed(other, vector["data"])
    key = key_from_secret(vector["client_secret"])
    tampered = (
        vector["data"][:-3] + ("A" if vector["data"][-3] != "A" else "B") + vector["data"][-2:]
    )
    with pytest.raises(EnvelopeError):
        open_sealed(key, tampered)
    for junk in ("", "!!!", b64url_encode(b"short")):
        with pytest.raises(EnvelopeError):
            decrypt(key, junk)


def test_secret_must_hold_a_256_bit_key() -> None:
    with pytest.raises(EnvelopeError):
        key_from_secret(b64url_encode(bytes(16)))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(key=st.binary(min_size=32, max_size=32), document=json_values)
def test_seal_round_trip(key: bytes, document: object) -> None:
    assert open_sealed(key, seal(key, document)) == document


@given(key=st.binary(min_size=32, max_size=32), plain=st.binary(max_size=300))
def test_encrypt_round_trip_and_fresh_iv(key: bytes, plain: bytes) -> None:
    first, second = encrypt(key, plain), encrypt(key, plain)
    assert decrypt(key, first) == plain == decrypt(key, second)
    assert first != second  # random IV and throw-away block every time
