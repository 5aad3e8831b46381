"""Our server against a real browser: Chromium's ``new WebSocket(...)``, driven by Playwright.

One headless Chromium (Debian's ``/usr/bin/chromium``, never a Playwright download) serves the
whole module. Each test opens a fresh page from a tiny HTTP server on loopback (Chromium here
refuses ``ws://127.0.0.1`` from ``about:blank``) and runs a scenario in the page against a
``wsteach.aio.serve`` server: echo of every length class, close codes both ways, server push,
ping, and two handshakes the browser must refuse (a wrong ``Sec-WebSocket-Accept``, a
disallowed ``Origin``). ``test_close_event_for_each_ending`` records the page's ``CloseEvent``
for every way a connection ends and checks it against ``data/browser_close_events.json``, the
table notebook 07 shows.

Chromium offers ``permessage-deflate``; our server does not negotiate it, so every frame the
browser sends must arrive uncompressed (RSV1 clear, which ``Connection`` checks): the echo test
proves that path.

Everything asynchronous runs on one event loop (an ``asyncio.Runner`` kept for the module),
because Playwright's async objects belong to the loop that created them.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import os
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import pytest
from chromium import launch_options, require_chromium
from conftest import ROOT
from test_interop import make_message

from wsteach import aio, handshake, http1
from wsteach.connection import ConnectionClosed
from wsteach.frames import (
    CloseCode,
    Frame,
    Opcode,
    decode_frame,
    encode_frame,
    parse_close_payload,
)

try:
    from playwright.async_api import Browser, Page, Playwright, async_playwright
except ImportError:  # checked with require_chromium() in the fixture
    async_playwright = None

TEST_TIMEOUT = 10  # seconds per test; each takes well under one
MAX_SIZE = 2**21  # every length class below fits, 1 MiB included
LENGTHS = [0, 125, 126, 65535, 65536, 2**20]

# The page every test starts from. Its script opens WebSockets and records what happens to
# them; the tests call these functions with page.evaluate().
PAGE = """<!doctype html>
<meta charset="utf-8">
<title>wsteach browser tests</title>
<script>
// Open a WebSocket; resolves once it is open, or once it has closed without opening.
// conn.next() is the next message; conn.closed resolves with the close event.
function open(url) {
  return new Promise(resolve => {
    const ws = new WebSocket(url);
    ws.binaryType = "arraybuffer";
    const conn = {ws, opened: false, errored: false, messages: [], waiters: []};
    ws.onopen = () => { conn.opened = true; resolve(conn); };
    ws.onerror = () => { conn.errored = true; };
    ws.onmessage = event => {
      if (conn.waiters.length) conn.waiters.shift()(event.data);
      else conn.messages.push(event.data);
    };
    conn.next = () => conn.messages.length ? Promise.resolve(conn.messages.shift())
                                           : new Promise(r => conn.waiters.push(r));
    conn.closed = new Promise(done => {
      ws.onclose = event => {
        done({code: event.code, reason: event.reason, wasClean: event.wasClean,
              opened: conn.opened, errored: conn.errored});
        resolve(conn);
      };
    });
  });
}

// The same messages as make_message() in Python: text mixes 1- to 4-byte characters.
function makeMessage(kind, length) {
  if (kind === "text") return "a\\u00e9\\u20ac\\u{1F600}".repeat(Math.floor(length / 10))
                              + "z".repeat(length % 10);
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = i & 255;
  return bytes.buffer;
}

function same(a, b) {
  if (typeof a === "string" || typeof b === "string") return a === b;
  if (!(b instanceof ArrayBuffer) || a.byteLength !== b.byteLength) return false;
  const x = new Uint8Array(a), y = new Uint8Array(b);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
</script>
"""


# ---- loopback servers: the page, a raw handshake, a recording proxy --------------------------


@contextlib.asynccontextmanager
async def tcp_server(
    handle: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
) -> AsyncIterator[int]:
    """``asyncio.start_server`` on 127.0.0.1 port 0 that cancels its connections on exit."""
    tasks: set[asyncio.Task[None]] = set()

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        try:
            await handle(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            tasks.discard(task)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()


async def serve_page(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer every GET with PAGE (one request per connection)."""
    http1.parse_request(await reader.readuntil(http1.END_OF_HEAD))
    body = PAGE.encode("utf-8")
    writer.write(http1.build_response(200, "OK", [("Content-Type", "text/html; charset=utf-8"),
                                                  ("Cache-Control", "no-store"),
                                                  ("Connection", "close")], body))
    await writer.drain()


def accept_without_guid(key: str) -> str:
    """A classic mistake: ``base64(sha1(key))``, the GUID forgotten."""
    return base64.b64encode(hashlib.sha1(key.encode("ascii")).digest()).decode("ascii")


async def answer_wrong_accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A server that says 101 but proves nothing: its Sec-WebSocket-Accept is wrong."""
    request = http1.parse_request(await reader.readuntil(http1.END_OF_HEAD))
    key = request.headers.get("Sec-WebSocket-Key") or ""
    writer.write(http1.build_response(101, "Switching Protocols", [
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Accept", accept_without_guid(key)),
    ]))
    await writer.drain()
    while await reader.read(65536):  # until the browser gives up and closes TCP
        pass


@dataclass
class Tap:
    """What passed through a ``tap`` proxy, each direction's bytes in order."""

    port: int = 0
    from_client: bytearray = field(default_factory=bytearray)
    from_server: bytearray = field(default_factory=bytearray)


@contextlib.asynccontextmanager
async def tap(target_port: int) -> AsyncIterator[Tap]:
    """A TCP proxy on loopback in front of ``target_port`` that records both directions."""
    record = Tap()

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                   log: bytearray) -> None:
        while data := await reader.read(65536):
            log += data
            writer.write(data)
            await writer.drain()
        writer.close()

    async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1",
                                                                         target_port)
        try:
            await asyncio.gather(pipe(reader, upstream_writer, record.from_client),
                                 pipe(upstream_reader, writer, record.from_server))
        finally:
            upstream_writer.close()

    async with tcp_server(relay) as port:
        record.port = port
        yield record


def head_of(data: bytes | bytearray) -> bytes:
    end = http1.head_end(data)
    assert end is not None, f"no complete HTTP head in {bytes(data[:200])!r}"
    return bytes(data[:end])


# ---- one Chromium for the module ------------------------------------------------------------


@dataclass
class Chromium:
    """The module's browser, its event loop and the HTTP server of the test page."""

    runner: asyncio.Runner
    playwright: Playwright
    browser: Browser
    page_port: int
    console: list[str] = field(default_factory=list)  # the current page's console messages

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.page_port}"

    def run(self, test: Callable[[Page], Coroutine[Any, Any, None]]) -> None:
        """Run ``test(page)`` on a fresh page, on the module's loop, within TEST_TIMEOUT."""

        async def bounded() -> None:
            context = await self.browser.new_context()
            try:
                page = await context.new_page()
                self.console = []
                page.on("console", lambda message: self.console.append(message.text))
                await page.goto(self.origin + "/", timeout=TEST_TIMEOUT * 1000)
                async with asyncio.timeout(TEST_TIMEOUT):
                    await test(page)
            finally:
                await context.close()

        self.runner.run(bounded())

    async def console_message(self, needle: str, wait: float = 2.0) -> str | None:
        """The first console message containing ``needle``; they may trail the close event."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while loop.time() < deadline:
            for text in self.console:
                if needle in text:
                    return text
            await asyncio.sleep(0.02)
        return None


@pytest.fixture(scope="module")
def chromium() -> Any:
    require_chromium()
    runner = asyncio.Runner()
    page_server = tcp_server(serve_page)
    try:
        page_port = runner.run(page_server.__aenter__())
        playwright = runner.run(async_playwright().start())
        try:
            browser = runner.run(playwright.chromium.launch(**launch_options()))
            try:
                yield Chromium(runner, playwright, browser, page_port)
            finally:
                runner.run(browser.close())
        finally:
            runner.run(playwright.stop())
            runner.run(page_server.__aexit__(None, None, None))
    finally:
        runner.close()


# ---- the tests --------------------------------------------------------------------------------


def test_echo_every_length_text_and_binary(chromium: Chromium) -> None:
    """Chromium's messages of every length class reach our server intact and come back."""
    received: list[tuple[str, int, bool]] = []  # what our server got, checked against Python's
    offered: list[str | None] = []

    async def echo(ws: aio.WebSocket) -> None:
        assert ws.request is not None
        offered.append(ws.request.headers.get("Sec-WebSocket-Extensions"))
        async for message in ws:
            kind = "text" if isinstance(message, str) else "binary"
            size = len(message.encode("utf-8")) if isinstance(message, str) else len(message)
            received.append((kind, size, message == make_message(kind, size)))
            await ws.send(message)

    async def test(page: Page) -> None:
        async with aio.serve(echo, "127.0.0.1", 0, max_size=MAX_SIZE) as server:
            result = await page.evaluate("""async ({url, lengths}) => {
                const conn = await open(url);
                if (!conn.opened) return {opened: false, close: await conn.closed};
                const echoes = [];
                for (const length of lengths) {
                  for (const kind of ["text", "binary"]) {
                    const sent = makeMessage(kind, length);
                    conn.ws.send(sent);
                    const got = await conn.next();
                    echoes.push({kind, length, equal: same(sent, got),
                                 type: typeof got === "string" ? "string" : got.constructor.name});
                  }
                }
                const extensions = conn.ws.extensions;
                conn.ws.close(1000);
                return {opened: true, extensions, echoes, close: await conn.closed};
            }""", {"url": f"ws://127.0.0.1:{server.port}/", "lengths": LENGTHS})

        assert result["opened"], result
        # Chromium offered compression, our 101 did not accept it, so nothing is compressed.
        assert offered and "permessage-deflate" in (offered[0] or ""), offered
        assert result["extensions"] == ""
        expected = [(kind, length) for length in LENGTHS for kind in ("text", "binary")]
        assert [(e["kind"], e["length"]) for e in result["echoes"]] == expected
        for echo_ in result["echoes"]:
            assert echo_["equal"], echo_
            assert echo_["type"] == ("string" if echo_["kind"] == "text" else "ArrayBuffer")
        assert received == [(kind, length, True) for kind, length in expected]
        assert result["close"] == {"code": 1000, "reason": "", "wasClean": True,
                                   "opened": True, "errored": False}

    chromium.run(test)


def test_close_codes_both_ways(chromium: Chromium) -> None:
    """The page closes with 4000 "bye" and our handler sees it; our server closes with
    1001 "going away" and the page's close event reports it, clean."""
    seen: asyncio.Future[tuple[int, str]] | None = None

    async def wait_for_close(ws: aio.WebSocket) -> None:
        try:
            await ws.recv()
        except ConnectionClosed as closed:
            assert seen is not None
            seen.set_result((closed.code, closed.reason))

    async def go_away(ws: aio.WebSocket) -> None:
        await ws.close(CloseCode.GOING_AWAY, "going away")

    async def test(page: Page) -> None:
        nonlocal seen
        seen = asyncio.get_running_loop().create_future()
        async with aio.serve(wait_for_close, "127.0.0.1", 0) as server:
            by_page = await page.evaluate("""async url => {
                const conn = await open(url);
                if (conn.opened) conn.ws.close(4000, "bye");
                return await conn.closed;
            }""", f"ws://127.0.0.1:{server.port}/")
            assert await seen == (4000, "bye")
        # Our server's reply echoed the code and the reason, as websockets and Chromium do; the
        # page's close event reports what the server's close frame said.
        assert by_page == {"code": 4000, "reason": "bye", "wasClean": True,
                           "opened": True, "errored": False}

        async with aio.serve(go_away, "127.0.0.1", 0) as server:
            by_server = await page.evaluate("async url => await (await open(url)).closed",
                                            f"ws://127.0.0.1:{server.port}/")
        assert by_server == {"code": 1001, "reason": "going away", "wasClean": True,
                             "opened": True, "errored": False}

    chromium.run(test)


def test_server_push_arrives_in_order(chromium: Chromium) -> None:
    """Our server sends unprompted, like the article's guest table; the page collects it all."""
    pushes = [f'{{"guest": "{name}", "table": {table}}}'
              for table, name in enumerate(["张三", "李四", "王五", "Zoë", "Анна", "😀"], 1)]

    async def push(ws: aio.WebSocket) -> None:
        for message in pushes:
            await ws.send(message)
            await asyncio.sleep(0.01)
        # returning closes with 1000

    async def test(page: Page) -> None:
        async with aio.serve(push, "127.0.0.1", 0) as server:
            result = await page.evaluate("""async url => {
                const conn = await open(url);
                const close = await conn.closed;
                return {messages: conn.messages, close};
            }""", f"ws://127.0.0.1:{server.port}/")
        assert result["messages"] == pushes
        assert result["close"]["code"] == 1000 and result["close"]["wasClean"], result

    chromium.run(test)


def test_ping_from_our_server_gets_a_pong(chromium: Chromium) -> None:
    """Browsers answer pings by themselves; the page's script never sees them."""
    round_trips: list[float] = []

    async def pinger(ws: aio.WebSocket) -> None:
        for payload in (None, b"are you there?", b""):
            waiter = await ws.ping(payload)
            round_trips.append(await asyncio.wait_for(waiter, timeout=5))
        await ws.send("pinged")

    async def test(page: Page) -> None:
        async with aio.serve(pinger, "127.0.0.1", 0) as server:
            result = await page.evaluate("""async url => {
                const conn = await open(url);
                const close = await conn.closed;
                return {messages: conn.messages, close};
            }""", f"ws://127.0.0.1:{server.port}/")
        assert len(round_trips) == 3 and all(0 <= rtt < 5 for rtt in round_trips), round_trips
        assert result["messages"] == ["pinged"]  # no ping or pong shows up as a message
        assert result["close"]["code"] == 1000 and result["close"]["wasClean"], result

    chromium.run(test)


def test_wrong_accept_is_refused(chromium: Chromium) -> None:
    """A 101 whose Sec-WebSocket-Accept forgot the GUID: Chromium fails the connection."""

    async def test(page: Page) -> None:
        async with tcp_server(answer_wrong_accept) as port:
            url = f"ws://127.0.0.1:{port}/"
            result = await page.evaluate("async url => await (await open(url)).closed", url)
            assert result == {"code": 1006, "reason": "", "wasClean": False,
                              "opened": False, "errored": True}
            # Chromium 156 logs "WebSocket connection to 'ws://127.0.0.1:PORT/' failed: Error
            # during WebSocket handshake: Incorrect 'Sec-WebSocket-Accept' header value"
            message = await chromium.console_message(url)
            assert message is not None, chromium.console
            assert "Sec-WebSocket-Accept" in message, message

    chromium.run(test)


def test_disallowed_origin_gets_403(chromium: Chromium) -> None:
    """Our server serves only http://example.invalid: the page's Origin is refused with 403."""
    calls = 0

    async def handler(ws: aio.WebSocket) -> None:
        nonlocal calls
        calls += 1

    async def test(page: Page) -> None:
        async with (aio.serve(handler, "127.0.0.1", 0, origins={"http://example.invalid"})
                    as server, tap(server.port) as wire):
            url = f"ws://127.0.0.1:{wire.port}/"
            result = await page.evaluate("async url => await (await open(url)).closed", url)
            message = await chromium.console_message(url)
        assert result == {"code": 1006, "reason": "", "wasClean": False,
                          "opened": False, "errored": True}
        assert calls == 0
        request = http1.parse_request(head_of(wire.from_client))
        assert request.headers.get("Origin") == chromium.origin
        response = http1.parse_response(head_of(wire.from_server))
        assert response.status == 403, response
        # "WebSocket connection to 'ws://...' failed: Error during WebSocket handshake:
        # Unexpected response code: 403"
        assert message is not None, chromium.console
        assert "403" in message, message

    chromium.run(test)


# ---- what a page's CloseEvent reports, for each way a connection can end (notebook 07) ---------

CLOSE_EVENTS = ROOT / "data" / "browser_close_events.json"  # the table notebook 07 shows
UPDATE_STORED = "WSTEACH_UPDATE_STORED"  # set to 1 to rewrite CLOSE_EVENTS from this run


async def answer_101(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """The server's half of a good opening handshake, by hand."""
    request = http1.parse_request(await reader.readuntil(http1.END_OF_HEAD))
    writer.write(handshake.build_response(request.headers.get("Sec-WebSocket-Key") or ""))
    await writer.drain()


async def read_close(reader: asyncio.StreamReader) -> str | None:
    """The close frame the browser sends next, described; None if TCP ends first."""
    buffer = b""
    while (decoded := decode_frame(buffer)) is None:
        data = await reader.read(64)
        if not data:
            return None
        buffer += data
    frame, _ = decoded
    if frame.opcode != Opcode.CLOSE:
        return f"a {frame.opcode.name} frame"
    if not frame.payload:
        return "an empty close frame"
    code, reason = parse_close_payload(frame.payload)
    return f"a close frame with code {code}" + (f" and reason {reason!r}" if reason else "")


def raw_server(ending: str, replies: list[str | None]
               ) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
    """A server that completes the handshake by hand, then ends the connection its way and
    appends to ``replies`` the close frame the browser answered with."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await answer_101(reader, writer)
        await asyncio.sleep(0.05)  # let the page see the open event first
        if ending in ("empty close", "close 1005"):
            payload = b"" if ending == "empty close" else struct.pack("!H", 1005)
            writer.write(encode_frame(Frame(Opcode.CLOSE, payload)))
            replies.append(await read_close(reader))  # then we close TCP
        elif ending == "RST":
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
        # "FIN": return, and tcp_server closes the connection without a close frame

    return handle


async def not_tls(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answers a TLS ClientHello with plain HTTP: the TLS handshake fails."""
    await reader.read(1024)
    writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
    await writer.drain()


async def close_events(page: Page) -> dict[str, Any]:
    """Every ending, each on a fresh connection, as the page's CloseEvent reports it, beside
    what our server saw (its ``ConnectionClosed``) where our server took part."""
    endings: list[dict[str, Any]] = []
    seen: list[str] = []

    async def note_close(ws: aio.WebSocket) -> None:
        try:
            while True:
                await ws.recv()
        except ConnectionClosed as closed:
            seen.append(str(closed))

    async def go_away(ws: aio.WebSocket) -> None:
        await ws.close(CloseCode.GOING_AWAY, "going away")
        seen.append(str(ws.connection.closed_error()))

    def add(ending: str, event: dict[str, Any], server_saw: str | None = None,
            browser_sent: str | None = None) -> None:
        endings.append({"ending": ending, "code": event["code"], "reason": event["reason"],
                        "wasClean": event["wasClean"], "server_saw": server_saw,
                        "browser_sent": browser_sent})

    page_closes = [("the page calls close(4000, \"bye\")", "conn.ws.close(4000, 'bye')"),
                   ("the page calls close() with no code", "conn.ws.close()")]
    for ending, call in page_closes:
        seen.clear()
        async with aio.serve(note_close, "127.0.0.1", 0) as server:
            event = await page.evaluate(f"""async url => {{
                const conn = await open(url); {call}; return await conn.closed; }}""",
                                        f"ws://127.0.0.1:{server.port}/")
        add(ending, event, seen[0] if seen else None)

    seen.clear()
    async with aio.serve(go_away, "127.0.0.1", 0) as server:
        add("our server closes with 1001 \"going away\"",
            await page.evaluate("async url => await (await open(url)).closed",
                                f"ws://127.0.0.1:{server.port}/"), seen[0] if seen else None)

    seen.clear()
    async with aio.serve(note_close, "127.0.0.1", 0, max_size=100) as server:
        event = await page.evaluate("""async url => {
            const conn = await open(url); conn.ws.send("x".repeat(200));
            return await conn.closed; }""", f"ws://127.0.0.1:{server.port}/")
    add("the page sends 200 bytes to our server (max_size=100)", event,
        seen[0] if seen else None)

    raw_endings = [("a server sends an empty close frame", "empty close"),
                   ("a server's close frame carries 1005 (never allowed on the wire)",
                    "close 1005"),
                   ("a server closes TCP without a close frame (FIN)", "FIN"),
                   ("a server resets TCP (RST)", "RST")]
    for ending, how in raw_endings:
        replies: list[str | None] = []
        async with tcp_server(raw_server(how, replies)) as port:
            event = await page.evaluate("async url => await (await open(url)).closed",
                                        f"ws://127.0.0.1:{port}/")
        add(ending, event, browser_sent=replies[0] if replies else None)
    async with tcp_server(not_tls) as port:
        add("wss:// to a server that does not speak TLS",
            await page.evaluate("async url => await (await open(url)).closed",
                                f"wss://127.0.0.1:{port}/"))

    # What the API refuses before anything is sent (WHATWG WebSockets, close() steps).
    async with aio.serve(note_close, "127.0.0.1", 0) as server:
        refused = await page.evaluate("""async url => {
            const conn = await open(url);
            const calls = ["close(1001)", "close(1005)", "close(2999)",
                           "close(4000, 'x'.repeat(124))", "close(4000, '好'.repeat(42))",
                           "close(4000, '好'.repeat(41))"];
            const results = [];
            for (const call of calls) {
              try { eval("conn.ws." + call); results.push({call, error: null}); }
              catch (error) { results.push({call, error: error.name}); }
              if (conn.ws.readyState !== WebSocket.OPEN) break;
            }
            return results;
        }""", f"ws://127.0.0.1:{server.port}/")

    # The article's new WebSocket('ws//localhost:8080'), colon missing: a relative URL.
    article = await page.evaluate("""() => {
        try { const ws = new WebSocket('ws//localhost:8080'); const url = ws.url; ws.close();
              return {url: url.replace(location.host, "PAGE_HOST"), error: null}; }
        catch (error) { return {url: null, error: error.name}; }
    }""")
    return {"endings": endings, "refused": refused, "article_url": article}


def test_close_event_for_each_ending(chromium: Chromium) -> None:
    """Chromium's CloseEvent for every way a connection ends matches the stored table that
    notebook 07 shows (``data/browser_close_events.json``); the key facts are asserted here
    too, so the stored file cannot drift into nonsense."""
    result: dict[str, Any] = {}

    async def test(page: Page) -> None:
        result.update(await close_events(page))

    chromium.run(test)
    result["browser"] = chromium.browser.version
    if os.environ.get(UPDATE_STORED) == "1":
        CLOSE_EVENTS.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n")
    by_ending = {row["ending"]: (row["code"], row["reason"], row["wasClean"])
                 for row in result["endings"]}
    assert by_ending["the page calls close(4000, \"bye\")"] == (4000, "bye", True)
    assert by_ending["the page calls close() with no code"] == (1005, "", True)
    assert by_ending["a server sends an empty close frame"] == (1005, "", True)
    assert by_ending["a server resets TCP (RST)"] == (1006, "", False)
    assert by_ending["a server closes TCP without a close frame (FIN)"] == (1006, "", False)
    stored = json.loads(CLOSE_EVENTS.read_text()) if CLOSE_EVENTS.exists() else {}
    stored.pop("browser", None)
    measured = {key: value for key, value in result.items() if key != "browser"}
    assert measured == stored, (f"Chromium {result['browser']} differs from {CLOSE_EVENTS}; "
                                f"if that is expected, rerun with {UPDATE_STORED}=1")
