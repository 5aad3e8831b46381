"""Scripted traffic on loopback, captured into the pcaps of ``data/captures/``.

Each scenario is an async function given the port to use; ``record`` captures it. The command
``python -m wsteach capture --out data/captures`` (or ``make captures``) runs them all, so every
stored capture can be regenerated. Live capture needs root or cap_net_raw.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from websockets.asyncio.client import connect as websockets_connect
from websockets.asyncio.server import serve as websockets_serve

from wsteach import aio
from wsteach.frames import Frame, Opcode, encode_frame, random_mask_key
from wsteach.lessons import closing, polling, polling_clients
from wsteach.lessons.faulty_proxy import FaultyProxy
from wsteach.show.envcheck import free_loopback_port
from wsteach.wire.capture import Capture, write_pcap

Scenario = Callable[[int], Awaitable[None]]
LENGTH_BOUNDARIES = (125, 126, 65535, 65536)  # where the 7-, 16- and 64-bit forms switch


async def echo(ws: aio.WebSocket) -> None:
    async for message in ws:
        await ws.send(message)


async def websocket_session(port: int, *, server_ssl: ssl.SSLContext | None = None,
                            client_ssl: ssl.SSLContext | None = None) -> None:
    """A whole session between our client and our echo server.

    The handshake; a text and a binary message; the length boundaries; a fragmented message
    with a ping between its fragments (and the pong); a close with a code and a reason; TCP FIN.
    With ``server_ssl`` and ``client_ssl`` the same session runs over TLS (``wss://``).
    """
    scheme = "wss" if server_ssl else "ws"
    async with aio.serve(echo, "127.0.0.1", port, ssl=server_ssl):
        ws = await aio.connect(f"{scheme}://127.0.0.1:{port}/chat", ssl=client_ssl)
        await ws.send("Hello")
        await ws.recv()
        await ws.send(bytes(range(8)))
        await ws.recv()
        for length in LENGTH_BOUNDARIES:
            await ws.send("x" * length)
            await ws.recv()
        await ws.send_raw(encode_frame(Frame(Opcode.TEXT, b"Hel", fin=False), random_mask_key()))
        await ws.send_raw(ws.connection.ping(b"between"))
        await ws.send_raw(encode_frame(Frame(Opcode.CONTINUATION, b"lo"), random_mask_key()))
        await ws.recv()
        await ws.close(1000, "bye")


async def compressed_session(port: int) -> None:
    """The websockets library with permessage-deflate (RFC 7692): RSV1 set, payloads shrunk."""
    async def echo_theirs(ws) -> None:
        async for message in ws:
            await ws.send(message)

    async with (websockets_serve(echo_theirs, "127.0.0.1", port),
                websockets_connect(f"ws://127.0.0.1:{port}/") as ws):
        for _ in range(3):  # the same message again compresses better: shared context
            await ws.send('{"guest": "Ada", "table": 7, "time": "19:30"}' * 4)
            await ws.recv()


# ---- heartbeats (notebook 08) ----------------------------------------------------------------

KEEPALIVE_INTERVAL = 0.05  # seconds between the server's pings in these captures
KEEPALIVE_TIMEOUT = 0.1  # seconds it waits for each pong


async def idle(ws: aio.WebSocket) -> None:
    await ws.wait_closed()


async def keepalive(port: int) -> None:
    """An idle connection kept alive: the server pings every 50 ms, the client's pongs come
    back at once; after four pings the client closes."""
    async with aio.serve(idle, "127.0.0.1", port, ping_interval=KEEPALIVE_INTERVAL,
                         ping_timeout=KEEPALIVE_TIMEOUT):
        ws = await aio.connect(f"ws://127.0.0.1:{port}/", ping_interval=None)
        await asyncio.sleep(4.5 * KEEPALIVE_INTERVAL)
        await ws.close()


async def keepalive_timeout(port: int) -> None:
    """The client's network vanishes (a proxy between them blackholes the connection): the
    server's pings go unanswered, and after 100 ms it sends 1011 "keepalive ping timeout" and
    drops TCP. Captured on the server's port: the proxy is the server's peer."""
    async with (aio.serve(idle, "127.0.0.1", port, ping_interval=KEEPALIVE_INTERVAL,
                          ping_timeout=KEEPALIVE_TIMEOUT) as server,
                FaultyProxy(port) as proxy):
        ws = await aio.connect(f"ws://127.0.0.1:{proxy.port}/", ping_interval=None)
        await asyncio.sleep(2.5 * KEEPALIVE_INTERVAL)  # two pings answered
        proxy.blackhole()
        while server.connections:
            await asyncio.sleep(0.01)
        ws.transport.abort()
# ---- closing (notebook 07) ------------------------------------------------------------------

GOODBYE = (4001, "下课了, class is over")  # a code of the private range 4000-4999, a UTF-8 reason


async def close_by_client(port: int) -> None:
    """One message each way, then the client starts the closing handshake (1000, no reason);
    the server echoes the close and closes TCP first (section 7.1.1)."""
    async with aio.serve(echo, "127.0.0.1", port):
        ws = await aio.connect(f"ws://127.0.0.1:{port}/")
        await ws.send("time to go")
        await ws.recv()
        await ws.close()


async def close_by_server(port: int) -> None:
    """The server sends one message, then starts the closing handshake (1000); the client
    echoes the close, and the server still closes TCP first."""
    async def say_goodbye(ws: aio.WebSocket) -> None:
        await ws.send("closing time")
        await ws.close()

    async with aio.serve(say_goodbye, "127.0.0.1", port):
        ws = await aio.connect(f"ws://127.0.0.1:{port}/")
        async for _ in ws:
            pass
        await ws.wait_closed()


async def close_with_reason(port: int) -> None:
    """The client closes with a code of its own and a reason in UTF-8 (``GOODBYE``); the
    server's reply echoes both (section 5.5.1)."""
    async with aio.serve(echo, "127.0.0.1", port):
        ws = await aio.connect(f"ws://127.0.0.1:{port}/")
        await ws.close(*GOODBYE)


async def peer_vanished(port: int) -> None:
    """One message each way, then the client resets TCP: no close frame from either side;
    the server's handler gets ``ConnectionClosed`` with 1006."""
    ended = asyncio.get_running_loop().create_future()

    async def echo_until_gone(ws: aio.WebSocket) -> None:
        try:
            await echo(ws)
        except aio.ConnectionClosed as closed:
            ended.set_result(closed.code)

    async with aio.serve(echo_until_gone, "127.0.0.1", port):
        ws = await aio.connect(f"ws://127.0.0.1:{port}/")
        await ws.send("are you there?")
        await ws.recv()
        closing.reset_tcp(ws)
        assert await asyncio.wait_for(ended, 5) == 1006


# ---- before WebSocket (notebooks 01 and 02) -------------------------------------------------

NEWS_COUNT = 5  # guests per polling scenario
# The timings of notebook 02's parameter cell: the article's, divided by the same SPEED_UP, so
# that the stored captures show what the notebook's live demos do.
SPEED_UP = 40
NEWS_INTERVAL = (2 / SPEED_UP, 7 / SPEED_UP)  # seconds between two guests (the article: 2-7 s)
POLL_INTERVAL = 1 / SPEED_UP  # the short-polling client asks this often (the article: 1 s)
HOLD = 0.12  # a long poll is answered 204 after this long without news
RETRY_MS = 50  # the SSE reconnection delay the server asks for


def news() -> polling.EventSource:
    """Guests arriving every 50 to 175 ms: the article's 2-7 s, sped up."""
    return polling.EventSource(polling.load_guests(), *NEWS_INTERVAL, seed=5)


async def http10_vs_keepalive(port: int) -> None:
    """Five guests fetched over HTTP/1.0, a TCP connection each, then the same five over one
    HTTP/1.1 keep-alive connection."""
    targets = [f"/guests/{n}" for n in range(1, 6)]
    async with polling.serve(news(), port):
        await polling_clients.fetch_http10(port, targets)
        await polling_clients.fetch_keep_alive(port, targets)


async def short_polling(port: int) -> None:
    """Asking "anything new?" every 25 ms on one keep-alive connection: mostly 204s."""
    source = news()
    async with polling.serve(source, port):
        await asyncio.gather(source.produce(NEWS_COUNT),
                             polling_clients.short_polling_client(port, NEWS_COUNT,
                                                                  POLL_INTERVAL))


async def long_polling(port: int) -> None:
    """Requests held until news arrives, or answered 204 after 120 ms."""
    source = news()
    async with polling.serve(source, port, hold=HOLD):
        await asyncio.gather(source.produce(NEWS_COUNT),
                             polling_clients.long_polling_client(port, NEWS_COUNT))


async def streaming(port: int) -> None:
    """The forever iframe: one chunked response, a <script> chunk per guest."""
    source = news()
    async with polling.serve(source, port):
        await asyncio.gather(source.produce(NEWS_COUNT),
                             polling_clients.streaming_client(port, NEWS_COUNT))


async def sse(port: int) -> None:
    """Server-Sent Events; the server drops the connection after two events and the client
    reconnects with Last-Event-ID."""
    source = news()
    async with polling.serve(source, port, retry_ms=RETRY_MS) as server:
        client = asyncio.create_task(polling_clients.sse_client(port, NEWS_COUNT))
        await source.produce(2)
        await asyncio.sleep(0.01)
        server.drop_connections()
        await source.produce(NEWS_COUNT - 2)
        await client


async def websocket_events(port: int) -> None:
    """The same guests pushed over a WebSocket: one handshake, then a frame per guest."""
    source = news()
    async with polling.serve_websocket(source, port):
        await asyncio.gather(source.produce(NEWS_COUNT),
                             polling_clients.websocket_client(port, NEWS_COUNT))


# ---- Socket.IO (notebook 09) ------------------------------------------------------------------

SOCKETIO_NEWS_INTERVAL = 0.15  # seconds between news: the article's 2-7 s, sped up
SOCKETIO_NEWS_COUNT = 3


async def socketio_upgrade(port: int) -> None:
    """Real python-socketio, server and client. First a client that only polls: the open
    packet, ``40``, an ``echo`` and its ack, news and a ping on held GETs. Then a client with
    both transports: the open packet by polling, the upgrade to a WebSocket (``2probe``,
    ``3probe``, ``5``), then ``40``, the ``echo``, news and a ping in frames. python-engineio
    advertises whole seconds only (it truncates a ping interval of 0.4 s to 0), hence 1 s."""
    from socketio import AsyncClient

    from wsteach.socketio import python_socketio

    url = f"http://127.0.0.1:{port}"
    async with python_socketio.serve(0.5, port=port, ping_interval=1, ping_timeout=1):
        for transports in (["polling"], ["polling", "websocket"]):
            client = AsyncClient(reconnection=False)
            await client.connect(url, transports=transports)
            await client.call("echo", "你好")
            await asyncio.sleep(1.2)  # news, and the server's first ping
            await client.disconnect()


async def socketio_vs_websocket(port: int) -> None:
    """The same guest table pushed three times, twice: as the event ``news`` by our small
    Socket.IO server to python-socketio's client (WebSocket transport), then as plain text
    messages by a plain WebSocket server to our client. Their bytes per message compared."""
    from socketio import AsyncClient

    from wsteach.socketio import newsfeed

    news: asyncio.Queue[object] = asyncio.Queue()
    client = AsyncClient(reconnection=False)
    client.on("news", news.put_nowait)
    async with newsfeed.news_feed(SOCKETIO_NEWS_INTERVAL).serve(port=port):
        await client.connect(f"http://127.0.0.1:{port}", transports=["websocket"])
        for _ in range(SOCKETIO_NEWS_COUNT):
            await news.get()
        await client.call("echo", "你好")
        await client.disconnect()
    table = polling.encode_json(newsfeed.load_guests()).decode("utf-8")

    async def push(ws: aio.WebSocket) -> None:
        for _ in range(SOCKETIO_NEWS_COUNT):
            await ws.send(table)
            await asyncio.sleep(SOCKETIO_NEWS_INTERVAL)

    async with (aio.serve(push, "127.0.0.1", port),
                aio.connect(f"ws://127.0.0.1:{port}/", ping_interval=None) as ws):
        for _ in range(SOCKETIO_NEWS_COUNT):
            await ws.recv()


SCENARIOS: dict[str, Scenario] = {
    "websocket_session": websocket_session,
    "compressed_session": compressed_session,
    "http10_vs_keepalive": http10_vs_keepalive,
    "short_polling": short_polling,
    "long_polling": long_polling,
    "streaming": streaming,
    "sse": sse,
    "websocket_events": websocket_events,
    "keepalive": keepalive,
    "keepalive_timeout": keepalive_timeout,
    "close_by_client": close_by_client,
    "close_by_server": close_by_server,
    "close_with_reason": close_with_reason,
    "peer_vanished": peer_vanished,
    "socketio_upgrade": socketio_upgrade,
    "socketio_vs_websocket": socketio_vs_websocket,
}


@dataclass(frozen=True)
class Recording:
    name: str
    path: Path
    packets: int
    size: int  # bytes of the pcap file
    seconds: float  # how long the live capture took


async def record(scenario: Scenario, path: Path) -> Recording:
    """Run ``scenario`` on a free loopback port while capturing it into ``path``."""
    port = free_loopback_port()
    async with Capture(port) as capture:
        await scenario(port)
    write_pcap(capture.packets, path)
    return Recording(path.stem, path, len(capture.packets), path.stat().st_size,
                     capture.seconds)


async def record_all(out_dir: Path, only: Collection[str] = ()) -> list[Recording]:
    """Regenerate every stored capture, or only those named in ``only``."""
    unknown = set(only) - set(SCENARIOS)
    if unknown:
        raise ValueError(f"no scenario named {', '.join(sorted(unknown))}; "
                         f"the scenarios are {', '.join(SCENARIOS)}")
    return [await record(scenario, out_dir / f"{name}.pcap")
            for name, scenario in SCENARIOS.items() if not only or name in only]
