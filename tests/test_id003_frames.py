"""Frame encoding, CRC and the stream parser, checked against the independent vectors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hardware.id003.codes import Command, CurrencyTable, Status
from hardware.id003.frames import Frame, FrameParser, crc16_kermit, decode_frame, encode_frame

# Made without the project's code; see tests/vectors/README.md.
VECTORS_FILE = Path(__file__).parent / "vectors" / "id003-frames.json"
VECTORS = json.loads(VECTORS_FILE.read_text())

# Vector name → what our direction-aware tables call that code.
HOST_NAMES = {
    "STATUS REQUEST": Command.STATUS_REQUEST,
    "ACK": Command.ACK,
    "RESET": Command.RESET,
    "STACK-1": Command.STACK_1,
    "STACK-2": Command.STACK_2,
    "RETURN": Command.RETURN,
    "HOLD": Command.HOLD,
    "INHIBIT set": Command.SET_INHIBIT,
    "ENABLE/DISABLE DENOMINATION": Command.SET_DENOMINATION,
    "COMMUNICATION MODE": Command.SET_COMMUNICATION_MODE,
    "VERSION REQUEST": Command.VERSION_REQUEST,
    "CURRENCY ASSIGN REQUEST": Command.CURRENCY_ASSIGN_REQUEST,
}
ACCEPTOR_NAMES = {
    "IDLING": Status.IDLING,
    "ACCEPTING": Status.ACCEPTING,
    "ESCROW": Status.ESCROW,
    "STACKING": Status.STACKING,
    "VEND VALID": Status.VEND_VALID,
    "STACKED": Status.STACKED,
    "REJECTING": Status.REJECTING,
    "RETURNING": Status.RETURNING,
    "HOLDING": Status.HOLDING,
    "DISABLE": Status.DISABLED,
    "INITIALIZE": Status.INITIALIZE,
    "POWER UP WITH BILL IN ACCEPTOR": Status.POWER_UP_BILL_IN_ACCEPTOR,
    "POWER UP WITH BILL IN STACKER": Status.POWER_UP_BILL_IN_STACKER,
    "POWER UP": Status.POWER_UP,
    "STACKER FULL": Status.STACKER_FULL,
    "STACKER OPEN": Status.STACKER_OPEN,
    "ACCEPTOR JAM": Status.ACCEPTOR_JAM,
    "STACKER JAM": Status.STACKER_JAM,
    "PAUSE": Status.PAUSE,
    "CHEATED": Status.CHEATED,
    "FAILURE": Status.FAILURE,
    "ACK": Status.ACK,
    "CURRENCY ASSIGN reply": 0x8A,
}


def _expected_code(vector: dict[str, str]) -> int:
    table = HOST_NAMES if vector["direction"] == "host" else ACCEPTOR_NAMES
    # longest matching name first: "POWER UP WITH BILL..." before "POWER UP"
    for name in sorted(table, key=len, reverse=True):
        if vector["name"].startswith(name):
            return table[name]
    raise KeyError(vector["name"])


def _raw(vector: dict[str, str]) -> bytes:
    return bytes.fromhex(vector["hex"])


ALL_FRAMES = [_raw(v) for v in VECTORS["frames"]]


def test_crc_check_value() -> None:
    assert crc16_kermit(VECTORS["crc_check"]["input_ascii"].encode()) == int(
        VECTORS["crc_check"]["crc16_kermit"], 16
    )


@pytest.mark.parametrize("vector", VECTORS["frames"], ids=lambda v: f"{v['direction']}:{v['name']}")
def test_vector_round_trip(vector: dict[str, str]) -> None:
    raw = _raw(vector)
    frame = decode_frame(raw)
    assert frame.code == _expected_code(vector)
    assert encode_frame(frame.code, frame.data) == raw


def test_reference_table_frames() -> None:
    # Rows of the frame table in docs/id003.md that are not in the JSON vectors.
    for text in (
        "FC 05 45 86 42",
        "FC 05 4A 71 BA",
        "FC 05 4B F8 AB",
        "FC 06 C2 01 55 DE",
        "FC 05 89 E6 4E",
        "FC 06 17 76 EE F8",
        "FC 06 83 00 62 90",
    ):
        raw = bytes.fromhex(text)
        assert decode_frame(raw).encode() == raw


def test_yen_currency_reply_parses_to_four_notes() -> None:
    vector = next(v for v in VECTORS["frames"] if v["name"].startswith("CURRENCY ASSIGN reply"))
    table = CurrencyTable.parse(decode_frame(_raw(vector)).data)
    assert table.values == [1000, 2000, 5000, 10000]
    assert table.value_of(0x63) == 5000
    assert table.value_of(0x65) is None


def test_usd_table_and_denomination_mask() -> None:
    usd = bytes.fromhex("61010100 62000000 63010500 64010A00 65011400 66013200 67016400 68000000")
    table = CurrencyTable.parse(usd)
    assert table.values == [1, 5, 10, 20, 50, 100]
    # bit n ↔ escrow code 0x61+n, 1 = refused; codes without a note stay refused
    assert table.disabled_mask(None) == bytes((0b1000_0010, 0xFF))
    assert table.disabled_mask({1, 100}) == bytes((0b1011_1110, 0xFF))
    assert table.enabled_codes(table.disabled_mask({5, 20})) == {0x63, 0x65}


@pytest.mark.parametrize("bad", ["", "610A01", "61000000"])
def test_unusable_currency_tables_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        CurrencyTable.parse(bytes.fromhex(bad))


def test_decode_refuses_defects() -> None:
    good = encode_frame(Status.ESCROW, b"\x61")
    for broken in (
        good[:-1],
        b"\x00" + good[1:],
        good[:-1] + b"\x00",
        good[:1] + b"\x07" + good[2:],
    ):
        with pytest.raises(ValueError):
            decode_frame(broken)


def test_parser_split_reads_byte_by_byte() -> None:
    parser = FrameParser()
    stream = b"".join(ALL_FRAMES)
    got = [f for byte in stream for f in parser.feed(bytes((byte,)))]
    assert [f.encode() for f in got] == ALL_FRAMES


@pytest.mark.parametrize("length", [0, 1, 2, 3, 4])
def test_parser_skips_impossible_lengths(length: int) -> None:
    parser = FrameParser()
    ack = encode_frame(Status.ACK)
    assert parser.feed(bytes((0xFC, length)) + ack) == [Frame(Status.ACK)]


def test_parser_lng_255_held_frame_is_recovered_on_expire() -> None:
    parser = FrameParser()
    idle = encode_frame(Status.IDLING)
    assert parser.feed(b"\xfc\xff" + idle) == []  # waiting for 255 bytes
    assert parser.expire() == [Frame(Status.IDLING)]
    assert parser.pending == 0


def test_parser_bad_crc_then_resync() -> None:
    parser = FrameParser()
    bad = bytearray(encode_frame(Status.VEND_VALID))
    bad[-1] ^= 1
    assert parser.feed(bytes(bad) + encode_frame(Status.STACKED)) == [Frame(Status.STACKED)]


def test_every_single_bit_flip_is_caught_and_the_next_frame_survives() -> None:
    """Exhaustive: each vector frame with each one bit flipped, between two good frames."""
    before, after = encode_frame(Status.IDLING), encode_frame(Status.STACKED)
    for raw in ALL_FRAMES:
        for bit in range(len(raw) * 8):
            mutated = bytearray(raw)
            mutated[bit // 8] ^= 1 << (bit % 8)
            parser = FrameParser()
            got = parser.feed(before + bytes(mutated) + after)
            while parser.pending:
                got += parser.expire()
            assert got == [Frame(Status.IDLING), Frame(Status.STACKED)], (raw.hex(), bit)


# Garbage that may contain SYNC, but only followed by an impossible or over-long length, so
# it can never form a valid frame by chance; streams stay under 255 bytes.
_junk_byte = st.integers(0, 255).filter(lambda b: b != 0xFC)
_bad_header = st.sampled_from([0, 1, 2, 3, 4, 255]).map(lambda n: bytes((0xFC, n)))
_garbage = st.lists(st.one_of(_junk_byte.map(lambda b: bytes((b,))), _bad_header), max_size=20)
_frames = st.lists(st.sampled_from(ALL_FRAMES), min_size=1, max_size=5)


@settings(max_examples=300, deadline=None)
@given(garbage=_garbage, frames=_frames, cuts=st.lists(st.integers(1, 40), max_size=10))
def test_parser_recovers_every_frame_after_garbage(
    garbage: list[bytes], frames: list[bytes], cuts: list[int]
) -> None:
    stream = b"".join(garbage) + b"".join(frames)
    parser = FrameParser()
    got: list[Frame] = []
    position = 0
    for cut in cuts:  # arbitrary split reads
        got += parser.feed(stream[position : position + cut])
        position += cut
    got += parser.feed(stream[position:])
    while parser.pending:
        got += parser.expire()
    assert [f.encode() for f in got] == frames


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_parser_never_raises_and_never_holds_more_than_a_frame(data: bytes) -> None:
    parser = FrameParser()
    for frame in parser.feed(data):
        assert frame.encode()[1] == len(frame.encode())
    assert parser.pending < 255
