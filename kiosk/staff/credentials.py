"""Staff secrets at rest: PINs as scrypt hashes (per-PIN salt, parameters stored beside them so
they can be raised later) and staff card ids as salted hashes with a masked tag for display.

Nothing here logs, and no error message repeats a PIN or a card id it was given.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from dataclasses import dataclass

from hardware.card import mask_card_id

PIN_MIN, PIN_MAX = 4, 12  # the PIN rule: this many ASCII digits (the desk's pad, set-pin)
PIN_PATTERN = re.compile(rf"[0-9]{{{PIN_MIN},{PIN_MAX}}}")
PIN_RULE = f"a PIN is {PIN_MIN} to {PIN_MAX} digits (0-9)"
IDM_PATTERN = re.compile(r"[0-9A-F]{16}")
SALT_BYTES = 16
HASH_BYTES = 32


@dataclass(frozen=True)
class ScryptParams:
    """scrypt's cost parameters, kept as text (``scrypt:n=16384,r=8,p=1``) beside each hash."""

    n: int = 2**14
    r: int = 8
    p: int = 1

    def text(self) -> str:
        return f"scrypt:n={self.n},r={self.r},p={self.p}"

    @classmethod
    def parse(cls, text: str) -> ScryptParams:
        """The parameters a stored hash was made with; ``ValueError`` on anything else."""
        match = re.fullmatch(r"scrypt:n=([0-9]+),r=([0-9]+),p=([0-9]+)", text)
        if not match:
            raise ValueError(f"unknown PIN hash parameters {text!r}")
        params = cls(int(match[1]), int(match[2]), int(match[3]))
        if params.n < 2 or params.n & (params.n - 1) or params.r < 1 or params.p < 1:
            raise ValueError(f"unusable PIN hash parameters {text!r}")
        return params

    def derive(self, secret: bytes, salt: bytes) -> bytes:
        # OpenSSL's default memory cap (32 MiB) would refuse raised parameters: allow what
        # these parameters need (128·r·n bytes for V, 128·r·p for B) and some room.
        maxmem = 128 * self.r * (self.n + self.p + 2) + 2**20
        return hashlib.scrypt(
            secret, salt=salt, n=self.n, r=self.r, p=self.p, maxmem=maxmem, dklen=HASH_BYTES
        )


PIN_PARAMS = ScryptParams()  # ~50 ms on a PC, a few hundred on a Pi: per guess, not per login
# A card id is looked for among all staff cards (each with its own salt), so its hash is light.
CARD_PARAMS = ScryptParams(n=2**11)


@dataclass(frozen=True, repr=False)
class PinHash:
    """A PIN as stored: never the PIN itself."""

    digest: bytes
    salt: bytes
    params: str


def check_pin_format(pin: str) -> str:
    """The PIN if it keeps :data:`PIN_PATTERN`, else ``ValueError`` (not repeating it)."""
    if not PIN_PATTERN.fullmatch(pin):
        raise ValueError(PIN_RULE)
    return pin


def hash_pin(pin: str, params: ScryptParams = PIN_PARAMS) -> PinHash:
    """A new salted hash of a valid PIN (``ValueError`` for a PIN against the rule)."""
    salt = os.urandom(SALT_BYTES)
    digest = params.derive(check_pin_format(pin).encode(), salt)
    return PinHash(digest, salt, params.text())


def verify_pin(pin: str, stored: PinHash) -> bool:
    """Whether ``pin`` is the one ``stored`` was made from (constant-time comparison)."""
    params = ScryptParams.parse(stored.params)
    candidate = pin.encode() if PIN_PATTERN.fullmatch(pin) else b"\x00not-a-pin"
    # a malformed PIN costs the same time as a wrong one
    return hmac.compare_digest(params.derive(candidate, stored.salt), stored.digest)


def burn_pin_time(pin: str) -> None:
    """Spend a PIN check's time for a name that does not exist (no name probing by timing)."""
    PIN_PARAMS.derive(pin.encode(errors="replace"), b"\x00" * SALT_BYTES)


def needs_rehash(stored: PinHash) -> bool:
    """A PIN hashed with other parameters than today's (rehash it at the next good entry)."""
    return stored.params != PIN_PARAMS.text()


def normalize_idm(idm: str) -> str:
    """A FeliCa IDm as 16 upper-case hex digits (spaces and case forgiven), else ``ValueError``
    (which does not repeat what was given)."""
    value = "".join(idm.split()).upper()
    if not IDM_PATTERN.fullmatch(value):
        raise ValueError("a card IDm is 16 hex digits (0-9, A-F), as the card reader reads it")
    return value


@dataclass(frozen=True, repr=False)
class CardHash:
    """A staff card as stored: its salted hash and a masked tag (``0123…EF``) to show."""

    digest: bytes
    salt: bytes
    tag: str


def hash_card(idm: str) -> CardHash:
    """A new salted hash of a card's IDm (``ValueError`` for one that is not 16 hex digits)."""
    value = normalize_idm(idm)
    salt = os.urandom(SALT_BYTES)
    return CardHash(CARD_PARAMS.derive(value.encode(), salt), salt, mask_card_id(value))


def card_hint(idm: str) -> str:
    """16 bits of an unsalted SHA-256 of a normalized IDm: a member's card shares it with a
    staff card once in 65,536, so the slow salted check runs for almost no member's touch;
    16 bits say next to nothing about a card."""
    return hashlib.sha256(idm.encode()).hexdigest()[:4]


def card_matches(idm: str, digest: bytes, salt: bytes) -> bool:
    """Whether a normalized IDm is the card stored as ``digest`` with ``salt``."""
    return hmac.compare_digest(CARD_PARAMS.derive(idm.encode(), salt), digest)
