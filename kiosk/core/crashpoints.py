"""Named points in the money path where the crash tests freeze the process to SIGKILL it.

Inert unless ``PAYKIOSK_FREEZE_AT`` names the point: then the process prints
``PAYKIOSK FROZEN <point>`` on stderr and the calling thread blocks for good, so the test kills
the kiosk exactly there (a real SIGKILL, not an exception that cleanup code could see).
"""

from __future__ import annotations

import os
import sys
import threading

POINTS = (
    "escrow_recorded",  # the note's record is durable; STACK-2 not yet sent
    "stacked_before_journal",  # VEND VALID seen; the stacked write not yet done
    "stacked_before_ack",  # the stacked write is durable; the ACK not yet sent
    "credit_before_send",  # the credit and its request_id are durable; no attempt yet
    "credit_after_response",  # the wallet answered the top-up; not yet journaled
)
MOVE_POINTS = (
    "move_before_send",  # the move and its request_id are durable; no attempt yet
    "move_after_response",  # the wallet answered the move; not yet journaled
)
ARCHIVE_POINTS = (  # the journal's archive job (kiosk.journal.retention), in the order met
    "archive_temp_written",  # a month's archive written under its temporary name, not fsynced
    "archive_renamed",  # the archive under its name, the folder fsynced; no checksum file yet
    "archive_checksummed",  # the archive and its checksum file durable; no live row deleted
    "archive_part_deleted",  # a table's first chunk of live rows deleted, more of it still live
    "archive_expired_removed",  # an archive past the retention period removed; folder unsynced
    "archive_run_unfinished",  # all moved and removed; the run's row not yet finished
)


def checkpoint(name: str) -> None:
    """Freeze here for good if the crash test asked for this point."""
    if os.environ.get("PAYKIOSK_FREEZE_AT") == name:
        print(f"PAYKIOSK FROZEN {name}", file=sys.stderr, flush=True)
        threading.Event().wait()
