"""The AES envelope against the openssl-made vectors, and a round-trip property."""

from __future__ import annotations

import json
import shutil
import subprocess
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

# Made with the openssl command line, not with our code; see tests/vectors/README.md.
VECTORS_DIR = Path(__file__).parent / "vectors"
VECTORS = json.loads((VECTORS_DIR / "envelope.json").read_text())["vectors"]
MAKE_VECTORS = VECTORS_DIR / "make_envelope_vectors.sh"
needs_openssl = pytest.mark.skipif(
    shutil.which("openssl") is None or shutil.which("bash") is None,
    reason="the openssl command line (and bash) is needed to make envelope vectors",
)


def _make_vectors(*args: str) -> list[dict[str, str]]:
    """Run the vector script; the vectors of the JSON it prints."""
    done = subprocess.run(
        ["bash", str(MAKE_VECTORS), *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["vectors"]


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["client_secret"][:8])
def test_openssl_vectors_decrypt(vector: dict[str, str]) -> None:
    key = key_from_secret(vector["client_secret"])
    assert decrypt(key, vector["data"]).decode() == vector["plaintext"]
    assert decrypt(key, vector["data_padded"]).decode() == vector["plaintext"]


@needs_openssl
@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["client_secret"][:8])
def test_vector_script_reproduces_each_vector(vector: dict[str, str]) -> None:
    """The script, given a stored vector's key, IV and plaintext, makes exactly its data."""
    (made,) = _make_vectors(
        "--secret",
        vector["client_secret"],
        "--iv",
        vector["iv_used_by_sender_not_transmitted"],
        vector["plaintext"],
    )
    assert made["data"] == vector["data"]
    assert made["data_padded"] == vector["data_padded"]
    assert made == vector


@needs_openssl
def test_vector_script_with_a_fresh_key_makes_envelopes_we_open() -> None:
    # quotes, a backslash and non-ASCII text must survive the script's JSON output
    plaintexts = [r'{"request_data":{"note":"¥1,000 \\ \"q\""},"partner_call_id":"x"}', "{}"]
    assert json.loads(plaintexts[0])["request_data"]["note"] == '¥1,000 \\ "q"'
    made = _make_vectors(*plaintexts)
    assert [v["plaintext"] for v in made] == plaintexts
    for vector in made:
        key = key_from_secret(vector["client_secret"])
        assert decrypt(key, vector["data"]).decode() == vector["plaintext"]
        assert decrypt(key, vector["data_padded"]).decode() == vector["plaintext"]
    assert made[0]["client_secret"] != made[1]["client_secret"]


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
