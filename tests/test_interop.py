"""Interop on loopback: our client and server against implementations no one here wrote.

The peers are ``websockets`` (asyncio API, compression off) and ``wsproto`` (sans-I/O, wrapped
below in a small asyncio-stream peer). Both directions: our client with their server, their
client with our server. Every message is echoed, so a byte we encode or decode wrongly breaks
the round trip; where the peer can see frames, it also counts our fragments.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

import pytest
from websockets.asyncio.client import connect as websockets_connect
from websockets.asyncio.server import serve as websockets_serve
from websockets.exceptions import ConnectionClosed as WebsocketsClosed
from websockets.exceptions import ConnectionClosedOK as WebsocketsClosedOK
from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    Pong,
    Request,
    TextMessage,
)

from wsteach import aio
from wsteach.connection import ConnectionClosed
from wsteach.handshake import HandshakeError

MAX_SIZE = 2**21  # every length class below fits, 1 MiB included
TEST_TIMEOUT = 10  # seconds; each test finishes in well under one
LENGTHS = [0, 125, 126, 65535, 65536, 2**20]
# (client, server): who plays which side; "ours" is wsteach.aio.
PAIRS = [("ours", "websockets"), ("websockets", "ours"), ("ours", "wsproto"), ("wsproto", "ours")]
PAIR_IDS = [f"{client}-client-{server}-server" for client, server in PAIRS]


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run an async test body with a deadline, so a lost message fails instead of hanging."""

    async def bounded() -> Any:
        async with asyncio.timeout(TEST_TIMEOUT):
            return await coro

    return asyncio.run(bounded())


def make_message(kind: str, length: int) -> str | bytes:
    """A message of exactly ``length`` bytes on the wire; text mixes 1- to 4-byte characters."""
    if kind == "text":
        text = "aé€😀" * (length // 10) + "z" * (length % 10)  # "aé€😀" is 10 bytes in UTF-8
        assert len(text.encode("utf-8")) == length
        return text
    return (bytes(range(256)) * (length // 256 + 1))[:length]


def chunks(message: str | bytes, size: int) -> list:
    return [message[i:i + size] for i in range(0, len(message), size)]


# ---- a wsproto peer on asyncio streams ------------------------------------------------------


class PeerClosed(Exception):
    """The wsproto peer received a close frame (and answered it)."""

    def __init__(self, code: int, reason: str | None) -> None:
        super().__init__(f"closed with {code} {reason!r}")
        self.code, self.reason = code, reason


class WsprotoPeer:
    """wsproto's state machine driven by an asyncio stream: ``send``, ``recv``, ``ping``,
    ``close``. ``recv`` answers pings on the way and counts the frames of each message."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 role: ConnectionType) -> None:
        self.reader, self.writer = reader, writer
        self.ws = WSConnection(role)
        self.subprotocol: str | None = None
        self.frames = 0  # data frames in the last message received
        self._events: deque = deque()

    def write(self, event: Any) -> None:
        self.writer.write(self.ws.send(event))

    async def next_event(self) -> Any:
        while not self._events:
            data = await self.reader.read(65536)
            self.ws.receive_data(data or None)
            self._events.extend(self.ws.events())
            if not data and not self._events:
                raise EOFError("the peer closed TCP")
        return self._events.popleft()

    async def recv(self) -> str | bytes:
        parts: list = []
        frames = 0
        while True:
            event = await self.next_event()
            if isinstance(event, Ping):
                self.write(event.response())
            elif isinstance(event, CloseConnection):
                if self.ws.state is ConnectionState.REMOTE_CLOSING:
                    self.write(event.response())
                self.writer.close()
                raise PeerClosed(event.code, event.reason)
            elif isinstance(event, TextMessage | BytesMessage):
                parts.append(event.data)
                frames += event.frame_finished
                if event.message_finished:
                    self.frames = frames
                    joiner = "" if isinstance(event, TextMessage) else b""
                    return joiner.join(parts)

    async def send(self, message: str | bytes, fragment_size: int | None = None) -> None:
        kind = TextMessage if isinstance(message, str) else BytesMessage
        pieces = chunks(message, fragment_size or max(len(message), 1)) or [message]
        for index, piece in enumerate(pieces):
            self.write(kind(data=piece, message_finished=index == len(pieces) - 1))
        await self.writer.drain()

    async def ping_and_wait(self, payload: bytes) -> bytes:
        """Send a ping; return the payload of the pong (messages on the way are dropped)."""
        self.write(Ping(payload))
        while True:
            event = await self.next_event()
            if isinstance(event, Pong):
                return event.payload

    async def close(self, code: int = 1000, reason: str = "") -> tuple[int, str | None]:
        """Send a close and wait for the answer: its code and reason."""
        self.write(CloseConnection(code, reason))
        try:
            while True:
                event = await self.next_event()
                if isinstance(event, CloseConnection):
                    break
            if self.ws.client:  # section 7.1.1: the server closes TCP first
                while await self.reader.read(65536):
                    pass
            return event.code, event.reason
        finally:
            self.writer.close()


# ---- servers and clients of each kind -------------------------------------------------------


def uri(port: int) -> str:
    return f"ws://127.0.0.1:{port}/"


@contextlib.asynccontextmanager
async def start_server(kind: str, handler: Callable[[Any], Awaitable[None]],
                       subprotocols: list[str] | None = None) -> AsyncIterator[int]:
    """A server of ``kind`` running ``handler(ws)`` per connection; yields its port."""
    if kind == "ours":
        async with aio.serve(handler, "127.0.0.1", 0, max_size=MAX_SIZE,
                             subprotocols=subprotocols or ()) as server:
            yield server.port
    elif kind == "websockets":
        async with websockets_serve(handler, "127.0.0.1", 0, compression=None,
                                    max_size=MAX_SIZE, subprotocols=subprotocols) as server:
            yield server.sockets[0].getsockname()[1]
    else:
        tasks: set[asyncio.Task] = set()

        async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            tasks.add(asyncio.current_task())
            peer = WsprotoPeer(reader, writer, ConnectionType.SERVER)
            request = await peer.next_event()
            assert isinstance(request, Request)
            peer.subprotocol = next((p for p in request.subprotocols
                                     if p in (subprotocols or ())), None)
            peer.write(AcceptConnection(subprotocol=peer.subprotocol))
            with contextlib.suppress(PeerClosed, EOFError, ConnectionError):
                await handler(peer)
            writer.close()

        server = await asyncio.start_server(accept, "127.0.0.1", 0)
        try:
            yield server.sockets[0].getsockname()[1]
        finally:
            server.close()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


async def open_client(kind: str, port: int, subprotocols: list[str] | None = None) -> Any:
    """A connected client of ``kind``; all three offer ``send``, ``recv`` and ``close``."""
    if kind == "ours":
        return await aio.connect(uri(port), max_size=MAX_SIZE, subprotocols=subprotocols or ())
    if kind == "websockets":
        return await websockets_connect(uri(port), compression=None, max_size=MAX_SIZE,
                                        subprotocols=subprotocols)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    peer = WsprotoPeer(reader, writer, ConnectionType.CLIENT)
    peer.write(Request(host=f"127.0.0.1:{port}", target="/", subprotocols=subprotocols or []))
    accepted = await peer.next_event()
    assert isinstance(accepted, AcceptConnection), accepted
    peer.subprotocol = accepted.subprotocol
    return peer


async def send_fragments(ws: Any, message: str | bytes, size: int) -> None:
    """Send ``message`` as a fragmented message, whichever implementation ``ws`` is."""
    if isinstance(ws, aio.WebSocket):
        # aio.WebSocket.send writes what Connection returns; here with fragment_size.
        connection = ws.connection
        if isinstance(message, str):
            data = connection.send_text(message, fragment_size=size)
        else:
            data = connection.send_binary(message, fragment_size=size)
        await ws.send_raw(data)
    elif isinstance(ws, WsprotoPeer):
        await ws.send(message, fragment_size=size)
    else:
        await ws.send(chunks(message, size))  # websockets: an iterable is a fragmented message


async def recv_counting(ws: Any) -> tuple[str | bytes, int | None]:
    """The next message and the number of frames it came in (None where we cannot tell)."""
    if isinstance(ws, WsprotoPeer):
        message = await ws.recv()
        return message, ws.frames
    if isinstance(ws, aio.WebSocket):
        return await ws.recv(), None
    fragments = [fragment async for fragment in ws.recv_streaming()]
    return fragments[0][:0].join(fragments), len(fragments)


CLOSED = (ConnectionClosed, WebsocketsClosed, PeerClosed, EOFError)


async def echo(ws: Any) -> None:
    """Echo every message: works for all three kinds of server-side connection."""
    with contextlib.suppress(*CLOSED):
        while True:
            await ws.send(await ws.recv())


async def until_closed(ws: Any) -> None:
    """Read (and drop) messages until the peer closes."""
    with contextlib.suppress(*CLOSED):
        while True:
            await ws.recv()


# ---- messages of every length class, text and binary ------------------------------------------


@pytest.mark.parametrize("length", LENGTHS)
@pytest.mark.parametrize("kind", ["text", "binary"])
@pytest.mark.parametrize(("client_kind", "server_kind"), PAIRS, ids=PAIR_IDS)
def test_echo_every_length_class(client_kind: str, server_kind: str, kind: str,
                                 length: int) -> None:
    message = make_message(kind, length)

    async def main() -> None:
        async with start_server(server_kind, echo) as port:
            client = await open_client(client_kind, port)
            await client.send(message)
            answer = await client.recv()
            await client.close()
        assert type(answer) is type(message)
        assert answer == message

    run(main())


# ---- fragmented messages ----------------------------------------------------------------------


FRAGMENTED_LENGTH = 70_000
FRAGMENT_SIZE = 1000


@pytest.mark.parametrize("kind", ["text", "binary"])
@pytest.mark.parametrize(("client_kind", "server_kind"), PAIRS, ids=PAIR_IDS)
def test_fragmented_both_ways(client_kind: str, server_kind: str, kind: str) -> None:
    """The client sends a message in fragments; the server counts them and answers with the
    same message, fragmented too. Our side splits by bytes, so text fragments also cut
    multi-byte characters in two (legal: only the whole message must be UTF-8)."""
    message = make_message(kind, FRAGMENTED_LENGTH)
    expected_frames = math.ceil(FRAGMENTED_LENGTH / FRAGMENT_SIZE)

    async def main() -> None:
        seen: asyncio.Future[tuple[str | bytes, int | None]] = asyncio.Future()

        async def fragment_echo(ws: Any) -> None:
            received, frames = await recv_counting(ws)
            seen.set_result((received, frames))
            await send_fragments(ws, received, FRAGMENT_SIZE)
            await until_closed(ws)

        async with start_server(server_kind, fragment_echo) as port:
            client = await open_client(client_kind, port)
            await send_fragments(client, message, FRAGMENT_SIZE)
            answer, answer_frames = await recv_counting(client)
            await client.close()
            received, frames = await seen
        assert received == message
        assert answer == message
        # Whoever is not us counts the frames we sent (by bytes, or by characters: either way
        # more than one). An implementation that reassembled or dropped fragments fails here.
        ours_sent_frames = frames if server_kind != "ours" else answer_frames
        assert ours_sent_frames == expected_frames

    run(main())


# ---- ping and pong, both directions ---------------------------------------------------------


@pytest.mark.parametrize("server_kind", ["websockets", "wsproto"])
def test_our_client_pings_their_server(server_kind: str) -> None:
    async def main() -> None:
        async with start_server(server_kind, echo) as port:
            client = await aio.connect(uri(port))
            round_trip = await (await client.ping(b"are you there"))
            await client.send("after the ping")
            answer = await client.recv()
            await client.close()
        assert isinstance(round_trip, float)
        assert 0 <= round_trip < TEST_TIMEOUT
        assert answer == "after the ping"

    run(main())


@pytest.mark.parametrize("server_kind", ["websockets", "wsproto"])
def test_their_server_pings_our_client(server_kind: str) -> None:
    async def main() -> None:
        result: asyncio.Future[object] = asyncio.Future()

        async def pinger(ws: Any) -> None:
            if isinstance(ws, WsprotoPeer):
                result.set_result(await ws.ping_and_wait(b"ping from them"))
            else:
                result.set_result(await (await ws.ping(b"ping from them")))
            await ws.send("pinged")
            await until_closed(ws)

        async with start_server(server_kind, pinger) as port:
            client = await aio.connect(uri(port))
            # Our client answers pings by itself, even before the application reads.
            outcome = await result
            assert await client.recv() == "pinged"
            await client.close()
        if server_kind == "wsproto":
            assert outcome == b"ping from them"  # the pong echoes the ping's payload
        else:
            assert isinstance(outcome, float)  # websockets matched the pong to its ping

    run(main())


@pytest.mark.parametrize("client_kind", ["websockets", "wsproto"])
def test_their_client_pings_our_server(client_kind: str) -> None:
    async def main() -> None:
        async with start_server("ours", echo) as port:
            client = await open_client(client_kind, port)
            if client_kind == "wsproto":
                outcome = await client.ping_and_wait(b"ping from them")
                assert outcome == b"ping from them"
            else:
                outcome = await (await client.ping(b"ping from them"))
                assert isinstance(outcome, float)
            await client.send("still echoing")
            assert await client.recv() == "still echoing"
            await client.close()

    run(main())


@pytest.mark.parametrize("client_kind", ["websockets", "wsproto"])
def test_our_server_pings_their_client(client_kind: str) -> None:
    async def main() -> None:
        async def pinger(ws: aio.WebSocket) -> None:
            round_trip = await (await ws.ping(b"ping from us"))
            await ws.send(f"pong after {round_trip:.6f} s")
            await until_closed(ws)

        async with start_server("ours", pinger) as port:
            client = await open_client(client_kind, port)
            # websockets answers in its background task; our wsproto peer answers in recv().
            answer = await client.recv()
            await client.close()
        assert answer.startswith("pong after ")
        assert 0 <= float(answer.split()[2]) < TEST_TIMEOUT

    run(main())


# ---- closing: codes and reasons, both directions --------------------------------------------


@pytest.mark.parametrize("server_kind", ["websockets", "wsproto"])
def test_our_client_closes_with_code_and_reason(server_kind: str) -> None:
    async def main() -> None:
        seen: asyncio.Future[tuple[int, str | None]] = asyncio.Future()

        async def watcher(ws: Any) -> None:
            try:
                await ws.recv()
            except PeerClosed as closed:
                seen.set_result((closed.code, closed.reason))
            except WebsocketsClosed as closed:
                assert closed.rcvd is not None
                seen.set_result((closed.rcvd.code, closed.rcvd.reason))

        async with start_server(server_kind, watcher) as port:
            client = await aio.connect(uri(port))
            await client.close(4000, "bye")
            assert await seen == (4000, "bye")
            assert client.close_code == 4000  # the peer echoed our code (section 5.5.1)
            with pytest.raises(ConnectionClosed):
                await client.recv()

    run(main())


@pytest.mark.parametrize("client_kind", ["websockets", "wsproto"])
def test_their_client_closes_with_code_and_reason(client_kind: str) -> None:
    async def main() -> None:
        seen: asyncio.Future[tuple[int, str]] = asyncio.Future()

        async def watcher(ws: aio.WebSocket) -> None:
            try:
                await ws.recv()
            except ConnectionClosed as closed:
                seen.set_result((closed.code, closed.reason))
                raise

        async with start_server("ours", watcher) as port:
            client = await open_client(client_kind, port)
            if client_kind == "wsproto":
                answer = await client.close(4000, "bye")
                assert answer[0] == 4000  # our server echoed the code
            else:
                await client.close(4000, "bye")
                assert client.close_code == 4000
            assert await seen == (4000, "bye")

    run(main())


@pytest.mark.parametrize("server_kind", ["websockets", "wsproto"])
def test_their_server_closes_going_away(server_kind: str) -> None:
    async def main() -> None:
        async def leaver(ws: Any) -> None:
            await ws.send("goodbye")
            await ws.close(1001, "going away")

        async with start_server(server_kind, leaver) as port:
            client = await aio.connect(uri(port))
            assert await client.recv() == "goodbye"
            with pytest.raises(ConnectionClosed) as closed:
                await client.recv()
            await client.close()
        assert (closed.value.code, closed.value.reason) == (1001, "going away")
        assert closed.value.ok
        assert client.close_code == 1001

    run(main())


@pytest.mark.parametrize("client_kind", ["websockets", "wsproto"])
def test_our_server_closes_going_away(client_kind: str) -> None:
    async def main() -> None:
        async def leaver(ws: aio.WebSocket) -> None:
            await ws.send("goodbye")
            await ws.close(1001, "going away")

        async with start_server("ours", leaver) as port:
            client = await open_client(client_kind, port)
            assert await client.recv() == "goodbye"
            if client_kind == "wsproto":
                with pytest.raises(PeerClosed) as closed:
                    await client.recv()
                code, reason = closed.value.code, closed.value.reason
            else:
                with pytest.raises(WebsocketsClosedOK) as closed:
                    await client.recv()
                assert closed.value.rcvd is not None
                code, reason = closed.value.rcvd.code, closed.value.rcvd.reason
        assert (code, reason) == (1001, "going away")

    run(main())


def test_our_server_shutdown_closes_connections_with_1001() -> None:
    async def main() -> None:
        server = await aio.serve(echo, "127.0.0.1", 0)
        client = await websockets_connect(uri(server.port), compression=None)
        await client.send("hello")
        assert await client.recv() == "hello"
        server.close()
        await server.wait_closed()
        with pytest.raises(WebsocketsClosed) as closed:
            await client.recv()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1001

    run(main())


MESSAGES = ["first", b"\x00second\xff", "третий ☃"]


@pytest.mark.parametrize("server_kind", ["websockets", "wsproto"])
def test_our_async_for_ends_quietly_on_normal_close(server_kind: str) -> None:
    async def main() -> None:
        async def sender(ws: Any) -> None:
            for message in MESSAGES:
                await ws.send(message)
            await ws.close(1000)

        async with start_server(server_kind, sender) as port:
            client = await aio.connect(uri(port))
            received = [message async for message in client]
        assert received == MESSAGES
        assert client.close_code == 1000

    run(main())


def test_our_async_for_raises_on_an_error_close() -> None:
    async def main() -> None:
        async def failer(ws: Any) -> None:
            await ws.send("one")
            await ws.close(1011, "server bug")

        async with start_server("websockets", failer) as port:
            client = await aio.connect(uri(port))
            received = []
            with pytest.raises(ConnectionClosed) as closed:
                async for message in client:
                    received.append(message)
        assert received == ["one"]
        assert (closed.value.code, closed.value.reason) == (1011, "server bug")

    run(main())


def test_their_async_for_ends_quietly_when_our_handler_returns() -> None:
    async def main() -> None:
        async def sender(ws: aio.WebSocket) -> None:
            for message in MESSAGES:
                await ws.send(message)

        async with start_server("ours", sender) as port:
            client = await open_client("websockets", port)
            received = [message async for message in client]
        assert received == MESSAGES
        assert client.close_code == 1000

    run(main())


# ---- subprotocols ----------------------------------------------------------------------------


@pytest.mark.parametrize(("offered", "supported", "chosen"), [
    (["v2.chat", "v1.chat"], ["v1.chat"], "v1.chat"),
    (["v1.chat", "v2.chat"], ["v2.chat", "v1.chat"], "v2.chat"),  # the server's preference
])
@pytest.mark.parametrize(("client_kind", "server_kind"), PAIRS[:2], ids=PAIR_IDS[:2])
def test_subprotocol_negotiation(client_kind: str, server_kind: str, offered: list[str],
                                 supported: list[str], chosen: str) -> None:
    async def main() -> None:
        server_side: asyncio.Future[str | None] = asyncio.Future()

        async def reporter(ws: Any) -> None:
            server_side.set_result(ws.subprotocol)
            await echo(ws)

        async with start_server(server_kind, reporter, subprotocols=supported) as port:
            client = await open_client(client_kind, port, subprotocols=offered)
            await client.send("hi")
            assert await client.recv() == "hi"
            await client.close()
            assert client.subprotocol == chosen
            assert await server_side == chosen

    run(main())


def test_our_server_without_a_common_subprotocol_chooses_none() -> None:
    async def main() -> None:
        async with start_server("ours", echo, subprotocols=["v1.chat"]) as port:
            client = await open_client("websockets", port, subprotocols=["mqtt"])
            await client.send("hi")
            assert await client.recv() == "hi"
            await client.close()
        assert client.subprotocol is None

    run(main())


def test_our_client_reports_their_rejection_of_its_subprotocols() -> None:
    async def main() -> None:
        async with start_server("websockets", echo, subprotocols=["v1.chat"]) as port:
            with pytest.raises(HandshakeError) as rejected:
                await aio.connect(uri(port), subprotocols=["mqtt"])
        assert rejected.value.status == 400

    run(main())
