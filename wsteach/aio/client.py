"""The client side: ``connect``, the opening handshake (RFC 6455 section 4.1), and reconnecting.

```
async with connect("ws://127.0.0.1:9001/") as ws:     # one connection
    await ws.send("hello")

async for ws in connect("ws://127.0.0.1:9001/"):       # reconnect whenever it is lost
    try:
        async for message in ws:
            ...
    except ConnectionClosed:
        continue                                       # connect again
```

When a connection attempt fails, the next waits a delay drawn by ``backoff_delays``:
exponential backoff with full jitter, so that a thousand clients of a restarted server do not
all come back in the same instant (section 7.2.3 asks clients to spread their reconnects).
"""

from __future__ import annotations

import asyncio
import itertools
import random
import ssl as ssl_module
from collections.abc import AsyncIterator, Iterator, Sequence
from urllib.parse import urlsplit

from wsteach import handshake, http1
from wsteach.aio.connection import Limits, WebSocket, logger
from wsteach.aio.opening import HeadReader
from wsteach.connection import Role

# Near the websockets library's: 3.1 s, growing by the golden ratio, capped at 90 s.
MIN_DELAY = 3.1
FACTOR = 1.618
MAX_DELAY = 90.0
# Answers a retry may fix: the server or a proxy in front of it is failing or restarting.
RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})


def backoff_delays(*, min_delay: float = MIN_DELAY, factor: float = FACTOR,
                   max_delay: float = MAX_DELAY, jitter: bool = True,
                   rng: random.Random | None = None) -> Iterator[float]:
    """The seconds to wait before each retry: exponential backoff, with full jitter.

    Retry n waits up to ``min(max_delay, min_delay * factor**n)``; with ``jitter`` the wait is
    drawn uniformly between 0 and that ceiling ("full jitter"), otherwise it is the ceiling
    itself. Pass ``rng`` (a seeded ``random.Random``) for a reproducible schedule.
    """
    draw = (rng or random).uniform
    for attempt in itertools.count():
        ceiling = min(max_delay, min_delay * factor ** attempt)
        yield draw(0, ceiling) if jitter else ceiling


def is_retryable(error: Exception) -> bool:
    """Whether trying again might succeed: network errors and 5xx answers, not a 4xx or a bad
    URI (those would fail again in exactly the same way)."""
    if isinstance(error, handshake.HandshakeError):
        return error.status in RETRYABLE_STATUSES
    return isinstance(error, OSError | TimeoutError | EOFError)


class connect:  # noqa: N801 - a class so that it can be awaited, used with ``async with``
    #                            and iterated with ``async for``, as in the websockets library
    """Open a client connection to ``ws://host:port/path`` or ``wss://...`` (section 4.1).

    Use ``ws = await connect(...)``, ``async with connect(...) as ws:``, or
    ``async for ws in connect(...):`` to reconnect after a failed attempt or a lost connection.
    The keyword arguments are the ``Limits`` (see there), and:

    - ``origin``: the ``Origin`` header to send (browsers always send one).
    - ``subprotocols``: the ones to offer, in order of preference (section 1.9).
    - ``ssl``: the ``ssl.SSLContext`` for ``wss://`` (default: the system's trusted CAs).
    - ``min_delay``, ``factor``, ``max_delay``, ``jitter``: the backoff between attempts
      (``backoff_delays``).
    """

    def __init__(self, uri: str, *, max_size: int | None = Limits.max_size,
                 max_queue: int = Limits.max_queue, open_timeout: float = Limits.open_timeout,
                 close_timeout: float = Limits.close_timeout,
                 ping_interval: float | None = Limits.ping_interval,
                 ping_timeout: float | None = Limits.ping_timeout,
                 write_limit: int = Limits.write_limit,
                 origin: str | None = None, subprotocols: Sequence[str] = (),
                 ssl: ssl_module.SSLContext | None = None, min_delay: float = MIN_DELAY,
                 factor: float = FACTOR, max_delay: float = MAX_DELAY,
                 jitter: bool = True) -> None:
        self.uri = uri
        self.limits = Limits(max_size, max_queue, open_timeout, close_timeout, ping_interval,
                             ping_timeout, write_limit)
        self.origin = origin
        self.subprotocols = subprotocols
        self.ssl = ssl
        self.backoff = {"min_delay": min_delay, "factor": factor, "max_delay": max_delay,
                        "jitter": jitter}
        self._websocket: WebSocket | None = None

    def __await__(self):
        return self._open().__await__()

    async def __aenter__(self) -> WebSocket:
        self._websocket = await self._open()
        return self._websocket

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._websocket is not None
        await self._websocket.close()

    async def __aiter__(self) -> AsyncIterator[WebSocket]:
        delays: Iterator[float] | None = None
        while True:
            try:
                websocket = await self._open()
            except Exception as error:
                if not is_retryable(error):
                    raise
                delays = delays or backoff_delays(**self.backoff)
                delay = next(delays)
                logger.info("connecting to %s failed (%s); retrying in %.2f s", self.uri,
                            error, delay)
                await asyncio.sleep(delay)
                continue
            delays = None  # it worked: after the next loss, start again from the first delay
            try:
                yield websocket
            finally:
                await websocket.close()

    async def _open(self) -> WebSocket:
        parts = urlsplit(self.uri)
        if parts.scheme not in ("ws", "wss") or not parts.hostname:
            raise ValueError(f"{self.uri!r} is not a ws:// or wss:// URI")
        secure = parts.scheme == "wss"
        context = (self.ssl or ssl_module.create_default_context()) if secure else None
        port = parts.port or (443 if secure else 80)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        loop = asyncio.get_running_loop()
        transport: asyncio.Transport | None = None
        try:
            async with asyncio.timeout(self.limits.open_timeout):
                transport, reader = await loop.create_connection(
                    HeadReader, parts.hostname, port, ssl=context,
                    server_hostname=parts.hostname if secure else None)
                key = handshake.generate_key()
                transport.write(handshake.build_request(parts.netloc, target, key,
                                                        origin=self.origin,
                                                        subprotocols=self.subprotocols))
                response = http1.parse_response(await reader.head)
                subprotocol = handshake.validate_response(response, key,
                                                          subprotocols=self.subprotocols)
        except BaseException:
            if transport is not None:
                transport.close()
            raise
        websocket = WebSocket(Role.CLIENT, self.limits, response=response,
                              subprotocol=subprotocol)
        transport.set_protocol(websocket)
        websocket.connection_made(transport)
        if rest := reader.rest():
            websocket.data_received(rest)
        return websocket
