"""The server side: accept TCP, answer the opening handshake (RFC 6455 section 4.2), run the
handler, and close with the right code when it ends.

```
async def echo(ws):
    async for message in ws:
        await ws.send(message)

async with serve(echo, "127.0.0.1", 0) as server:     # port 0: the system picks one
    print(server.port)
```
"""

from __future__ import annotations

import asyncio
import inspect
import ssl as ssl_module
from collections.abc import Awaitable, Callable, Collection, Sequence

from wsteach import handshake, http1
from wsteach.aio.connection import Limits, WebSocket, logger
from wsteach.aio.opening import HeadReader
from wsteach.connection import ConnectionClosed, Role
from wsteach.frames import CloseCode

Handler = Callable[[WebSocket], Awaitable[None]]
# Called with each request before the handshake: return the bytes of an HTTP response to send
# instead (a page, a 403, a 400 for a transport we do not speak), or None to go on.
ProcessRequest = Callable[[http1.Request], bytes | None | Awaitable[bytes | None]]


class Server:
    """A running server: ``port``, ``connections``, ``close()``, ``wait_closed()``."""

    def __init__(self, handler: Handler, limits: Limits, *, origins: Collection[str] | None,
                 subprotocols: Sequence[str], process_request: ProcessRequest | None) -> None:
        self.handler = handler
        self.limits = limits
        self.origins = origins
        self.subprotocols = subprotocols
        self.process_request = process_request
        self.connections: set[WebSocket] = set()  # open, with their handler running
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        """The port the server listens on (the one the system chose when asked for port 0)."""
        assert self._server is not None
        return self._server.sockets[0].getsockname()[1]

    @property
    def sockets(self) -> tuple:
        return tuple(self._server.sockets) if self._server else ()

    async def start(self, host: str, port: int, ssl: ssl_module.SSLContext | None) -> Server:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._accept, host, port, ssl=ssl)
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

    def _accept(self) -> HeadReader:
        """A new TCP connection: read its request head, then handle it in a task."""
        reader = HeadReader()
        task = asyncio.get_running_loop().create_task(self._serve_connection(reader))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return reader

    async def _serve_connection(self, reader: HeadReader) -> None:
        try:
            websocket = await self._open(reader)
        except asyncio.CancelledError:  # the server shut down during the opening handshake
            if reader.transport is not None:
                reader.transport.abort()
            return
        if websocket is not None:
            await self._run_handler(websocket)

    async def _open(self, reader: HeadReader) -> WebSocket | None:
        """Section 4.2: read the Upgrade request, answer 101 or an error status."""
        try:
            async with asyncio.timeout(self.limits.open_timeout):
                head = await reader.head
            request = http1.parse_request(head)
            answer = await self._process(request)
            if answer is None:
                accepted = handshake.validate_request(request, origins=self.origins,
                                                      subprotocols=self.subprotocols)
        except (EOFError, ConnectionError, TimeoutError):
            _close(reader)
            return None
        except (http1.HTTPError, handshake.HandshakeError) as error:
            answer = handshake.build_rejection(_as_handshake_error(error))
        transport = reader.transport
        assert transport is not None
        if answer is not None:
            if not transport.is_closing():
                transport.write(answer)
            _close(reader)
            return None
        if transport.is_closing():
            return None
        transport.write(handshake.build_response(accepted.key, accepted.subprotocol))
        websocket = WebSocket(Role.SERVER, self.limits, request=request,
                              subprotocol=accepted.subprotocol)
        transport.set_protocol(websocket)
        websocket.connection_made(transport)
        if rest := reader.rest():
            websocket.data_received(rest)
        return websocket

    async def _process(self, request: http1.Request) -> bytes | None:
        if self.process_request is None:
            return None
        answer = self.process_request(request)
        return await answer if inspect.isawaitable(answer) else answer

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


def _close(reader: HeadReader) -> None:
    if reader.transport is not None and not reader.transport.is_closing():
        reader.transport.close()


def _as_handshake_error(error: Exception) -> handshake.HandshakeError:
    if isinstance(error, handshake.HandshakeError):
        return error
    assert isinstance(error, http1.HTTPError)
    return handshake.HandshakeError(error.status, error.reason)


class serve:  # noqa: N801 - a class so that it can be awaited and used with ``async with``
    """Start a WebSocket server; ``port=0`` lets the system pick a free port (``server.port``).

    Use ``server = await serve(...)`` or ``async with serve(...) as server:``. The keyword
    arguments are the ``Limits`` (see there), and:

    - ``origins``: the ``Origin`` values accepted (section 10.2); None accepts any.
    - ``subprotocols``: the ones this server speaks, in order of preference (section 1.9).
    - ``process_request``: called with each request before the handshake; it may return the
      bytes of an HTTP response to send instead (say a page at ``/``), or None.
    - ``ssl``: an ``ssl.SSLContext`` to serve ``wss://`` (TLS) instead of ``ws://``.
    """

    def __init__(self, handler: Handler, host: str = "127.0.0.1", port: int = 0, *,
                 max_size: int | None = Limits.max_size, max_queue: int = Limits.max_queue,
                 open_timeout: float = Limits.open_timeout,
                 close_timeout: float = Limits.close_timeout,
                 ping_interval: float | None = Limits.ping_interval,
                 ping_timeout: float | None = Limits.ping_timeout,
                 write_limit: int = Limits.write_limit,
                 max_send_buffer: int = Limits.max_send_buffer,
                 origins: Collection[str] | None = None, subprotocols: Sequence[str] = (),
                 process_request: ProcessRequest | None = None,
                 ssl: ssl_module.SSLContext | None = None) -> None:
        limits = Limits(max_size, max_queue, open_timeout, close_timeout, ping_interval,
                        ping_timeout, write_limit, max_send_buffer)
        self.server = Server(handler, limits, origins=origins, subprotocols=subprotocols,
                             process_request=process_request)
        self._start = (host, port, ssl)

    def __await__(self):
        return self.server.start(*self._start).__await__()

    async def __aenter__(self) -> Server:
        return await self

    async def __aexit__(self, *exc_info: object) -> None:
        self.server.close()
        await self.server.wait_closed()
