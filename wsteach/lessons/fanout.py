"""Fan-out, measured: how many deliveries a second one server makes, broadcasting to many.

The clients are as cheap as a client can be, so that what is measured is the server: each is
an ``asyncio.Protocol`` that opens its WebSocket with a handshake written by hand and then only
counts the bytes that arrive. It need not parse them: a server's text frame of n bytes (up to
125) is n + 2 bytes on the wire, with no mask (RFC 6455 section 5.2), so a client that has
counted ``messages * (n + 2)`` bytes has them all.

Notebook 10 runs it small, clients and server in the kernel; ``benchmarks/fanout.py`` runs it
with 1000 clients and the server in a process of its own.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from wsteach import handshake, http1

YIELD_EVERY = 10  # broadcasts between two chances for the clients (and the kernel) to read


def frame_bytes(size: int) -> int:
    """Bytes on the wire of an unmasked frame with a payload of ``size`` bytes (section 5.2)."""
    return size + (2 if size <= 125 else 4 if size <= 0xFFFF else 10)


class CountingClient(asyncio.Protocol):
    """A WebSocket client that only counts what it receives after the 101."""

    def __init__(self) -> None:
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.received = 0  # bytes after the handshake
        self.transport: asyncio.Transport | None = None
        self._head = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self.opened.done():
            self.received += len(data)
            return
        self._head += data
        end = http1.head_end(self._head)
        if end is not None:
            if not self._head.startswith(b"HTTP/1.1 101"):
                self.opened.set_exception(ConnectionError(bytes(self._head[:60]).decode()))
                return
            self.received = len(self._head) - end
            self.opened.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(ConnectionError("closed before the handshake ended"))


async def open_clients(port: int, count: int, *, origin: str | None = None,
                       path: str = "/") -> list[CountingClient]:
    """``count`` counting clients connected to ``ws://127.0.0.1:port/path``."""
    loop = asyncio.get_running_loop()

    async def one() -> CountingClient:
        _, client = await loop.create_connection(CountingClient, "127.0.0.1", port)
        assert client.transport is not None
        client.transport.write(handshake.build_request(
            f"127.0.0.1:{port}", path, handshake.generate_key(), origin=origin))
        await client.opened
        return client

    clients = []
    for start in range(0, count, 100):  # in batches: the listen backlog stays small
        clients += await asyncio.gather(*(one() for _ in range(start, min(count, start + 100))))
    return clients


async def wait_for_bytes(clients: list[CountingClient], each: int, timeout: float = 60) -> None:
    """Wait until every client has counted at least ``each`` bytes."""
    async with asyncio.timeout(timeout):
        while any(client.received < each for client in clients):
            await asyncio.sleep(0.0005)


def close_clients(clients: list[CountingClient]) -> None:
    for client in clients:
        if client.transport is not None:
            client.transport.abort()


async def deliveries_per_second(broadcast: Callable[[], None], clients: list[CountingClient],
                                messages: int, size: int) -> float:
    """Call ``broadcast()`` (which sends one ``size``-byte message to every client)
    ``messages`` times, and return deliveries a second until every client has them all."""
    for client in clients:
        client.received = 0
    started = time.perf_counter()
    await broadcast_many(broadcast, messages)
    await wait_for_bytes(clients, messages * frame_bytes(size))
    return messages * len(clients) / (time.perf_counter() - started)


async def broadcast_many(broadcast: Callable[[], None], messages: int) -> None:
    """``broadcast()`` ``messages`` times, letting the loop run every ``YIELD_EVERY``."""
    for n in range(messages):
        broadcast()
        if n % YIELD_EVERY == YIELD_EVERY - 1:
            await asyncio.sleep(0)
