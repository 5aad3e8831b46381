"""The scapy WebSocket layer against our own encoder and decoder (``wsteach.frames``).

Three views of one frame must agree: ``encode_frame`` (bytes from a ``Frame``), the scapy layer
built from fields (lengths and mask bit left unset), and the scapy layer dissecting bytes, which
must give the same fields as ``decode_frame``. The RFC 6455 section 5.7 examples pin all of them
to bytes no one here wrote. The layer must also build frames that break the rules on purpose
(only fields set explicitly), and dissect them back unchanged: a capture shows what was sent.
"""

from __future__ import annotations

import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scapy.layers.http import HTTPRequest, HTTPResponse

from wsteach.frames import (
    Frame,
    Opcode,
    ProtocolError,
    close_payload,
    decode_frame,
    encode_frame,
)
from wsteach.handshake import accept_key, build_request, build_response
from wsteach.masking import apply_mask
from wsteach.wire.scapy_ws import WebSocketFrame, dissect_handshake, frame_size, frames_in

RFC_KEY = bytes.fromhex("37fa213d")  # the masking key of every masked example in section 5.7

# RFC 6455 section 5.7, verbatim: (what it is, the frame, its bytes on the wire).
RFC_EXAMPLES = [
    ("unmasked text Hello", Frame(Opcode.TEXT, b"Hello"),
     bytes([0x81, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F])),
    ("masked text Hello", Frame(Opcode.TEXT, b"Hello", mask_key=RFC_KEY),
     bytes([0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58])),
    ("first fragment Hel", Frame(Opcode.TEXT, b"Hel", fin=False),
     bytes([0x01, 0x03, 0x48, 0x65, 0x6C])),
    ("last fragment lo", Frame(Opcode.CONTINUATION, b"lo"),
     bytes([0x80, 0x02, 0x6C, 0x6F])),
    ("unmasked ping Hello", Frame(Opcode.PING, b"Hello"),
     bytes([0x89, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F])),
    ("masked pong Hello", Frame(Opcode.PONG, b"Hello", mask_key=RFC_KEY),
     bytes([0x8A, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58])),
    ("256 bytes binary, 16-bit length", Frame(Opcode.BINARY, bytes(range(256))),
     bytes([0x82, 0x7E, 0x01, 0x00]) + bytes(range(256))),
    ("64 KiB binary, 64-bit length", Frame(Opcode.BINARY, bytes(65536)),
     bytes([0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0]) + bytes(65536)),
]
RFC_IDS = [name for name, _, _ in RFC_EXAMPLES]

LENGTHS = [0, 125, 126, 65535, 65536]  # every length class and both sides of each boundary
MASK_KEYS = [None, bytes.fromhex("a1b2c3d4")]


def layer_from(frame: Frame) -> WebSocketFrame:
    """The scapy layer for ``frame``, with the lengths and the mask bit left for scapy to fill."""
    return WebSocketFrame(fin=int(frame.fin), rsv1=int(frame.rsv1), rsv2=int(frame.rsv2),
                          rsv3=int(frame.rsv3), opcode=int(frame.opcode),
                          mask_key=frame.mask_key, data=frame.payload)


def assert_same_frame(layer: WebSocketFrame, frame: Frame) -> None:
    """The dissected layer says what ``decode_frame`` says, field by field."""
    assert layer.fin == frame.fin
    assert (layer.rsv1, layer.rsv2, layer.rsv3) == (frame.rsv1, frame.rsv2, frame.rsv3)
    assert layer.opcode == frame.opcode
    assert layer.mask == (frame.mask_key is not None)
    if frame.mask_key is not None:
        assert layer.getfieldval("mask_key") == frame.mask_key
    assert layer.data == frame.payload  # unmasked, as decode_frame gives it


def assert_length_fields(layer: WebSocketFrame, payload_length: int) -> None:
    """The shortest length form, as section 5.2 requires: 7 bits, then 16, then 64."""
    if payload_length <= 125:
        assert layer.length == payload_length
    elif payload_length <= 0xFFFF:
        assert (layer.length, layer.length16) == (126, payload_length)
    else:
        assert (layer.length, layer.length64) == (127, payload_length)


# ---- RFC 6455 section 5.7 -------------------------------------------------------------------

@pytest.mark.parametrize(("name", "frame", "wire"), RFC_EXAMPLES, ids=RFC_IDS)
def test_rfc_example_builds_byte_for_byte(name: str, frame: Frame, wire: bytes) -> None:
    assert bytes(layer_from(frame)) == wire
    assert encode_frame(frame) == wire  # our encoder agrees with the RFC too


@pytest.mark.parametrize(("name", "frame", "wire"), RFC_EXAMPLES, ids=RFC_IDS)
def test_rfc_example_dissects(name: str, frame: Frame, wire: bytes) -> None:
    layer = WebSocketFrame(wire)
    assert_same_frame(layer, frame)
    assert_length_fields(layer, len(frame.payload))
    assert frame_size(layer) == len(wire)
    decoded, used = decode_frame(wire)
    assert used == len(wire)
    assert_same_frame(layer, decoded)


def test_rfc_masked_example_shows_the_masked_bytes_only_on_the_wire() -> None:
    """Dissecting unmasks: the layer's data is "Hello", while the wire carries 7f9f4d5158."""
    _, _, wire = RFC_EXAMPLES[1]
    layer = WebSocketFrame(wire)
    assert layer.data == b"Hello"
    assert wire[-5:] == apply_mask(b"Hello", RFC_KEY) != b"Hello"


def test_rfc_fragments_dissect_as_a_chain_of_frames() -> None:
    """Section 5.7's fragmented message, both fragments in one buffer."""
    buffer = RFC_EXAMPLES[2][2] + RFC_EXAMPLES[3][2]
    first, last = frames_in(buffer)
    assert (first.fin, first.opcode, first.data) == (0, Opcode.TEXT, b"Hel")
    assert (last.fin, last.opcode, last.data) == (1, Opcode.CONTINUATION, b"lo")


# ---- every length class, masked and unmasked ------------------------------------------------

@pytest.mark.parametrize("mask_key", MASK_KEYS, ids=["unmasked", "masked"])
@pytest.mark.parametrize("length", LENGTHS)
def test_length_class_builds_like_encode_frame(length: int, mask_key: bytes | None) -> None:
    payload = bytes(i * 7 % 251 for i in range(length))
    frame = Frame(Opcode.BINARY, payload, mask_key=mask_key)
    built = bytes(layer_from(frame))
    assert built == encode_frame(frame)


@pytest.mark.parametrize("mask_key", MASK_KEYS, ids=["unmasked", "masked"])
@pytest.mark.parametrize("length", LENGTHS)
def test_length_class_dissects_like_decode_frame(length: int, mask_key: bytes | None) -> None:
    payload = bytes(i * 13 % 256 for i in range(length))
    wire = encode_frame(Frame(Opcode.BINARY, payload), mask_key)
    layer = WebSocketFrame(wire)
    decoded, used = decode_frame(wire)
    assert used == len(wire)
    assert_same_frame(layer, decoded)
    assert layer.data == payload
    assert_length_fields(layer, length)
    assert frame_size(layer) == len(wire)
    assert not frames_in(wire)[1:]  # exactly one frame, nothing left over


# ---- several frames in one buffer -----------------------------------------------------------

def test_frames_in_cuts_a_buffer_into_its_frames() -> None:
    frames = [
        Frame(Opcode.TEXT, "héllo".encode(), mask_key=bytes.fromhex("01020304")),
        Frame(Opcode.PING, b""),
        Frame(Opcode.BINARY, bytes(300), fin=False),
        Frame(Opcode.CONTINUATION, b"\xff" * 70000, mask_key=bytes.fromhex("deadbeef")),
        Frame(Opcode.PONG, b"pong", mask_key=bytes.fromhex("00000000")),
        Frame(Opcode.CLOSE, close_payload(1000, "bye")),
    ]
    buffer = b"".join(encode_frame(frame) for frame in frames)
    layers = frames_in(buffer)
    assert len(layers) == len(frames)
    offset = 0
    for layer, frame in zip(layers, frames, strict=True):
        decoded, used = decode_frame(memoryview(buffer)[offset:])
        assert decoded == frame
        assert_same_frame(layer, decoded)
        assert frame_size(layer) == used
        offset += used
    assert offset == len(buffer)


def test_frames_in_an_empty_buffer() -> None:
    assert frames_in(b"") == []


# ---- frames that break the rules, built on purpose ------------------------------------------

def test_oversized_fragmented_ping_builds_and_dissects() -> None:
    """A 200-byte ping with FIN=0 breaks section 5.5 twice; the layer builds it anyway."""
    payload = bytes(range(200))
    key = bytes.fromhex("0badcafe")
    wire = bytes(WebSocketFrame(fin=0, opcode="ping", mask_key=key, data=payload))
    assert wire == struct.pack("!BBH", 0x09, 0x80 | 126, 200) + key + apply_mask(payload, key)
    with pytest.raises(ProtocolError) as raised:
        decode_frame(wire)
    assert raised.value.code == 1002
    layer = WebSocketFrame(wire)
    assert (layer.fin, layer.opcode, layer.mask, layer.length, layer.length16) == (
        0, Opcode.PING, 1, 126, 200)
    assert layer.getfieldval("mask_key") == key
    assert layer.data == payload


def test_non_minimal_16_bit_length_builds_and_dissects() -> None:
    """Length form 126 for a 5-byte payload: section 5.2 requires the 7-bit form."""
    wire = bytes(WebSocketFrame(opcode="text", length=126, data=b"hello"))
    assert wire == bytes([0x81, 126, 0x00, 0x05]) + b"hello"
    assert wire != encode_frame(Frame(Opcode.TEXT, b"hello"))  # the valid form is shorter
    layer = WebSocketFrame(wire)
    assert (layer.length, layer.length16, layer.data) == (126, 5, b"hello")
    assert frame_size(layer) == len(wire)


def test_non_minimal_64_bit_length_builds_and_dissects() -> None:
    key = bytes.fromhex("10203040")
    wire = bytes(WebSocketFrame(opcode="binary", length=127, mask_key=key, data=b"abc"))
    assert wire == bytes([0x82, 0x80 | 127]) + struct.pack("!Q", 3) + key + apply_mask(b"abc", key)
    layer = WebSocketFrame(wire)
    assert (layer.length, layer.length64, layer.mask, layer.data) == (127, 3, 1, b"abc")


@pytest.mark.parametrize(("fields", "first_byte"), [
    ({"rsv2": 1, "rsv3": 1, "opcode": Opcode.TEXT}, 0x80 | 0x20 | 0x10 | 0x1),
    ({"opcode": 0x3}, 0x83),  # a reserved data opcode
    ({"opcode": 0xB}, 0x8B),  # a reserved control opcode
    ({"fin": 0, "opcode": Opcode.CLOSE}, 0x08),  # a fragmented close
], ids=["rsv2-rsv3", "opcode-0x3", "opcode-0xB", "fragmented-close"])
def test_invalid_header_bits_build_and_dissect(fields: dict, first_byte: int) -> None:
    wire = bytes(WebSocketFrame(data=b"\x03\xe8", **fields))
    assert wire == bytes([first_byte, 2]) + b"\x03\xe8"
    with pytest.raises(ProtocolError):
        decode_frame(wire)
    back = WebSocketFrame(wire)
    expected = {"fin": 1, "rsv1": 0, "rsv2": 0, "rsv3": 0, "mask": 0, "length": 2,
                "data": b"\x03\xe8", **fields}
    assert {name: back.getfieldval(name) for name in expected} == expected


def test_length_that_claims_more_than_follows() -> None:
    """A header whose length claims more than follows: built as asked, dissected as declared."""
    wire = bytes(WebSocketFrame(opcode="text", length=10, data=b"abc"))
    assert wire == bytes([0x81, 10]) + b"abc"
    assert decode_frame(wire) is None  # our decoder waits for 7 more bytes
    assert WebSocketFrame(wire).length == 10


# ---- hypothesis: arbitrary valid frames -----------------------------------------------------

payload_sizes = st.one_of(st.integers(0, 300), st.sampled_from([125, 126, 127, 65535, 65536]))


@st.composite
def valid_frames(draw) -> Frame:
    opcode = draw(st.sampled_from(list(Opcode)))
    mask_key = draw(st.none() | st.binary(min_size=4, max_size=4))
    if opcode == Opcode.CLOSE:
        code = draw(st.sampled_from([1000, 1001, 1002, 1003, 1007, 1008, 1011, 3000, 4999]))
        reason = draw(st.text(max_size=30).filter(lambda r: len(r.encode()) <= 123))
        payload = draw(st.just(b"") | st.just(close_payload(code, reason)))
        return Frame(opcode, payload, mask_key=mask_key)
    if opcode.is_control:
        return Frame(opcode, draw(st.binary(max_size=125)), mask_key=mask_key)
    size = draw(payload_sizes)
    seed = draw(st.binary(min_size=1, max_size=16))
    payload = (seed * (size // len(seed) + 1))[:size]
    return Frame(opcode, payload, fin=draw(st.booleans()), rsv1=draw(st.booleans()),
                 mask_key=mask_key)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=valid_frames())
def test_scapy_agrees_with_decode_frame_on_valid_frames(frame: Frame) -> None:
    wire = encode_frame(frame)
    assert bytes(layer_from(frame)) == wire
    decoded, used = decode_frame(wire, allow_rsv1=True)
    assert used == len(wire)
    layer = WebSocketFrame(wire)
    assert_same_frame(layer, decoded)
    assert_length_fields(layer, len(frame.payload))
    assert frame_size(layer) == used


@settings(max_examples=100, deadline=None)
@given(frames=st.lists(valid_frames(), min_size=1, max_size=5))
def test_frames_in_agrees_with_repeated_decode_frame(frames: list[Frame]) -> None:
    buffer = b"".join(encode_frame(frame) for frame in frames)
    layers = frames_in(buffer)
    assert len(layers) == len(frames)
    offset = 0
    for layer in layers:
        decoded, used = decode_frame(memoryview(buffer)[offset:], allow_rsv1=True)
        assert_same_frame(layer, decoded)
        assert frame_size(layer) == used
        offset += used


# ---- the opening handshake goes to scapy's HTTP layer ---------------------------------------

KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455 section 1.3's sample key


def test_dissect_handshake_request() -> None:
    head = build_request("127.0.0.1:9001", "/chat?room=7", KEY, origin="http://127.0.0.1:8888")
    request = dissect_handshake(head)
    assert HTTPRequest in request
    fields = request[HTTPRequest]
    assert fields.Method == b"GET"
    assert fields.Path == b"/chat?room=7"
    assert fields.Http_Version == b"HTTP/1.1"
    assert fields.Host == b"127.0.0.1:9001"
    assert fields.Upgrade == b"websocket"
    assert fields.Connection == b"Upgrade"
    assert fields.Origin == b"http://127.0.0.1:8888"
    assert fields.Unknown_Headers[b"Sec-WebSocket-Key"] == KEY.encode()
    assert fields.Unknown_Headers[b"Sec-WebSocket-Version"] == b"13"


def test_dissect_handshake_response() -> None:
    response = dissect_handshake(build_response(KEY))
    assert HTTPResponse in response
    fields = response[HTTPResponse]
    assert fields.Status_Code == b"101"
    assert fields.Reason_Phrase == b"Switching Protocols"
    assert fields.Upgrade == b"websocket"
    assert fields.Connection == b"Upgrade"
    accept = fields.Unknown_Headers[b"Sec-WebSocket-Accept"]
    assert accept == accept_key(KEY).encode() == b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="  # section 1.3
