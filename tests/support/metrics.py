"""The metrics collector on a journal alone (no devices, no wallet): the families that read
only the journal (``_money``) and the journal and its disk (``_machine``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from kiosk.journal import Journal
from kiosk.ops.metrics import KioskCollector, Sources


def journal_collector(journal: Journal, archive_dir: Path | None = None) -> KioskCollector:
    sources = Sources(
        journal=journal,
        faults=dict,
        acceptor=cast(Any, None),  # read by the device families only
        reader=None,
        wallet=cast(Any, None),
        stacker_capacity=1000,
        data_dir_free=lambda: 10**9,
        archive_dir=archive_dir,
    )
    return KioskCollector(sources)
