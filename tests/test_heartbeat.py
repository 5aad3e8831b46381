"""Dead peers, reconnection and resuming, with faults injected by a real proxy on loopback.

- The proxy itself: it forwards, delays, blackholes (nothing moves, nobody gets an error) and
  cuts (both ends see a reset).
- Keepalive against the websockets library both ways through the blackhole: our server
  detects a silent websockets client, our client a silent websockets server, each within
  ping_interval + ping_timeout (+ 0.5 s); a healthy connection with a short interval stays open.
- Reconnection: ``async for ws in connect(...)`` comes back after each of 5 server restarts;
  a 403 is raised, not retried.
- Resuming: 20 forced cuts during a stream of numbered messages: nothing lost, nothing twice,
  in order; a gap older than the history is reported.
- Notebook 08's toys: the article's sweep (its arrow-function bug terminates healthy clients at
  the second sweep; fixed, only a vanished client goes), its heartCheck against a server that
  never answers "HeartBeat", and the reconnect storm against a server that takes only so many
  handshakes at a time.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from websockets.asyncio.client import connect as websockets_connect
from websockets.asyncio.server import serve as websockets_serve
from websockets.exceptions import ConnectionClosed as WebsocketsClosed

from wsteach import aio, http1
from wsteach.aio.resume import Tracker
from wsteach.connection import ConnectionClosed
from wsteach.handshake import HandshakeError
from wsteach.lessons.faulty_proxy import FaultyProxy
from wsteach.lessons.heartbeat import Sweeper, heartcheck_against
from wsteach.lessons.numbered_stream import NumberedStream
from wsteach.lessons.storm import BUCKET, storm

INTERVAL, TIMEOUT = 0.4, 0.4  # keepalive settings of these tests, in seconds
SLACK = 0.5  # what the issue allows beyond interval + timeout, for scheduling


def run(coroutine, limit: float = 30):
    async def bounded():
        async with asyncio.timeout(limit):
            return await coroutine

    return asyncio.run(bounded())


async def echo(ws) -> None:
    async for message in ws:
        await ws.send(message)


# ---- the proxy ---------------------------------------------------------------------------


def test_the_proxy_forwards_delays_blackholes_and_cuts():
    async def main():
        async with (aio.serve(echo, ping_interval=None) as server,
                    FaultyProxy(server.port) as proxy):
            ws = await aio.connect(f"ws://127.0.0.1:{proxy.port}/", ping_interval=None)
            await ws.send("plain")
            assert await ws.recv() == "plain"

            proxy.delay(0.2)
            start = time.monotonic()
            await ws.send("slow")
            assert await ws.recv() == "slow"
            assert time.monotonic() - start >= 0.4  # 0.2 s each way

            proxy.heal()
            proxy.blackhole()
            await ws.send("into the void")  # no error: TCP does not know
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.5):
                    await ws.recv()
            proxy.heal()
            assert await ws.recv() == "into the void"  # held, not lost

            assert proxy.cut() == 1
            with pytest.raises(ConnectionClosed) as closed:
                await ws.recv()
            assert closed.value.code == 1006 and closed.value.rcvd is None

    run(main())


# ---- keepalive against websockets, through the blackhole ----------------------------------


def test_our_server_detects_a_silent_websockets_client():
    detected: asyncio.Future[tuple[float, ConnectionClosed]]

    async def wait(ws: aio.WebSocket) -> None:
        try:
            await ws.recv()
        except ConnectionClosed as closed:
            detected.set_result((time.monotonic(), closed))

    async def main():
        nonlocal detected
        detected = asyncio.get_running_loop().create_future()
        async with (aio.serve(wait, ping_interval=INTERVAL, ping_timeout=TIMEOUT) as server,
                    FaultyProxy(server.port) as proxy,
                    websockets_connect(f"ws://127.0.0.1:{proxy.port}/",
                                       ping_interval=None) as theirs):
            await asyncio.sleep(3 * INTERVAL)  # healthy: pings answered, nothing closes
            assert not detected.done()
            proxy.blackhole()
            went_silent = time.monotonic()
            when, closed = await detected
            proxy.heal()  # the dropped connection now reaches the websockets client
            with pytest.raises(WebsocketsClosed):
                await asyncio.wait_for(theirs.recv(), 1)
        took = when - went_silent
        assert took <= INTERVAL + TIMEOUT + SLACK, f"detected after {took:.2f} s"
        assert closed.sent is not None and closed.sent.code == 1011
        assert closed.sent.reason == "keepalive ping timeout" and closed.rcvd is None

    run(main())


def test_our_client_detects_a_silent_websockets_server():
    async def main():
        async with (websockets_serve(echo, "127.0.0.1", 0, ping_interval=None) as theirs,
                    FaultyProxy(theirs.sockets[0].getsockname()[1]) as proxy):
            ws = await aio.connect(f"ws://127.0.0.1:{proxy.port}/", ping_interval=INTERVAL,
                                   ping_timeout=TIMEOUT)
            await asyncio.sleep(3 * INTERVAL)
            await ws.send("still there?")
            assert await ws.recv() == "still there?"
            assert 0 < ws.latency < TIMEOUT  # the measured round trip of the last pong
            proxy.blackhole()
            went_silent = time.monotonic()
            with pytest.raises(ConnectionClosed) as closed:
                await ws.recv()
            took = time.monotonic() - went_silent
        assert took <= INTERVAL + TIMEOUT + SLACK, f"detected after {took:.2f} s"
        assert closed.value.sent.code == 1011 and closed.value.rcvd is None

    run(main())


def test_a_healthy_connection_with_a_short_interval_stays_open():
    async def main():
        async with aio.serve(echo, ping_interval=0.05, ping_timeout=0.2) as server:
            ws = await aio.connect(f"ws://127.0.0.1:{server.port}/", ping_interval=0.05,
                                   ping_timeout=0.2)
            for n in range(20):  # 1 s: some 20 pings each way, all answered
                await ws.send(str(n))
                assert await ws.recv() == str(n)
                await asyncio.sleep(0.05)
            assert ws.state.name == "OPEN"
            await ws.close()

    run(main())


# ---- reconnection -------------------------------------------------------------------------


def test_async_for_reconnects_after_each_of_five_restarts():
    async def main():
        server = await aio.serve(echo, ping_interval=None)
        port = server.port
        connections = 0
        async for ws in aio.connect(f"ws://127.0.0.1:{port}/", ping_interval=None,
                                    min_delay=0.05, factor=1.5, max_delay=0.3):
            connections += 1
            await ws.send("hello")
            assert await ws.recv() == "hello"
            if connections == 6:
                break
            server.close()  # the restart: every connection closed with 1001 ...
            await server.wait_closed()
            with pytest.raises(ConnectionClosed):
                await ws.recv()
            await asyncio.sleep(0.2)  # ... the port closed for a while (attempts fail) ...
            server = await aio.serve(echo, "127.0.0.1", port, ping_interval=None)  # ... back
        server.close()
        await server.wait_closed()
        assert connections == 6

    run(main())


def test_a_403_is_raised_not_retried():
    async def main():
        async with aio.serve(echo, origins={"http://good.example"}) as server:
            attempts = 0
            with pytest.raises(HandshakeError) as refused:
                async for _ws in aio.connect(f"ws://127.0.0.1:{server.port}/",
                                             origin="http://evil.example", min_delay=0.01):
                    attempts += 1
            assert refused.value.status == 403 and attempts == 0

    run(main())


def test_a_503_is_retried_until_the_server_is_back():
    answers = [b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"] * 3

    def restarting(request: http1.Request) -> bytes | None:
        return answers.pop() if answers else None

    async def main():
        async with aio.serve(echo, process_request=restarting) as server:
            async for ws in aio.connect(f"ws://127.0.0.1:{server.port}/", min_delay=0.01):
                await ws.send("in")
                assert await ws.recv() == "in"
                break
        assert answers == []

    run(main())


# ---- resuming without loss ----------------------------------------------------------------


async def follow(proxy_port: int, tracker: Tracker, until: int, on_message) -> list[object]:
    """A resuming client: reconnect after every loss, saying what it has seen."""
    received: list[object] = []
    base = f"ws://127.0.0.1:{proxy_port}/stream"
    connector = aio.connect(f"{base}?{tracker.query()}", ping_interval=None, min_delay=0.01,
                            factor=1.5, max_delay=0.05)
    async for ws in connector:
        try:
            async for text in ws:
                delivery = tracker.accept(text)
                if delivery.kind == "message":
                    received.append(delivery.data)
                    on_message(len(received))
                if len(received) >= until:
                    return received
        except ConnectionClosed:
            connector.uri = f"{base}?{tracker.query()}"
    return received


def test_twenty_cuts_lose_and_duplicate_nothing():
    total = 400

    async def main():
        stream = NumberedStream(history_size=1000)
        async with (aio.serve(stream.handler, ping_interval=None) as server,
                    FaultyProxy(server.port) as proxy):
            async def produce():
                for n in range(total):
                    stream.publish(n)
                    await asyncio.sleep(0.001)

            cuts = 0

            def cut_every_twenty(count: int) -> None:
                nonlocal cuts
                if count % 20 == 0 and cuts < 20:
                    cuts += proxy.cut()

            producer = asyncio.create_task(produce())
            tracker = Tracker()
            received = await follow(proxy.port, tracker, total, cut_every_twenty)
            await producer
        assert cuts == 20
        assert received == list(range(total))  # none lost, none twice, in order
        assert tracker.missed == 0

    run(main(), limit=60)


def test_a_gap_older_than_the_history_is_reported_to_the_client():
    async def main():
        stream = NumberedStream(history_size=5)
        async with (aio.serve(stream.handler, ping_interval=None) as server,
                    FaultyProxy(server.port) as proxy):
            tracker = Tracker()
            stream.publish(0)
            assert await follow(proxy.port, tracker, 1, lambda count: None) == [0]
            for n in range(1, 20):  # the client is away while 19 messages go by
                stream.publish(n)
            got = await follow(proxy.port, tracker, 5, lambda count: None)
        assert got == [15, 16, 17, 18, 19]
        assert tracker.missed == 14  # told, not silently skipped

    run(main())


# ---- notebook 08's toys: the article's sweep and heartCheck, the storm -------------------

SWEEP_EVERY = 0.1


async def sweep(as_in_the_article: bool) -> list[list[str]]:
    """Two healthy clients and one whose network vanishes after the first sweep."""
    sweeper = Sweeper(SWEEP_EVERY, as_in_the_article=as_in_the_article)

    async def register(ws):
        sweeper.add(ws, ws.request.target.strip("/"))
        await ws.wait_closed()

    async with (aio.serve(register, ping_interval=None) as server,
                FaultyProxy(server.port) as proxy):
        clients = [await aio.connect(f"ws://127.0.0.1:{port}/{name}", ping_interval=None)
                   for name, port in [("a", server.port), ("b", server.port),
                                      ("gone", proxy.port)]]
        asyncio.get_running_loop().call_later(1.3 * SWEEP_EVERY, proxy.blackhole)
        await sweeper.run(3)
        for client in clients:
            client.transport.abort()
    return [sorted(done.terminated) for done in sweeper.sweeps]


def test_the_articles_sweep_terminates_every_client_at_the_second_sweep():
    assert run(sweep(as_in_the_article=True)) == [[], ["a", "b", "gone"], []]


def test_the_fixed_sweep_terminates_only_the_vanished_client():
    assert run(sweep(as_in_the_article=False)) == [[], [], ["gone"]]


def test_heartcheck_closes_only_when_the_server_stays_silent():
    """Pushes 0.02 s apart, then one pause of 0.2 s: with a timeout of 0.04 s the heartCheck
    closes once against a server that does not answer "HeartBeat", never against one that does;
    the reconnected client gets the push that remains, and the one due at the close is lost."""
    delays, guests = [0.02, 0.02, 0.2, 0.02], [{"name": "x"}]
    silent = run(heartcheck_against(delays, guests, 0.04, answer_heartbeats=False))
    answering = run(heartcheck_against(delays, guests, 0.04, answer_heartbeats=True))
    assert (silent.closes, silent.messages) == (1, 3)
    assert (answering.closes, answering.messages) == (0, 4)


def test_the_storm_refuses_what_the_restarted_server_cannot_take():
    """Fixed delay: the herd arrives together, and after the down time all but ``capacity``
    of it are refused, again and again; without a capacity only the down time refuses."""
    clients, capacity = 30, 10
    result = run(storm(clients, down_for=0.1, capacity=capacity, min_delay=0.05, factor=1.0,
                       max_delay=0.05, jitter=False))
    assert len(result.attempts) - result.refused == clients  # each came back exactly once
    assert result.refused >= clients + (clients - capacity)  # refused while down, then beyond
    unlimited = run(storm(clients, down_for=0.1, capacity=None, min_delay=0.05, factor=1.0,
                          max_delay=0.05, jitter=False))
    assert unlimited.refused < result.refused
    assert sum(result.per_bucket(BUCKET)) == len(result.attempts)
