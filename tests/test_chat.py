"""The chat server against real peers: the ``websockets`` library's client, our ``ChatClient``,
and plain HTTP. What the issue asks the chat to prove: Origin and join code refused with 403,
unique and limited names, a flooding client closed with 1008 while another keeps chatting, a
reader that never reads closed with 1013 while ten others get every message, 500 clients that
each get a broadcast once and in order, and a server restart that loses nothing."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import pytest
from websockets.asyncio.client import connect as websockets_connect
from websockets.exceptions import ConnectionClosed as WebsocketsClosed
from websockets.exceptions import InvalidStatus

from wsteach.chat import protocol
from wsteach.chat.client import ChatClient
from wsteach.chat.server import ChatServer, serve_chat

TEST_TIMEOUT = 20  # seconds per test; the 500-client one takes about 2


def run(coro: Coroutine[Any, Any, Any], timeout: float = TEST_TIMEOUT) -> Any:
    async def bounded() -> Any:
        async with asyncio.timeout(timeout):
            return await coro

    return asyncio.run(bounded())


@contextlib.asynccontextmanager
async def chat_room(**options: Any) -> AsyncIterator[ChatServer]:
    room = await serve_chat(**options)
    try:
        yield room
    finally:
        await room.close()


def page_origin(room: ChatServer) -> str:
    return f"http://127.0.0.1:{room.port}"


async def open_ws(room: ChatServer, **query: str):
    """A websockets client, as the chat's own page would connect, not yet read from."""
    return await websockets_connect(f"{room.ws_url}?{urllib.parse.urlencode(query)}",
                                    origin=page_origin(room), compression=None)


async def join(room: ChatServer, name: str, **query: str):
    """A websockets client in the room, past its welcome, replay and presence list."""
    ws = await open_ws(room, name=name, **query)
    welcome = json.loads(await ws.recv())
    assert welcome["type"] == "welcome", welcome
    while json.loads(await ws.recv())["type"] != "presence":
        pass
    return ws


async def said(ws, count: int, texts: list[str] | None = None) -> list[str]:
    """The texts of the next ``count`` chat messages a websockets client receives (appended
    to ``texts`` as they come, if given)."""
    texts = [] if texts is None else texts
    while len(texts) < count:
        message = json.loads(await ws.recv())
        if message["type"] == "message":
            texts.append(message["data"]["text"])
    return texts


# ---- HTTP: the page, and what is not there ---------------------------------------------------


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_one_port_serves_the_page_its_files_and_nothing_else():
    async def scenario() -> None:
        room = await serve_chat()
        try:
            base = f"http://127.0.0.1:{room.port}"
            answers = {path: await asyncio.to_thread(fetch, base + path)
                       for path in ("/", "/chat.js", "/chat.css", "/favicon.ico", "/secret")}
        finally:
            await room.close()
        status, headers, body = answers["/"]
        assert status == 200 and b'role="log"' in body
        assert headers["Content-Type"] == "text/html; charset=utf-8"
        assert "connect-src 'self'" in headers["Content-Security-Policy"]
        assert answers["/chat.js"][0] == 200 and b"textContent" in answers["/chat.js"][2]
        assert answers["/chat.js"][1]["Content-Type"].startswith("text/javascript")
        assert answers["/chat.css"][0] == 200
        assert answers["/favicon.ico"][0] == 204
        assert answers["/secret"][0] == 404

    run(scenario())


# ---- who may connect ------------------------------------------------------------------------


def test_a_foreign_origin_gets_403_and_the_pages_own_is_welcome():
    """Cross-site WebSocket hijacking: a page elsewhere opens our WebSocket in the victim's
    browser; the browser says where the page came from, and the chat refuses it."""

    async def scenario() -> None:
        async with chat_room() as room:
            for origin in ("http://evil.example", f"http://127.0.0.1:{room.port + 1}", None):
                with pytest.raises(InvalidStatus) as refused:
                    await websockets_connect(f"{room.ws_url}?name=Eve", origin=origin)
                assert refused.value.response.status_code == 403, origin
            for host in ("127.0.0.1", "localhost"):
                ws = await websockets_connect(f"{room.ws_url}?name=Ada{host[0]}",
                                              origin=f"http://{host}:{room.port}")
                assert json.loads(await ws.recv())["type"] == "welcome"
                await ws.close()

    run(scenario())


def test_class_mode_refuses_a_client_without_the_join_code():
    async def scenario() -> None:
        async with chat_room(join_code="k3yw0rd") as room:
            base = f"http://127.0.0.1:{room.port}/"
            assert (await asyncio.to_thread(fetch, base))[0] == 403
            assert (await asyncio.to_thread(fetch, base + "?code=k3yw0rd"))[0] == 200
            for query in ("", "&code=wrong", "&code=K3YW0RD"):
                with pytest.raises(InvalidStatus) as refused:
                    await websockets_connect(f"{room.ws_url}?name=Eve{query}",
                                             origin=page_origin(room))
                assert refused.value.response.status_code == 403
            ws = await join(room, "Ada", code="k3yw0rd")
            await ws.close()
            student = ChatClient(room.ws_url, "Bo")  # no code: refused for good, not retried
            student.start()
            await student.wait_for(lambda c: c.state == "closed")
            assert "403" in student.log[-1].text

    run(scenario())


@pytest.mark.parametrize(("name", "why"), [
    ("", "a name is needed"),
    ("x" * 21, "at most 20 characters"),
    ("Ada\u202egnp.exe", "U+202E"),
    ("Ada\nBo", "U+000A"),
])
def test_a_bad_name_is_refused_with_4001(name, why):
    async def scenario() -> None:
        async with chat_room() as room:
            ws = await open_ws(room, name=name)
            with pytest.raises(WebsocketsClosed) as closed:
                await ws.recv()
            assert closed.value.rcvd.code == protocol.NAME_REFUSED
            assert why in closed.value.rcvd.reason

    run(scenario())


def test_names_are_unique_but_a_reconnect_with_the_key_takes_its_name_back():
    async def scenario() -> None:
        async with chat_room() as room:
            first = await open_ws(room, name="Ada")
            key = json.loads(await first.recv())["key"]
            for other in ({"name": "Ada"}, {"name": "ADA"}, {"name": "Ａｄａ"},
                          {"name": "Ada", "key": "a guess"}):
                ws = await open_ws(room, **other)
                with pytest.raises(WebsocketsClosed) as closed:
                    await ws.recv()
                assert closed.value.rcvd.code == protocol.NAME_REFUSED, other
                assert "the name Ada is taken" in closed.value.rcvd.reason
            again = await join(room, "Ada", key=key)  # the first one went silent, say
            with pytest.raises(WebsocketsClosed) as replaced:
                while True:
                    await first.recv()
            assert replaced.value.rcvd.code == protocol.REPLACED
            assert room.names() == ["Ada"]
            await again.close()

    run(scenario())


# ---- limits -----------------------------------------------------------------------------------


def test_a_flooding_client_is_told_then_closed_with_1008_and_others_keep_chatting():
    async def scenario() -> None:
        async with chat_room(rate=5, burst=5, flood_after=10) as room:
            flooder, ada, bo = [await join(room, name) for name in ("Flo", "Ada", "Bo")]
            for n in range(50):
                await flooder.send(protocol.say(f"spam {n}"))
            replies = []
            with pytest.raises(WebsocketsClosed) as closed:
                while True:
                    replies.append(json.loads(await flooder.recv()))
            assert closed.value.rcvd.code == 1008
            errors = [r["reason"] for r in replies if r["type"] == "error"]
            assert len(errors) == 1 and "too fast" in errors[0]  # told once, then closed
            # The burst went through; the rest was dropped, and nobody else was cut off.
            assert await said(bo, 5) == [f"spam {n}" for n in range(5)]
            await ada.send(protocol.say("still here?"))
            assert await said(bo, 1) == ["still here?"]
            await asyncio.gather(ada.close(), bo.close())

    run(scenario())


def test_a_message_too_long_is_refused_and_one_too_big_closes_with_1009():
    async def scenario() -> None:
        async with chat_room() as room:
            ada = await join(room, "Ada")
            await ada.send(protocol.say("x" * (protocol.MAX_TEXT + 1)))
            assert "at most 500 characters" in json.loads(await ada.recv())["reason"]
            await ada.send("not json")
            assert "not JSON" in json.loads(await ada.recv())["reason"]
            await ada.send(protocol.say("x" * 5000))  # over max_size=4096 bytes
            with pytest.raises(WebsocketsClosed) as closed:
                await ada.recv()
            assert closed.value.rcvd.code == 1009

    run(scenario())


def test_a_client_that_never_reads_is_closed_while_ten_others_get_every_message():
    """The issue's stall: a loop of ``await ws.send()`` stops every reader behind one that
    does not read. Broadcasting with a bounded send buffer closes that one with 1013 instead;
    it may then come back and resume, and learns how much the history could not keep."""
    # 8 MB for each reader: more than the kernel's socket buffers hold for one that does not
    # read (about 4 MB on loopback here), on top of the 128 KiB the server may keep unsent.
    count, kept = 4000, 30
    stream = [f"{n:06d} " + "😀" * 490 for n in range(count)]  # about 2 kB each in UTF-8

    async def scenario() -> None:
        async with chat_room(rate=1e9, burst=10**9, max_send_buffer=2**17,
                             history=kept) as room:
            readers = [await join(room, f"r{n}") for n in range(10)]
            sleeper = await join(room, "Sleepy")  # websockets stops reading at max_queue
            sender = await join(room, "Sender")
            progress: list[list[str]] = [[] for _ in range(11)]
            reading = [asyncio.create_task(said(ws, count, texts))
                       for ws, texts in zip([*readers, sender], progress, strict=True)]
            for n, text in enumerate(stream):
                await sender.send(protocol.say(text))
                # Readers in this process share its CPU with the server: the stream waits for
                # them to be within 200 messages (400 kB), as readers elsewhere would keep up.
                while n - min(map(len, progress)) > 200:
                    await asyncio.sleep(0.001)
            assert await asyncio.gather(*reading) == [stream] * 11
            assert set(room.names()) == {f"r{n}" for n in range(10)} | {"Sender"}
            # Now Sleepy reads: what the server had buffered, then its close frame.
            seen = []
            with pytest.raises(WebsocketsClosed) as closed:
                while True:
                    message = json.loads(await sleeper.recv())
                    if message["type"] == "message":
                        seen.append(message)
            assert closed.value.rcvd.code == 1013
            last = seen[-1]["seq"]
            assert 0 < last < count
            assert [m["data"]["text"] for m in seen] == stream[:last]  # in order, none twice
            back = await open_ws(room, name="Sleepy", epoch=room.history.epoch, last=str(last))
            replay = [json.loads(await back.recv()) for _ in range(3 + kept)]
            assert [m["type"] for m in replay[:3]] == ["welcome", "hello", "gap"]
            assert replay[2]["missed"] == count - kept - last  # told, not silently lost
            assert [m["data"]["text"] for m in replay[3:]] == stream[-kept:]
            await asyncio.gather(*(ws.close() for ws in [*readers, sender, back]))

    run(scenario())


def test_a_restart_closes_cleanly_and_waits_at_most_close_timeout_for_a_silent_client():
    """The closing handshake with everyone: a client that answers sees 1012 and its close
    completes; one that has gone silent (it reads nothing) holds the restart up only for
    ``close_timeout``."""

    async def scenario() -> None:
        async with chat_room(close_timeout=0.3) as room:
            awake = await join(room, "Awake")
            silent = await join(room, "Silent")
            silent.transport.pause_reading()  # it will never read the close frame
            started = asyncio.get_running_loop().time()
            await room.restart()
            took = asyncio.get_running_loop().time() - started
            assert 0.25 < took < 1.5, took
            with pytest.raises(WebsocketsClosed) as closed:
                while True:
                    await awake.recv()  # "joined Silent", then the close
            assert closed.value.rcvd.code == 1012 and closed.value.sent.code == 1012
            silent.transport.abort()

    run(scenario())


def test_500_clients_each_get_a_broadcast_once_and_in_order():
    clients, messages = 500, 3

    async def scenario() -> None:
        async with chat_room(rate=1e9, burst=10**9) as room:
            joined = await asyncio.gather(*(join(room, f"c{n:03d}") for n in range(clients)))
            assert len(room.names()) == clients
            for n in range(messages):
                await joined[0].send(protocol.say(f"to all, {n}"))
            got = await asyncio.gather(*(said(ws, messages) for ws in joined))
            assert got == [[f"to all, {n}" for n in range(messages)]] * clients
            # Nothing more came, and no message twice: the next one is the marker.
            await joined[1].send(protocol.say("end"))
            assert await asyncio.gather(*(said(ws, 1) for ws in joined)) == [["end"]] * clients
            await asyncio.gather(*(ws.close() for ws in joined))

    run(scenario())


# ---- the command line --------------------------------------------------------------------------


def start_command(*options: str) -> tuple[subprocess.Popen[str], list[str]]:
    """``python -m wsteach chat ...`` on a free port; the process and its first lines."""
    process = subprocess.Popen([sys.executable, "-m", "wsteach", "chat", "--port", "0",
                                *options], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    lines = [process.stdout.readline()]
    if "Class mode" in lines[0]:
        while not lines[-1].startswith("Anyone"):
            lines.append(process.stdout.readline())
    return process, lines


def test_the_command_serves_the_chat_on_loopback():
    process, lines = start_command()
    try:
        url = re.search(r"http://127\.0\.0\.1:\d+/", lines[0])
        assert url, lines
        assert fetch(url.group())[0] == 200
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_command_in_class_mode_prints_the_urls_with_the_join_code():
    process, lines = start_command("--class", "--host", "127.0.0.1")  # loopback, still
    try:
        code = re.search(r"join code (\w+)", lines[0]).group(1)
        urls = [line.strip() for line in lines if line.startswith("    http://")]
        assert urls and all(url.endswith(f"/?code={code}") for url in urls)
        assert fetch(urls[0])[0] == 200
        assert fetch(urls[0].split("?")[0])[0] == 403
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_command_refuses_a_public_address_without_class_mode():
    result = subprocess.run([sys.executable, "-m", "wsteach", "chat", "--host", "192.0.2.7"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "not a loopback address" in result.stderr and "--class" in result.stderr
