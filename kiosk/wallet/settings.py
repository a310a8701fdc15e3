"""Connection settings of the wallet client."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class WalletSettings:
    base_url: str
    client_id: str
    client_secret: str = field(repr=False)  # base64url AES-256 key: never logged
    client_cert: str
    client_key: str = field(repr=False)
    ca_file: str | None
    shop_id: str
    timeout_s: float = 10.0
    language: str = "ja"  # Accept-Language for error messages: ja | en

    @classmethod
    def from_sandbox(cls, data_dir: str | Path, **overrides: object) -> WalletSettings:
        """Settings for the local sandbox from the ``sandbox.json`` it writes."""
        info = json.loads((Path(data_dir) / "sandbox.json").read_text())
        values: dict[str, object] = {
            "base_url": info["base_url"],
            "client_id": info["client_id"],
            "client_secret": info["client_secret"],
            "client_cert": info["client_cert"],
            "client_key": info["client_key"],
            "ca_file": info["ca_file"],
            "shop_id": info["shop_id"],
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff with jitter, for idempotent calls only."""

    attempts: int = 4
    initial_wait_s: float = 0.2
    max_wait_s: float = 2.0
    jitter_s: float = 0.2
