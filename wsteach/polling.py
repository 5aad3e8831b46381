"""Before WebSocket: short polling, long polling, streaming and Server-Sent Events, by hand.

One small HTTP/1.1 server (``serve``) offers every technique of the source article's section
二, each on its own path, all fed by one ``EventSource`` (guests arriving at random moments):

    GET /guests/<n>[?delay_ms=t] one guest, answered after t ms (keep-alive demos)
    GET /poll?after=<id>       short polling: the news at once, 200 with a JSON list or 204
    GET /long-poll?after=<id>  long polling: held until news arrives, or 204 after ``hold`` s
    GET /stream                streaming, the "forever iframe": a chunked page that never ends
    GET /events                Server-Sent Events, resumed after ``Last-Event-ID``

``serve_websocket`` pushes the same events over a WebSocket (``wsteach.aio``). Each technique
has a client. Servers and clients write their HTTP bytes by hand on asyncio streams (RFC 9112),
so a notebook can show every request and response as text (``trace``), and each client reports,
for every message, when it was produced, when the client saw it and the bytes it cost.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from wsteach import aio, handshake, http1
from wsteach.connection import Connection, Role, State, Text
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
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while not self.after(last_id):
                    await self._news.wait()
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


# ---- what clients measure --------------------------------------------------------------------

@dataclass
class Tally:
    """What a client spent: HTTP requests, TCP connections, and bytes each way (TCP payload
    only: the IP and TCP headers under them are counted from captures)."""

    requests: int = 0
    connections: int = 0
    sent: int = 0
    received: int = 0


@dataclass(frozen=True)
class Delivery:
    """One message as a client saw it."""

    message_id: int
    produced: float  # time.time() at the source
    seen: float  # time.time() when the client had it
    # Bytes both ways since the previous delivery (requests, heads, framing, bodies), shared
    # equally by the messages that arrived together; ``payload_bytes`` is the message itself.
    wire_bytes: float
    payload_bytes: int

    @property
    def latency(self) -> float:
        return self.seen - self.produced

    @property
    def overhead_bytes(self) -> float:
        return self.wire_bytes - self.payload_bytes


@dataclass
class Report:
    """What a client of one technique saw and spent."""

    technique: str
    tally: Tally = field(default_factory=Tally)
    deliveries: list[Delivery] = field(default_factory=list)
    counted: int = 0  # bytes already shared out to deliveries

    @property
    def last_id(self) -> int:
        return self.deliveries[-1].message_id if self.deliveries else 0

    def deliver(self, bodies: Sequence[bytes]) -> None:
        """Record messages that just arrived; they share the bytes spent since the last ones."""
        if not bodies:
            return
        seen = time.time()
        total = self.tally.sent + self.tally.received
        share = (total - self.counted) / len(bodies)
        self.counted = total
        for body in bodies:
            message = json.loads(body)
            self.deliveries.append(Delivery(message["id"], message["produced"], seen, share,
                                            len(body)))


class HttpConnection:
    """A client's TCP connection that counts the bytes each way and shows them to ``trace``."""

    def __init__(self, port: int, tally: Tally, trace: Trace | None) -> None:
        self.port = port
        self.tally = tally
        self.trace = trace
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> HttpConnection:
        self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        self.tally.connections += 1
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self.writer is not None
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()

    async def send(self, data: bytes) -> None:
        assert self.writer is not None
        self.writer.write(data)
        await self.writer.drain()
        self.tally.sent += len(data)
        if self.trace:
            self.trace("client", data)

    def request(self, target: str, headers: Iterable[tuple[str, str]] = ()) -> bytes:
        """The bytes of ``GET target HTTP/1.1`` with a Host header (RFC 9112 section 3.2)."""
        return http1.build_request("GET", target, [("Host", f"{HOST}:{self.port}"), *headers])

    async def get(self, target: str, headers: Iterable[tuple[str, str]] = ()) -> None:
        await self.send(self.request(target, headers))

    def _received(self, data: bytes) -> bytes:
        self.tally.received += len(data)
        if self.trace:
            self.trace("server", data)
        return data

    async def read_response(self, *, streaming: bool = False) -> tuple[http1.Response, bytes]:
        """The next response and its body, framed by ``Content-Length`` (a 204 has none).
        With ``streaming``, only the head: read the chunked body with ``read_chunk``."""
        assert self.reader is not None
        head = await self.reader.readuntil(b"\r\n\r\n")
        response = http1.parse_response(head)
        self.tally.requests += 1  # every request gets one response
        length = 0 if streaming else int(response.headers.get("Content-Length", "0"))
        body = await self.reader.readexactly(length)
        self._received(head + body)
        return response, body

    async def read_chunk(self) -> bytes:
        """The data of the next chunk of a chunked body; b"" for the last chunk."""
        assert self.reader is not None
        size_line = await self.reader.readuntil(b"\r\n")
        data = await self.reader.readexactly(int(size_line.split(b";")[0], 16) + 2)
        self._received(size_line + data)
        return data[:-2]

    async def read_some(self) -> bytes:
        """Whatever bytes arrive next; raises ``ConnectionError`` when the server has closed."""
        assert self.reader is not None
        data = await self.reader.read(65536)
        if not data:
            raise ConnectionError("the server closed the connection")
        return self._received(data)


# ---- the clients -----------------------------------------------------------------------------

async def short_polling_client(port: int, count: int, interval: float, *, timeout: float = 30.0,
                               trace: Trace | None = None) -> Report:
    """Ask "anything new?" every ``interval`` seconds (the article's ``setInterval``) on one
    keep-alive connection, until ``count`` messages have arrived."""
    report = Report("short polling")
    async with asyncio.timeout(timeout), HttpConnection(port, report.tally, trace) as conn:
        while len(report.deliveries) < count:
            await asyncio.sleep(interval)
            await conn.get(f"/poll?after={report.last_id}")
            response, body = await conn.read_response()
            if response.status == 200:
                report.deliver([encode_json(item) for item in json.loads(body)])
    return report


async def long_polling_client(port: int, count: int, *, timeout: float = 30.0,
                              trace: Trace | None = None) -> Report:
    """Ask, and let the server hold the question until there is news (or it answers 204);
    ask again at once. One keep-alive connection."""
    report = Report("long polling")
    async with asyncio.timeout(timeout), HttpConnection(port, report.tally, trace) as conn:
        while len(report.deliveries) < count:
            await conn.get(f"/long-poll?after={report.last_id}")
            response, body = await conn.read_response()
            if response.status == 200:
                report.deliver([encode_json(item) for item in json.loads(body)])
    return report


SCRIPT = re.compile(rb"<script>parent\.push\((.*?)\)</script>")


async def streaming_client(port: int, count: int, *, timeout: float = 30.0,
                           trace: Trace | None = None) -> Report:
    """Load the never-ending page of the forever iframe; each ``<script>parent.push(...)``
    that arrives is a message."""
    report = Report("streaming")
    async with asyncio.timeout(timeout), HttpConnection(port, report.tally, trace) as conn:
        await conn.get("/stream")
        await conn.read_response(streaming=True)
        while len(report.deliveries) < count:
            report.deliver(SCRIPT.findall(await conn.read_chunk()))
    return report


async def sse_client(port: int, count: int, *, timeout: float = 30.0,
                     trace: Trace | None = None) -> Report:
    """Read Server-Sent Events as a browser's ``EventSource`` does (HTML Living Standard,
    section 9.2): remember the last ``id:``; when the connection drops, wait ``retry``
    milliseconds and reconnect with a ``Last-Event-ID`` header, so no event is lost."""
    report = Report("SSE")
    last_event_id, retry = "", 1.0
    async with asyncio.timeout(timeout):
        while len(report.deliveries) < count:
            async with HttpConnection(port, report.tally, trace) as conn:
                resume = [("Last-Event-ID", last_event_id)] if last_event_id else []
                await conn.get("/events", [("Accept", "text/event-stream"), *resume])
                await conn.read_response(streaming=True)
                buffer = b""
                try:
                    while len(report.deliveries) < count:
                        buffer += await conn.read_chunk()
                        *blocks, buffer = buffer.split(b"\n\n")  # an event ends at a blank line
                        events = [parse_sse_fields(block) for block in blocks]
                        for event in events:
                            retry = int(event["retry"]) / 1000 if "retry" in event else retry
                            last_event_id = event.get("id", last_event_id)
                        report.deliver([event["data"].encode() for event in events
                                        if "data" in event])
                except (asyncio.IncompleteReadError, ConnectionError):
                    await asyncio.sleep(retry)
    return report


def parse_sse_fields(block: bytes) -> dict[str, str]:
    """The fields of one event, ``name: value`` per line (HTML Living Standard, section 9.2);
    lines starting with a colon are comments."""
    fields = {}
    for line in block.decode("utf-8").split("\n"):
        name, _, value = line.partition(":")
        if name:
            fields[name] = value.removeprefix(" ")
    return fields


async def websocket_client(port: int, count: int, *, timeout: float = 30.0,
                           trace: Trace | None = None) -> Report:
    """Open a WebSocket (one HTTP request, RFC 6455 section 4), then read each pushed message
    from its frame with the sans-I/O ``Connection``; close properly at the end."""
    report = Report("WebSocket")
    async with asyncio.timeout(timeout), HttpConnection(port, report.tally, trace) as conn:
        key = handshake.generate_key()
        await conn.send(handshake.build_request(f"{HOST}:{port}", "/", key))
        response, _ = await conn.read_response(streaming=True)
        handshake.validate_response(response, key)
        websocket = Connection(Role.CLIENT)
        while len(report.deliveries) < count:
            websocket.receive_data(await conn.read_some())
            report.deliver([e.data.encode() for e in websocket.events() if isinstance(e, Text)])
        await conn.send(websocket.close())
        with contextlib.suppress(ConnectionError):  # the server answers and closes TCP (7.1.1)
            while True:
                websocket.receive_data(await conn.read_some())
    return report


# ---- HTTP/1.0 and HTTP/1.1 keep-alive --------------------------------------------------------

@dataclass
class Fetch:
    """Fetching several resources: what it cost, and when each answer was complete."""

    tally: Tally
    finished: list[float]  # seconds from the start until each response was complete

    @property
    def seconds(self) -> float:
        return max(self.finished, default=0.0)


async def fetch_http10(port: int, targets: Sequence[str], *,
                       trace: Trace | None = None) -> Fetch:
    """HTTP/1.0 as browsers of 1996 spoke it (RFC 1945): a new TCP connection for every
    request, closed by the server after its answer. One request after the other."""
    fetch, start = Fetch(Tally(), []), time.perf_counter()
    for target in targets:
        async with HttpConnection(port, fetch.tally, trace) as conn:
            await conn.send(f"GET {target} HTTP/1.0\r\nHost: {HOST}:{port}\r\n\r\n".encode())
            await conn.read_response()
        fetch.finished.append(time.perf_counter() - start)
    return fetch


async def fetch_keep_alive(port: int, targets: Sequence[str], *, pipeline: bool = False,
                           trace: Trace | None = None) -> Fetch:
    """HTTP/1.1: every request on one persistent connection (RFC 9112 section 9.3). With
    ``pipeline``, all requests are sent at once and the answers come back in the same order
    (section 9.3.2), so one slow answer holds up the rest: head-of-line blocking."""
    fetch, start = Fetch(Tally(), []), time.perf_counter()
    async with HttpConnection(port, fetch.tally, trace) as conn:
        if pipeline:
            await conn.send(b"".join(conn.request(target) for target in targets))
        for target in targets:
            if not pipeline:
                await conn.get(target)
            await conn.read_response()
            fetch.finished.append(time.perf_counter() - start)
    return fetch
