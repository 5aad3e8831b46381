"""The official Socket.IO browser client (npm's socket.io-client 4.x) in Chromium, driven by
Playwright, against our small server and against python-socketio's.

The page is the news feed's own (``newsfeed.PAGE`` at ``/``, the client bundle from
``node_modules`` at ``/socket.io.min.js``), served by the server under test, so that the page
and its WebSocket share an origin on loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import pytest
from chromium import launch_options, require_chromium
from conftest import require

from wsteach.paths import NODE_MODULES
from wsteach.socketio import newsfeed, python_socketio

try:
    from playwright.async_api import Browser, BrowserContext, Page, async_playwright
except ImportError:  # checked with require_chromium() in the fixture
    async_playwright = None

TEST_TIMEOUT = 15
NEWS_INTERVAL = 0.2
GUESTS = newsfeed.load_guests()


class Chromium:
    def __init__(self, runner: asyncio.Runner, browser: Browser) -> None:
        self.runner = runner
        self.browser = browser

    def run(self, test: Coroutine[Any, Any, None]) -> None:
        async def bounded() -> None:
            async with asyncio.timeout(TEST_TIMEOUT):
                await test

        self.runner.run(bounded())

    @contextlib.asynccontextmanager
    async def context(self) -> AsyncIterator[BrowserContext]:
        """A fresh browser context (its own cookies and pages), closed afterwards."""
        context = await self.browser.new_context()
        try:
            yield context
        finally:
            await context.close()


@pytest.fixture(scope="module")
def chromium() -> Any:
    require_chromium()
    require(newsfeed.CLIENT_BUNDLE.exists(), f"socket.io-client in {NODE_MODULES}",
            "install Node.js (apt-get install nodejs npm), then `make test` runs npm ci")
    with asyncio.Runner() as runner:
        playwright = runner.run(async_playwright().start())
        try:
            browser = runner.run(playwright.chromium.launch(**launch_options()))
            try:
                yield Chromium(runner, browser)
            finally:
                runner.run(browser.close())
        finally:
            runner.run(playwright.stop())


async def news_shown(page: Page, count: int = 2) -> list[list[str]]:
    """Wait until the page has shown ``count`` news; the table's rows as text."""
    await page.wait_for_function(f"window.newsCount >= {count}", timeout=5000)
    return await page.eval_on_selector_all(
        "#news tr", "rows => rows.map(row => [...row.cells].map(cell => cell.textContent))")


def expected_rows() -> list[list[str]]:
    return [[guest["surname"] + guest["name"], "女" if guest["gender"] == "female" else "男",
             guest["region"]] for guest in GUESTS]


# emit with an ack callback: resolves with all of the ack's arguments
ECHO = """async () => {
    const ack = (...args) => new Promise((resolve, reject) => socket.timeout(3000).emit(
        ...args, (error, ...values) => error ? reject(error) : resolve(values)));
    const text = await ack("echo", "你好", {n: [1, 2]});
    const [bytes] = await ack("echo", new Uint8Array([1, 2, 255]));
    const [joined] = await ack("join", "room");
    return {text, bytes: [...new Uint8Array(bytes)], joined,
            transport: socket.io.engine.transport.name, id: socket.id};
}"""


def test_the_official_client_against_our_server(chromium: Chromium) -> None:
    server = newsfeed.news_feed(NEWS_INTERVAL)

    async def test() -> None:
        async with server.serve() as running, chromium.context() as context:
            page = await context.new_page()
            await page.goto(f"http://127.0.0.1:{running.port}/")
            assert await news_shown(page) == expected_rows()
            result = await page.evaluate(ECHO)
            assert result["text"] == ["你好", {"n": [1, 2]}]
            assert result["bytes"] == [1, 2, 255]  # a binary event, echoed as a binary ack
            assert result["joined"] is True and result["transport"] == "websocket"
            assert set(server.clients) == {result["id"]}  # socket.id is our CONNECT's sid
            assert server.rooms == {"room": {result["id"]}}
            status = await page.text_content("#status")
            assert status == f"connected as {result['id']} over websocket"
            # a second page in the same room hears what the first says, the first does not
            other = await context.new_page()
            await other.goto(f"http://127.0.0.1:{running.port}/")
            await news_shown(other, 1)
            await other.evaluate("""() => { window.said = [];
                    socket.on("said", message => window.said.push(message)); }""")
            assert await other.evaluate(
                "() => socket.timeout(3000).emitWithAck('join', 'room')") is True
            reached = await page.evaluate(
                "() => socket.timeout(3000).emitWithAck('say', {room: 'room', text: '嗨'})")
            assert reached == 1
            await other.wait_for_function("window.said.length === 1", timeout=3000)
            said = await other.evaluate("() => window.said")
            assert said == [{"from": result["id"], "text": "嗨"}]
            await page.close()  # leaving: out of the room
            await asyncio.sleep(0.2)
            assert len(server.rooms["room"]) == 1

    chromium.run(test())


def test_the_same_page_against_python_socketio(chromium: Chromium) -> None:
    """python-socketio's server with both transports: the client polls first, then upgrades."""

    async def test() -> None:
        async with python_socketio.serve(NEWS_INTERVAL) as port, chromium.context() as context:
            page = await context.new_page()
            await page.goto(f"http://127.0.0.1:{port}/?transports=polling,websocket")
            assert await news_shown(page) == expected_rows()
            await page.wait_for_function(
                "socket.io.engine.transport.name === 'websocket'", timeout=5000)
            result = await page.evaluate(ECHO)
            assert result["text"] == ["你好", {"n": [1, 2]}]
            assert result["bytes"] == [1, 2, 255] and result["joined"] is True
            status = await page.text_content("#status")
            assert status == f"connected as {result['id']} over websocket", status

    chromium.run(test())


def test_the_page_says_when_our_server_refuses_polling(chromium: Chromium) -> None:
    """Asked to poll, our server answers 400 and the page shows the client's connect_error."""
    server = newsfeed.news_feed(NEWS_INTERVAL)

    async def test() -> None:
        async with server.serve() as running, chromium.context() as context:
            page = await context.new_page()
            await page.goto(f"http://127.0.0.1:{running.port}/?transports=polling")
            await page.wait_for_function(
                "document.getElementById('status').textContent.startsWith('cannot')",
                timeout=5000)
            assert await page.text_content("#status") == "cannot connect: xhr poll error"
            assert server.clients == {}

    chromium.run(test())


def test_the_client_version_is_4() -> None:
    package = NODE_MODULES / "socket.io-client" / "package.json"
    require(package.exists(), "socket.io-client (npm)", "install Node.js, then make test")
    assert json.loads(package.read_text())["version"].startswith("4.")
