"""Our small Socket.IO server against real peers: python-socketio's ``AsyncClient`` (WebSocket
transport) talks to ``python -m wsteach socketio``; raw WebSocket clients send what no library
would (silence instead of pongs, malformed packets, oversized ones) and the other clients must
keep being served.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator

import pytest
import socketio

from wsteach import aio
from wsteach.socketio import newsfeed
from wsteach.socketio.server import Server

NEWS_INTERVAL = 0.1
GUESTS = newsfeed.load_guests()


def run(coroutine, limit: float = 20):
    async def bounded():
        async with asyncio.timeout(limit):
            return await coroutine

    return asyncio.run(bounded())


@pytest.fixture(scope="module")
def command_port() -> AsyncIterator[int]:
    """``python -m wsteach socketio --port 0 --news-interval 0.1``, as a student runs it."""
    process = subprocess.Popen([sys.executable, "-m", "wsteach", "socketio", "--port", "0",
                                "--news-interval", str(NEWS_INTERVAL)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = process.stdout.readline()  # "Socket.IO news feed on http://127.0.0.1:PORT/ ..."
        assert "Socket.IO news feed on http://127.0.0.1:" in line, line + process.stdout.read()
        yield int(line.split("http://127.0.0.1:", 1)[1].split("/", 1)[0])
    finally:
        process.terminate()
        process.wait(timeout=10)


class Recorder:
    """A python-socketio client that records the events it receives."""

    def __init__(self) -> None:
        self.client = socketio.AsyncClient(reconnection=False)
        self.news: list[object] = []
        self.said: list[object] = []
        self.client.on("news", self.news.append)
        self.client.on("said", self.said.append)

    async def connect(self, port: int) -> Recorder:
        await self.client.connect(f"http://127.0.0.1:{port}", transports=["websocket"])
        return self

    @property
    def sid(self) -> str:
        return self.client.get_sid()


async def until(condition, limit: float = 3.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def test_news_echo_and_rooms_against_the_command(command_port):
    async def main():
        a, b, c = [await Recorder().connect(command_port) for _ in range(3)]
        assert a.client.transport() == "websocket"
        # news: the guest table, at once and then every 0.1 s
        await until(lambda: all(len(r.news) >= 2 for r in (a, b, c)))
        assert a.news[0] == GUESTS
        # echo: acknowledged with the same arguments, whatever they are
        # (python-socketio's call gives one argument as itself, none as None, more as a tuple)
        nested = {"nested": ["x", {"y": "😀"}]}
        for args, expected in [("你好", "你好"), ((1, 2.5, None, True), (1, 2.5, None, True)),
                               ((nested,), nested), ((), None)]:
            assert await a.client.call("echo", args) == expected
        # join, then say: every other client in the room gets "said", the sender does not
        assert await a.client.call("join", "room 1") is True
        assert await b.client.call("join", "room 1") is True
        assert await c.client.call("join", "room 2") is True
        assert await a.client.call("say", {"room": "room 1", "text": "hi"}) == 1
        await until(lambda: b.said)
        assert b.said == [{"from": a.sid, "text": "hi"}]
        assert await c.client.call("say", {"room": "room 2", "text": "alone"}) == 0
        await asyncio.sleep(0.1)
        assert a.said == [] and c.said == []
        # disconnect leaves the room
        await b.client.disconnect()
        await asyncio.sleep(0.1)
        assert await a.client.call("say", {"room": "room 1", "text": "anyone?"}) == 0
        assert await a.client.call("say", "not a dict") == {
            "error": 'say takes {"room": <a room name>, "text": <a string>}'}
        for recorder in (a, c):
            await recorder.client.disconnect()

    run(main())


def test_binary_arguments_are_echoed_as_attachments(command_port):
    async def main():
        a = await Recorder().connect(command_port)
        blob = bytes(range(256))
        assert await a.client.call("echo", ("text", blob, {"inside": b"\x00"})) == (
            "text", blob, {"inside": b"\x00"})
        await a.client.disconnect()

    run(main())


def test_polling_gets_a_plain_400(command_port):
    url = f"http://127.0.0.1:{command_port}/socket.io/?EIO=4&transport=polling"
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(url, timeout=5)
    assert caught.value.code == 400
    assert "WebSocket only" in caught.value.read().decode()
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(url.replace("EIO=4", "EIO=3"), timeout=5)
    assert "Engine.IO 4" in caught.value.read().decode()

    async def main():
        client = socketio.AsyncClient(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await client.connect(f"http://127.0.0.1:{command_port}")  # polling first

    run(main())


def test_the_page_and_a_missing_path(command_port):
    with urllib.request.urlopen(f"http://127.0.0.1:{command_port}/", timeout=5) as response:
        assert "socket.io.min.js" in response.read().decode()
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"http://127.0.0.1:{command_port}/nothing", timeout=5)
    assert caught.value.code == 404


# ---- the heartbeat ---------------------------------------------------------------------------

PING_INTERVAL = 0.3
PING_TIMEOUT = 0.4


async def raw_connect(port: int, **options) -> tuple[aio.WebSocket, dict, str]:
    """A WebSocket that speaks Engine.IO by hand: returns it, the open packet's JSON, and the
    Socket.IO id of the CONNECT reply."""
    ws = await aio.connect(f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket",
                           ping_interval=None, **options)
    opened = await ws.recv()
    assert opened.startswith("0{")
    await ws.send("40")
    reply = await ws.recv()
    assert reply.startswith("40{"), reply
    return ws, json.loads(opened[1:]), json.loads(reply[2:])["sid"]


def test_a_client_that_stops_answering_pings_is_dropped():
    server = newsfeed.news_feed(60, ping_interval=PING_INTERVAL, ping_timeout=PING_TIMEOUT)
    left: list[str] = []

    async def main():
        async with server.serve() as running:
            server.handlers["disconnect"] = lambda client: asyncio.sleep(0, left.append(client.sid))
            # one client answers every ping...
            answering, opened, answering_sid = await raw_connect(running.port)
            assert opened["pingInterval"] == 300 and opened["pingTimeout"] == 400
            assert opened["upgrades"] == [] and opened["maxPayload"] == 1_000_000

            async def pong(ws: aio.WebSocket) -> int:
                pings = 0
                async for message in ws:
                    if message == "2":
                        pings += 1
                        await ws.send("3")
                return pings

            ponging = asyncio.create_task(pong(answering))
            # ...the other, after joining a room, answers none
            silent, _, silent_sid = await raw_connect(running.port)
            await silent.send('420["join","quiet room"]')
            assert (await silent.recv()).startswith('42["news"')
            assert await silent.recv() == "430[true]"
            assert server.rooms["quiet room"] == {silent_sid}
            since = time.monotonic()
            messages = []
            with pytest.raises(aio.ConnectionClosed) as caught:
                while True:
                    messages.append(await silent.recv())
            dropped_after = time.monotonic() - since
            assert messages == ["2"]  # one ping, never answered
            assert caught.value.code == 1011 and caught.value.reason == "ping timeout"
            expected = PING_INTERVAL + PING_TIMEOUT
            assert expected - 0.05 <= dropped_after <= expected + 0.5, dropped_after
            assert "quiet room" not in server.rooms and silent_sid in left
            # the answering client is still there, well past interval + timeout
            await asyncio.sleep(PING_INTERVAL + PING_TIMEOUT)
            assert answering_sid in server.clients
            await answering.close()
            assert await ponging >= 3

    run(main())


# ---- bad input -------------------------------------------------------------------------------

BAD_PACKETS = [
    ("", "an empty message is no Engine.IO packet"),
    ("9", "no Engine.IO packet type"),
    ("2probe", "does not send Engine.IO PING"),
    ("48", "does not start with a packet type"),
    ("42", "non-empty JSON array"),
    ('42["echo"', "not JSON"),
    ('42[1,2]', "its name, a string"),
    ('42["disconnect"]', "reserved"),
    ('42/admin,["echo"]', "not connected to the namespace /admin"),
    ("4399[]", "ACK 99 answers no event the server sent"),
    ('4511-["echo",1]', "more than 10"),
    (('451-["echo",{"_placeholder":true,"num":0}]', '42["echo"]'), "still due"),
    (b"\x01\x02", "a binary message that no binary packet announced"),
    ('4' + '2' + '1' * 16 + '["echo"]', "more than 15 digits"),
    ("44{}", "does not send CONNECT_ERROR"),
]


@pytest.mark.parametrize(("message", "complaint"), BAD_PACKETS,
                         ids=[repr(m)[:30] for m, _ in BAD_PACKETS])
def test_bad_input_closes_that_client_only(message, complaint):
    server = newsfeed.news_feed(NEWS_INTERVAL)

    async def main():
        async with server.serve() as running:
            bystander = await Recorder().connect(running.port)
            ws, _, _ = await raw_connect(running.port)
            for part in message if isinstance(message, tuple) else (message,):
                await ws.send(part)
            with pytest.raises(aio.ConnectionClosed) as caught:
                while True:
                    await ws.recv()
            assert caught.value.code == 1008
            assert complaint in caught.value.reason, caught.value.reason
            count = len(bystander.news)
            assert await bystander.client.call("echo", "still here") == "still here"
            await until(lambda: len(bystander.news) > count)
            await bystander.client.disconnect()

    run(main())


def test_an_oversized_message_is_refused_by_the_websocket_layer():
    server = newsfeed.news_feed(NEWS_INTERVAL, max_payload=1000)

    async def main():
        async with server.serve() as running:
            ws, opened, _ = await raw_connect(running.port)
            assert opened["maxPayload"] == 1000
            await ws.send('42["echo","' + "x" * 1000 + '"]')
            with pytest.raises(aio.ConnectionClosed) as caught:
                while True:
                    await ws.recv()
            assert caught.value.code == 1009

    run(main())


def test_the_first_packet_must_be_connect_and_come_in_time():
    server = Server(connect_timeout=0.3)

    async def main():
        async with server.serve() as running:
            url = f"ws://127.0.0.1:{running.port}/socket.io/?EIO=4&transport=websocket"
            async with aio.connect(url) as ws:
                await ws.recv()  # the open packet
                await ws.send('42["echo"]')
                with pytest.raises(aio.ConnectionClosed) as caught:
                    await ws.recv()
                assert caught.value.code == 1008 and "must be CONNECT" in caught.value.reason
            async with aio.connect(url) as ws:
                await ws.recv()
                with pytest.raises(aio.ConnectionClosed) as caught:
                    await ws.recv()
                assert "no CONNECT within 0.3 s" in caught.value.reason

    run(main())


def test_an_unknown_namespace_gets_connect_error_and_the_session_goes_on():
    server = Server()

    async def main():
        async with server.serve() as running:
            url = f"ws://127.0.0.1:{running.port}/socket.io/?EIO=4&transport=websocket"
            async with aio.connect(url) as ws:
                await ws.recv()
                await ws.send("40/admin,")
                assert await ws.recv() == '44/admin,{"message":"Invalid namespace"}'
                await ws.send("40")
                assert (await ws.recv()).startswith('40{"sid":')
            client = socketio.AsyncClient(reconnection=False)
            with pytest.raises(socketio.exceptions.ConnectionError):
                await client.connect(f"http://127.0.0.1:{running.port}", namespaces=["/admin"],
                                     transports=["websocket"], wait_timeout=2)

    run(main())


def test_server_to_client_calls_with_acks():
    """``Server.call``: we issue the ack id, python-socketio's client answers it."""
    server = Server()
    connected: asyncio.Queue = asyncio.Queue()

    @server.on("connect")
    async def remember(client) -> None:
        await connected.put(client)

    async def main():
        async with server.serve() as running:
            recorder = Recorder()
            recorder.client.on("add", lambda x, y: x + y)

            async def slow() -> str:
                await asyncio.sleep(0.5)
                return "late"

            recorder.client.on("slow", slow)
            await recorder.connect(running.port)
            client = await connected.get()
            assert await server.call(client, "add", 2, 3) == [5]
            assert await server.call(client, "add", "a", "b") == ["ab"]
            assert client.next_ack_id == 2 and client.acks == {}
            # python-socketio answers an event it has no handler for with an empty ack
            assert await server.call(client, "nobody listens") == []
            with pytest.raises(TimeoutError):
                await server.call(client, "slow", timeout=0.2)
            await asyncio.sleep(0.5)  # its ack comes late: ignored, the client stays
            assert server.clients == {client.sid: client} and client.acks == {}
            assert await server.call(client, "add", 1, 1) == [2]
            await recorder.client.disconnect()

    run(main())
