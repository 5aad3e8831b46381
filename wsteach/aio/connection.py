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
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from wsteach import http1
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




T = TypeVar("T")


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
        if isinstance(self._opened, WebSocket):
            await self._opened.close()
        else:
            self._opened.close()
            await self._opened.wait_closed()
