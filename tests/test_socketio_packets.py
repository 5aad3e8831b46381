"""Our Engine.IO and Socket.IO codecs: the spec's examples, malformed packets, and agreement
with python-engineio's and python-socketio's own packet classes, both ways (hypothesis)."""

from __future__ import annotations

import contextlib
import json

import pytest
from engineio import packet as their_engineio
from engineio import payload as their_payload
from hypothesis import given
from hypothesis import strategies as st
from socketio import packet as their_socketio

from wsteach.socketio import engineio, packets
from wsteach.socketio.engineio import PacketType as EIO
from wsteach.socketio.packets import Packet
from wsteach.socketio.packets import PacketType as SIO

# ---- the spec's own examples (docs/socket.io-protocol/v5-current.md, "Packet encoding") -------

SPEC_EXAMPLES = [
    ("0", Packet(SIO.CONNECT)),
    ('0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}',
     Packet(SIO.CONNECT, {"sid": "oSO0OpakMV_3jnilAAAA"}, "/admin")),
    ('4{"message":"Not authorized"}', Packet(SIO.CONNECT_ERROR, {"message": "Not authorized"})),
    ('2["foo"]', Packet(SIO.EVENT, ["foo"])),
    ('2/admin,["bar"]', Packet(SIO.EVENT, ["bar"], "/admin")),
    ('51-["baz",{"_placeholder":true,"num":0}]',
     Packet(SIO.BINARY_EVENT, ["baz", {"_placeholder": True, "num": 0}], attachments=1)),
    ('52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]',
     Packet(SIO.BINARY_EVENT, ["baz", {"_placeholder": True, "num": 0},
                               {"_placeholder": True, "num": 1}], "/admin", attachments=2)),
    ('212["foo"]', Packet(SIO.EVENT, ["foo"], id=12)),
    ('3/admin,13["bar"]', Packet(SIO.ACK, ["bar"], "/admin", 13)),
    ('61-15["bar",{"_placeholder":true,"num":0}]',
     Packet(SIO.BINARY_ACK, ["bar", {"_placeholder": True, "num": 0}], id=15, attachments=1)),
    ("1", Packet(SIO.DISCONNECT)),
    ("1/admin,", Packet(SIO.DISCONNECT, namespace="/admin")),
]


@pytest.mark.parametrize(("text", "packet"), SPEC_EXAMPLES, ids=[t for t, _ in SPEC_EXAMPLES])
def test_the_specs_examples_both_ways(text, packet):
    assert packets.decode(text) == packet
    assert packets.encode(packet) == text


def test_binary_attachments_both_ways():
    messages = packets.to_messages(SIO.EVENT, ["baz", b"\x01\x02", {"x": b"\x03\x04"}],
                                   namespace="/admin")
    assert messages == ['52-/admin,["baz",{"_placeholder":true,"num":0},'
                        '{"x":{"_placeholder":true,"num":1}}]', b"\x01\x02", b"\x03\x04"]
    packet = packets.decode(messages[0])
    assert packets.reconstruct(packet.data, messages[1:]) == ["baz", b"\x01\x02",
                                                              {"x": b"\x03\x04"}]
    assert packets.to_messages(SIO.ACK, ["plain"], id=3) == ['33["plain"]']


def test_engineio_packets_and_payloads():
    assert engineio.decode("2probe") == engineio.Packet(EIO.PING, "probe")
    assert engineio.encode(engineio.Packet(EIO.PONG, "probe")) == "3probe"
    assert engineio.decode(b"\x01") == engineio.Packet(EIO.MESSAGE, b"\x01")
    assert engineio.encode(engineio.Packet(EIO.MESSAGE, b"\x01")) == b"\x01"
    # the spec's polling examples: "4hello\x1e2\x1e4world" and "4hello\x1ebAQIDBA=="
    assert engineio.decode_payload("4hello\x1e2\x1e4world") == [
        engineio.Packet(EIO.MESSAGE, "hello"), engineio.Packet(EIO.PING),
        engineio.Packet(EIO.MESSAGE, "world")]
    both = [engineio.Packet(EIO.MESSAGE, "hello"), engineio.Packet(EIO.MESSAGE, b"\1\2\3\4")]
    assert engineio.encode_payload(both) == "4hello\x1ebAQIDBA=="
    assert engineio.decode_payload("4hello\x1ebAQIDBA==") == both
    opened = json.loads(engineio.open_packet("abc", ping_interval=25, ping_timeout=20,
                                             max_payload=10**6).data)
    assert opened == {"sid": "abc", "upgrades": [], "pingInterval": 25000,
                      "pingTimeout": 20000, "maxPayload": 1000000}


@pytest.mark.parametrize(("message", "complaint"), [
    ("", "empty message"),
    ("7", "no Engine.IO packet type"),
    ("x", "no Engine.IO packet type"),
])
def test_malformed_engineio_packets(message, complaint):
    with pytest.raises(engineio.EngineIOError, match=complaint):
        engineio.decode(message)


def test_malformed_engineio_payloads():
    with pytest.raises(engineio.EngineIOError, match="not base64"):
        engineio.decode_payload("4a\x1eb!!!")
    with pytest.raises(engineio.EngineIOError, match="separator"):
        engineio.encode_payload([engineio.Packet(EIO.MESSAGE, "a\x1eb")])
    with pytest.raises(engineio.EngineIOError, match="only a message packet may carry bytes"):
        engineio.Packet(EIO.PING, b"x")


@pytest.mark.parametrize(("text", "complaint"), [
    ("", "does not start with a packet type"),
    ("7", "does not start with a packet type"),
    ("2", "non-empty JSON array"),
    ("2[]", "non-empty JSON array"),
    ("2{}", "non-empty JSON array"),
    ("2[true]", "its name, a string"),
    ('2["connect"]', "reserved"),
    ('2["x",', "not JSON"),
    ('2["x",NaN]', "NaN is not JSON"),
    ('2["x"]]', "not JSON"),
    ("3", "ACK's payload must be a JSON array"),
    ('3{"a":1}', "ACK's payload must be a JSON array"),
    ("0[]", "CONNECT carries a JSON object or nothing"),
    ("1[]", "DISCONNECT carries no payload"),
    ("4", "CONNECT_ERROR carries an object or a string"),
    ('5["x"]', "must say how many attachments follow"),
    ('5-["x"]', "must say how many attachments follow"),
    ('511-["x"]', "more than 10"),
    ('6999999999999999999-[]', "more than 10"),
    ('21-["x"]', "not JSON"),
    ('2' + '9' * 16 + '["x"]', "more than 15 digits"),
])
def test_malformed_socketio_packets(text, complaint):
    with pytest.raises(packets.SocketIOError, match=complaint):
        packets.decode(text)


def test_bad_packets_to_encode_and_bad_placeholders():
    with pytest.raises(packets.SocketIOError, match="namespace starts with /"):
        packets.encode(Packet(SIO.EVENT, ["x"], namespace="admin"))
    with pytest.raises(packets.SocketIOError, match="holds no comma"):
        packets.encode(Packet(SIO.EVENT, ["x"], namespace="/a,b"))
    with pytest.raises(packets.SocketIOError, match="cannot carry bytes"):
        packets.to_messages(SIO.CONNECT, {"token": b"x"})
    with pytest.raises(packets.SocketIOError, match="names no attachment"):
        packets.reconstruct([{"_placeholder": True, "num": 1}], [b"only one"])


# ---- agreement with python-socketio and python-engineio (hypothesis) --------------------------

SAFE_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2**53, 2**53)
    | st.floats(allow_nan=False, allow_infinity=False) | SAFE_TEXT,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(SAFE_TEXT.filter(lambda key: key != "_placeholder"), inner, max_size=4),
    max_leaves=12)
NAMESPACES = st.just("/") | st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters=",?"),
    min_size=1, max_size=8).map(lambda name: "/" + name)
IDS = st.none() | st.integers(0, 10**15 - 1)
EVENT_NAMES = SAFE_TEXT.filter(lambda name: name not in packets.RESERVED_EVENTS)


@st.composite
def socketio_packets(draw) -> Packet:
    kind = draw(st.sampled_from([SIO.CONNECT, SIO.DISCONNECT, SIO.EVENT, SIO.ACK,
                                 SIO.CONNECT_ERROR]))
    namespace = draw(NAMESPACES)
    if kind is SIO.CONNECT:
        return Packet(kind, draw(st.none() | st.dictionaries(SAFE_TEXT, JSON_VALUES,
                                                             max_size=3)), namespace)
    if kind is SIO.DISCONNECT:
        return Packet(kind, None, namespace)
    if kind is SIO.CONNECT_ERROR:
        return Packet(kind, {"message": draw(SAFE_TEXT)}, namespace)
    args = draw(st.lists(JSON_VALUES, max_size=4))
    data = [draw(EVENT_NAMES), *args] if kind is SIO.EVENT else args
    return Packet(kind, data, namespace, draw(IDS))


def same_as_theirs(ours: Packet, theirs: their_socketio.Packet) -> None:
    assert theirs.packet_type == ours.type
    assert (theirs.namespace or "/") == ours.namespace
    assert theirs.id == ours.id
    assert theirs.data == ours.data


@given(socketio_packets())
def test_python_socketio_decodes_what_we_encode(packet):
    same_as_theirs(packet, their_socketio.Packet(encoded_packet=packets.encode(packet)))


@given(socketio_packets())
def test_we_decode_what_python_socketio_encodes(packet):
    theirs = their_socketio.Packet(packet.type, packet.data, packet.namespace, packet.id)
    same_as_theirs(packets.decode(theirs.encode()), theirs)


BINARY_ARGS = st.lists(st.binary(max_size=16) | JSON_VALUES, min_size=1, max_size=4).filter(
    lambda args: any(isinstance(arg, bytes) for arg in args))


@given(EVENT_NAMES, BINARY_ARGS, NAMESPACES, IDS)
def test_binary_events_both_ways(name, args, namespace, ack_id):
    text, *attachments = packets.to_messages(SIO.EVENT, [name, *args], namespace=namespace,
                                             id=ack_id)
    theirs = their_socketio.Packet(encoded_packet=text)
    assert theirs.attachment_count == len(attachments)
    for attachment in attachments:
        theirs.add_attachment(attachment)
    assert theirs.packet_type == SIO.BINARY_EVENT and theirs.data == [name, *args]

    their_text, *their_attachments = their_socketio.Packet(
        SIO.EVENT, [name, *args], namespace, ack_id).encode()
    ours = packets.decode(their_text)
    assert (ours.type, ours.namespace, ours.id, ours.attachments) == (
        SIO.BINARY_EVENT, namespace, ack_id, len(their_attachments))
    assert packets.reconstruct(ours.data, their_attachments) == [name, *args]


ENGINEIO_PACKETS = st.one_of(
    st.builds(engineio.Packet, st.sampled_from([EIO.CLOSE, EIO.UPGRADE, EIO.NOOP])),
    st.builds(engineio.Packet, st.sampled_from([EIO.PING, EIO.PONG]),
              st.sampled_from(["", "probe"])),
    st.builds(engineio.Packet, st.just(EIO.MESSAGE), socketio_packets().map(packets.encode)),
    st.builds(engineio.Packet, st.just(EIO.MESSAGE), st.binary(max_size=32)),
    st.builds(lambda sid: engineio.open_packet(sid, ping_interval=25, ping_timeout=20,
                                               max_payload=10**6), SAFE_TEXT))


def same_engineio(ours: engineio.Packet, theirs: their_engineio.Packet) -> None:
    assert theirs.packet_type == ours.type
    if isinstance(theirs.data, dict):  # python-engineio parses a JSON payload (the open one)
        assert theirs.data == json.loads(ours.data)
    else:
        assert (theirs.data if theirs.data is not None else "") == ours.data


def as_theirs(packet: engineio.Packet) -> their_engineio.Packet:
    """The same packet built with python-engineio's class (which says None for no data)."""
    return their_engineio.Packet(packet.type, None if packet.data == "" else packet.data)


@given(ENGINEIO_PACKETS)
def test_engineio_packets_both_ways(packet):
    same_engineio(packet, their_engineio.Packet(encoded_packet=engineio.encode(packet)))
    assert engineio.decode(as_theirs(packet).encode()) == packet


def no_separator(packet: engineio.Packet) -> bool:
    """Polling joins packets with \x1e, so a text packet holding one cannot travel that way
    (``encode_payload`` refuses it; a namespace such as "/\x1e" is the way one gets in)."""
    return not (isinstance(packet.data, str) and "\x1e" in packet.data)


@given(st.lists(ENGINEIO_PACKETS.filter(no_separator), min_size=1, max_size=6))
def test_polling_payloads_both_ways(packet_list):
    body = engineio.encode_payload(packet_list)
    for ours, theirs in zip(packet_list, their_payload.Payload(encoded_payload=body).packets,
                            strict=True):
        same_engineio(ours, theirs)
    theirs = their_payload.Payload(packets=[as_theirs(packet) for packet in packet_list])
    assert engineio.decode_payload(theirs.encode()) == packet_list


@given(st.text(max_size=40))
def test_any_text_decodes_or_raises_our_error(text):
    with contextlib.suppress(packets.SocketIOError):
        packets.decode(text)
    with contextlib.suppress(engineio.EngineIOError):
        engineio.decode(text)


# ---- every packet of the stored captures ----------------------------------------------------

SOCKETIO_CAPTURES = ["socketio_upgrade.pcap", "socketio_vs_websocket.pcap"]


@pytest.mark.parametrize("name", SOCKETIO_CAPTURES)
def test_every_packet_of_the_stored_captures_agrees_with_theirs(name):
    from wsteach.paths import CAPTURES
    from wsteach.wire import socketio_capture

    found = socketio_capture.engineio_packets(CAPTURES / name)
    assert len(found) >= 8
    socketio_seen = 0
    for wire in found:
        ours = wire.packet
        same_engineio(ours, their_engineio.Packet(encoded_packet=engineio.encode(ours)))
        if ours.type is EIO.MESSAGE and isinstance(ours.data, str):
            same_as_theirs(packets.decode(ours.data),
                           their_socketio.Packet(encoded_packet=ours.data))
            socketio_seen += 1
    assert socketio_seen >= 5


def test_the_stored_upgrade_polls_then_probes():
    """socketio_upgrade.pcap: a polling-only session, then polling upgraded to a WebSocket
    with 2probe, 3probe, 5 (the spec's "Upgrade")."""
    from wsteach.paths import CAPTURES
    from wsteach.wire import socketio_capture

    found = socketio_capture.engineio_packets(CAPTURES / "socketio_upgrade.pcap")
    polling = [w for w in found if w.transport == "polling"]
    frames = [w for w in found if w.transport == "websocket"]
    assert polling[0].packet.type is EIO.OPEN and polling[0].direction == "server"
    assert {(w.direction, w.packet.type) for w in polling} >= {
        ("server", EIO.PING), ("client", EIO.PONG), ("client", EIO.MESSAGE)}
    assert [(w.direction, engineio.encode(w.packet)) for w in frames[:3]] == [
        ("client", "2probe"), ("server", "3probe"), ("client", "5")]
    assert max(w.time for w in polling) < min(w.time for w in frames)
    assert any(engineio.encode(w.packet).startswith('42["news"') for w in frames)
