"""Bad input at our server, shown on a raw socket, byte for byte.

Handshake rejections: the exact HTTP status (and headers) ``wsteach.handshake`` documents.
Frame-level violations after a good handshake: the exact close code the server sends before it
closes TCP (RFC 6455 section 7.1.7). Misbehaving clients that stall or vanish mid-handshake.
In every case a well-behaved client, connected to the same server the whole time, keeps
working: one bad peer must never disturb the others.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import socket
import time
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import pytest

from wsteach import aio, handshake
from wsteach.connection import ConnectionClosed
from wsteach.frames import Frame, Opcode, decode_frame, encode_frame, parse_close_payload

TEST_TIMEOUT = 10  # seconds, for a whole test
READ_TIMEOUT = 3  # seconds to wait for the server's answer; a server that waits longer fails
MAX_SIZE = 4096  # the server's max_size in the frame tests
MASK = b"\x37\xfa\x21\x3d"  # the masking key of RFC 6455 section 5.7's examples
ORIGIN = "http://good.example"
KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455 section 1.3


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    async def bounded() -> Any:
        async with asyncio.timeout(TEST_TIMEOUT):
            return await coro

    return asyncio.run(bounded())


async def echo(ws: aio.WebSocket) -> None:
    async for message in ws:
        await ws.send(message)


# ---- a raw socket, and a well-behaved witness --------------------------------------------------


async def raw_connect(port: int) -> socket.socket:
    sock = socket.socket()
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    return sock


async def read_until_closed(sock: socket.socket) -> tuple[bytes, str]:
    """Everything the server sends until it closes TCP: (bytes, "eof" or "reset").

    ``sock_recv`` hands over the bytes already received before it reports a reset, so even a
    server that closes with unread input (the kernel then answers RST) shows what it sent.
    """
    loop = asyncio.get_running_loop()
    received = bytearray()
    async with asyncio.timeout(READ_TIMEOUT):
        while True:
            try:
                chunk = await loop.sock_recv(sock, 65536)
            except ConnectionResetError:
                return bytes(received), "reset"
            if not chunk:
                return bytes(received), "eof"
            received += chunk


async def exchange(port: int, data: bytes) -> tuple[bytes, str]:
    """Send ``data`` on a fresh connection; return what the server answered until it closed."""
    sock = await raw_connect(port)
    with sock:
        await asyncio.get_running_loop().sock_sendall(sock, data)
        return await read_until_closed(sock)


@contextlib.asynccontextmanager
async def server_and_witness(**options: Any) -> AsyncIterator[tuple[aio.Server, Any]]:
    """An echo server, and a normal client connected to it before anything bad happens."""
    origin = ORIGIN if options.get("origins") else None
    async with aio.serve(echo, "127.0.0.1", 0, **options) as server:
        witness = await aio.connect(f"ws://127.0.0.1:{server.port}/", origin=origin)
        await assert_echo(witness, "before")
        yield server, witness
        await witness.close()


async def assert_echo(ws: aio.WebSocket, text: str) -> None:
    await ws.send(text)
    assert await ws.recv() == text


async def assert_still_serving(server: aio.Server, witness: aio.WebSocket) -> None:
    """The witness still echoes, and a newcomer is served too."""
    await assert_echo(witness, "still here ☃")
    origin = ORIGIN if server.origins else None
    async with aio.connect(f"ws://127.0.0.1:{server.port}/", origin=origin) as newcomer:
        await assert_echo(newcomer, "newcomer")


# ---- handshake rejections ----------------------------------------------------------------------


def upgrade_request(start: str = "GET / HTTP/1.1", **changes: str | None) -> bytes:
    """A valid Upgrade request with header changes: ``Sec_WebSocket_Key=None`` drops the
    header, a string replaces its value (underscores in names stand for hyphens)."""
    headers = {
        "Host": "127.0.0.1",
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": KEY,
        "Sec-WebSocket-Version": "13",
        "Origin": ORIGIN,
    }
    for name, value in changes.items():
        name = name.replace("_", "-")
        if value is None:
            del headers[name]
        else:
            headers[name] = value
    lines = [start, *(f"{name}: {value}" for name, value in headers.items()), "", ""]
    return "\r\n".join(lines).encode("latin-1")


def parse_head(data: bytes) -> tuple[int, dict[str, str], bytes]:
    """(status, headers with lowercase names, body) of an HTTP response, parsed by hand."""
    head, separator, body = data.partition(b"\r\n\r\n")
    assert separator, f"no complete response head in {data[:200]!r}"
    status_line, *lines = head.decode("latin-1").split("\r\n")
    version, status, _reason = status_line.split(" ", 2)
    assert version == "HTTP/1.1"
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status), headers, body


SHORT_KEY = base64.b64encode(b"fifteen bytes!!").decode()  # 15 bytes, not 16
LONG_HEAD = upgrade_request(X_Filler="a" * 20_000)  # over http1.MAX_HEAD_BYTES (16384)
MANY_HEADERS = upgrade_request().replace(
    b"\r\n\r\n", b"".join(b"\r\nX-%d: 1" % i for i in range(120)) + b"\r\n\r\n")

REJECTIONS = [
    pytest.param(upgrade_request(Sec_WebSocket_Version="8"), 426,
                 {"sec-websocket-version": "13"}, id="version-8"),
    pytest.param(upgrade_request(Sec_WebSocket_Version=None), 426,
                 {"sec-websocket-version": "13"}, id="version-missing"),
    pytest.param(upgrade_request(Sec_WebSocket_Key=None), 400, {}, id="key-missing"),
    pytest.param(upgrade_request(Sec_WebSocket_Key=SHORT_KEY), 400, {}, id="key-15-bytes"),
    pytest.param(upgrade_request(Sec_WebSocket_Key="not base64!"), 400, {}, id="key-not-base64"),
    pytest.param(upgrade_request(start="POST / HTTP/1.1"), 405, {"allow": "GET"}, id="post"),
    pytest.param(upgrade_request(start="PUT / HTTP/1.1"), 405, {"allow": "GET"}, id="put"),
    pytest.param(upgrade_request(Upgrade=None), 400, {}, id="upgrade-missing"),
    pytest.param(upgrade_request(Upgrade="h2c"), 400, {}, id="upgrade-h2c"),
    pytest.param(upgrade_request(Connection="keep-alive"), 400, {}, id="connection-no-upgrade"),
    pytest.param(upgrade_request(Host=None), 400, {}, id="host-missing"),
    pytest.param(upgrade_request(Origin="http://evil.example"), 403, {}, id="origin-refused"),
    pytest.param(upgrade_request(Origin=None), 403, {}, id="origin-missing"),
    pytest.param(b"HELLO THERE\r\n\r\n", 400, {}, id="garbage-request-line"),
    pytest.param(b"GET /\r\n\r\n", 400, {}, id="request-line-no-version"),
    pytest.param(b"\x00\x01\x02 / HTTP/1.1\r\n\r\n", 400, {}, id="binary-method"),
    pytest.param(upgrade_request().replace(b"Upgrade: websocket", b"Upgrade websocket"), 400,
                 {}, id="header-without-colon"),
    pytest.param(upgrade_request(start="GET / HTTP/1.0"), 400, {}, id="http-1.0"),
    pytest.param(upgrade_request(start="GET / HTTP/2.0"), 505, {}, id="http-2.0"),
    pytest.param(LONG_HEAD, 431, {}, id="head-over-16k"),
    pytest.param(MANY_HEADERS, 431, {}, id="over-100-headers"),
]


def test_the_valid_request_is_accepted() -> None:
    """The control case: the request the rejections below alter is itself accepted."""

    async def main() -> None:
        async with server_and_witness(origins=[ORIGIN]) as (server, _witness):
            sock = await raw_connect(server.port)
            with sock:
                loop = asyncio.get_running_loop()
                await loop.sock_sendall(sock, upgrade_request())
                data = b""
                async with asyncio.timeout(READ_TIMEOUT):
                    while b"\r\n\r\n" not in data:
                        data += await loop.sock_recv(sock, 65536)
        status, headers, _ = parse_head(data)
        assert status == 101
        assert headers["sec-websocket-accept"] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

    run(main())


@pytest.mark.parametrize(("request_bytes", "status", "headers"), REJECTIONS)
def test_handshake_rejected_with_exact_status(request_bytes: bytes, status: int,
                                              headers: dict[str, str]) -> None:
    async def main() -> None:
        async with server_and_witness(origins=[ORIGIN]) as (server, witness):
            answer, _how = await exchange(server.port, request_bytes)
            got_status, got_headers, body = parse_head(answer)
            assert got_status == status, body
            for name, value in headers.items():
                assert got_headers.get(name) == value
            assert "sec-websocket-accept" not in got_headers
            assert got_headers.get("connection") == "close"
            assert body.strip(), "the body should say why"
            await assert_still_serving(server, witness)

    run(main())


# ---- frame-level violations after a good handshake -------------------------------------------


def masked(opcode: int, payload: bytes = b"", *, fin: bool = True, rsv1: bool = False,
           rsv2: bool = False, rsv3: bool = False) -> bytes:
    """A client frame as it travels (masked), whatever rule it breaks."""
    return encode_frame(Frame(opcode, payload, fin, rsv1, rsv2, rsv3), MASK)  # type: ignore


def close_with(code: int, reason: bytes = b"") -> bytes:
    return masked(Opcode.CLOSE, code.to_bytes(2, "big") + reason)


def header_only(opcode: int, length: int) -> bytes:
    """A masked frame header claiming ``length`` bytes (64-bit form), without the payload."""
    return bytes([0x80 | opcode, 0x80 | 127]) + length.to_bytes(8, "big") + MASK


TEXT, BINARY, CONT = Opcode.TEXT, Opcode.BINARY, Opcode.CONTINUATION

VIOLATIONS = [
    pytest.param(encode_frame(Frame(TEXT, b"hello")), 1002, id="unmasked-text"),
    pytest.param(encode_frame(Frame(Opcode.PING, b"")), 1002, id="unmasked-ping"),
    pytest.param(masked(TEXT, b"hi", rsv1=True), 1002, id="rsv1"),
    pytest.param(masked(TEXT, b"hi", rsv2=True), 1002, id="rsv2"),
    pytest.param(masked(BINARY, b"hi", rsv3=True), 1002, id="rsv3"),
    pytest.param(masked(Opcode.PING, rsv1=True), 1002, id="rsv1-on-ping"),
    *(pytest.param(masked(opcode, b"x"), 1002, id=f"opcode-0x{opcode:X}")
      for opcode in (0x3, 0x7, 0xB, 0xF)),
    pytest.param(masked(Opcode.PING, b"p" * 126), 1002, id="ping-126-bytes"),
    pytest.param(masked(Opcode.PONG, b"p" * 126), 1002, id="pong-126-bytes"),
    pytest.param(masked(Opcode.CLOSE, b"\x03\xe8" + b"r" * 124), 1002, id="close-126-bytes"),
    pytest.param(masked(Opcode.PING, b"p", fin=False), 1002, id="fragmented-ping"),
    pytest.param(masked(TEXT, b"a", fin=False) + masked(Opcode.PING, b"p", fin=False), 1002,
                 id="fragmented-ping-inside-message"),
    pytest.param(masked(CONT, b"orphan"), 1002, id="continuation-without-start"),
    pytest.param(masked(CONT, b"orphan", fin=False), 1002, id="continuation-without-start-nofin"),
    pytest.param(masked(TEXT, b"a", fin=False) + masked(TEXT, b"b"), 1002,
                 id="new-message-inside-fragmented-one"),
    pytest.param(bytes([0x82, 0xFF]) + (2**63).to_bytes(8, "big") + MASK, 1002,
                 id="64-bit-length-top-bit"),
    pytest.param(masked(TEXT, b"\xff"), 1007, id="text-invalid-byte"),
    pytest.param(masked(TEXT, "caf\xe9".encode("latin-1")), 1007, id="text-latin-1"),
    pytest.param(masked(TEXT, b"\xc0\xaf"), 1007, id="text-overlong"),
    pytest.param(masked(TEXT, b"\xed\xa0\x80"), 1007, id="text-surrogate"),
    pytest.param(masked(TEXT, b"\xf4\x90\x80\x80"), 1007, id="text-above-u10ffff"),
    # Fail fast (section 8.1): each of these leaves the message unfinished, and the client then
    # waits. A server that checks UTF-8 only when the message ends would never answer.
    pytest.param(masked(TEXT, b"ok\xff", fin=False), 1007, id="first-fragment-invalid"),
    pytest.param(masked(TEXT, "€".encode()[:2], fin=False) + masked(CONT, b"(", fin=False),
                 1007, id="invalid-across-fragments"),
    pytest.param(masked(TEXT, b"fine", fin=False) + masked(CONT, b"\xfe", fin=False), 1007,
                 id="second-fragment-invalid"),
    pytest.param(masked(TEXT, b"ok" + b"\xff" + b"x" * 97)[:6 + 10], 1007,
                 id="invalid-in-a-frame-not-yet-complete"),
    pytest.param(masked(TEXT, "€".encode()[:2], fin=False) + masked(CONT, b"(" + b"x" * 49)[:7],
                 1007, id="invalid-across-fragments-in-a-frame-not-yet-complete"),
    pytest.param(masked(TEXT, "€".encode()[:2], fin=False) + masked(CONT, b""), 1007,
                 id="message-ends-mid-character"),
    pytest.param(masked(Opcode.CLOSE, b"\x03"), 1002, id="close-1-byte-payload"),
    *(pytest.param(close_with(code), 1002, id=f"close-code-{code}")
      for code in (0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535)),
    pytest.param(close_with(1000, b"\xff"), 1007, id="close-reason-invalid-utf8"),
    pytest.param(masked(BINARY, b"x" * (MAX_SIZE + 1)), 1009, id="frame-over-max-size"),
    pytest.param(masked(TEXT, b"x" * (MAX_SIZE + 1)), 1009, id="text-frame-over-max-size"),
    pytest.param(header_only(BINARY, 2**40), 1009, id="header-claims-1-TiB"),
    pytest.param(masked(BINARY, b"x" * 3000, fin=False) + masked(CONT, b"y" * 1097), 1009,
                 id="fragments-over-max-size"),
    pytest.param(masked(TEXT, b"x" * 2048, fin=False) + masked(CONT, b"y" * 2048, fin=False)
                 + masked(CONT, b"z", fin=False), 1009, id="unfinished-fragments-over-max-size"),
]


async def raw_websocket(port: int) -> socket.socket:
    """A raw socket that has completed a good handshake."""
    sock = await raw_connect(port)
    loop = asyncio.get_running_loop()
    key = handshake.generate_key()
    await loop.sock_sendall(sock, handshake.build_request(f"127.0.0.1:{port}", "/", key))
    data = b""
    async with asyncio.timeout(READ_TIMEOUT):
        while b"\r\n\r\n" not in data:
            chunk = await loop.sock_recv(sock, 1)  # byte by byte: read nothing past the head
            assert chunk, "the server closed during the handshake"
            data += chunk
    status, headers, _ = parse_head(data)
    assert status == 101
    assert headers["sec-websocket-accept"] == handshake.accept_key(key)
    return sock


def server_frames(data: bytes) -> list[Frame]:
    """Decode what the server sent; server frames are unmasked."""
    frames = []
    view = memoryview(data)
    while view:
        decoded = decode_frame(view)
        assert decoded is not None, f"a truncated frame at the end: {bytes(view[:20])!r}"
        frame, used = decoded
        assert frame.mask_key is None, "a server must not mask (section 5.1)"
        frames.append(frame)
        view = view[used:]
    return frames


async def send_and_collect(port: int, data: bytes) -> tuple[list[Frame], str]:
    sock = await raw_websocket(port)
    with sock:
        await asyncio.get_running_loop().sock_sendall(sock, data)
        answer, how = await read_until_closed(sock)
    return server_frames(answer), how


@pytest.mark.parametrize(("data", "code"), VIOLATIONS)
def test_frame_violation_closes_with_exact_code(data: bytes, code: int) -> None:
    async def main() -> None:
        async with server_and_witness(max_size=MAX_SIZE) as (server, witness):
            frames, how = await send_and_collect(server.port, data)
            # Exactly one frame: the close with the right code; then TCP closed.
            assert [frame.opcode for frame in frames] == [Opcode.CLOSE], (
                f"expected one close frame with {code}; got {frames}, then TCP {how}")
            assert parse_close_payload(frames[0].payload)[0] == code
            assert how in ("eof", "reset")
            await assert_still_serving(server, witness)

    run(main())


@pytest.mark.parametrize("valid", [True, False], ids=["valid", "invalid"])
def test_text_trickling_in_is_checked_as_it_arrives(valid: bool) -> None:
    """A text frame that arrives a few bytes at a time (pieces of 3: not aligned with the
    4-byte mask) is checked piece by piece: valid text is accepted whole, and a bad byte fails
    the connection before the rest of the frame arrives."""
    text = "aé€😀" * 10  # 100 bytes of 1- to 4-byte characters
    payload = bytearray(text.encode())
    if not valid:
        payload[51] = 0xFF  # inside the text; the frame is never completed
    frame = masked(TEXT, bytes(payload))
    sent = frame if valid else frame[:6 + 60]

    async def main() -> None:
        async with server_and_witness(max_size=MAX_SIZE) as (server, witness):
            sock = await raw_websocket(server.port)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            loop = asyncio.get_running_loop()
            with sock:
                for start in range(0, len(sent), 3):
                    try:
                        await loop.sock_sendall(sock, sent[start:start + 3])
                    except (BrokenPipeError, ConnectionResetError):
                        assert not valid  # the server failed the connection: stop sending
                        break
                    await asyncio.sleep(0.002)
                if valid:
                    answer = b""
                    async with asyncio.timeout(READ_TIMEOUT):
                        while len(answer) < 2 + 100:
                            answer += await loop.sock_recv(sock, 65536)
                    frames = server_frames(answer)
                    assert frames == [Frame(TEXT, text.encode())]
                else:
                    answer, _how = await read_until_closed(sock)
                    frames = server_frames(answer)
                    assert [frame.opcode for frame in frames] == [Opcode.CLOSE]
                    assert parse_close_payload(frames[0].payload)[0] == 1007
            await assert_still_serving(server, witness)

    run(main())


def test_the_first_frame_may_come_with_the_request() -> None:
    """A client may send its first frame right behind the request, in the same segment: the
    server must not lose the bytes it read past the end of the head."""

    async def main() -> None:
        async with server_and_witness() as (server, _witness):
            sock = await raw_connect(server.port)
            loop = asyncio.get_running_loop()
            with sock:
                await loop.sock_sendall(sock, upgrade_request() + masked(TEXT, b"eager"))
                answer = b""
                async with asyncio.timeout(READ_TIMEOUT):
                    while not answer.endswith(b"\r\n\r\n\x81\x05eager"):
                        chunk = await loop.sock_recv(sock, 65536)
                        assert chunk, f"closed after {answer!r}"
                        answer += chunk
        assert parse_head(answer)[0] == 101

    run(main())


@pytest.mark.parametrize(("size", "status"), [(16384, 101), (16385, 431), (16390, 431)])
def test_head_size_limit_is_exact(size: int, status: int) -> None:
    """http1.MAX_HEAD_BYTES (16384) bounds the request head, its final CRLF CRLF included."""
    base = upgrade_request(X_Filler="")
    request = upgrade_request(X_Filler="a" * (size - len(base)))
    assert len(request) == size

    async def main() -> None:
        async with server_and_witness(origins=[ORIGIN]) as (server, witness):
            sock = await raw_connect(server.port)
            loop = asyncio.get_running_loop()
            with sock:
                await loop.sock_sendall(sock, request)
                data = b""
                async with asyncio.timeout(READ_TIMEOUT):
                    while b"\r\n\r\n" not in data:
                        chunk = await loop.sock_recv(sock, 65536)
                        assert chunk, "closed without an answer"
                        data += chunk
            assert parse_head(data)[0] == status
            await assert_still_serving(server, witness)

    run(main())


def test_a_valid_frame_is_echoed() -> None:
    """The control case for the violations: the same harness, a frame that breaks no rule."""

    async def main() -> None:
        async with server_and_witness(max_size=MAX_SIZE) as (server, _witness):
            sock = await raw_websocket(server.port)
            with sock:
                loop = asyncio.get_running_loop()
                await loop.sock_sendall(sock, masked(TEXT, "€".encode()[:2], fin=False)
                                        + masked(Opcode.PING, b"p")
                                        + masked(CONT, "€".encode()[2:] + b"x" * 4093))
                answer = b""
                async with asyncio.timeout(READ_TIMEOUT):  # the pong and the echo
                    while len(answer) < 2 + 1 + 4 + MAX_SIZE:
                        answer += await loop.sock_recv(sock, 65536)
                await loop.sock_sendall(sock, close_with(1000, b"done"))
                rest, how = await read_until_closed(sock)
        frames = server_frames(answer + rest)
        assert [frame.opcode for frame in frames] == [Opcode.PONG, TEXT, Opcode.CLOSE]
        assert frames[0].payload == b"p"
        assert frames[1].payload == "€".encode() + b"x" * 4093  # exactly MAX_SIZE: accepted
        assert parse_close_payload(frames[2].payload)[0] == 1000
        assert how == "eof"

    run(main())


@pytest.mark.parametrize("bad", [masked(TEXT, b"\xff"), masked(TEXT, b"\xff" * 10)[:8]],
                         ids=["bad-frame-complete", "bad-frame-not-yet-complete"])
def test_messages_before_the_bad_frame_are_still_answered(bad: bytes) -> None:
    """Section 7.1.7 fails the connection at the bad frame, not before: the valid message that
    came first in the same TCP segment is echoed, then the close."""

    async def main() -> None:
        async with server_and_witness(max_size=MAX_SIZE) as (server, witness):
            frames, how = await send_and_collect(server.port, masked(TEXT, b"valid") + bad)
            assert [frame.opcode for frame in frames] == [TEXT, Opcode.CLOSE], (
                f"expected the echo and a close with 1007; got {frames}, then TCP {how}")
            assert frames[0].payload == b"valid"
            assert parse_close_payload(frames[1].payload)[0] == 1007
            await assert_still_serving(server, witness)

    run(main())


def test_our_client_sees_the_close_code_for_its_bad_frame() -> None:
    """The same rule seen from our own client: it sends an unmasked frame on purpose."""

    async def main() -> None:
        async with server_and_witness() as (server, witness):
            async with aio.connect(f"ws://127.0.0.1:{server.port}/") as bad:
                bad.transport.write(encode_frame(Frame(TEXT, b"unmasked")))
                with pytest.raises(ConnectionClosed) as closed:
                    await bad.recv()
            assert closed.value.code == 1002
            await assert_still_serving(server, witness)

    run(main())


# ---- slow and vanishing clients ----------------------------------------------------------------


@pytest.mark.parametrize("sent", [b"", b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"],
                         ids=["nothing", "half-a-head"])
def test_a_slow_client_is_dropped_after_open_timeout(sent: bytes) -> None:
    open_timeout = 0.3

    async def main() -> None:
        async with server_and_witness(open_timeout=open_timeout) as (server, witness):
            loop = asyncio.get_running_loop()
            slow = await raw_connect(server.port)
            with slow:
                await loop.sock_sendall(slow, sent)
                started = time.monotonic()
                dropped = asyncio.ensure_future(read_until_closed(slow))
                # While the slow one stalls, the witness is served without waiting for it.
                while not dropped.done():
                    await assert_echo(witness, "meanwhile")
                    await asyncio.sleep(0.02)
                answer, _how = await dropped
                elapsed = time.monotonic() - started
            assert answer == b""  # dropped without a word
            assert open_timeout * 0.8 <= elapsed < open_timeout + 1.5
            # The witness connected before the slow one and has been open longer than
            # open_timeout: the timeout applies to the handshake only.
            await assert_still_serving(server, witness)

    run(main())


def _abort(sock: socket.socket) -> None:
    """Close with RST instead of FIN (SO_LINGER with a zero timeout)."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    sock.close()


@pytest.mark.parametrize("sent", [b"", b"GET / HTTP/1.1\r\nHost: 127", upgrade_request()],
                         ids=["nothing", "half-a-head", "whole-request"])
@pytest.mark.parametrize("how", ["fin", "rst"])
def test_a_client_vanishing_mid_handshake_disturbs_nobody(
        sent: bytes, how: str, caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        async with server_and_witness() as (server, witness):
            loop = asyncio.get_running_loop()
            for _ in range(5):
                sock = await raw_connect(server.port)
                await loop.sock_sendall(sock, sent)
                if how == "rst":
                    _abort(sock)
                else:
                    sock.close()
            # Every half-open connection is cleaned up: only the witness stays.
            await asyncio.sleep(0.1)
            async with asyncio.timeout(READ_TIMEOUT):
                while len(server.connections) != 1:
                    await asyncio.sleep(0.01)
            await assert_still_serving(server, witness)

    with caplog.at_level(logging.WARNING):
        run(main())
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR
              and not (record.exc_info and record.exc_info[0] is asyncio.CancelledError)]
    assert not errors, [record.getMessage() for record in errors]
