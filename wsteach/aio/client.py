"""The client side: ``connect`` and the opening handshake (RFC 6455 section 4.1)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from urllib.parse import urlsplit

from wsteach import handshake, http1
from wsteach.aio.connection import Limits, WebSocket, _Starting
from wsteach.connection import Role


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


