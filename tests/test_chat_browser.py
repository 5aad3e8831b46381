"""The chat's page in a real browser: Chromium (Debian's ``/usr/bin/chromium``, driven by
Playwright) against the chat server, found by the page's accessible names (a text box "Name",
a text box "Message", a button "Send", the messages in a ``log``).

Two pages chat; an XSS payload shows as text and runs nothing; the server cuts the page's
connection ten times while messages flow and the page shows each message once, in order; a
connection that goes silent is caught by the page's heartbeat and replaced, and resumes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import test_browser
from playwright.async_api import Page, expect
from test_browser import Chromium, tcp_server

from wsteach import aio
from wsteach.aio.resume import History
from wsteach.chat import page as page_module
from wsteach.chat import protocol
from wsteach.chat.client import ChatClient
from wsteach.chat.server import ChatServer, serve_chat

chromium = test_browser.chromium  # the browser fixture of test_browser, shared
FAST = "min_delay=20&max_delay=100"  # the page reconnects within 0.1 s in these tests


async def shown(page: Page) -> list[str]:
    """The text of every message in the page's log, in order."""
    return await page.get_by_role("log").evaluate(
        "log => [...log.querySelectorAll('p.message')].map(p => p.lastChild.textContent)")


async def wait_until_shown(page: Page, count: int, timeout: float = 5) -> list[str]:
    async with asyncio.timeout(timeout):
        while len(texts := await shown(page)) < count:
            await asyncio.sleep(0.02)
    return texts


@contextlib.asynccontextmanager
async def room_and_sender(origin: str | None = None,
                          **options: object) -> AsyncIterator[tuple[ChatServer, ChatClient]]:
    """A chat server, and a Python client in it named Sender (with ``origin``, if given)."""
    room = await serve_chat(**options)
    sender = ChatClient(room.ws_url, "Sender", origin=origin)
    sender.start()
    try:
        await sender.wait_for(lambda c: c.state == "open")
        yield room, sender
    finally:
        await sender.close()
        await room.close()


def test_two_pages_chat(chromium: Chromium) -> None:
    async def test(page: Page) -> None:
        room = await serve_chat()
        elsewhere = await chromium.browser.new_context()  # another user: a window of its own
        try:
            other = await elsewhere.new_page()
            await page.goto(room.url)
            await page.get_by_label("Name").fill("Ana")
            await page.get_by_role("button", name="Join").click()
            await other.goto(room.url + "?name=Ben")  # the name in the URL joins at once
            await expect(page.locator("#presence")).to_contain_text("Ben")
            await expect(page.locator("#readyState")).to_have_text("1 (OPEN)")
            await page.get_by_label("Message").fill("hello Ben")
            await page.get_by_role("button", name="Send").click()
            await expect(other.get_by_role("log")).to_contain_text("hello Ben")
            await other.get_by_label("Message").fill("hi Ana")
            await other.get_by_label("Message").press("Enter")
            await expect(page.get_by_role("log")).to_contain_text("hi Ana")
            assert await shown(page) == await shown(other) == ["hello Ben", "hi Ana"]
        finally:
            await elsewhere.close()
            await room.close()

    chromium.run(test)


def test_an_xss_payload_shows_as_text_and_runs_nothing(chromium: Chromium) -> None:
    payloads = ['<img src=x onerror="window.pwned = 1">', "<script>window.pwned = 2</script>",
                '<a href="javascript:window.pwned=3">click</a>']

    async def test(page: Page) -> None:
        async with room_and_sender() as (room, sender):
            await page.goto(room.url + "?name=Victim")
            await sender.wait_for(lambda c: "Victim" in c.presence)
            for payload in payloads:
                await sender.say(payload)
            assert await wait_until_shown(page, len(payloads)) == payloads
            log = page.get_by_role("log")
            assert await log.locator("img, script, a").count() == 0
            assert await page.evaluate("window.pwned") is None

    chromium.run(test)


def test_the_page_loses_nothing_when_its_connection_is_cut_ten_times(chromium: Chromium) -> None:
    count, cuts = 200, 10

    async def test(page: Page) -> None:
        async with room_and_sender(rate=1e9, burst=10**9) as (room, sender):
            await page.goto(f"{room.url}?name=Page&{FAST}")
            await sender.wait_for(lambda c: "Page" in c.presence)
            cut = 0
            for n in range(count):
                await sender.say(f"m{n}")
                await asyncio.sleep(0.002)
                if n % (count // cuts) == count // cuts // 2:
                    ws = room.members["page"].ws
                    ws.transport.abort()  # the server drops TCP: no close frame
                    cut += 1
                    async with asyncio.timeout(5):  # wait for the page to be back
                        while "page" not in room.members or room.members["page"].ws is ws:
                            await asyncio.sleep(0.005)
            assert cut == cuts
            texts = await wait_until_shown(page, count)
            assert texts == [f"m{n}" for n in range(count)]  # 0 lost, 0 duplicated
            await asyncio.sleep(0.1)
            assert len(await shown(page)) == count  # and nothing late
            assert "code 1006" in await page.locator("#closeEvent").text_content()

    chromium.run(test)


@contextlib.asynccontextmanager
async def freezable_proxy(target: list[int]) -> AsyncIterator[tuple[int, list[asyncio.Event]]]:
    """A TCP relay on loopback to port ``target[0]``; each connection has an Event that, set,
    freezes it: nothing more passes either way, and nothing is closed (a dead peer)."""
    frozen: list[asyncio.Event] = []

    async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", target[0])
        freeze = asyncio.Event()
        frozen.append(freeze)

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            while data := await source.read(65536):
                if freeze.is_set():
                    await asyncio.Future()  # silent for ever
                sink.write(data)
            sink.close()

        try:
            await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))
        finally:
            upstream_writer.close()

    async with tcp_server(relay) as port:
        yield port, frozen


def test_the_heartbeat_replaces_a_silent_connection_and_resumes(chromium: Chromium) -> None:
    """JavaScript cannot ping; the page's heartbeat message finds that nothing answers, opens
    a new connection at once, takes its name back with its key (the server still holds the
    silent one) and gets what it missed."""
    target = [0]

    async def test(page: Page) -> None:
        async with freezable_proxy(target) as (proxy_port, frozen):
            origin = f"http://127.0.0.1:{proxy_port}"
            async with room_and_sender(origin, origins={origin}) as (room, sender):
                target[0] = room.port
                await page.goto(f"{origin}/?name=Page&heartbeat=200&pong_timeout=300&{FAST}")
                await sender.wait_for(lambda c: "Page" in c.presence)
                await sender.say("before")
                await wait_until_shown(page, 1)
                silent = room.members["page"].ws
                for freeze in frozen:
                    freeze.set()
                await sender.say("while frozen")
                async with asyncio.timeout(5):
                    while room.members["page"].ws is silent:
                        await asyncio.sleep(0.01)
                assert silent.close_code == protocol.REPLACED
                assert await wait_until_shown(page, 2) == ["before", "while frozen"]
                events = await page.locator("#events").text_content()
                assert "no pong within 300 ms" in events
                assert sender.presence == ["Page", "Sender"]  # one Page: the name came back

    chromium.run(test)


async def close_event(page: Page, timeout: float = 5) -> str:
    """The page's last ``CloseEvent``, once there is one."""
    async with asyncio.timeout(timeout):
        while (shown_event := await page.locator("#closeEvent").text_content()) == "-":
            await asyncio.sleep(0.02)
    return shown_event


def test_a_restart_and_a_shutdown_close_the_page_cleanly_with_their_codes(
        chromium: Chromium) -> None:
    """The server closes with the closing handshake, not by failing the connection: the page's
    ``CloseEvent`` has the code and ``wasClean`` true, for a restart (1012) and for good
    (1001). (Closing TCP right after the close frame made Chromium report wasClean false, and
    sometimes 1006.)"""

    async def test(page: Page) -> None:
        room = await serve_chat()
        try:
            for ending in ("restart", "close"):
                await page.goto(f"{room.url}?name=Page&min_delay=5000")
                await expect(page.locator("#light")).to_have_text("connected as Page")
                await (room.restart() if ending == "restart" else room.close())
                expected = ('code 1012 · reason "the server is restarting" · wasClean true'
                            if ending == "restart" else 'code 1001 · reason "" · wasClean true')
                assert await close_event(page) == expected
        finally:
            await room.close()

    chromium.run(test)


def test_the_page_tells_a_gap_of_unknown_size_as_a_restart(chromium: Chromium) -> None:
    """A server that started a new history sends ``{"type": "gap", "missed": null}``: nobody
    knows how much was lost. The page says so, rather than "null messages missed"."""

    async def handler(ws: aio.WebSocket) -> None:
        for text in (protocol.welcome("Page", "key"), History().hello(),
                     json.dumps({"type": "gap", "missed": None}), json.dumps(
                         {"type": "gap", "missed": 3})):
            await ws.send(text)
        await ws.wait_closed()

    async def test(page: Page) -> None:
        async with aio.serve(handler, "127.0.0.1", 0, process_request=page_module.respond) \
                as server:
            await page.goto(f"http://127.0.0.1:{server.port}/?name=Page")
            log = page.get_by_role("log")
            await expect(log).to_contain_text("3 messages missed")
            text = await log.text_content()
            assert "the server restarted: messages sent while you were away may be lost" in text
            assert "null" not in text

    chromium.run(test)


def test_the_articles_url_without_its_colon_is_a_path_on_the_pages_own_server(
        chromium: Chromium) -> None:
    """Notebook 10's erratum: ``new WebSocket('ws//localhost:8080')`` does not throw; Chromium
    resolves it relative to the page and swaps http for ws."""

    async def test(page: Page) -> None:
        room = await serve_chat()
        try:
            await page.goto(room.url)
            url = await page.evaluate(
                "() => { const ws = new WebSocket('ws//localhost:8080'); ws.close(); "
                "return ws.url; }")
        finally:
            await room.close()
        assert url == f"ws://127.0.0.1:{room.port}/ws//localhost:8080"

    chromium.run(test)
