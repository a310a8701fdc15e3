"""Fault injection settings, kept in the sandbox database so the admin command can change
them while the server runs."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace

from kiosk.sim.sandbox.store import SandboxStore


@dataclass(frozen=True)
class Faults:
    latency_ms: int = 0  # added before every answer
    rate_503: float = 0.0  # share of calls answered 503 temporarily_unavailable
    next_503: int = 0  # the next N calls answer 503
    drop_after_commit: int = 0  # the next N calls are carried out, then the connection drops
    hold_after_commit_ms: int = 0  # carried out, then the answer waits this long
    corrupt_responses: int = 0  # the next N responses carry undecryptable data
    refuse: bool = False  # stop listening (connections refused) and drop open ones
    unavailable_for: str = ""  # a user id whose top-ups answer 503 (one member's trouble)
    clock_offset_s: float = 0.0  # the sandbox's clock runs this far ahead (negative: behind)


def load(store: SandboxStore) -> Faults:
    saved = store.get_meta("faults", {}) or {}
    known = {f.name for f in fields(Faults)}
    return Faults(**{k: v for k, v in saved.items() if k in known})


def update(store: SandboxStore, **changes: object) -> Faults:
    faults = replace(load(store), **changes)  # type: ignore[arg-type]
    store.set_meta("faults", asdict(faults))
    return faults


def clear(store: SandboxStore) -> Faults:
    store.set_meta("faults", {})
    return Faults()


def take(store: SandboxStore, counter: str) -> bool:
    """Use up one of a countdown fault; True if one was left."""
    with store.transaction() as db:
        row = db.execute("SELECT value FROM meta WHERE key = 'faults'").fetchone()
        if row is None:
            return False
        saved = json.loads(row["value"])
        if int(saved.get(counter, 0)) <= 0:
            return False
        saved[counter] = int(saved[counter]) - 1
        db.execute("UPDATE meta SET value = ? WHERE key = 'faults'", (json.dumps(saved),))
        return True
