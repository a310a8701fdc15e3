"""The FeliCa reader over real nfcpy: a reader frontend and an emulated card on udp loopback.

A udp poll waits up to 1 s for an answer, so every wait here allows several seconds.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from hardware.card import CardEventKind, TouchFilter, mask_card_id
from hardware.felica.reader import ReaderConfig, ServiceBlock
from hardware.felica.sim import (
    CardEmulator,
    EmulatedCard,
    UdpReaderPlug,
    free_udp_port,
    number_block,
)
from tests.support.common import wait_until
from tests.support.felica import FAST_RECONNECT, idm, running_reader, type_a_card

TOUCHED, ONLINE, OFFLINE = CardEventKind.TOUCHED, CardEventKind.ONLINE, CardEventKind.OFFLINE
WAIT = 15.0
MEMBER_SERVICE = 0x1A8B  # a "random read-only without key" service


@pytest.fixture
def card() -> Iterator[CardEmulator]:
    with CardEmulator(free_udp_port()) as emulator:
        yield emulator


def config_for(card: CardEmulator, **overrides: object) -> ReaderConfig:
    settings: dict[str, object] = {"targets": ("212F",), "min_interval": 0.0, **FAST_RECONNECT}
    return ReaderConfig(device=card.device_path, **{**settings, **overrides})


# ---- over udp ------------------------------------------------------------------------
def test_touch_gives_one_event_with_the_idm(card: CardEmulator) -> None:
    with running_reader(config_for(card)) as (reader, events):
        events.wait(ONLINE, timeout=WAIT)
        card.touch(EmulatedCard(idm(1).lower(), pmm="0120bfbfbfbfbfbf", system_code=0xFE00))
        (event,) = events.wait(TOUCHED, timeout=WAIT)
        card.remove()
        wait_until(lambda: not reader.card_present, WAIT, "the reader to see the card leave")
    assert event.card_id == idm(1) == "01230000000001EF"
    assert (event.idm, event.pmm, event.system_code) == (idm(1), "0120BFBFBFBFBFBF", 0xFE00)
    assert len(events.of(TOUCHED)) == 1


def test_card_left_on_the_reader_does_not_repeat(card: CardEmulator) -> None:
    with running_reader(config_for(card)) as (reader, events):
        card.touch(EmulatedCard(idm(2)))
        events.wait(TOUCHED, timeout=WAIT)
        answered = card.replies
        wait_until(lambda: card.replies >= answered + 10, WAIT, "10 presence checks")
        assert reader.card_present
        assert len(events.of(TOUCHED)) == 1


def test_leave_and_touch_again_is_a_new_touch(card: CardEmulator) -> None:
    with running_reader(config_for(card)) as (reader, events):
        for count in (1, 2):
            card.touch(EmulatedCard(idm(3)))
            events.wait(TOUCHED, count, timeout=WAIT)
            card.remove()
            wait_until(lambda: not reader.card_present, WAIT, "the card to leave")
    assert [e.card_id for e in events.of(TOUCHED)] == [idm(3), idm(3)]


def test_same_card_back_within_min_interval_is_the_same_touch(card: CardEmulator) -> None:
    with running_reader(config_for(card, min_interval=300.0)) as (reader, events):
        card.touch(EmulatedCard(idm(4)))
        events.wait(TOUCHED, timeout=WAIT)
        card.remove()
        wait_until(lambda: not reader.card_present, WAIT, "the card to leave")
        card.touch(EmulatedCard(idm(4)))
        wait_until(lambda: reader.card_present, WAIT, "the card to be back")
        assert len(events.of(TOUCHED)) == 1
        card.touch(EmulatedCard(idm(5)))  # another card is another touch
        events.wait(TOUCHED, 2, timeout=WAIT)
    assert [e.card_id for e in events.of(TOUCHED)] == [idm(4), idm(5)]


def test_card_id_from_a_service_block(card: CardEmulator) -> None:
    where = ServiceBlock(MEMBER_SERVICE, block=1, start=2, end=12)
    blocks = {MEMBER_SERVICE: {0: bytes(16), 1: number_block("S2024-0042", offset=2)}}
    with running_reader(config_for(card, service_block=where)) as (_, events):
        card.touch(EmulatedCard(idm(6), blocks=blocks))
        (event,) = events.wait(TOUCHED, timeout=WAIT)
    assert (event.card_id, event.idm) == ("S2024-0042", idm(6))


def test_card_without_the_service_is_unreadable_not_touched(card: CardEmulator) -> None:
    where = ServiceBlock(MEMBER_SERVICE)
    with running_reader(config_for(card, service_block=where)) as (_, events):
        card.touch(EmulatedCard(idm(7), blocks={0x090F: {0: number_block("123")}}))
        (event,) = events.wait(CardEventKind.UNREADABLE, timeout=WAIT)
        assert not events.of(TOUCHED)
    assert event.idm == idm(7) and not event.card_id
    assert "1A8B" in event.detail


def test_card_at_424_kbps_with_the_default_targets(card: CardEmulator) -> None:
    with running_reader(config_for(card, targets=("212F", "424F"))) as (_, events):
        card.touch(EmulatedCard(idm(8), brty="424F"))
        (event,) = events.wait(TOUCHED, timeout=WAIT)
    assert event.card_id == idm(8)


def test_reader_polling_one_system_code(card: CardEmulator) -> None:
    with running_reader(config_for(card, system_code=0xFE00)) as (_, events):
        card.touch(EmulatedCard(idm(9), system_code=0xFE00))
        (event,) = events.wait(TOUCHED, timeout=WAIT)
    assert event.system_code == 0xFE00


def test_non_felica_card_is_ignored_without_an_error(
    card: CardEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    with running_reader(config_for(card)) as (reader, events):
        events.wait(ONLINE, timeout=WAIT)
        with type_a_card(card.port):
            polls = reader.polls
            wait_until(lambda: reader.polls >= polls + 2, WAIT, "2 polls with the card there")
        assert reader.online and not reader.card_present
        card.touch(EmulatedCard(idm(10)))
        events.wait(TOUCHED, timeout=WAIT)
    assert [e.kind for e in events.events] == [ONLINE, TOUCHED]
    assert not [r for r in caplog.records if r.name.startswith(("paykiosk", "nfc"))]


def test_reader_lost_and_back(card: CardEmulator) -> None:
    plug = UdpReaderPlug()
    with running_reader(config_for(card), plug.open) as (reader, events):
        card.touch(EmulatedCard(idm(11)))
        events.wait(TOUCHED, timeout=WAIT)
        plug.unplug()
        (offline,) = events.wait(OFFLINE, timeout=WAIT)
        assert not reader.online and not reader.card_present
        card.remove()
        plug.plug()
        events.wait(ONLINE, 2, timeout=WAIT)
        card.touch(EmulatedCard(idm(12)))
        events.wait(TOUCHED, 2, timeout=WAIT)
    assert [e.kind for e in events.events] == [ONLINE, TOUCHED, OFFLINE, ONLINE, TOUCHED]
    assert offline.detail
    assert plug.opens == 2


def test_reader_missing_at_start_is_offline_until_plugged_in(card: CardEmulator) -> None:
    plug = UdpReaderPlug()
    plug.unplug()
    with running_reader(config_for(card), plug.open) as (reader, events):
        events.wait(OFFLINE, timeout=WAIT)
        assert not reader.online
        plug.plug()
        events.wait(ONLINE, timeout=WAIT)
        card.touch(EmulatedCard(idm(13)))
        events.wait(TOUCHED, timeout=WAIT)
    assert [e.kind for e in events.events] == [OFFLINE, ONLINE, TOUCHED]


def test_reader_that_stops_polling_is_offline_until_it_polls_again(card: CardEmulator) -> None:
    plug = UdpReaderPlug()
    with running_reader(config_for(card, poll_timeout_s=3.0), plug.open) as (reader, events):
        events.wait(ONLINE, timeout=WAIT)
        plug.hang()  # the driver's next poll does not return
        try:
            (offline,) = events.wait(OFFLINE, timeout=WAIT)
            assert not reader.online
        finally:
            plug.resume()
        events.wait(ONLINE, 2, timeout=WAIT)
        assert reader.online
        card.touch(EmulatedCard(idm(16)))
        events.wait(TOUCHED, timeout=WAIT)
    assert [e.kind for e in events.events] == [ONLINE, OFFLINE, ONLINE, TOUCHED]
    assert offline.detail.startswith("no poll for ")
    assert plug.opens == 1  # the same frontend polls on: the stall alone was reported


def test_stop_with_a_card_on_the_reader_is_clean(card: CardEmulator) -> None:
    with running_reader(config_for(card)) as (reader, events):
        card.touch(EmulatedCard(idm(14)))
        events.wait(TOUCHED, timeout=WAIT)
        reader.stop(timeout=10)  # running_reader checks that the thread is gone
        assert not reader.online


def test_logs_never_hold_a_full_card_id(
    card: CardEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="paykiosk")
    with running_reader(config_for(card)) as (reader, events):
        card.touch(EmulatedCard(idm(15)))
        (event,) = events.wait(TOUCHED, timeout=WAIT)
        card.remove()
        wait_until(lambda: not reader.card_present, WAIT, "the card to leave")
    assert mask_card_id(idm(15)) in caplog.text
    assert idm(15) not in caplog.text
    assert idm(15) not in f"{event} {event!r}"


# ---- pure parts ----------------------------------------------------------------------
def test_touch_filter_one_touch_one_event() -> None:
    touches = TouchFilter(min_interval=1.0)
    assert touches.arrived("A", 0.0)
    touches.left(5.0)
    assert not touches.arrived("A", 5.5)  # flickered at the edge of the field
    touches.left(6.0)
    assert touches.arrived("A", 7.0)  # lifted and touched again
    touches.left(7.5)
    assert touches.arrived("B", 7.6)  # another card right away
    touches.left(7.7)
    assert touches.arrived("A", 7.8)  # and the first one again


def test_mask_card_id() -> None:
    assert mask_card_id("0123456789ABCDEF") == "0123…EF"
    assert mask_card_id("S2024-0042") == "S2…2"
    assert mask_card_id("") == ""


def test_service_block_decoding() -> None:
    block = b"\x00\x00S1234567  \x00\x00\x00\x00"
    assert ServiceBlock(MEMBER_SERVICE, start=2, end=12).decode(block) == "S1234567"
    assert ServiceBlock(MEMBER_SERVICE, start=2, end=6, encoding="hex").decode(block) == "53313233"
    assert ServiceBlock(MEMBER_SERVICE).decode(bytes(16)) == ""
    assert ServiceBlock(MEMBER_SERVICE).decode(b"\xff" * 16) == ""


@pytest.mark.parametrize(
    "settings",
    [
        {"device": "usb:001:023"},  # bus:device changes on every replug
        {"device": "/dev/ttyUSB0"},
        {"targets": ("106A",)},
        {"targets": ()},
        {"system_code": 0x10000},
        {"reconnect_min": 0.0},
        {"poll_timeout_s": 0.0},
    ],
)
def test_reader_config_rejects_bad_settings(settings: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        ReaderConfig(**settings)


def test_service_block_needs_a_keyless_service() -> None:
    with pytest.raises(ValueError, match="needs a key"):
        ServiceBlock(0x1A88)
    with pytest.raises(ValueError, match="byte range"):
        ServiceBlock(MEMBER_SERVICE, start=8, end=20)
