"""The chat server: one port serves the page at ``/`` and the WebSocket at ``/ws``.

```
room = await serve_chat("127.0.0.1", 0)      # port 0: the system picks one
print(room.url)                              # open it in a browser, or join from Python
await room.close()
```

What happens to a connection, in order (``protocol.py`` has the messages):

1. Before the handshake: the join code (class mode) and the ``Origin`` (the page's own, see
   ``origins.py``); a 403 otherwise.
2. The name from ``?name=``: refused (4001) when it is empty, too long, invisible, or held by
   someone else, unless the request brings that name's key (a reconnect after a silent drop:
   the old connection is closed with 4000).
3. Synchronously, with no ``await`` in between: the welcome, the replay of what it missed (the
   resume pattern of notebook 08), then it joins the room. A message broadcast meanwhile
   cannot overtake the replay, so nothing is lost and nothing comes twice.
4. Each message it sends passes the rate limit (refused ones are counted; a client that keeps
   flooding is closed with 1008), is numbered, kept in the history and broadcast to everyone.
   Broadcasting never waits: a reader too slow for its send buffer is closed with 1013.
5. Joining and leaving are told to the others (the newcomer gets the whole presence list).
   Keepalive pings (20 s) find the ones that vanished.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Collection
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from wsteach import aio, http1
from wsteach.aio.resume import History
from wsteach.chat import names, origins, page, protocol
from wsteach.chat.ratelimit import RateLimit
from wsteach.frames import CloseCode


@dataclass
class Member:
    """Someone in the room: the name, the key that reclaims it, the connection, the limit."""

    name: str
    key: str
    ws: aio.WebSocket
    limit: RateLimit
    returning: bool = False  # took over its own name from a connection that went silent


def tell(ws: aio.WebSocket, text: str) -> None:
    """Write one message to one client now, bounded like a broadcast (never waits)."""
    aio.broadcast((ws,), text)


class ChatServer:
    """A chat room on one port. Every limit is a keyword argument:

    - ``history``: messages kept for newcomers and for resuming after a reconnect.
    - ``join_code``: class mode; the page and the WebSocket need ``?code=`` with it.
    - ``origins``: the Origin values allowed; default: the page's own (``origins.py``).
    - ``rate``, ``burst``: messages a second per client, and the burst allowed above it;
      ``flood_after``: messages over the limit before the connection is closed with 1008.
    - ``max_text``: characters in a message; ``max_size``: bytes in a WebSocket message (1009).
    - ``max_send_buffer``: bytes a client may fall behind before it is closed with 1013. The
      replay is written at once, so the whole history must fit: default 1 MiB, or more if the
      history needs it; a smaller value than the history needs is refused.
    - ``ping_interval``, ``ping_timeout``: the keepalive, in seconds.
    - ``close_timeout``: seconds to wait for a client's part of the closing handshake; a
      restart waits at most this long for a client that has gone silent.
    """

    def __init__(self, *, history: int = 100, join_code: str | None = None,
                 origins: Collection[str] | None = None, rate: float = 5.0, burst: int = 10,
                 flood_after: int = 20, max_text: int = protocol.MAX_TEXT,
                 max_size: int = 4096, max_send_buffer: int | None = None,
                 ping_interval: float | None = 20, ping_timeout: float | None = 20,
                 close_timeout: float = 2) -> None:
        self.history = History(history)
        replay = history * protocol.most_bytes(max_text)  # the largest replay there can be
        if max_send_buffer is None:
            max_send_buffer = max(2**20, replay)
        elif max_send_buffer < replay:
            raise ValueError(f"a replay of {history} messages may take {replay} bytes: more "
                             f"than max_send_buffer={max_send_buffer}")
        self.join_code = join_code
        self.origins = origins
        self.rate, self.burst, self.flood_after = rate, burst, flood_after
        self.max_text = max_text
        self.ws_options = {"max_size": max_size, "max_send_buffer": max_send_buffer,
                           "ping_interval": ping_interval, "ping_timeout": ping_timeout,
                           "close_timeout": close_timeout}
        self.members: dict[str, Member] = {}  # by names.same_name_key
        self.room: set[aio.WebSocket] = set()  # who receives the broadcasts
        self.host = "127.0.0.1"
        self.port = 0
        self._server: aio.Server | None = None
        self._closing: tuple[int, str] | None = None  # the code and reason, while closing

    # ---- running ------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> ChatServer:
        """Listen on ``host``:``port`` (port 0: a free one, then ``self.port``)."""
        if self.origins is None:
            self.origins = origins.AllowedOrigins(origins.hosts_for(host))
        self._server = await aio.serve(self._handle, host, port, origins=self.origins,
                                       process_request=self._http, **self.ws_options)
        self.host, self.port = host, self._server.port
        if isinstance(self.origins, origins.AllowedOrigins):
            self.origins.port = self.port  # until now it allowed nothing
        return self

    async def close(self, code: int = CloseCode.GOING_AWAY, reason: str = "") -> None:
        """Close every connection with ``code`` and stop listening.

        Each connection gets the closing handshake (RFC 6455 section 7.1.2): the server's close
        frame, the client's answer, then TCP closes, so that a page's ``CloseEvent`` reads the
        code with ``wasClean`` true. Failing them instead (section 7.1.7, TCP closed at once)
        resets the connection under the client's answer, and Chromium then reports
        ``wasClean`` false, or even 1006 instead of the code. A client that does not answer is
        dropped after ``close_timeout``; one that connects meanwhile is closed with ``code``.
        """
        self._closing = (code, reason)
        await asyncio.gather(*(ws.close(code, reason) for ws in list(self.room)))
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        self._closing = None

    async def restart(self) -> None:
        """Stop (1012, service restart) and listen again on the same port, keeping the
        history: clients reconnect with backoff and resume where they were."""
        await self.close(CloseCode.SERVICE_RESTART, "the server is restarting")
        await self.start(self.host, self.port)

    @property
    def url(self) -> str:
        """The page's address (with the join code in class mode)."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else origins.url_host(self.host)
        code = f"?code={self.join_code}" if self.join_code else ""
        return f"http://{host}:{self.port}/{code}"

    @property
    def ws_url(self) -> str:
        """The WebSocket's address, for Python clients (they add ``name``, and ``code``)."""
        return self.url.replace("http://", "ws://", 1).split("?")[0] + "ws"

    def names(self) -> list[str]:
        return sorted((member.name for member in self.members.values()), key=str.casefold)

    # ---- one connection -----------------------------------------------------------------

    def _http(self, request: http1.Request) -> bytes | None:
        return page.respond(request, self.join_code)

    async def _handle(self, ws: aio.WebSocket) -> None:
        assert ws.request is not None
        if self._closing is not None:
            await ws.close(*self._closing)
            return
        query = parse_qs(urlsplit(ws.request.target).query)
        try:
            name = names.check_name(query.get("name", [""])[0])
            member = self._admit(name, query.get("key", [""])[0], ws)
        except ValueError as refused:
            await ws.close(protocol.NAME_REFUSED, str(refused))
            return
        # Welcome and replay, then join the room: no await in between (see step 3 above).
        tell(ws, protocol.welcome(member.name, member.key))
        for text in self.history.replay_for(ws.request.target):
            tell(ws, text)
        if not member.returning:
            aio.broadcast(self.room, protocol.joined(member.name))
        self.room.add(ws)
        tell(ws, protocol.presence(self.names()))
        try:
            async for message in ws:
                await self._receive(member, message)
        finally:
            self.room.discard(ws)
            if self.members.get(names.same_name_key(name)) is member:
                del self.members[names.same_name_key(name)]
                aio.broadcast(self.room, protocol.left(member.name))

    def _admit(self, name: str, key: str, ws: aio.WebSocket) -> Member:
        """The new member; ``ValueError`` if the name is taken and ``key`` is not its key."""
        same = names.same_name_key(name)
        held = self.members.get(same)
        if held is not None:
            if not secrets.compare_digest(held.key.encode(), key.encode()):
                raise ValueError(f"the name {held.name} is taken")
            self.room.discard(held.ws)
            held.ws.fail(protocol.REPLACED, "replaced by a newer connection with this name")
        member = Member(name, held.key if held else secrets.token_urlsafe(12), ws,
                        RateLimit(self.rate, self.burst), returning=held is not None)
        self.members[same] = member
        return member

    async def _receive(self, member: Member, message: str | bytes) -> None:
        ws = member.ws
        if not member.limit.allow():
            if member.limit.over == 1:
                tell(ws, protocol.error(
                    f"too fast: at most {self.rate:g} messages a second (bursts of "
                    f"{self.burst}); messages are dropped until you slow down"))
            elif member.limit.over >= self.flood_after:
                await ws.close(protocol.FLOODING, "flooding: too many messages too fast")
            return
        try:
            command = protocol.parse(message, self.max_text)
        except ValueError as refused:
            tell(ws, protocol.error(str(refused)))
            return
        if isinstance(command, protocol.Ping):
            tell(ws, protocol.pong(command.id))
            return
        data = {"name": member.name, "text": command.text, "time": round(time.time(), 3)}
        aio.broadcast(self.room, self.history.add(data).text())


async def serve_chat(host: str = "127.0.0.1", port: int = 0, **options: object) -> ChatServer:
    """Start a ``ChatServer`` (its keyword arguments are the options) and return it."""
    return await ChatServer(**options).start(host, port)  # type: ignore[arg-type]

