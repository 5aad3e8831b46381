"""Our server against a real browser: Chromium's ``new WebSocket(...)``, driven by Playwright.

One headless Chromium (Debian's ``/usr/bin/chromium``, never a Playwright download) serves the
whole module. Each test opens a fresh page from a tiny HTTP server on loopback (Chromium here
refuses ``ws://127.0.0.1`` from ``about:blank``) and runs a scenario in the page against a
``wsteach.aio.serve`` server: echo of every length class, close codes both ways, server push,
ping, and two handshakes the browser must refuse (a wrong ``Sec-WebSocket-Accept``, a
disallowed ``Origin``).

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
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import pytest
from conftest import require
from test_interop import make_message

from wsteach import aio, http1
from wsteach.connection import ConnectionClosed
from wsteach.frames import CloseCode

try:
    from playwright.async_api import Browser, Page, Playwright, async_playwright
except ImportError:  # checked with require() in the fixture
    async_playwright = None

CHROMIUM = "/usr/bin/chromium"  # Debian's package; `playwright install` is never run
CHROMIUM_ARGS = [
    "--no-sandbox",  # we run as root in a container
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
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
    require(async_playwright is not None, "the Python package playwright",
            'pip install -e ".[test]" (never `playwright install`: we use Debian\'s chromium)')
    require(shutil.which("chromium") is not None, "chromium", "apt-get install chromium")
    runner = asyncio.Runner()
    page_server = tcp_server(serve_page)
    try:
        page_port = runner.run(page_server.__aenter__())
        playwright = runner.run(async_playwright().start())
        try:
            browser = runner.run(playwright.chromium.launch(
                executable_path=shutil.which("chromium") or CHROMIUM, headless=True,
                args=CHROMIUM_ARGS, timeout=15_000))
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
