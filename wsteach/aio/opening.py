"""Reading the HTTP head of the opening handshake (RFC 6455 section 4), on either side.

The server reads the client's Upgrade request, the client reads the server's 101 answer. Both
are an HTTP/1.1 head: lines up to an empty line (RFC 9112 section 2.1). ``HeadReader`` is the
asyncio protocol a new TCP connection starts with; once the head is in, the connection is
handed to a ``WebSocket``, with whatever bytes came after the head.
"""

from __future__ import annotations

import asyncio

from wsteach import http1


class HeadReader(asyncio.Protocol):
    """Collects bytes until the empty line that ends an HTTP head; ``head`` is a future of it."""

    def __init__(self) -> None:
        self.head: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self._buffer = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if self.head.done():
            return  # bytes after the head: they belong to the WebSocket
        try:
            end = http1.head_end(self._buffer)
        except http1.HTTPError as error:  # 431: the head is too long
            self.head.set_exception(error)
            return
        if end is not None:
            self.head.set_result(bytes(self._buffer[:end]))
            del self._buffer[:end]
            assert self.transport is not None
            self.transport.pause_reading()  # the WebSocket resumes reading once it takes over

    def eof_received(self) -> None:
        if not self.head.done():
            self.head.set_exception(EOFError("the peer closed TCP before the head ended"))

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.head.done():
            self.head.set_exception(ConnectionError("the TCP connection was lost"))

    def rest(self) -> bytes:
        """The bytes that arrived after the head (a client's first frames, say)."""
        return bytes(self._buffer)
