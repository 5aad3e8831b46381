"""A toy of the attack that made WebSocket clients mask: proxy cache poisoning (RFC 6455 10.3).

Huang, Chen, Barth, Rescorla and Jackson ("Talking to Yourself for Fun and Profit", 2011) showed
that a script in a web page could poison the cache of a "transparent" proxy between the browser
and the web: the proxy thinks it sees HTTP requests, so a script that controls the bytes on the
wire can write a request for another site's file and have its own server answer it. Here is
that scene in miniature, everything on 127.0.0.1 with port 0:

- ``CachingProxy``: a transparent HTTP/1.1 caching proxy that knows nothing of WebSocket. It
  sends each connection to the server the client dialled, and caches the ``200`` answers to
  ``GET`` requests by Host + path. (A real transparent proxy learns the dialled address from the
  intercepted packets; here the Host of a connection's first request, looked up in ``routes``,
  stands in for DNS and that address. Host names such as ``victim.example`` are never resolved.)
  After a ``101`` it keeps reading the connection as HTTP; bytes before a request line it skips
  (RFC 6455 10.3: nobody can rule out that some deployed proxy skips non-HTTP framing), and bytes
  that hold no request line it passes on unchanged. ``log`` keeps what it saw and made of it.
- ``Origin``: a plain web server with fixed files (``victim.example``'s real one).
- ``AttackerServer``: accepts the WebSocket handshake, then answers the first frame, masked or
  not, with an HTTP response of its choice.
- ``open_and_send``: a browser running the attacker's page: opens a WebSocket through the proxy
  and sends one frame, masked with the key given (``None``: unmasked, as no RFC 6455 browser
  would send it).
- ``fetch``: a later visitor's browser asking the proxy for a file.

A toy: requests without bodies, responses framed by ``Content-Length``, no expiry.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Self

from wsteach import handshake, http1
from wsteach.frames import Frame, Opcode, decode_frame, encode_frame

READ_SIZE = 65536
# The start of an HTTP/1.1 request (RFC 9112 section 3): the proxy looks for it anywhere.
REQUEST_LINE = re.compile(rb"[A-Z]+ [!-~]+ HTTP/1\.[01]\r\n")

Address = tuple[str, int]


@dataclass(frozen=True)
class Seen:
    """One piece of traffic through the proxy: who sent it, the bytes, what the proxy made of it."""

    sender: str  # "client" or "server"
    data: bytes
    verdict: str


class _LoopbackServer:
    """A TCP server on 127.0.0.1, port 0, used as ``async with``; closing it ends every
    connection it still has."""

    def __init__(self) -> None:
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task] = set()

    @property
    def address(self) -> Address:
        assert self._server is not None, "start the server first: async with ..."
        return self._server.sockets[0].getsockname()[:2]

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._connected, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self.handle(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the peer went away
        except asyncio.CancelledError:
            pass  # the server is closing; end quietly (Python 3.11 logs cancelled handlers)
        finally:
            self._tasks.discard(task)
            writer.close()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError


class CachingProxy(_LoopbackServer):
    """A transparent caching proxy that does not understand Upgrade (see the module docstring).

    ``routes`` maps a host name to the loopback address of its server. ``cache`` maps
    ``host + path`` to the cached response bytes; ``log`` lists what the proxy saw.
    """

    def __init__(self, routes: Mapping[str, Address]) -> None:
        super().__init__()
        self.routes = dict(routes)
        self.cache: dict[str, bytes] = {}
        self.log: list[Seen] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream: asyncio.StreamWriter | None = None
        pump: asyncio.Task | None = None
        pending: deque[str | None] = deque()  # cache key of each request awaiting its response
        dialled = ""  # where this connection goes: decided by its first request
        buffer = bytearray()
        try:
            while data := await reader.read(READ_SIZE):
                buffer += data
                while buffer:
                    found = _next_request(buffer)
                    if found is None:
                        self.log.append(Seen("client", bytes(buffer),
                                             "no HTTP request here: passed on, nothing cached"))
                        if upstream is not None:
                            upstream.write(buffer)
                        buffer.clear()
                        break
                    start, end, request = found
                    if request is None:
                        break  # a request has begun: wait for the rest of its head
                    message = bytes(buffer[:end])
                    del buffer[:end]
                    host = request.headers.get("Host", "")
                    key = host + request.target
                    skipped = f" (after {start} bytes it skipped)" if start else ""
                    if request.method == "GET" and key in self.cache:
                        self.log.append(Seen("client", message,
                                             f"GET {key}{skipped}: answered from the cache"))
                        writer.write(self.cache[key])
                        continue
                    if upstream is None:
                        if host not in self.routes:
                            self.log.append(Seen("client", message, f"unknown host {host!r}"))
                            return
                        upstream_reader, upstream = await asyncio.open_connection(
                            *self.routes[host])
                        pump = asyncio.create_task(self._pump(upstream_reader, writer, pending))
                        dialled = host
                    pending.append(key if request.method == "GET" else None)
                    self.log.append(Seen("client", message, f"{request.method} {key}{skipped}: "
                                                            f"forwarded to {dialled}"))
                    upstream.write(message)
                if upstream is not None:
                    await upstream.drain()
                await writer.drain()
        finally:
            if pump is not None:
                pump.cancel()
                await asyncio.gather(pump, return_exceptions=True)
            if upstream is not None:
                upstream.close()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    pending: deque[str | None]) -> None:
        """Carry the server's bytes back to the client, caching each 200 answer to a GET."""
        buffer = bytearray()
        while data := await reader.read(READ_SIZE):
            buffer += data
            while buffer:
                if not pending:
                    self.log.append(Seen("server", bytes(buffer),
                                         "no request is waiting for these bytes: passed on, "
                                         "nothing cached"))
                    writer.write(buffer)
                    buffer.clear()
                    break
                try:
                    size = _response_size(buffer)
                except http1.HTTPError:
                    self.log.append(Seen("server", bytes(buffer),
                                         "not an HTTP response: passed on, nothing cached"))
                    writer.write(buffer)
                    buffer.clear()
                    break
                if size is None:
                    break  # wait for the rest of the response
                message = bytes(buffer[:size])
                del buffer[:size]
                key = pending.popleft()
                status = http1.parse_response(message[:http1.head_end(message)]).status
                if status == 200 and key is not None:
                    self.cache[key] = message
                    verdict = f"{status}, the answer to GET {key}: cached"
                elif status == 101:
                    verdict = "101: forwarded; the proxy does not know Upgrade and goes on " \
                              "reading HTTP"
                else:
                    verdict = f"{status}: forwarded"
                self.log.append(Seen("server", message, verdict))
                writer.write(message)
            await writer.drain()
        writer.close()


def _next_request(buffer: bytearray) -> tuple[int, int, http1.Request | None] | None:
    """Find the first request in ``buffer``: where it starts, where its head ends, and the parsed
    head (None while the head is incomplete). None when the bytes hold no HTTP request."""
    match = REQUEST_LINE.search(buffer)
    if match is None:
        return None
    start = match.start()
    try:
        end = http1.head_end(buffer[start:])
        if end is None:
            return start, len(buffer), None
        return start, start + end, http1.parse_request(bytes(buffer[start:start + end]))
    except http1.HTTPError:
        return None


def _response_size(buffer: bytes | bytearray) -> int | None:
    """The size of the complete response at the start of ``buffer``, or None if incomplete."""
    end = http1.head_end(buffer)
    if end is None:
        return None
    response = http1.parse_response(bytes(buffer[:end]))
    size = end + int(response.headers.get("Content-Length", "0"))
    return size if len(buffer) >= size else None


class Origin(_LoopbackServer):
    """A web server with fixed files: ``files`` maps a path to (content type, body)."""

    def __init__(self, files: Mapping[str, tuple[str, bytes]]) -> None:
        super().__init__()
        self.files = dict(files)
        self.requests = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:  # until the client closes: readuntil raises IncompleteReadError
            request = http1.parse_request(await reader.readuntil(http1.END_OF_HEAD))
            self.requests += 1
            if request.target in self.files:
                content_type, body = self.files[request.target]
                headers = [("Content-Type", content_type)]
                writer.write(http1.build_response(200, "OK", headers, body))
            else:
                writer.write(http1.build_response(404, "Not Found", [("Content-Length", "0")]))
            await writer.drain()


class AttackerServer(_LoopbackServer):
    """The attacker's WebSocket server: accepts any handshake, then answers the first frame
    with ``response`` (raw bytes, not a frame: only a proxy is meant to read them).

    ``received`` holds the payload of each frame it got, unmasked: the key travels in the frame,
    so masking hides nothing from the server (or from anyone else).
    """

    def __init__(self, response: bytes) -> None:
        super().__init__()
        self.response = response
        self.received: list[bytes] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = http1.parse_request(await reader.readuntil(http1.END_OF_HEAD))
        writer.write(handshake.build_response(request.headers.get("Sec-WebSocket-Key", "")))
        buffer = bytearray()
        while (decoded := decode_frame(buffer)) is None:
            data = await reader.read(READ_SIZE)
            if not data:
                return
            buffer += data
        frame, _ = decoded
        self.received.append(frame.payload)
        writer.write(self.response)
        await writer.drain()
        await reader.read()  # until the client closes


async def read_response(reader: asyncio.StreamReader) -> tuple[http1.Response, bytes]:
    """Read one response framed by ``Content-Length``: (head, body)."""
    response = http1.parse_response(await reader.readuntil(http1.END_OF_HEAD))
    body = await reader.readexactly(int(response.headers.get("Content-Length", "0")))
    return response, body


async def open_and_send(proxy: Address, host: str, payload: bytes,
                        mask_key: bytes | None) -> bytes:
    """A browser running a page of ``host``: open a WebSocket to ``host`` through the proxy, send
    ``payload`` in one text frame masked with ``mask_key`` (None: unmasked), and wait for the
    answer (the attacker's server answers every frame). Returns the frame's bytes as sent."""
    reader, writer = await asyncio.open_connection(*proxy)
    try:
        key = handshake.generate_key()
        writer.write(handshake.build_request(host, "/", key))
        head = await reader.readuntil(http1.END_OF_HEAD)
        handshake.validate_response(http1.parse_response(head), key)
        wire = encode_frame(Frame(Opcode.TEXT, payload), mask_key)
        writer.write(wire)
        await read_response(reader)
        return wire
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def fetch(proxy: Address, host: str, path: str) -> tuple[int, bytes]:
    """A browser asking the proxy for ``http://host/path``: (status, body)."""
    reader, writer = await asyncio.open_connection(*proxy)
    try:
        writer.write(http1.build_request("GET", path, [("Host", host)]))
        response, body = await read_response(reader)
        return response.status, body
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
