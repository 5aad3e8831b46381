"""An open WebSocket on asyncio: ``send``, ``recv``, ``async for``, ``ping``, ``close``.

``WebSocket`` is the asyncio protocol of a TCP connection once the opening handshake is done.
It only moves bytes: ``data_received`` feeds the sans-I/O ``Connection`` and hands the messages
it decodes to ``recv()``; what ``Connection`` returns is written to the transport. Parsing in
``data_received`` costs no extra task switch per message, which is what makes it as fast as
the websockets library.

Beside the reader, one small task: the keepalive (section 5.5.2), which pings every
``ping_interval`` seconds and fails the connection with 1011 when no pong comes within
``ping_timeout``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections import deque
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass

from wsteach import http1
from wsteach.connection import (
    Binary,
    Close,
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


@dataclass(frozen=True)
class Limits:
    """A connection's limits and timeouts, named and defaulted as in the websockets library.

    - ``max_size``: the largest message, in bytes; a bigger one fails the connection with 1009.
      None: no limit.
    - ``max_queue``: messages received but not yet read; when it is full, reading pauses and
      TCP's flow control slows the peer down (read back-pressure).
    - ``open_timeout``: seconds for the opening handshake.
    - ``close_timeout``: seconds to wait for the peer's part of the closing handshake, and for
      TCP to close after it.
    - ``ping_interval``: seconds between keepalive pings; None: no keepalive.
    - ``ping_timeout``: seconds to wait for the pong; without it the connection fails with 1011
      "keepalive ping timeout" and TCP is dropped. None: ping, but never time out.
    - ``write_limit``: ``send()`` waits while more than this many bytes wait to be sent
      (write back-pressure).
    - ``max_send_buffer``: ``broadcast()`` does not wait; a connection with more than this many
      bytes unsent is closed with 1013 (try again later) instead of buffering without end.
    """

    max_size: int | None = 2**20
    max_queue: int = 16
    open_timeout: float = 10
    close_timeout: float = 10
    ping_interval: float | None = 20
    ping_timeout: float | None = 20
    write_limit: int = 2**15
    max_send_buffer: int = 2**20


class WebSocket(asyncio.Protocol):
    """An open WebSocket, client or server side."""

    def __init__(self, role: Role, limits: Limits, *, request: http1.Request | None = None,
                 response: http1.Response | None = None,
                 subprotocol: str | None = None) -> None:
        self.connection = Connection(role, max_message_size=limits.max_size)
        self.limits = limits
        self.request = request  # the Upgrade request (server side)
        self.response = response  # the 101 answer (client side)
        self.subprotocol = subprotocol
        self.latency = 0.0  # seconds between the last keepalive ping and its pong
        self.remote_address: tuple | None = None
        self.local_address: tuple | None = None
        self._loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None  # the TCP (or TLS) connection
        self._messages: deque[str | bytes] = deque()
        self._message_waiter: asyncio.Future[None] | None = None
        self._all_read_waiter: asyncio.Future[None] | None = None
        self._reading_paused = False
        self._drain_waiter: asyncio.Future[None] | None = None
        self._pings: dict[bytes, tuple[asyncio.Future[float], float]] = {}
        self._tcp_closed: asyncio.Future[None] = self._loop.create_future()
        self._closing = False  # close() was called: unread messages are dropped
        self._failing: asyncio.Task[None] | None = None
        self._close_timer: asyncio.TimerHandle | None = None
        self._keepalive: asyncio.Task[None] | None = None

    # ---- what the application sees -------------------------------------------------------

    @property
    def state(self) -> State:
        return self.connection.state

    @property
    def close_code(self) -> int | None:
        """The close code once the connection has closed (1006 if TCP ended without one)."""
        return self.connection.close_code if self.connection.state is State.CLOSED else None

    @property
    def close_reason(self) -> str | None:
        return self.connection.close_reason if self.connection.state is State.CLOSED else None

    @property
    def unsent(self) -> int:
        """Bytes written but not yet taken by the kernel: what the peer has not read yet."""
        return self.transport.get_write_buffer_size() if self.transport else 0

    async def send(self, message: str | bytes) -> None:
        """Send a text (str) or binary (bytes) message; waits while too much is unsent.

        Raises ``ConnectionClosed`` once the connection has closed.
        """
        if isinstance(message, str):
            await self.send_raw(self.connection.send_text(message))
        else:
            await self.send_raw(self.connection.send_binary(message))

    async def send_raw(self, data: bytes) -> None:
        """Write bytes built by hand (a lesson's own frames, valid or not) as they are; waits
        while too much is unsent."""
        self._write(data)
        if self._drain_waiter is not None:
            await asyncio.shield(self._drain_waiter)

    async def recv(self) -> str | bytes:
        """The next message: ``str`` for text, ``bytes`` for binary.

        Raises ``ConnectionClosed`` once the connection has closed and every message was read.
        """
        while not self._messages:
            if self.connection.state is State.CLOSED or self._tcp_closed.done():
                raise self.connection.closed_error()
            self._message_waiter = self._loop.create_future()
            try:
                await self._message_waiter
            finally:
                self._message_waiter = None
        message = self._messages.popleft()
        if not self._messages:
            self._wake(self._all_read_waiter)
        if self._reading_paused and len(self._messages) < self.limits.max_queue:
            self._reading_paused = False
            self.transport.resume_reading()
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
        """Send a ping; returns an awaitable that gives the round-trip time when the pong comes.

        A pong answers its ping and every ping sent before it (section 5.5.3 lets a peer answer
        only the latest).
        """
        payload = os.urandom(4) if data is None else data
        if payload in self._pings:
            raise ValueError("a ping with this payload is already waiting for its pong")
        self._write(self.connection.ping(payload))
        waiter = self._loop.create_future()
        self._pings[payload] = (waiter, self._loop.time())
        return waiter

    async def close(self, code: int = CloseCode.NORMAL, reason: str = "") -> None:
        """The closing handshake (section 7.1.2): send close, wait for the peer's and for TCP.

        After ``close_timeout`` seconds without them, TCP is dropped.
        """
        self._closing = True
        self._messages.clear()  # unread messages are dropped
        if self._reading_paused:
            self._reading_paused = False
            self.transport.resume_reading()
        with contextlib.suppress(ConnectionClosed):
            self._write(self.connection.close(code, reason))
        try:
            async with asyncio.timeout(self.limits.close_timeout):
                await asyncio.shield(self._tcp_closed)
        except TimeoutError:
            self._drop()

    def fail(self, code: int, reason: str = "") -> None:
        """Fail the connection now (section 7.1.7), for a reason of ours: send a close frame
        with ``code`` and ``reason``, wake whoever waits on it, and end our side of TCP. The
        peer may still answer and close in turn (then a browser reports a clean close with our
        code); after ``close_timeout`` TCP is dropped. ``recv()`` and ``send()`` raise
        ``ConnectionClosed`` from then on. Used by the keepalive (1011) and for a peer too slow
        to read what we broadcast (1013)."""
        self._write(self.connection.fail(code, reason))
        self._messages.clear()
        self._wake(self._message_waiter)
        if self.transport is not None and not self._tcp_closed.done():
            if self.transport.can_write_eof():
                self.transport.write_eof()  # a half-close: the peer's reply can still arrive
            else:  # TLS cannot half-close
                self.transport.close()
            self._close_timer = self._loop.call_later(self.limits.close_timeout, self._drop)

    async def wait_closed(self) -> None:
        """Wait until the connection has closed, whoever closed it."""
        await asyncio.shield(self._tcp_closed)

    # ---- asyncio's protocol callbacks ------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Called when the opening handshake hands the transport over."""
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.set_write_buffer_limits(high=self.limits.write_limit)
        self.remote_address = transport.get_extra_info("peername")
        self.local_address = transport.get_extra_info("sockname")
        if not transport.is_reading():
            transport.resume_reading()  # paused while the opening handshake was processed
        if self.limits.ping_interval is not None:
            self._keepalive = self._loop.create_task(self._keep_alive())

    def data_received(self, data: bytes) -> None:
        connection = self.connection
        connection.receive_data(data)
        if self._failing is not None:
            return  # section 7.1.7: after failing, what comes is read and discarded
        if connection.error is not None:
            self._failing = self._loop.create_task(self._fail_after_valid_messages())
            return
        for event in connection.events():
            self._dispatch(event)
        self._write(connection.data_to_send())

    def eof_received(self) -> None:
        self._tcp_ended()
        # Returning None: asyncio closes the transport, then calls connection_lost.

    def connection_lost(self, exc: Exception | None) -> None:
        self._tcp_ended()
        if not self._tcp_closed.done():
            self._tcp_closed.set_result(None)
        for task in (self._keepalive, self._failing):
            if task is not None:
                task.cancel()
        if self._close_timer is not None:
            self._close_timer.cancel()
        for waiter, _ in self._pings.values():
            waiter.cancel()
        self._wake(self._message_waiter)
        if self._drain_waiter is not None and not self._drain_waiter.done():
            self._drain_waiter.set_exception(self.connection.closed_error())
            self._drain_waiter.exception()  # marked as retrieved: nobody may be waiting

    def pause_writing(self) -> None:
        self._drain_waiter = self._loop.create_future()

    def resume_writing(self) -> None:
        self._wake(self._drain_waiter)
        self._drain_waiter = None

    # ---- inside ----------------------------------------------------------------------------

    def _tcp_ended(self) -> None:
        """The peer closed TCP: 1006 if the closing handshake had not finished."""
        self.connection.receive_data(b"")
        if self._failing is None:
            with contextlib.suppress(ProtocolError):  # a broken frame was the last thing read
                for event in self.connection.events():
                    self._dispatch(event)

    def _dispatch(self, event: Event) -> None:
        if isinstance(event, Text | Binary):
            if self._closing:
                return  # after close(), the application reads no more
            self._messages.append(event.data)
            self._wake(self._message_waiter)
            if len(self._messages) >= self.limits.max_queue and not self._reading_paused:
                self._reading_paused = True
                self.transport.pause_reading()
        elif isinstance(event, Pong):
            self._pong_received(event.payload)
        elif isinstance(event, Close):
            self._wake(self._message_waiter)
            self._write(self.connection.data_to_send())  # our reply, if the peer began
            self._after_closing_handshake()

    def _pong_received(self, payload: bytes) -> None:
        if payload not in self._pings:
            return  # unsolicited: section 5.5.3 allows it, and it needs no answer
        now = self._loop.time()
        while self._pings:
            sent, (waiter, sent_at) = next(iter(self._pings.items()))
            del self._pings[sent]
            if not waiter.done():
                waiter.set_result(now - sent_at)
            if sent == payload:
                break

    def _after_closing_handshake(self) -> None:
        """Section 7.1.1: the server closes TCP first; the client waits for it to do so."""
        if self._tcp_closed.done():
            return
        if self.connection.role is Role.SERVER:
            self.transport.close()
        else:
            self._close_timer = self._loop.call_later(self.limits.close_timeout, self._drop)

    async def _fail_after_valid_messages(self) -> None:
        """The peer broke a rule. Let the handler read (and answer) the messages that came
        before the bad frame, then send our close frame (section 7.1.7) and read on, discarding,
        until the peer closes TCP or ``close_timeout`` passes.

        Reading on matters: a socket closed while the peer is still sending resets the
        connection, and the reset can destroy our close frame before the peer reads it.
        """
        try:
            for event in self.connection.events():
                self._dispatch(event)
                if self._messages:  # wait for the handler to read them
                    self._all_read_waiter = self._loop.create_future()
                    async with asyncio.timeout(self.limits.close_timeout):
                        await self._all_read_waiter
                await asyncio.sleep(0)  # and to answer the last one
        except ProtocolError as error:
            logger.info("failing the connection: %s", error)
        except TimeoutError:
            pass
        self._messages.clear()
        self._write(self.connection.data_to_send())
        self._wake(self._message_waiter)
        if self.connection.role is Role.SERVER and self.transport.can_write_eof():
            self.transport.write_eof()  # the server closes first (7.1.1): no more from us
        self._close_timer = self._loop.call_later(self.limits.close_timeout, self._drop)

    async def _keep_alive(self) -> None:
        """Ping every ``ping_interval``; no pong within ``ping_timeout``: fail with 1011."""
        assert self.limits.ping_interval is not None
        try:
            while True:
                await asyncio.sleep(self.limits.ping_interval)
                pong = await self.ping()
                try:
                    async with asyncio.timeout(self.limits.ping_timeout):
                        self.latency = await pong
                except TimeoutError:
                    logger.info("no pong within %s s: failing the connection",
                                self.limits.ping_timeout)
                    self.fail(CloseCode.INTERNAL_ERROR, "keepalive ping timeout")
                    self._drop()  # the peer is silent: do not wait for TCP to close
                    return
        except ConnectionClosed:
            return

    def _write(self, data: bytes) -> None:
        if data and self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def _drop(self) -> None:
        """Drop TCP without waiting for anything more (after a timeout)."""
        if self.transport is not None:
            self.transport.abort()

    @staticmethod
    def _wake(waiter: asyncio.Future[None] | None) -> None:
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
