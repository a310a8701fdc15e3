"""What the kiosk reads at every start, staff status, metrics scrape, ``pending`` and session close
does not grow with the journal: the same reads on a synthetic journal of 4 days and of 16 days
(tests/support/synthetic_journal.py, 300 visits a day) take about as many of SQLite's
virtual-machine steps (counted by ``set_progress_handler``: no clock involved), where a read of
every row would take four times as many."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from kiosk.journal import Journal
from kiosk.journal.records import CreditKind
from kiosk.ops.pending import pending
from tests.support.metrics import journal_collector
from tests.support.synthetic_journal import KIOSK, generate

END = 1_796_000_000.0  # a fixed day: both journals end on it
TICK = 20  # steps between two calls of the progress handler


def _metrics(journal: Journal) -> list[object]:
    collector = journal_collector(journal)
    return list(collector._money())


READS: dict[str, Callable[[Journal], object]] = {
    "sessions left open (start)": lambda j: j.sessions.close_open(),
    "orphan notes (start, delivery)": lambda j: j.sessions.credit_orphans(),
    "cash box since the collection": lambda j: j.cashbox.count(),
    "cash box taken out since": lambda j: j.cashbox.removals(),
    "credits by state": lambda j: (j.credits.counts(), j.moves.counts()),
    "open credits": lambda j: j.credits.open_credits(kind=CreditKind.CASH),
    "open cases": lambda j: j.cases.list(),
    "pending": pending,
    "metrics scrape (journal part)": _metrics,
    "a session's notes (closing)": lambda j: j.notes.of_session(_last_session(j)),
}


def _last_session(journal: Journal) -> int:
    row = journal.db.one("SELECT max(id) AS id FROM sessions")
    assert row is not None
    return int(row["id"])


def _steps(journal: Journal, read: Callable[[Journal], object]) -> int:
    ticks = 0

    def tick() -> int:
        nonlocal ticks
        ticks += 1
        return 0  # go on

    connection = journal.db._db
    connection.set_progress_handler(tick, TICK)
    try:
        read(journal)
    finally:
        connection.set_progress_handler(None, TICK)
    return ticks * TICK


@pytest.fixture(scope="module")
def journals(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Journal, Journal]]:
    folder = tmp_path_factory.mktemp("growth")
    opened = []
    for days in (4, 16):
        path = folder / f"journal-{days}.sqlite3"
        generate(path, days, 300, end=END)
        opened.append(Journal(path, KIOSK))
    try:
        yield opened[0], opened[1]
    finally:
        for journal in opened:
            journal.close()


@pytest.mark.parametrize("what", list(READS))
def test_a_read_takes_as_many_steps_on_four_times_the_journal(
    journals: tuple[Journal, Journal], what: str
) -> None:
    small, big = journals
    read = READS[what]
    few, many = _steps(small, read), _steps(big, read)
    assert many <= few * 1.5 + 2_000, (what, few, many)


def test_a_read_of_every_row_is_seen_growing(journals: tuple[Journal, Journal]) -> None:
    """The measure can tell: reading every note takes about four times the steps."""
    small, big = journals

    def every_note(journal: Journal) -> object:
        return journal.db.query("SELECT count(value) FROM notes")

    few, many = _steps(small, every_note), _steps(big, every_note)
    assert many > few * 3, (few, many)
