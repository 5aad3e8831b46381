"""Before WebSocket: short polling, long polling, streaming and Server-Sent Events, by hand.

One small HTTP/1.1 server (``serve``) offers every technique of the source article's section
二, each on its own path, all fed by one ``EventSource`` (guests arriving at random moments):

    GET /guests/<n>[?delay_ms=t] one guest, answered after t ms (keep-alive demos)
    GET /poll?after=<id>       short polling: the news at once, 200 with a JSON list or 204
    GET /long-poll?after=<id>  long polling: held until news arrives, or 204 after ``hold`` s
    GET /stream                streaming, the "forever iframe": a chunked page that never ends
    GET /events                Server-Sent Events, resumed after ``Last-Event-ID``

``serve_websocket`` pushes the same events over a WebSocket (``wsteach.aio``). Each technique
has a client in ``wsteach.lessons.polling_clients``. Both write their HTTP bytes by hand on asyncio
streams (RFC 9112), so a notebook can show every request and response as text.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from wsteach import aio, http1
from wsteach.connection import State
from wsteach.paths import DATA

# 25 made-up guests shaped like the answer of the web API the article used (uinames.com, gone).
GUESTS_FILE = DATA / "guests.json"
HOST = "127.0.0.1"
IDLE_CHECK = 1.0  # seconds between checks that an idle WebSocket is still open
MAX_DELAY_MS = 5000  # the longest ``delay_ms`` a /guests/<n> request may ask for
Trace = Callable[[str, bytes], None]  # called with "client" or "server" and the bytes it sent
Guest = dict[str, str]


def load_guests(path: Path = GUESTS_FILE) -> list[Guest]:
    """The guest list from ``data/guests.json``."""
    return json.loads(path.read_text(encoding="utf-8"))


def encode_json(value: object) -> bytes:
    """Compact UTF-8 JSON, the form every technique here sends."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# ---- the event source ------------------------------------------------------------------------

@dataclass(frozen=True)
class Message:
    """One piece of news: a guest arrived. ``body`` is the JSON every technique delivers."""

    id: int  # 1, 2, 3 ...
    produced: float  # time.time() when the source produced it
    body: bytes


class EventSource:
    """News at random moments, like the article's server, which pushed its guest table every 2
    to 7 seconds (``setTimeout(send, (Math.random() * 5 + 2) * 1000)``). Demos shrink the
    interval. ``messages`` keeps everything produced, so a client can ask for what it missed.
    """

    def __init__(self, guests: Sequence[Guest], min_interval: float = 2.0,
                 max_interval: float = 7.0, seed: int | None = None) -> None:
        self.guests = guests
        self.min_interval = min_interval
        self.max_interval = max_interval
        self.messages: list[Message] = []
        self.waiting = 0  # callers of wait_after waiting for news right now
        self._random = random.Random(seed)
        self._news = asyncio.Event()

    def publish(self, guest: Guest) -> Message:
        """Produce one message now and wake everyone waiting for news."""
        produced = time.time()
        message_id = len(self.messages) + 1
        body = encode_json({"id": message_id, "produced": produced, "guest": guest})
        message = Message(message_id, produced, body)
        self.messages.append(message)
        self._news.set()
        self._news = asyncio.Event()
        return message

    async def produce(self, count: int) -> None:
        """Publish the next ``count`` guests, each after a random pause."""
        for _ in range(count):
            await asyncio.sleep(self._random.uniform(self.min_interval, self.max_interval))
            self.publish(self.guests[len(self.messages) % len(self.guests)])

    def after(self, last_id: int) -> list[Message]:
        """The messages newer than ``last_id`` (0 for all of them)."""
        return self.messages[max(last_id, 0):]

    async def wait_after(self, last_id: int, timeout: float) -> list[Message]:
        """The messages newer than ``last_id``, waiting up to ``timeout`` seconds for one."""
        self.waiting += 1
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    while not self.after(last_id):
                        await self._news.wait()
        finally:
            self.waiting -= 1
        return self.after(last_id)


# ---- the server ------------------------------------------------------------------------------

def response(status: int, body: bytes = b"", content_type: str = "application/json", *,
             close: bool = False) -> bytes:
    """A whole response whose length is known (RFC 9112 section 6.3). A 204 carries neither
    body nor ``Content-Length`` (RFC 9110 sections 8.6 and 15.3.5)."""
    headers = [] if status == 204 else [("Content-Type", content_type),
                                        ("Content-Length", str(len(body)))]
    if close:
        headers.append(("Connection", "close"))
    return http1.build_response(status, HTTPStatus(status).phrase, headers, body)


def news_response(messages: Sequence[Message], *, close: bool = False) -> bytes:
    """200 with a JSON list of the messages, or 204 No Content when there are none."""
    if not messages:
        return response(204, close=close)
    return response(200, b"[" + b",".join(m.body for m in messages) + b"]", close=close)


def chunk(data: bytes) -> bytes:
    """One chunk of a chunked body: its size in hex, CRLF, the data, CRLF (RFC 9112 7.1)."""
    return f"{len(data):X}\r\n".encode("ascii") + data + b"\r\n"


def script_tag(message: Message) -> bytes:
    """What the forever iframe receives per message: a script calling the parent page."""
    return b"<script>parent.push(" + message.body + b")</script>\n"


def sse_event(message: Message) -> bytes:
    """One Server-Sent Event (HTML Living Standard, section 9.2): fields, then a blank line."""
    return f"id: {message.id}\n".encode("ascii") + b"data: " + message.body + b"\n\n"


def number(text: str | None) -> int:
    """A count from a query parameter or header; 0 when missing or not a number."""
    return int(text) if text and text.isdigit() else 0


class Server:
    """The HTTP/1.1 server of every technique, run by ``serve``. ``port`` is the port the
    system chose."""

    def __init__(self, source: EventSource, hold: float, retry_ms: int) -> None:
        self.source = source
        self.hold = hold  # how long a long poll is held before 204
        self.retry_ms = retry_ms  # the SSE reconnection delay the server asks for
        self.listener: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        assert self.listener is not None
        return self.listener.sockets[0].getsockname()[1]

    async def start(self, port: int) -> None:
        self.listener = await asyncio.start_server(self.handle, HOST, port)

    async def close(self) -> None:
        """Stop listening, cut every connection, and wait until all are closed."""
        assert self.listener is not None
        self.listener.close()
        tasks = list(self._tasks)
        self.drop_connections()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.listener.wait_closed()

    def drop_connections(self) -> None:
        """Cut every open connection, as a network failure or an impatient proxy would."""
        for task in self._tasks:
            task.cancel()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Answer requests on one connection, in order, until one says the connection ends."""
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            keep_open = True
            while keep_open:
                request = http1.parse_request(await reader.readuntil(b"\r\n\r\n"))
                keep_open = await self.answer(request, writer)
        except http1.HTTPError as error:
            writer.write(response(error.status, error.reason.encode(), "text/plain", close=True))
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass  # the client went away
        except asyncio.CancelledError:
            pass  # dropped on purpose; ending normally keeps asyncio from logging an error
        finally:
            self._tasks.discard(task)
            writer.close()

    async def answer(self, request: http1.Request, writer: asyncio.StreamWriter) -> bool:
        """Write the answer to one request; True when the connection stays open for the next.

        HTTP/1.1 keeps connections open unless asked to close; HTTP/1.0 closes them
        (RFC 9112 section 9.3).
        """
        url = urlsplit(request.target)
        query = {name: values[0] for name, values in parse_qs(url.query).items()}
        after = number(query.get("after"))
        close = request.version == "HTTP/1.0" or "close" in request.headers.tokens("Connection")
        if url.path == "/poll":
            writer.write(news_response(self.source.after(after), close=close))
        elif url.path == "/long-poll":
            messages = await self.source.wait_after(after, self.hold)
            writer.write(news_response(messages, close=close))
        elif url.path == "/stream":
            preamble = b"<!doctype html><title>guests</title>\n"
            await self.stream(writer, "text/html; charset=utf-8", preamble, 0, script_tag)
        elif url.path == "/events":
            preamble = f"retry: {self.retry_ms}\n\n".encode("ascii")
            resume_after = number(request.headers.get("Last-Event-ID"))
            await self.stream(writer, "text/event-stream", preamble, resume_after, sse_event)
        elif re.fullmatch(r"/guests/[1-9][0-9]*", url.path):
            await asyncio.sleep(min(number(query.get("delay_ms")), MAX_DELAY_MS) / 1000)
            guest_number = int(url.path.removeprefix("/guests/"))
            guest = self.source.guests[(guest_number - 1) % len(self.source.guests)]
            writer.write(response(200, encode_json(guest), close=close))
        else:
            writer.write(response(404, b"no such path\n", "text/plain", close=close))
        await writer.drain()
        return not close

    async def stream(self, writer: asyncio.StreamWriter, content_type: str, preamble: bytes,
                     after: int, encode: Callable[[Message], bytes]) -> None:
        """A response that never ends: the head, then a chunk for every batch of news
        (``Transfer-Encoding: chunked``, RFC 9112 section 7.1). It ends when the client goes
        away or the server drops the connection."""
        head = [("Content-Type", content_type), ("Cache-Control", "no-store"),
                ("Transfer-Encoding", "chunked")]
        writer.write(http1.build_response(200, "OK", head) + chunk(preamble))
        last = after
        while not writer.is_closing():
            messages = await self.source.wait_after(last, self.hold)
            if messages:
                writer.write(chunk(b"".join(encode(message) for message in messages)))
                await writer.drain()
                last = messages[-1].id


@contextlib.asynccontextmanager
async def serve(source: EventSource, port: int = 0, *, hold: float = 30.0,
                retry_ms: int = 1000) -> AsyncIterator[Server]:
    """Run the server on 127.0.0.1 while the ``async with`` block runs (port 0: any free port).

    ``hold``: seconds a long poll waits before answering 204; ``retry_ms``: the SSE
    reconnection delay sent to clients.
    """
    server = Server(source, hold, retry_ms)
    await server.start(port)
    try:
        yield server
    finally:
        await server.close()


@contextlib.asynccontextmanager
async def serve_websocket(source: EventSource, port: int = 0) -> AsyncIterator[aio.Server]:
    """A WebSocket server (``wsteach.aio``) that pushes each message as a text frame as soon
    as it is produced, while the ``async with`` block runs."""

    async def push(ws: aio.WebSocket) -> None:
        last = 0
        while ws.state is State.OPEN:
            for message in await source.wait_after(last, IDLE_CHECK):
                await ws.send(message.body.decode("utf-8"))
                last = message.id

    async with aio.serve(push, HOST, port) as server:
        yield server
