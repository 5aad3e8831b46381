"""The sans-I/O connection: role rules, fragmentation, UTF-8, limits and the closing handshake
(RFC 6455 sections 5-8), fed byte by byte and checked event by event."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wsteach.connection import (
    Binary,
    Close,
    Connection,
    ConnectionClosed,
    Ping,
    Pong,
    Role,
    State,
    Text,
)
from wsteach.frames import Frame, Opcode, ProtocolError, close_payload, decode_frame, encode_frame


def client_frame(opcode: Opcode, payload: bytes = b"", fin: bool = True, **bits: bool) -> bytes:
    """What a client puts on the wire: masked (section 5.3)."""
    return encode_frame(Frame(opcode, payload, fin, **bits), os.urandom(4))


def feed(conn: Connection, data: bytes) -> list:
    conn.receive_data(data)
    return list(conn.events())


def sent_frames(data: bytes) -> list[Frame]:
    frames = []
    while data:
        frame, used = decode_frame(data)
        frames.append(frame)
        data = data[used:]
    return frames


def test_text_and_binary_messages():
    server = Connection(Role.SERVER)
    events = feed(server, client_frame(Opcode.TEXT, "你好".encode()) +
                  client_frame(Opcode.BINARY, b"\x00\xff"))
    assert events == [Text("你好"), Binary(b"\x00\xff")]


def test_fragmented_message_with_a_ping_in_the_middle():
    server = Connection(Role.SERVER)
    data = (client_frame(Opcode.TEXT, b"Hel", fin=False) + client_frame(Opcode.PING, b"?")
            + client_frame(Opcode.CONTINUATION, b"lo"))
    assert feed(server, data) == [Ping(b"?"), Text("Hello")]
    assert sent_frames(server.data_to_send()) == [Frame(Opcode.PONG, b"?")]


def test_utf8_split_inside_a_character_across_fragments_is_fine():
    encoded = "€".encode()
    server = Connection(Role.SERVER)
    data = (client_frame(Opcode.TEXT, encoded[:1], fin=False)
            + client_frame(Opcode.CONTINUATION, encoded[1:]))
    assert feed(server, data) == [Text("€")]


@pytest.mark.parametrize(("role", "masked"), [(Role.SERVER, False), (Role.CLIENT, True)])
def test_the_wrong_side_masking_is_a_protocol_error(role, masked):
    conn = Connection(role)
    data = encode_frame(Frame(Opcode.TEXT, b"hi"), os.urandom(4) if masked else None)
    conn.receive_data(data)
    with pytest.raises(ProtocolError, match="section 5.1") as caught:
        list(conn.events())
    assert caught.value.code == 1002
    assert sent_frames(conn.data_to_send())[0].payload == close_payload(1002)
    assert conn.state is State.CLOSED


@pytest.mark.parametrize(("data", "code"), [
    (client_frame(Opcode.CONTINUATION, b"x"), 1002),
    (client_frame(Opcode.TEXT, b"a", fin=False) + client_frame(Opcode.TEXT, b"b"), 1002),
    (client_frame(Opcode.TEXT, b"\xff"), 1007),
    (client_frame(Opcode.TEXT, b"ok", fin=False) + client_frame(Opcode.CONTINUATION, b"\xc0"),
     1007),
])
def test_sequence_rules(data, code):
    server = Connection(Role.SERVER)
    server.receive_data(data)
    with pytest.raises(ProtocolError) as caught:
        list(server.events())
    assert caught.value.code == code


def test_events_before_the_bad_frame_come_first_and_may_be_answered():
    server = Connection(Role.SERVER)
    server.receive_data(client_frame(Opcode.TEXT, b"valid") + client_frame(Opcode.TEXT, b"\xff"))
    events = server.events()
    assert next(events) == Text("valid")
    reply = server.send_text("echo")  # still open: the error has not been reached yet
    with pytest.raises(ProtocolError):
        next(events)
    assert sent_frames(reply)[0].payload == b"echo"
    assert sent_frames(server.data_to_send())[0].opcode is Opcode.CLOSE


def test_invalid_utf8_fails_before_the_frame_has_fully_arrived():
    payload = b"fine so far \xce\xba\xff and more text to come"
    wire = client_frame(Opcode.TEXT, payload)
    header_size = 2 + 4  # short length, masking key
    server = Connection(Role.SERVER)
    server.receive_data(wire[: header_size + payload.index(b"\xff")])
    assert list(server.events()) == []  # valid so far: keep waiting
    server.receive_data(wire[header_size + payload.index(b"\xff"):][:1])  # just the bad byte
    with pytest.raises(ProtocolError) as caught:
        list(server.events())
    assert caught.value.code == 1007


def test_message_size_limit_counts_all_fragments():
    server = Connection(Role.SERVER, max_message_size=10)
    server.receive_data(client_frame(Opcode.BINARY, b"123456", fin=False)
                        + client_frame(Opcode.CONTINUATION, b"789012"))
    with pytest.raises(ProtocolError) as caught:
        list(server.events())
    assert caught.value.code == 1009


def test_closing_handshake_started_by_the_peer():
    server = Connection(Role.SERVER)
    events = feed(server, client_frame(Opcode.CLOSE, close_payload(4000, "bye")))
    assert events == [Close(4000, "bye")]
    assert server.state is State.CLOSED
    # The reply echoes the code and the reason, as websockets and browsers do.
    assert sent_frames(server.data_to_send()) == [Frame(Opcode.CLOSE, close_payload(4000, "bye"))]
    with pytest.raises(ConnectionClosed) as caught:
        server.send_text("too late")
    assert caught.value.code == 4000


def test_closing_handshake_started_by_us():
    client = Connection(Role.CLIENT)
    close = sent_frames(client.close(1001, "leaving"))[0]
    assert close.mask_key is not None and close.payload == close_payload(1001, "leaving")
    assert client.state is State.CLOSING
    assert client.close() == b""  # only one close frame is ever sent
    reply = encode_frame(Frame(Opcode.CLOSE, close_payload(1001)))
    assert feed(client, reply) == [Close(1001, "")]
    assert client.state is State.CLOSED and client.data_to_send() == b""


def test_empty_close_is_answered_with_an_empty_close():
    server = Connection(Role.SERVER)
    assert feed(server, client_frame(Opcode.CLOSE)) == [Close(1005, "")]
    assert sent_frames(server.data_to_send()) == [Frame(Opcode.CLOSE, b"")]


def test_tcp_closing_without_a_close_frame_reports_1006():
    server = Connection(Role.SERVER)
    assert feed(server, b"") == [Close(1006, "TCP connection closed without a close frame")]


def test_pong_is_reported_and_nothing_is_sent_back():
    client = Connection(Role.CLIENT)
    assert feed(client, encode_frame(Frame(Opcode.PONG, b"42"))) == [Pong(b"42")]
    assert client.data_to_send() == b""


def test_client_frames_are_masked_with_a_fresh_key_each_time():
    client = Connection(Role.CLIENT)
    first, second = sent_frames(client.send_text("x")), sent_frames(client.send_text("x"))
    assert first[0].mask_key is not None and first[0].mask_key != second[0].mask_key


def test_send_with_fragment_size_splits_into_continuation_frames():
    server = Connection(Role.SERVER)
    frames = sent_frames(server.send_binary(b"abcdefg", fragment_size=3))
    assert [(f.opcode, f.payload, f.fin) for f in frames] == [
        (Opcode.BINARY, b"abc", False), (Opcode.CONTINUATION, b"def", False),
        (Opcode.CONTINUATION, b"g", True)]


STREAM_MESSAGES = st.lists(st.one_of(st.text(max_size=300), st.binary(max_size=300)), max_size=8)


@settings(max_examples=60, deadline=None)
@given(STREAM_MESSAGES, st.data())
def test_a_valid_stream_split_at_any_boundaries_decodes_the_same(messages, data):
    client = Connection(Role.CLIENT)
    wire = b"".join(
        client.send_text(m, fragment_size=7) if isinstance(m, str)
        else client.send_binary(m, fragment_size=50)
        for m in messages
    )
    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=12)))
    server = Connection(Role.SERVER)
    received = []
    for start, end in zip([0, *cuts], [*cuts, len(wire)], strict=True):
        if end > start:
            received += feed(server, wire[start:end])
    expected = [Text(m) if isinstance(m, str) else Binary(m) for m in messages]
    assert received == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=6), st.sampled_from(list(Role)))
def test_arbitrary_bytes_raise_nothing_but_protocol_error(chunks, role):
    conn = Connection(role, max_message_size=1000)
    try:
        for chunk in chunks:
            if chunk:
                feed(conn, chunk)
    except ProtocolError as error:
        assert 1002 <= error.code <= 1009
        assert conn.state is State.CLOSED
