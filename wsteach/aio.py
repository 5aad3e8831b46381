"""asyncio server and client on top of the sans-I/O ``Connection``.

The API mirrors the ``websockets`` library, so one can be swapped for the other::

    async def echo(ws):
        async for message in ws:
            await ws.send(message)

    async with serve(echo, "127.0.0.1", 0) as server:
        async with connect(f"ws://127.0.0.1:{server.port}/") as ws:
            await ws.send("hello")
            print(await ws.recv())

This layer only moves bytes: it reads the socket, feeds ``Connection``, queues messages for
``recv()`` and writes what ``Connection`` returns. The opening handshake (RFC 6455 section 4)
is read with ``http1`` and checked with ``handshake``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import urlsplit

from wsteach import handshake, http1
from wsteach.connection import (
    Binary,
    Connection,
    ConnectionClosed,
    Event,
    Pong,
    Role,
    State,
    Text,
)
from wsteach.frames import CloseCode, ProtocolError

logger = logging.getLogger("wsteach")

READ_SIZE = 65536
Handler = Callable[["WebSocket"], Awaitable[None]]


@dataclass(frozen=True)
class Limits:
    """A connection's limits and timeouts, named as in the ``websockets`` library."""

    max_size: int | None = 2**20  # largest message in bytes; a bigger one fails with 1009
    max_queue: int = 16  # messages received but not yet read; then reading pauses
    open_timeout: float = 10  # seconds for the opening handshake
    close_timeout: float = 5  # seconds to wait for the peer's part of the closing handshake


class WebSocket:
    """An open WebSocket: ``send``, ``recv``, ``async for``, ``ping``, ``close``."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, role: Role,
                 limits: Limits, *, request: http1.Request | None = None,
                 subprotocol: str | None = None) -> None:
        self._reader = reader
        self._writer = writer
        self.connection = Connection(role, max_message_size=limits.max_size)
        self.close_timeout = limits.close_timeout
        self.request = request  # the Upgrade request (server side)
        self.subprotocol = subprotocol
        self.remote_address = writer.get_extra_info("peername")
        self.local_address = writer.get_extra_info("sockname")
        # Messages received and not yet read. When it is full, the reader stops reading the
        # socket: TCP's flow control then slows the peer down (read back-pressure).
        self._messages: asyncio.Queue[str | bytes | None] = asyncio.Queue(limits.max_queue)
        self._reader_finished = False
        self._closing = False  # close() was called
        self._pings: dict[bytes, tuple[asyncio.Future[float], float]] = {}
        self._reading = asyncio.get_running_loop().create_task(self._read_frames())

    @property
    def close_code(self) -> int | None:
        """The close code once the connection has closed (1006 if TCP ended without one)."""
        return self.connection.close_code if self.connection.state is State.CLOSED else None

    @property
    def close_reason(self) -> str | None:
        return self.connection.close_reason if self.connection.state is State.CLOSED else None

    @property
    def state(self) -> State:
        return self.connection.state

    async def send(self, message: str | bytes) -> None:
        """Send a text (str) or binary (bytes) message; waits while the socket buffer is full."""
        self._raise_if_closed()
        if isinstance(message, str):
            data = self.connection.send_text(message)
        else:
            data = self.connection.send_binary(message)
        self._writer.write(data)
        await self._writer.drain()

    async def send_raw(self, data: bytes) -> None:
        """Write bytes built by hand (a lesson's own frames, valid or not) as they are."""
        self._writer.write(data)
        await self._writer.drain()

    async def recv(self) -> str | bytes:
        """The next message: ``str`` for text, ``bytes`` for binary.

        Raises ``ConnectionClosed`` once the connection has closed and every message was read.
        """
        if self._messages.empty() and self._reader_finished:
            raise self._closed()
        message = await self._messages.get()
        self._messages.task_done()
        if message is None:  # put there by the reader when it finished
            raise self._closed()
        return message

    async def __aiter__(self) -> AsyncIterator[str | bytes]:
        """Iterate over messages; ends quietly on a normal close, raises on an abnormal one."""
        while True:
            try:
                yield await self.recv()
            except ConnectionClosed as closed:
                if closed.ok:
                    return
                raise

    async def ping(self, data: bytes | None = None) -> Awaitable[float]:
        """Send a ping; returns an awaitable that gives the round-trip time when the pong comes."""
        self._raise_if_closed()
        payload = os.urandom(4) if data is None else data
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        self._pings[payload] = (waiter, loop.time())
        self._writer.write(self.connection.ping(payload))
        await self._writer.drain()
        return waiter

    async def close(self, code: int = CloseCode.NORMAL, reason: str = "") -> None:
        """The closing handshake (section 7.1.2): send close, wait for the peer's close and EOF."""
        self._closing = True
        while not self._messages.empty():  # unread messages are dropped: this may unblock
            self._messages.get_nowait()    # a reader waiting for room in the queue
            self._messages.task_done()
        data = self.connection.close(code, reason)
        if data and not self._writer.is_closing():
            self._writer.write(data)
            with contextlib.suppress(ConnectionError):
                await self._writer.drain()
        try:
            async with asyncio.timeout(self.close_timeout):
                await asyncio.shield(self._reading)
        except TimeoutError:
            self._reading.cancel()
        await self._close_transport()

    async def wait_closed(self) -> None:
        """Wait until the connection has closed, whoever closed it."""
        await asyncio.shield(self._reading)

    def _raise_if_closed(self) -> None:
        if self.connection.state is not State.OPEN:
            raise self._closed()

    def _closed(self) -> ConnectionClosed:
        return ConnectionClosed(self.connection.close_code or CloseCode.ABNORMAL,
                                self.connection.close_reason)

    async def _read_frames(self) -> None:
        """The reader task: socket bytes into the connection, events out to the waiters."""
        try:
            while self.connection.state is not State.CLOSED:
                self.connection.receive_data(await self._reader.read(READ_SIZE))
                await self._handle_events()
                outgoing = self.connection.data_to_send()
                if outgoing and not self._writer.is_closing():
                    self._writer.write(outgoing)
            if self.connection.role is Role.CLIENT and self.connection.close_code != 1006:
                # Section 7.1.1: the server closes TCP first; give it a moment to do so.
                async with asyncio.timeout(self.close_timeout):
                    while await self._reader.read(READ_SIZE):
                        pass
        except (ConnectionError, TimeoutError):
            self.connection.receive_data(b"")
        finally:
            self._reader_finished = True
            if self._messages.empty():
                self._messages.put_nowait(None)  # wakes a recv() that is waiting
            for waiter, _ in self._pings.values():
                waiter.cancel()
            await self._close_transport()

    async def _handle_events(self) -> None:
        try:
            for event in self.connection.events():
                await self._dispatch(event)
                if self.connection.error is not None:
                    await self._let_handler_answer()
        except ProtocolError as error:
            logger.info("failing the connection: %s", error)

    async def _dispatch(self, event: Event) -> None:
        if isinstance(event, Text | Binary):
            if not self._closing:  # after close(), the application reads no more
                await self._messages.put(event.data)
        elif isinstance(event, Pong):
            waiter, sent_at = self._pings.pop(event.payload, (None, 0.0))
            if waiter is not None and not waiter.done():
                waiter.set_result(asyncio.get_running_loop().time() - sent_at)

    async def _let_handler_answer(self) -> None:
        """Before failing the connection, let the handler take (and answer) the messages that
        arrived before the bad frame: they were valid. Bounded by ``close_timeout``."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.close_timeout):
                await self._messages.join()

    async def _close_transport(self) -> None:
        if not self._writer.is_closing():
            self._writer.close()
        with contextlib.suppress(ConnectionError):
            await self._writer.wait_closed()


class Server:
    """A running server: ``port``, ``close()``, ``wait_closed()``, usable with ``async with``."""

    def __init__(self, handler: Handler, limits: Limits, *, origins: Collection[str] | None,
                 subprotocols: Sequence[str]) -> None:
        self.handler = handler
        self.limits = limits
        self.origins = origins
        self.subprotocols = subprotocols
        self.connections: set[WebSocket] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        """The port the server listens on (the one the system chose when asked for port 0)."""
        assert self._server is not None
        return self._server.sockets[0].getsockname()[1]

    @property
    def sockets(self):
        return self._server.sockets if self._server else ()

    async def start(self, host: str, port: int) -> Server:
        self._server = await asyncio.start_server(self._accept, host, port,
                                                  limit=http1.MAX_HEAD_BYTES)
        return self

    def close(self) -> None:
        """Stop accepting; close every open connection with 1001 (going away)."""
        if self._server is not None:
            self._server.close()
        for task in self._tasks:
            task.cancel()

    async def wait_closed(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def serve_forever(self) -> None:
        assert self._server is not None
        await self._server.serve_forever()

    async def __aenter__(self) -> Server:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()
        await self.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            websocket = await self._open(reader, writer)
            if websocket is not None:
                await self._run_handler(websocket)
        except asyncio.CancelledError:
            writer.close()  # the server shut down during the opening handshake
        finally:
            self._tasks.discard(task)

    async def _open(self, reader: asyncio.StreamReader,
                    writer: asyncio.StreamWriter) -> WebSocket | None:
        """Section 4.2: read the Upgrade request, answer 101 or an error status."""
        try:
            async with asyncio.timeout(self.limits.open_timeout):
                head = await reader.readuntil(b"\r\n\r\n")
            request = http1.parse_request(head)
            accepted = handshake.validate_request(request, origins=self.origins,
                                                  subprotocols=self.subprotocols)
        except (asyncio.IncompleteReadError, ConnectionError, TimeoutError):
            writer.close()
            return None
        except (asyncio.LimitOverrunError, http1.HTTPError, handshake.HandshakeError) as error:
            writer.write(handshake.build_rejection(_as_handshake_error(error)))
            with contextlib.suppress(ConnectionError):
                await writer.drain()
            writer.close()
            return None
        writer.write(handshake.build_response(accepted.key, accepted.subprotocol))
        return WebSocket(reader, writer, Role.SERVER, self.limits, request=request,
                         subprotocol=accepted.subprotocol)

    async def _run_handler(self, websocket: WebSocket) -> None:
        self.connections.add(websocket)
        code = CloseCode.NORMAL
        try:
            await self.handler(websocket)
        except ConnectionClosed:
            pass
        except asyncio.CancelledError:
            code = CloseCode.GOING_AWAY
        except Exception:
            logger.exception("the connection handler failed")
            code = CloseCode.INTERNAL_ERROR
        finally:
            self.connections.discard(websocket)
            await websocket.close(code)


def _as_handshake_error(error: Exception) -> handshake.HandshakeError:
    if isinstance(error, handshake.HandshakeError):
        return error
    if isinstance(error, http1.HTTPError):
        return handshake.HandshakeError(error.status, error.reason)
    return handshake.HandshakeError(431, "the request head is larger than this server accepts")


def serve(handler: Handler, host: str = "127.0.0.1", port: int = 0, *,
          max_size: int | None = Limits.max_size, max_queue: int = Limits.max_queue,
          open_timeout: float = Limits.open_timeout,
          close_timeout: float = Limits.close_timeout,
          origins: Collection[str] | None = None,
          subprotocols: Sequence[str] = ()) -> _Starting[Server]:
    """Start a WebSocket server; ``port=0`` lets the system pick a free port (``server.port``).

    Use ``server = await serve(...)`` or ``async with serve(...) as server:``.
    """
    limits = Limits(max_size, max_queue, open_timeout, close_timeout)
    server = Server(handler, limits, origins=origins, subprotocols=subprotocols)
    return _Starting(server.start(host, port))


def connect(uri: str, *, max_size: int | None = Limits.max_size,
            max_queue: int = Limits.max_queue, open_timeout: float = Limits.open_timeout,
            close_timeout: float = Limits.close_timeout, origin: str | None = None,
            subprotocols: Sequence[str] = ()) -> _Starting[WebSocket]:
    """Open a client connection to ``ws://host:port/path`` (section 4.1).

    Use ``ws = await connect(...)`` or ``async with connect(...) as ws:``.
    """
    limits = Limits(max_size, max_queue, open_timeout, close_timeout)
    return _Starting(_open_client(uri, limits, origin=origin, subprotocols=subprotocols))


async def _open_client(uri: str, limits: Limits, *, origin: str | None,
                       subprotocols: Sequence[str]) -> WebSocket:
    parts = urlsplit(uri)
    if parts.scheme != "ws" or not parts.hostname:
        raise ValueError(f"{uri!r} is not a ws:// URI (wss:// needs TLS, not covered here)")
    port = parts.port or 80
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    async with asyncio.timeout(limits.open_timeout):
        reader, writer = await asyncio.open_connection(parts.hostname, port,
                                                       limit=http1.MAX_HEAD_BYTES)
        try:
            key = handshake.generate_key()
            writer.write(handshake.build_request(parts.netloc, target, key, origin=origin,
                                                 subprotocols=subprotocols))
            head = await reader.readuntil(b"\r\n\r\n")
            subprotocol = handshake.validate_response(http1.parse_response(head), key,
                                                      subprotocols=subprotocols)
        except BaseException:
            writer.close()
            raise
    return WebSocket(reader, writer, Role.CLIENT, limits, subprotocol=subprotocol)


T = TypeVar("T", "Server", "WebSocket")


class _Starting(Generic[T]):
    """What ``serve`` and ``connect`` return: await it, or use it with ``async with``."""

    def __init__(self, opening: Awaitable[T]) -> None:
        self._opening = opening
        self._opened: T | None = None

    def __await__(self):
        return self._opening.__await__()

    async def __aenter__(self) -> T:
        self._opened = await self._opening
        return self._opened

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._opened is not None
        if isinstance(self._opened, Server):
            self._opened.close()
            await self._opened.wait_closed()
        else:
            await self._opened.close()
