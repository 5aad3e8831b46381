"""Clients for the techniques of ``wsteach.lessons.polling``: each counts what it spends.

Every client writes its HTTP bytes by hand on asyncio streams (RFC 9112), can show them to a
``trace`` callback, and returns a ``Report``: for every message, when it was produced, when the
client saw it, and the bytes it cost. ``fetch_http10`` and ``fetch_keep_alive`` count the TCP
connections a series of requests opens.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from wsteach import handshake, http1
from wsteach.connection import Connection, Role, Text
from wsteach.lessons.polling import HOST, Trace, encode_json

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
