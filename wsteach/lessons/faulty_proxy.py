"""A TCP proxy on loopback that injects the faults of real networks, on command, while running.

Between a client and a server (both on 127.0.0.1) it forwards every byte both ways, until told:

- ``delay(seconds)``: each piece of data is held this long before it is forwarded (latency).
- ``throttle(bytes_per_second)``: forward no faster than this (a slow link).
- ``blackhole()``: forward nothing and read nothing more, but keep both TCP connections open:
  the laptop whose lid was closed, the Wi-Fi that went away. Neither end gets an error; what
  they send piles up in the kernels' buffers. ``heal()`` forwards it all again.
- ``cut()``: end every connection with a TCP reset (RST), as a crashed NAT box or a pulled
  cable followed by a reboot does; both ends see the connection fail.

It needs no root and no network namespace: it is an ordinary asyncio server. New connections
get the current mode; ``cut()`` and ``blackhole()`` apply to the open ones too.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from dataclasses import dataclass, field

READ_SIZE = 65536


@dataclass
class Traffic:
    """What went through: bytes forwarded each way, connections accepted and reset."""

    to_server: int = 0
    to_client: int = 0
    connections: int = 0
    resets: int = 0


@dataclass(eq=False)  # compared by identity: a pipe is kept in a set
class _Pipe:
    """One proxied connection: the two streams, and the two forwarding tasks."""

    client: asyncio.StreamWriter
    server: asyncio.StreamWriter
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


class FaultyProxy:
    """``async with FaultyProxy(server_port) as proxy:`` then connect to ``proxy.port``."""

    def __init__(self, server_port: int, server_host: str = "127.0.0.1") -> None:
        self.server_address = (server_host, server_port)
        self.traffic = Traffic()
        self.latency = 0.0
        self.rate: float | None = None  # bytes per second, None: as fast as possible
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._pipes: set[_Pipe] = set()
        self._listener: asyncio.Server | None = None

    @property
    def port(self) -> int:
        assert self._listener is not None
        return self._listener.sockets[0].getsockname()[1]

    async def __aenter__(self) -> FaultyProxy:
        self._listener = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._listener is not None
        self._listener.close()
        self.cut()
        await self._listener.wait_closed()

    # ---- the faults ------------------------------------------------------------------------

    def delay(self, seconds: float) -> None:
        self.latency = seconds

    def throttle(self, bytes_per_second: float | None) -> None:
        self.rate = bytes_per_second

    def blackhole(self) -> None:
        self._flowing.clear()

    @property
    def blackholed(self) -> bool:
        return not self._flowing.is_set()

    def heal(self) -> None:
        """Back to normal: no delay, no throttle, no blackhole."""
        self.latency, self.rate = 0.0, None
        self._flowing.set()

    def cut(self) -> int:
        """Reset every open connection, both sides; returns how many were cut."""
        pipes = list(self._pipes)
        for pipe in pipes:
            for task in pipe.tasks:
                task.cancel()
            for writer in (pipe.client, pipe.server):
                _reset(writer)
            self._pipes.discard(pipe)
        self.traffic.resets += len(pipes)
        return len(pipes)

    # ---- forwarding ------------------------------------------------------------------------

    async def _accept(self, client_reader: asyncio.StreamReader,
                      client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.server_address)
        except OSError:
            _reset(client_writer)  # the server is down: the client sees the connection fail
            return
        self.traffic.connections += 1
        pipe = _Pipe(client_writer, server_writer)
        self._pipes.add(pipe)
        loop = asyncio.get_running_loop()
        pipe.tasks = [
            loop.create_task(self._forward(client_reader, server_writer, "to_server")),
            loop.create_task(self._forward(server_reader, client_writer, "to_client")),
        ]
        await asyncio.gather(*pipe.tasks, return_exceptions=True)
        if pipe in self._pipes:
            self._pipes.discard(pipe)
            for writer in (client_writer, server_writer):
                writer.close()

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                       direction: str) -> None:
        """Copy one direction, applying the faults; an end of file is passed on as one."""
        loop = asyncio.get_running_loop()
        with contextlib.suppress(ConnectionError):
            while True:
                await self._flowing.wait()  # blackholed: read nothing, so nothing moves
                data = await reader.read(READ_SIZE)
                arrived = loop.time()
                if not data:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
                if self.rate:
                    await asyncio.sleep(len(data) / self.rate)
                if self.latency:
                    await asyncio.sleep(max(0.0, arrived + self.latency - loop.time()))
                await self._flowing.wait()  # a blackhole that began meanwhile holds this too
                writer.write(data)
                setattr(self.traffic, direction, getattr(self.traffic, direction) + len(data))
                await writer.drain()


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with SO_LINGER 0: the kernel sends RST instead of FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
