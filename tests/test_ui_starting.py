"""A card touched and a note fed while the touch UI is still starting are not taken: the real
``paykiosk --config F`` process with its UI (on an Xvfb, software GL), on a fifth of one core
as on a Pi 4 (a cgroup CPU quota; at full speed where this machine cannot make one).

The X server is stopped before the kiosk starts, so the UI cannot open its window while both
devices come online (they start beside it): the start is held at "UI not up" for as long as the
test needs, whatever the machine's speed. The kiosk must stay out of service until the screen
is up: the card's touch is heard and changes nothing (no lookup), the note is handed back by
the inhibited acceptor, nothing reaches the journal. Then the X server goes on, the screen comes
up, the kiosk is in service, and the same card touched again opens the member's account (one
lookup, this one). Mesa's shader cache is on too: written in the data dir (its folder made by
the kiosk), not disabled at each start.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support.common import wait_until
from tests.support.cpu_share import available, cpu_share
from tests.support.rig import make_rig
from tests.support.wallet import Sandbox
from tests.support.xvfb import xvfb

pytestmark = pytest.mark.skipif(
    shutil.which("Xvfb") is None, reason="needs Debian's xvfb (the README's test command)"
)

PI_SHARE = 0.2  # of one core of this machine: a Raspberry Pi 4 core, roughly
READY = "ready: touch your card"
LOOKING_UP = "looking up the card…"
STARTS_S = 120.0  # a generous bound for a start on a fifth of a busy core


def test_a_card_and_a_note_during_the_ui_start_are_not_taken(
    tmp_path: Path, wallet: Sandbox
) -> None:
    share = PI_SHARE if available() is None else None
    # the kiosk stops (the rig's end) before its X server and its cgroup go
    with cpu_share(share) as cpu, xvfb() as x, make_rig(tmp_path, wallet) as rig:
        user, card = rig.member({"base": 1_000})
        kiosk = rig.kiosk
        x.freeze()
        # -v: the reader's "card event" lines
        kiosk.start(ui=True, wrapper=cpu.wrapper, env=x.env(), args=("-v",))

        def said(text: str) -> bool:
            return any(text in line for line in list(kiosk.output))

        kiosk.wait_ready(STARTS_S)  # both devices online, the UI held at its window
        rig.touch(card)
        wait_until(lambda: said("card event: touched"), 30, "the reader heard the card")
        assert rig.sim.wait_for(lambda d: not d.busy and d.inhibited, 30), rig.sim.status
        assert rig.sim.insert(1_000), rig.sim.status
        assert rig.sim.wait_for(lambda d: d.counters.returned == 1 and not d.busy, 30), (
            "the note was not handed back: " + str(rig.sim.status)
        )
        assert not said("touch screen up"), "the UI came up with its X server stopped"
        rig.card.close()

        x.thaw()
        wait_until(lambda: said(READY), STARTS_S, "the kiosk in service")
        before_ready = kiosk.output[: next(i for i, s in enumerate(kiosk.output) if READY in s)]
        assert any("touch screen up" in line for line in before_ready)
        assert not any(LOOKING_UP in line for line in before_ready)

        rig.touch(card)  # in service now: the same card opens the member's account
        wait_until(lambda: said(", points "), STARTS_S, "the member's account")
        output = list(kiosk.output)
        stacked = rig.sim.stacked  # the unit's own count (its process ends with the rig)
    lookups = [i for i, line in enumerate(output) if LOOKING_UP in line]
    ready = next(i for i, line in enumerate(output) if READY in line)
    assert len(lookups) == 1 and lookups[0] > ready, "\n".join(output[-60:])
    assert stacked == []
    journal = rig.kiosk.journal()
    try:
        notes = journal.db.one("SELECT COUNT(*) AS n FROM notes")
    finally:
        journal.close()
    assert notes is not None and notes["n"] == 0
    assert wallet.balance(user, "base") == 1_000
    assert not any("for shader cache" in line for line in output)  # Mesa's "Failed to create"
