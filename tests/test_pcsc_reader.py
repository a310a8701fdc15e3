"""The PC/SC reader backend through a real pcscd and vsmartcard's virtual reader, with a virtual
FeliCa card connecting to it (touch = connect, remove = close): the IDm, the member number from
a block, a card that is not FeliCa, a card pulled away mid-read, a reader that is not there,
and pcscd stopped and started again."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from hardware.card import CardEvent, CardEventKind, ServiceBlock
from hardware.pcsc.reader import PcscConfig, PcscReader
from hardware.pcsc.sim import VirtualCardOnReader, VirtualFelica
from tests.support.pcsc import VIRTUAL_READER, Pcscd, card_port

IDM = "012E4CD8A1B2C3D4"
MEMBER_SERVICE = 0x1A8B
POLL_S = 0.5  # pcscd polls a reader without an interrupt endpoint (vpcd) every 400 ms
pytestmark = pytest.mark.timeout(60)


class Events:
    def __init__(self) -> None:
        self.seen: list[CardEvent] = []

    def __call__(self, event: CardEvent) -> None:
        self.seen.append(event)

    def of(self, kind: CardEventKind) -> list[CardEvent]:
        return [e for e in self.seen if e.kind is kind]

    def wait(self, kind: CardEventKind, count: int = 1, timeout: float = 5.0) -> list[CardEvent]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.of(kind)) >= count:
                return self.of(kind)
            time.sleep(0.01)
        raise AssertionError(f"waited for {count}x {kind}; saw {[str(e) for e in self.seen]}")


def reader_on(events: Events, **config: object) -> PcscReader:
    reader = PcscReader(PcscConfig(reader=VIRTUAL_READER, reconnect_max=1.0, **config))  # type: ignore[arg-type]
    reader.add_listener(events)
    reader.start()
    return reader


@pytest.fixture
def events(pcscd: Pcscd) -> Events:
    return Events()


@pytest.fixture
def reader(events: Events) -> Iterator[PcscReader]:
    reader = reader_on(events)
    assert reader.wait_online(5), events.seen
    yield reader
    reader.stop()


def touch(card: VirtualFelica, events: Events, kind: CardEventKind, count: int = 1) -> CardEvent:
    on = VirtualCardOnReader(card, card_port())
    try:
        return events.wait(kind, count)[-1]
    finally:
        on.remove()
        time.sleep(POLL_S)  # pcscd notices the removal at its next poll of the virtual reader


def test_a_felica_touch_is_one_event_with_the_idm(reader: PcscReader, events: Events) -> None:
    online = events.wait(CardEventKind.ONLINE)[0]
    assert online.detail == VIRTUAL_READER
    on = VirtualCardOnReader(VirtualFelica(IDM), card_port())
    event = events.wait(CardEventKind.TOUCHED)[0]
    assert (event.card_id, event.idm, event.pmm) == (IDM, IDM, "0120220427674EFF")
    time.sleep(1.0)  # the card stays: no second event
    on.remove()
    assert len(events.of(CardEventKind.TOUCHED)) == 1
    time.sleep(1.2)  # gone longer than min_interval: the next touch is a new one
    touch(VirtualFelica(IDM), events, CardEventKind.TOUCHED, 2)
    assert IDM not in " ".join(str(e) for e in events.seen)  # masked when printed


def test_the_member_number_comes_from_the_configured_block(events: Events) -> None:
    where = ServiceBlock(MEMBER_SERVICE, block=1, start=2, end=12)
    reader = reader_on(events, service_block=where)
    try:
        assert reader.wait_online(5)
        blocks = [bytes(16), b"\x00\x00S1234567  \x00\x00\x00\x00"]
        event = touch(
            VirtualFelica(IDM, blocks={MEMBER_SERVICE: blocks}), events, CardEventKind.TOUCHED
        )
        assert (event.card_id, event.idm) == ("S1234567", IDM)
        time.sleep(1.2)
        other = VirtualFelica("0000111122223333", blocks={0x000B: [bytes(16)]})
        missing = touch(other, events, CardEventKind.UNREADABLE)
        assert "service 1A8B block 1" in missing.detail and missing.idm == "0000111122223333"
    finally:
        reader.stop()
    assert len(events.of(CardEventKind.TOUCHED)) == 1


def test_a_card_that_is_not_felica_is_unreadable_not_a_member(
    reader: PcscReader, events: Events
) -> None:
    event = touch(VirtualFelica(IDM, mifare=True), events, CardEventKind.UNREADABLE)
    assert event.detail.startswith("not a FeliCa card")
    assert events.of(CardEventKind.TOUCHED) == []


def test_a_card_pulled_away_mid_read_never_becomes_a_touch(events: Events) -> None:
    where = ServiceBlock(MEMBER_SERVICE, block=0)
    reader = reader_on(events, service_block=where)
    try:
        assert reader.wait_online(5)
        card = VirtualFelica(
            IDM, blocks={MEMBER_SERVICE: [b"S7654321" + bytes(8)]}, pull_at_read=True
        )
        event = touch(card, events, CardEventKind.UNREADABLE)
        assert event.idm == IDM and "service 1A8B block 0" in event.detail
        time.sleep(1.5)
        assert events.of(CardEventKind.TOUCHED) == []
        assert reader.online  # the reader itself is fine
    finally:
        reader.stop()


def test_a_reader_that_is_not_there_is_offline_and_named(events: Events) -> None:
    reader = PcscReader(PcscConfig(reader="RC-S300", reconnect_max=1.0))
    reader.add_listener(events)
    reader.start()
    try:
        offline = events.wait(CardEventKind.OFFLINE)[0]
        assert offline.detail == "no PC/SC reader matching 'RC-S300'"
        assert not reader.online
    finally:
        reader.stop()


def test_pcscd_stopped_and_started_again_the_reader_comes_back(
    pcscd: Pcscd, reader: PcscReader, events: Events
) -> None:
    touch(VirtualFelica(IDM), events, CardEventKind.TOUCHED)
    pcscd.stop()
    offline = events.wait(CardEventKind.OFFLINE)[0]
    assert "pcscd" in offline.detail or VIRTUAL_READER in offline.detail, offline.detail
    assert not reader.online
    pcscd.start()
    events.wait(CardEventKind.ONLINE, 2, timeout=10)
    time.sleep(1.2)
    touch(VirtualFelica("0000111122223333"), events, CardEventKind.TOUCHED, 2)
