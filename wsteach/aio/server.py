"""The server side: accept, the opening handshake (RFC 6455 section 4.2), the handler."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Collection, Sequence

from wsteach import handshake, http1
from wsteach.aio.connection import Handler, Limits, WebSocket, _Starting, logger
from wsteach.connection import ConnectionClosed, Role
from wsteach.frames import CloseCode


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


