"""The opening handshake: RFC 6455 vectors, every rejection, and real peers on both sides."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_http1 import read_head
from websockets.asyncio.client import connect
from websockets.asyncio.server import serve
from websockets.exceptions import InvalidStatus
from wsproto import ConnectionType, WSConnection
from wsproto import events as wsp

from wsteach import handshake as hs
from wsteach import http1, sha1
from wsteach.handshake import HandshakeError

RFC_KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455 section 1.3
RFC_ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
VERSION_13 = ("Sec-WebSocket-Version", "13")
UPGRADE = ("Upgrade", "websocket")

GOOD = [
    ("Host", "server.example.com"),
    ("Upgrade", "websocket"),
    ("Connection", "Upgrade"),
    ("Sec-WebSocket-Key", RFC_KEY),
    ("Sec-WebSocket-Version", "13"),
    ("Origin", "http://example.com"),
]


def request(
    headers: list[tuple[str, str]] = GOOD, method: str = "GET", version: str = "HTTP/1.1"
) -> http1.Request:
    return http1.Request(method, "/chat", version, http1.Headers(headers))


def replace(name: str, value: str | None) -> list[tuple[str, str]]:
    """GOOD with the field ``name`` given another value, or removed when value is None."""
    others = [(n, v) for n, v in GOOD if n != name]
    return others if value is None else [*others, (name, value)]


def response(headers: list[tuple[str, str]], status: int = 101) -> http1.Response:
    return http1.Response("HTTP/1.1", status, "Switching Protocols", http1.Headers(headers))


def good_response(key: str = RFC_KEY) -> list[tuple[str, str]]:
    return [
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Accept", hs.accept_key(key)),
    ]


# ---- keys ----


def test_rfc_6455_section_1_3_example():
    assert hs.accept_key(RFC_KEY) == RFC_ACCEPT


def test_accept_key_equals_the_teaching_sha1_and_base64():
    rng = random.Random(13)
    for _ in range(50):
        key = base64.b64encode(rng.randbytes(16)).decode()
        by_hand = sha1.b64encode(sha1.sha1((key + hs.GUID).encode()))
        assert hs.accept_key(key) == by_hand


def test_generate_key_is_16_fresh_random_bytes():
    keys = {hs.generate_key() for _ in range(100)}
    assert len(keys) == 100
    assert all(len(base64.b64decode(key, validate=True)) == 16 for key in keys)


# ---- the client's request ----


def test_build_request_has_every_required_field():
    data = hs.build_request(
        "example.com:8080", "/chat?x=1", RFC_KEY, origin="http://example.com",
        subprotocols=["chat", "superchat"], extra_headers=[("User-Agent", "wsteach")],
    )
    parsed = http1.parse_request(data)
    assert (parsed.method, parsed.target, parsed.version) == ("GET", "/chat?x=1", "HTTP/1.1")
    assert list(parsed.headers) == [
        ("Host", "example.com:8080"),
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", RFC_KEY),
        ("Sec-WebSocket-Version", "13"),
        ("Origin", "http://example.com"),
        ("Sec-WebSocket-Protocol", "chat, superchat"),
        ("User-Agent", "wsteach"),
    ]


def test_minimal_request_validates_on_our_own_server():
    data = hs.build_request("localhost", "/", RFC_KEY)
    assert b"Origin" not in data and b"Sec-WebSocket-Protocol" not in data
    accepted = hs.validate_request(http1.parse_request(data))
    assert (accepted.key, accepted.path, accepted.subprotocol) == (RFC_KEY, "/", None)


# ---- the server's checks ----


def test_a_good_request_is_accepted():
    accepted = hs.validate_request(request(), origins={"http://example.com"})
    assert accepted == hs.Accepted(RFC_KEY, "/chat", None, request())


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Connection", "keep-alive, Upgrade"),  # what Firefox sends
        ("Connection", "UPGRADE"),
        ("Upgrade", "WebSocket"),
        ("Upgrade", "h2c, websocket"),
    ],
)
def test_tokens_match_case_insensitively_and_in_lists(name, value):
    assert hs.validate_request(request(replace(name, value))).key == RFC_KEY


def expect_rejection(req: http1.Request, status: int, fragment: str, **options) -> HandshakeError:
    with pytest.raises(HandshakeError) as info:
        hs.validate_request(req, **options)
    assert info.value.status == status
    assert fragment in info.value.reason
    assert str(info.value) == info.value.reason
    return info.value


def test_wrong_method_is_405_with_allow():
    error = expect_rejection(request(method="POST"), 405, "must be a GET request, not POST")
    assert error.headers == [("Allow", "GET")]


def test_http_1_0_is_400():
    expect_rejection(request(version="HTTP/1.0"), 400, "needs HTTP/1.1")


@pytest.mark.parametrize(
    ("headers", "fragment"),
    [
        (replace("Host", None), "exactly one Host"),
        ([*GOOD, ("Host", "evil.example")], "exactly one Host"),
        (replace("Upgrade", None), "not a WebSocket request"),
        (replace("Upgrade", "h2c"), "not a WebSocket request"),
        (replace("Upgrade", "websocket2"), "not a WebSocket request"),
        (replace("Connection", None), "Connection header must contain the token Upgrade"),
        (replace("Connection", "keep-alive"), "token Upgrade"),
        (replace("Sec-WebSocket-Key", None), "one Sec-WebSocket-Key header, not 0"),
        ([*GOOD, ("Sec-WebSocket-Key", RFC_KEY)], "one Sec-WebSocket-Key header, not 2"),
        (replace("Sec-WebSocket-Key", "not base64!"), "is not base64"),
        (replace("Sec-WebSocket-Key", "cl\xe9"), "is not base64"),
        (replace("Sec-WebSocket-Key", "c2hvcnQ="), "encodes 5"),
        (replace("Sec-WebSocket-Key", base64.b64encode(bytes(17)).decode()), "encodes 17"),
    ],
)
def test_malformed_handshakes_are_400(headers, fragment):
    expect_rejection(request(headers), 400, fragment)


@pytest.mark.parametrize("version", ["8", "14", "13, 13", None])
def test_another_version_is_426_naming_the_one_we_speak(version):
    error = expect_rejection(request(replace("Sec-WebSocket-Version", version)), 426, "must be 13")
    assert error.headers == [VERSION_13, UPGRADE]  # a 426 names what to upgrade to (RFC 9110)


@pytest.mark.parametrize(
    ("origin", "fragment"),
    [("http://evil.example", "http://evil.example is not allowed"), (None, "has none")],
)
def test_an_origin_not_allowed_is_403(origin, fragment):
    headers = replace("Origin", origin)
    expect_rejection(request(headers), 403, fragment, origins=["http://example.com"])
    assert hs.validate_request(request(headers)).key == RFC_KEY  # no list: anyone may connect


@pytest.mark.parametrize(
    ("offered", "ours", "chosen"),
    [
        (None, ["chat"], None),
        ("chat", [], None),
        ("chat, superchat", ["superchat", "chat"], "superchat"),
        ("chat, superchat", ["chat", "superchat"], "chat"),
        ("superchat", ["chat"], None),
        ("Chat", ["chat"], None),  # names match case-sensitively (RFC 7936)
    ],
)
def test_the_server_picks_the_first_of_its_own_subprotocols_that_was_offered(
    offered, ours, chosen
):
    headers = replace("Sec-WebSocket-Protocol", offered)
    assert hs.validate_request(request(headers), subprotocols=ours).subprotocol == chosen


def test_subprotocols_offered_in_several_fields_count():
    headers = [*GOOD, ("Sec-WebSocket-Protocol", "a"), ("Sec-WebSocket-Protocol", "b, c")]
    assert hs.validate_request(request(headers), subprotocols=["c"]).subprotocol == "c"


# ---- the server's answers ----


def test_build_response_is_the_rfc_101():
    assert hs.build_response(RFC_KEY, "chat") == (
        b"HTTP/1.1 101 Switching Protocols\r\n"
        b"Upgrade: websocket\r\n"
        b"Connection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
        b"Sec-WebSocket-Protocol: chat\r\n"
        b"\r\n"
    )
    assert b"Sec-WebSocket-Protocol" not in hs.build_response(RFC_KEY)


def test_build_rejection_explains_itself():
    error = HandshakeError(426, "Sec-WebSocket-Version must be 13", [VERSION_13, UPGRADE])
    data = hs.build_rejection(error)
    end = http1.head_end(data)
    parsed = http1.parse_response(data[:end])
    assert (parsed.status, parsed.reason) == (426, "Upgrade Required")
    assert list(parsed.headers) == [
        ("Sec-WebSocket-Version", "13"),
        ("Upgrade", "websocket"),
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Connection", "Upgrade, close"),
        ("Content-Length", "33"),
    ]
    assert data[end:] == b"Sec-WebSocket-Version must be 13\n"


def test_the_426_of_a_wrong_version_says_what_to_upgrade_to():
    """RFC 9110 section 15.5.22: a 426 MUST carry Upgrade; section 7.8: whoever sends Upgrade
    lists it in Connection too. RFC 6455 section 4.2.2: and the versions the server speaks."""
    with pytest.raises(HandshakeError) as info:
        hs.validate_request(request(replace("Sec-WebSocket-Version", "8")))
    data = hs.build_rejection(info.value)
    parsed = http1.parse_response(data[:http1.head_end(data)])
    assert parsed.status == 426
    assert parsed.headers.tokens("Upgrade") == ["websocket"]
    assert parsed.headers.tokens("Connection") == ["upgrade", "close"]
    assert parsed.headers.get("Sec-WebSocket-Version") == "13"


def test_other_rejections_carry_no_upgrade():
    with pytest.raises(HandshakeError) as info:
        hs.validate_request(request(replace("Sec-WebSocket-Key", None)))
    data = hs.build_rejection(info.value)
    parsed = http1.parse_response(data[:http1.head_end(data)])
    assert parsed.status == 400
    assert "Upgrade" not in parsed.headers
    assert parsed.headers.get("Connection") == "close"


# ---- the client's checks ----


def test_validate_response_accepts_the_rfc_answer():
    assert hs.validate_response(http1.parse_response(hs.build_response(RFC_KEY)), RFC_KEY) is None
    chat = http1.parse_response(hs.build_response(RFC_KEY, "chat"))
    assert hs.validate_response(chat, RFC_KEY, subprotocols=["x", "chat"]) == "chat"


def test_validate_response_reads_tokens_case_insensitively():
    headers = [("UPGRADE", "WebSocket"), ("connection", "keep-alive, upgrade"), good_response()[2]]
    assert hs.validate_response(response(headers), RFC_KEY) is None


def expect_client_failure(resp: http1.Response, status: int, fragment: str, **options) -> None:
    with pytest.raises(HandshakeError) as info:
        hs.validate_response(resp, RFC_KEY, **options)
    assert info.value.status == status
    assert fragment in info.value.reason


def test_a_status_other_than_101_keeps_the_servers_status():
    forbidden = http1.Response("HTTP/1.1", 403, "Forbidden", http1.Headers())
    expect_client_failure(
        forbidden, 403, "the server answered 403 Forbidden instead of 101 Switching Protocols"
    )


@pytest.mark.parametrize(
    ("headers", "fragment"),
    [
        (good_response()[1:], "Upgrade: websocket"),
        ([("Upgrade", "h2c"), *good_response()[1:]], "Upgrade: websocket"),
        ([good_response()[0], good_response()[2]], "Connection: Upgrade"),
        (good_response()[:2], "Sec-WebSocket-Accept is None but should be 's3pPLMBi"),
        (good_response("x3JJHMbDL1EzLkh9GBhXDw=="), "did the server hash another key"),
        ([*good_response(), ("Sec-WebSocket-Extensions", "permessage-deflate")], "extensions"),
        ([*good_response(), ("Sec-WebSocket-Protocol", "chat")], "'chat'; we did not offer"),
    ],
)
def test_a_wrong_101_fails_with_status_0(headers, fragment):
    expect_client_failure(response(headers), 0, fragment)


def test_a_subprotocol_we_did_not_offer_fails():
    headers = [*good_response(), ("Sec-WebSocket-Protocol", "superchat")]
    expect_client_failure(response(headers), 0, "superchat", subprotocols=["chat"])


def test_a_hex_digest_instead_of_base64_is_caught():
    hex_accept = sha1.sha1((RFC_KEY + hs.GUID).encode()).hex()
    headers = [*good_response()[:2], ("Sec-WebSocket-Accept", hex_accept)]
    expect_client_failure(response(headers), 0, "should be 's3pPLMBiTxaQ9kYGzzhZRbK+xOo='")


# ---- fuzz: only our errors escape ----

latin_1 = st.text(st.characters(max_codepoint=255), max_size=40)
field_names = st.sampled_from(
    ["Host", "Upgrade", "Connection", "Sec-WebSocket-Key", "Sec-WebSocket-Version", "Origin",
     "Sec-WebSocket-Protocol", "Sec-WebSocket-Accept", "Sec-WebSocket-Extensions"]
)


def head_bytes(start: str, fields: list[tuple[str, str]]) -> bytes:
    lines = [start, *(f"{name}: {value}" for name, value in fields), "", ""]
    return "\r\n".join(lines).encode("latin-1")


@given(st.sets(field_names), st.lists(st.tuples(field_names, latin_1), max_size=12))
def test_arbitrary_header_values_only_raise_our_errors(dropped, fields):
    kept = [(name, value) for name, value in GOOD if name not in dropped]
    with contextlib.suppress(HandshakeError, http1.HTTPError):
        parsed = http1.parse_request(head_bytes("GET /chat HTTP/1.1", kept + fields))
        hs.validate_request(parsed, origins=["http://example.com"], subprotocols=["chat"])
    with contextlib.suppress(HandshakeError, http1.HTTPError):
        parsed = http1.parse_response(head_bytes("HTTP/1.1 101 Switching Protocols", fields))
        hs.validate_response(parsed, RFC_KEY, subprotocols=["chat"])


# ---- real peers: websockets (both directions) and wsproto ----


async def handshake_with_websockets_server(key: str, **options) -> http1.Response:
    """Send our request to a ``websockets`` server and return its parsed answer."""

    async def handler(ws) -> None:
        await ws.wait_closed()

    async with serve(handler, "127.0.0.1", 0, compression=None, **options) as server:
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        request_options = {k: v for k, v in options.items() if k == "subprotocols"}
        writer.write(
            hs.build_request(f"127.0.0.1:{port}", "/", key, origin="http://localhost",
                             **request_options)
        )
        head, _ = await read_head(reader)
        writer.close()
        await writer.wait_closed()
    return http1.parse_response(head)


def test_our_client_handshake_with_a_websockets_server():
    key = hs.generate_key()
    answer = asyncio.run(handshake_with_websockets_server(key))
    assert answer.headers.get("Server").split()[-1].startswith("websockets/")
    assert hs.validate_response(answer, key) is None


def test_our_client_negotiates_a_subprotocol_with_a_websockets_server():
    key = hs.generate_key()
    answer = asyncio.run(handshake_with_websockets_server(key, subprotocols=["chat"]))
    assert hs.validate_response(answer, key, subprotocols=["chat"]) == "chat"


def test_a_websockets_server_rejecting_our_origin_gives_403():
    key = hs.generate_key()
    answer = asyncio.run(handshake_with_websockets_server(key, origins=["http://example.com"]))
    with pytest.raises(HandshakeError) as info:
        hs.validate_response(answer, key)
    assert info.value.status == 403
    assert "403 Forbidden instead of 101" in info.value.reason


async def websockets_client_against_our_server(**client_options) -> tuple[hs.Accepted, str]:
    """Run our server (http1 + handshake), connect a ``websockets`` client to it, and return
    what the server accepted and the subprotocol the client saw."""
    accepted: list[hs.Accepted] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = http1.parse_request((await read_head(reader))[0])
            accepted.append(
                hs.validate_request(request, origins=["http://localhost"], subprotocols=["chat"])
            )
            writer.write(hs.build_response(accepted[0].key, accepted[0].subprotocol))
        except HandshakeError as error:
            writer.write(hs.build_rejection(error))
        await writer.drain()
        writer.close()  # frames come in a later notebook: hang up after the handshake

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    uri = f"ws://127.0.0.1:{port}/room/1"
    async with server, connect(uri, compression=None, **client_options) as ws:
        assert ws.response.status_code == 101
        return accepted[0], ws.subprotocol


def test_a_websockets_client_completes_the_handshake_with_our_server():
    options = {"origin": "http://localhost", "subprotocols": ["superchat", "chat"]}
    accepted, subprotocol = asyncio.run(websockets_client_against_our_server(**options))
    assert accepted.path == "/room/1"
    assert accepted.subprotocol == subprotocol == "chat"
    assert accepted.request.headers.get("User-Agent").split()[-1].startswith("websockets/")


def test_a_websockets_client_reads_our_rejection():
    with pytest.raises(InvalidStatus) as info:
        asyncio.run(websockets_client_against_our_server(origin="http://evil.example"))
    assert info.value.response.status_code == 403
    assert info.value.response.body == b"the origin http://evil.example is not allowed to connect\n"


def test_wsproto_client_request_validates_and_accepts_our_101():
    client = WSConnection(ConnectionType.CLIENT)
    data = client.send(wsp.Request(host="127.0.0.1", target="/chat", subprotocols=["a", "chat"]))
    accepted = hs.validate_request(http1.parse_request(data), subprotocols=["chat", "a"])
    assert accepted.subprotocol == "chat"
    client.receive_data(hs.build_response(accepted.key, accepted.subprotocol))
    assert list(client.events()) == [wsp.AcceptConnection(subprotocol="chat")]


def test_wsproto_client_reads_our_426_rejection():
    client = WSConnection(ConnectionType.CLIENT)
    client.send(wsp.Request(host="127.0.0.1", target="/"))
    error = HandshakeError(426, "Sec-WebSocket-Version must be 13", [VERSION_13, UPGRADE])
    client.receive_data(hs.build_rejection(error))
    reject, *body = client.events()
    assert isinstance(reject, wsp.RejectConnection)
    assert reject.status_code == 426
    assert (b"sec-websocket-version", b"13") in reject.headers
    assert b"".join(event.data for event in body) == b"Sec-WebSocket-Version must be 13\n"


def test_wsproto_server_accepts_our_request_and_we_accept_its_101():
    server = WSConnection(ConnectionType.SERVER)
    key = hs.generate_key()
    server.receive_data(hs.build_request("127.0.0.1:9", "/p", key, subprotocols=["a", "b"]))
    [event] = server.events()
    assert isinstance(event, wsp.Request)
    assert (event.host, event.target, event.subprotocols) == ("127.0.0.1:9", "/p", ["a", "b"])
    data = server.send(wsp.AcceptConnection(subprotocol="b"))
    assert hs.validate_response(http1.parse_response(data), key, subprotocols=["a", "b"]) == "b"
