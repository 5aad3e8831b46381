"""Frames byte for byte: RFC 6455 section 5.7's examples, the length forms, and every rule one
frame alone can break (section 5)."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wsteach.frames import (
    Frame,
    Opcode,
    ProtocolError,
    close_payload,
    decode_frame,
    encode_frame,
    parse_close_payload,
)

KEY = bytes.fromhex("37fa213d")

# RFC 6455 section 5.7, each example as (frame, its bytes on the wire).
RFC_EXAMPLES = {
    "unmasked Hello": (Frame(Opcode.TEXT, b"Hello"), "810548656c6c6f"),
    "masked Hello": (Frame(Opcode.TEXT, b"Hello", mask_key=KEY), "818537fa213d7f9f4d5158"),
    "fragment Hel": (Frame(Opcode.TEXT, b"Hel", fin=False), "010348656c"),
    "fragment lo": (Frame(Opcode.CONTINUATION, b"lo"), "80026c6f"),
    "ping Hello": (Frame(Opcode.PING, b"Hello"), "890548656c6c6f"),
    "masked pong Hello": (Frame(Opcode.PONG, b"Hello", mask_key=KEY), "8a8537fa213d7f9f4d5158"),
}


@pytest.mark.parametrize("name", RFC_EXAMPLES)
def test_rfc_examples_encode_and_decode_byte_for_byte(name):
    frame, wire = RFC_EXAMPLES[name]
    assert encode_frame(frame).hex() == wire
    assert decode_frame(bytes.fromhex(wire)) == (frame, len(wire) // 2)


@pytest.mark.parametrize(("length", "header"), [(256, "827e0100"), (65536, "827f0000000000010000")])
def test_rfc_examples_of_the_long_length_headers(length, header):
    # "256 bytes binary message in a single unmasked frame" and "64KiB ..." (section 5.7).
    wire = encode_frame(Frame(Opcode.BINARY, bytes(length)))
    assert wire[: len(header) // 2].hex() == header
    assert len(wire) == len(header) // 2 + length


@pytest.mark.parametrize(("length", "header_size"),
                         [(0, 2), (125, 2), (126, 4), (65535, 4), (65536, 10), (2**20, 10)])
def test_length_forms_switch_at_126_and_65536(length, header_size):
    frame = Frame(Opcode.BINARY, bytes(range(256)) * (length // 256) + bytes(length % 256))
    wire = encode_frame(frame)
    assert len(wire) == header_size + length
    assert decode_frame(wire) == (frame, len(wire))
    masked = encode_frame(frame, KEY)
    assert len(masked) == header_size + 4 + length
    assert decode_frame(masked)[0].payload == frame.payload


def test_every_prefix_is_incomplete_and_nothing_past_the_frame_is_read():
    wire = encode_frame(Frame(Opcode.TEXT, b"x" * 300), KEY)
    for end in range(len(wire)):
        assert decode_frame(wire[:end]) is None, end
    frame, used = decode_frame(wire + b"\x81\x05next frame")
    assert used == len(wire) and frame.payload == b"x" * 300


def test_decodes_from_a_memoryview_slice_without_copying_the_stream():
    one, two = Frame(Opcode.TEXT, b"one"), Frame(Opcode.TEXT, b"two")
    stream = bytearray(encode_frame(one) + encode_frame(two))
    view = memoryview(stream)
    first, used = decode_frame(view)
    second, _ = decode_frame(view[used:])
    assert (first.payload, second.payload) == (b"one", b"two")


def test_a_claimed_huge_length_returns_none_until_the_bytes_are_there():
    header = struct.pack("!BBQ", 0x82, 127, 2**62)
    assert decode_frame(header + b"tiny") is None


def _header(first: int, second: int) -> bytes:
    return bytes([first, second])


@pytest.mark.parametrize(("wire", "code", "words"), [
    (_header(0xC1, 0) , 1002, "reserved bits"),            # RSV1 without an extension
    (_header(0xA1, 0), 1002, "reserved bits"),             # RSV2
    (_header(0x91, 0), 1002, "reserved bits"),             # RSV3
    (_header(0x83, 0), 1002, "opcode 0x3 is reserved"),
    (_header(0x8B, 0), 1002, "opcode 0xB is reserved"),
    (_header(0x89, 126) + struct.pack("!H", 126), 1002, "at most 125"),
    (_header(0x09, 0), 1002, "must not be fragmented"),
    (_header(0x82, 127) + struct.pack("!Q", 2**63), 1002, "top bit"),
    (_header(0x88, 1) + b"\x03", 1002, "1-byte payload"),
    (_header(0x88, 2) + struct.pack("!H", 1005), 1002, "close code 1005"),
    (_header(0x88, 2) + struct.pack("!H", 999), 1002, "close code 999"),
    (_header(0x88, 2) + struct.pack("!H", 5000), 1002, "close code 5000"),
    (_header(0x88, 4) + struct.pack("!H", 1000) + b"\xc3\x28", 1007, "not valid UTF-8"),
])
def test_rules_one_frame_can_break(wire, code, words):
    with pytest.raises(ProtocolError, match=words) as caught:
        decode_frame(wire)
    assert caught.value.code == code


def test_rsv1_is_allowed_when_an_extension_defines_it():
    wire = bytes([0xC1, 1]) + b"x"
    frame, _ = decode_frame(wire, allow_rsv1=True)
    assert frame.rsv1 and frame.payload == b"x"


def test_max_size_refuses_a_frame_as_soon_as_its_header_arrives():
    header = struct.pack("!BBQ", 0x82, 127, 2**30)
    with pytest.raises(ProtocolError) as caught:
        decode_frame(header, max_size=2**20)
    assert caught.value.code == 1009


@pytest.mark.parametrize("code", [1000, 1001, 1003, 1007, 1011, 1014, 3000, 4999])
def test_close_payload_round_trip(code):
    assert parse_close_payload(close_payload(code, "bye 再见")) == (code, "bye 再见")


def test_empty_close_payload_means_no_status():
    assert parse_close_payload(b"") == (1005, "")


def test_encode_writes_frames_a_peer_must_reject():
    # Notebooks send such frames on purpose; decoding them is where the rules apply.
    wire = encode_frame(Frame(Opcode.PING, b"x" * 200, fin=False))
    assert wire[:2] == bytes([0x09, 126])
    with pytest.raises(ProtocolError):
        decode_frame(wire)


@given(st.binary(max_size=200), st.integers(0, 300) | st.none(), st.booleans())
def test_arbitrary_bytes_give_a_frame_none_or_a_protocol_error(data, max_size, allow_rsv1):
    try:
        result = decode_frame(data, max_size=max_size, allow_rsv1=allow_rsv1)
    except ProtocolError as error:
        assert error.code in (1002, 1007, 1009)
        return
    if result is not None:
        frame, used = result
        assert 2 <= used <= len(data)
        if used == len(encode_frame(frame)):  # minimal length form: re-encodes byte for byte
            assert encode_frame(frame) == data[:used]


FRAMES = st.builds(
    Frame,
    opcode=st.sampled_from([Opcode.CONTINUATION, Opcode.TEXT, Opcode.BINARY]),
    payload=st.binary(max_size=70_000) | st.binary(max_size=10),
    fin=st.booleans(),
    mask_key=st.none() | st.binary(min_size=4, max_size=4),
)


@settings(max_examples=80, deadline=None)
@given(FRAMES)
def test_encode_then_decode_gives_the_same_frame(frame):
    wire = encode_frame(frame)
    assert decode_frame(wire) == (frame, len(wire))
    assert decode_frame(memoryview(b"junk" + wire)[4:]) == (frame, len(wire))


def test_shorten_reason_keeps_whole_characters_within_123_bytes():
    from wsteach.frames import shorten_reason

    assert shorten_reason("好" * 50) == "好" * 41  # 3 bytes each: 41 fit, the 42nd would not
    assert shorten_reason("x" * 200) == "x" * 123
    assert shorten_reason("bye") == "bye"
