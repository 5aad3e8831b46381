"""A small Socket.IO server on ``wsteach.aio``: WebSocket transport only, namespace ``/``.

What it does, in the order a session goes (the specs: socket.io's
``docs/engine.io-protocol/v4-current.md`` and ``docs/socket.io-protocol/v5-current.md``):

1. ``GET /socket.io/?EIO=4&transport=websocket`` is upgraded to a WebSocket; a request for the
   polling transport gets a plain 400 saying this server speaks WebSocket only.
2. The server sends Engine.IO's open packet ``0{"sid":...,"pingInterval":...}``.
3. The client sends ``40`` (CONNECT to ``/``); the server answers ``40{"sid":...}``, the
   client's Socket.IO id (``socket.id`` in JavaScript). Another namespace gets CONNECT_ERROR.
4. Every ``ping_interval`` the server sends ``2``; a client whose ``3`` does not come within
   ``ping_timeout`` is dropped.
5. Events (``42["name",...]``) go to the handlers registered with ``on``; what a handler
   returns answers the event's ack id (``43<id>[...]``). ``emit`` sends to one client, to a
   room, to everyone, or to everyone but one; ``call`` sends an event and waits for its ack.
   Rooms are a set on the server; a client leaves all of them when it goes.

Anything malformed closes that client's WebSocket with 1008 and a reason saying what was wrong;
the other clients are not affected. A message above ``max_payload`` is refused by the WebSocket
layer (1009).
"""

from __future__ import annotations

import asyncio
import logging
import math
import secrets
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from wsteach import aio, http1
from wsteach.frames import CloseCode
from wsteach.socketio import engineio, packets
from wsteach.socketio.engineio import PacketType as EIO
from wsteach.socketio.packets import PacketType as SIO

logger = logging.getLogger("wsteach.socketio")
PATH = "/socket.io/"  # where Socket.IO clients connect by default
Handler = Callable[..., Awaitable[Any]]  # async def handler(client, *args) -> the ack's value
Page = Callable[[http1.Request], bytes | None]  # the HTTP answer to a request outside PATH


class Violation(Exception):
    """The client broke the protocol; the message is the close reason it is sent."""


class PingTimeout(Exception):
    """No pong came within ``ping_timeout`` of a ping: the client is gone."""


@dataclass(eq=False)
class Client:
    """One connected client: its Socket.IO id, its WebSocket, its rooms, its pending acks."""

    sid: str
    websocket: aio.WebSocket
    rooms: set[str] = field(default_factory=set)
    next_ack_id: int = 0  # the id of the next ack we ask the client for
    acks: dict[int, asyncio.Future[list[Any]]] = field(default_factory=dict)

    async def send(self, messages: Iterable[str | bytes]) -> None:
        """Send Socket.IO messages (text, then attachments) as Engine.IO message packets."""
        for message in messages:
            await self.websocket.send(message if isinstance(message, bytes) else "4" + message)


def text(status: int, reason: str, body: str) -> bytes:
    """A plain-text HTTP response."""
    return http1.build_response(status, reason, [("Content-Type", "text/plain; charset=utf-8"),
                                                 ("Connection", "close")], body.encode())


class Server:
    """A Socket.IO server; ``await server.serve(host, port)`` starts it on ``wsteach.aio``.

    - ``ping_interval``, ``ping_timeout``: the Engine.IO heartbeat, in seconds (defaults as in
      socket.io and python-engineio: 25 and 20).
    - ``max_payload``: the largest message accepted, in bytes (advertised in the open packet).
    - ``connect_timeout``: seconds a new connection has to send its CONNECT packet.
    - ``page``: answers HTTP requests outside ``/socket.io/`` (say, the page at ``/``).
    """

    def __init__(self, *, ping_interval: float = 25, ping_timeout: float = 20,
                 max_payload: int = 1_000_000, connect_timeout: float = 45,
                 page: Page | None = None) -> None:
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.max_payload = max_payload
        self.connect_timeout = connect_timeout
        self.page = page
        self.handlers: dict[str, Handler] = {}
        self.clients: dict[str, Client] = {}  # by Socket.IO id
        self.rooms: dict[str, set[str]] = {}  # room name -> the ids of the clients in it

    def on(self, event: str) -> Callable[[Handler], Handler]:
        """Register ``async def handler(client, *args)`` for an event. Its return value answers
        the event's ack: None gives ``[]``, a tuple its items, anything else ``[value]``.
        ``"connect"`` and ``"disconnect"`` are called with the client alone."""
        def register(handler: Handler) -> Handler:
            self.handlers[event] = handler
            return handler
        return register

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> aio.serve:
        """The ``aio.serve`` of this server (await it, or use ``async with``)."""
        return aio.serve(self.handle, host, port, max_size=self.max_payload,
                         ping_interval=None,  # Engine.IO's own heartbeat replaces it
                         close_timeout=2, process_request=self.process_request)

    # ---- rooms and emitting ------------------------------------------------------------------

    def enter_room(self, client: Client, room: str) -> None:
        client.rooms.add(room)
        self.rooms.setdefault(room, set()).add(client.sid)

    def leave_room(self, client: Client, room: str) -> None:
        client.rooms.discard(room)
        members = self.rooms.get(room, set())
        members.discard(client.sid)
        if not members:
            self.rooms.pop(room, None)

    async def emit(self, event: str, *args: Any, to: str | None = None,
                   skip: str | None = None) -> int:
        """Send an event to ``to`` (a client's id or a room; None: everyone), leaving out the
        client whose id is ``skip``. Returns how many clients it was sent to."""
        if to is None:
            sids = set(self.clients)
        elif to in self.clients:
            sids = {to}
        else:
            sids = set(self.rooms.get(to, ()))
        targets = [self.clients[sid] for sid in sids - {skip} if sid in self.clients]
        messages = packets.to_messages(SIO.EVENT, [event, *args])
        results = await asyncio.gather(*(client.send(messages) for client in targets),
                                       return_exceptions=True)
        return sum(result is None for result in results)

    async def call(self, client: Client, event: str, *args: Any, timeout: float = 5) -> list[Any]:
        """Send an event with an ack id and wait for the client's ACK: its arguments."""
        ack_id = client.next_ack_id
        client.next_ack_id += 1
        answer = client.acks[ack_id] = asyncio.get_running_loop().create_future()
        try:
            await client.send(packets.to_messages(SIO.EVENT, [event, *args], id=ack_id))
            async with asyncio.timeout(timeout):
                return await answer
        finally:
            client.acks.pop(ack_id, None)

    # ---- HTTP: the transport check ----------------------------------------------------------

    def process_request(self, request: http1.Request) -> bytes | None:
        """Let a WebSocket for Engine.IO 4 through (None); answer everything else here."""
        parts = urlsplit(request.target)
        if parts.path.rstrip("/") != PATH.rstrip("/"):
            answer = self.page(request) if self.page else None
            return answer or text(404, "Not Found", f"nothing at {parts.path}\n")
        query = {name: values[0] for name, values in parse_qs(parts.query).items()}
        if query.get("EIO") != "4":
            return text(400, "Bad Request", f"this server speaks Engine.IO 4 (Socket.IO 3 and 4"
                        f" clients), not EIO={query.get('EIO')}\n")
        if query.get("transport") != "websocket":
            return text(400, "Bad Request", "this server speaks WebSocket only, not "
                        f"{query.get('transport')}: connect with transports: ['websocket']\n")
        if "sid" in query:
            return text(400, "Bad Request", "unknown session id: this server has no polling "
                        "sessions to upgrade\n")
        return None

    # ---- one connection ---------------------------------------------------------------------

    async def handle(self, websocket: aio.WebSocket) -> None:
        """The ``aio`` handler: one Engine.IO session on one WebSocket."""
        await websocket.send(engineio.encode(engineio.open_packet(
            secrets.token_urlsafe(15), ping_interval=self.ping_interval,
            ping_timeout=self.ping_timeout, max_payload=self.max_payload)))
        session = Session(self, websocket)
        try:
            await session.run()
        except Violation as violation:
            logger.info("closing %s: %s", websocket.remote_address, violation)
            session.leave()
            reason = str(violation).encode()[:123].decode(errors="ignore")  # RFC 6455 5.5
            await websocket.close(CloseCode.POLICY_VIOLATION, reason)
        except PingTimeout:
            logger.info("dropping %s: no pong within %s s", websocket.remote_address,
                        self.ping_timeout)
            session.leave()
            await websocket.close(CloseCode.INTERNAL_ERROR, "ping timeout")
        finally:
            session.leave()


class Session:
    """What one connection has read so far: the heartbeat's deadline, the client once it has
    connected, and a binary packet waiting for its attachments."""

    def __init__(self, server: Server, websocket: aio.WebSocket) -> None:
        self.server = server
        self.websocket = websocket
        self.client: Client | None = None
        self.partial: packets.Packet | None = None  # a binary packet still missing attachments
        self.buffers: list[bytes] = []
        self.tasks: set[asyncio.Task[None]] = set()  # event handlers still running
        loop = asyncio.get_running_loop()
        self.connect_by = loop.time() + server.connect_timeout  # inf once it has connected

    async def run(self) -> None:
        """Read until the client goes. The heartbeat is the deadline of each read: when it
        passes, send a ping; when it passes again with no pong, the client is gone
        (``PingTimeout``)."""
        loop = asyncio.get_running_loop()
        server = self.server
        ping_at, awaiting_pong = loop.time() + server.ping_interval, False
        while True:
            try:
                async with asyncio.timeout_at(min(ping_at, self.connect_by)):
                    message = await self.websocket.recv()
            except TimeoutError:
                if loop.time() >= self.connect_by:
                    raise Violation(f"no CONNECT within {server.connect_timeout} s") from None
                if awaiting_pong:
                    raise PingTimeout from None
                await self.websocket.send(engineio.encode(engineio.Packet(EIO.PING)))
                ping_at, awaiting_pong = loop.time() + server.ping_timeout, True
                continue
            except aio.ConnectionClosed:
                return
            packet = self.decode(message)
            if packet.type is EIO.PONG and awaiting_pong:
                ping_at, awaiting_pong = loop.time() + server.ping_interval, False
            elif packet.type is EIO.MESSAGE:
                await self.received(packet.data)
            elif packet.type is EIO.CLOSE:
                return
            elif packet.type is not EIO.PONG:
                raise Violation(f"a client does not send Engine.IO {packet.type.name} here")

    def decode(self, message: str | bytes) -> engineio.Packet:
        try:
            return engineio.decode(message)
        except engineio.EngineIOError as error:
            raise Violation(str(error)) from None

    async def received(self, data: str | bytes) -> None:
        """One Engine.IO message: a Socket.IO packet, or an attachment of the last one."""
        if isinstance(data, bytes):
            if self.partial is None:
                raise Violation("a binary message that no binary packet announced")
            self.buffers.append(data)
            if len(self.buffers) < self.partial.attachments:
                return
            packet, buffers, self.partial, self.buffers = self.partial, self.buffers, None, []
            await self.dispatch(packet, packets.reconstruct(packet.data, buffers))
            return
        if self.partial is not None:
            raise Violation(f"a text packet while {self.partial.attachments} attachments were "
                            "still due")
        try:
            packet = packets.decode(data)
        except packets.SocketIOError as error:
            raise Violation(str(error)) from None
        if packet.attachments:
            self.partial = packet
        else:
            await self.dispatch(packet, packet.data)

    async def dispatch(self, packet: packets.Packet, data: Any) -> None:
        server = self.server
        if self.client is None:
            if packet.type is not SIO.CONNECT:
                raise Violation(f"the first packet must be CONNECT, not {packet.type.name}")
            if packet.namespace != "/":
                await self.websocket.send("4" + packets.encode(packets.Packet(
                    SIO.CONNECT_ERROR, {"message": "Invalid namespace"}, packet.namespace)))
                return
            self.client = Client(secrets.token_urlsafe(15), self.websocket)
            self.connect_by = math.inf
            server.clients[self.client.sid] = self.client
            await self.client.send([packets.encode(packets.Packet(
                SIO.CONNECT, {"sid": self.client.sid}))])
            if "connect" in server.handlers:
                self.start(server.handlers["connect"](self.client))
            return
        if packet.namespace != "/":
            raise Violation(f"not connected to the namespace {packet.namespace}")
        if packet.type in (SIO.EVENT, SIO.BINARY_EVENT):
            handler = server.handlers.get(data[0])
            if handler is not None:
                self.start(self.answer(handler, data[1:], packet.id))
        elif packet.type in (SIO.ACK, SIO.BINARY_ACK):
            self.acknowledged(packet.id, data)
        elif packet.type is SIO.DISCONNECT:
            self.leave()
        else:
            raise Violation(f"a client does not send {packet.type.name} once connected")

    def acknowledged(self, ack_id: int | None, data: list[Any]) -> None:
        assert self.client is not None
        if ack_id is None or ack_id >= self.client.next_ack_id:
            raise Violation(f"ACK {ack_id} answers no event the server sent")
        answer = self.client.acks.get(ack_id)
        if answer is not None and not answer.done():  # else: it came after its timeout
            answer.set_result(data)

    async def answer(self, handler: Handler, args: list[Any], ack_id: int | None) -> None:
        """Run an event's handler; if the client asked for an ack, send its return value."""
        assert self.client is not None
        result = await handler(self.client, *args)
        if ack_id is not None:
            values = [] if result is None else list(result) if isinstance(result, tuple) else [
                result]
            await self.client.send(packets.to_messages(SIO.ACK, values, id=ack_id))

    def start(self, work: Awaitable[None]) -> None:
        """Run a handler beside the reader, so that it may wait (for an ack, say)."""
        task = asyncio.ensure_future(work)
        self.tasks.add(task)
        task.add_done_callback(self.finished)

    def finished(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and isinstance(task.exception(), Exception) and not isinstance(
                task.exception(), aio.ConnectionClosed):
            logger.error("a handler failed", exc_info=task.exception())

    def leave(self) -> None:
        """The client is gone: out of every room, its waits cancelled, "disconnect" called."""
        client, self.client = self.client, None
        for task in list(self.tasks):
            task.cancel()
        if client is None:
            return
        self.server.clients.pop(client.sid, None)
        for room in list(client.rooms):
            self.server.leave_room(client, room)
        for answer in client.acks.values():
            answer.cancel()
        if "disconnect" in self.server.handlers:
            task = asyncio.ensure_future(self.server.handlers["disconnect"](client))
            task.add_done_callback(self.finished)
