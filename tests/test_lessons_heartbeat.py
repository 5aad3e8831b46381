"""The toys notebook 08 is built on, on real connections: the article's sweep (its arrow-function
bug terminates healthy clients at the second sweep; fixed, only a vanished client goes), its
heartCheck against a server that never answers "HeartBeat", and the reconnect storm against a
server that takes only so many handshakes at a time."""

from __future__ import annotations

import asyncio
import itertools

from wsteach import aio
from wsteach.lessons.faulty_proxy import FaultyProxy
from wsteach.lessons.heartbeat import HeartCheck, Sweeper, push_guests
from wsteach.lessons.storm import BUCKET, storm

SWEEP_EVERY = 0.1


def run(coroutine, limit: float = 20):
    async def bounded():
        async with asyncio.timeout(limit):
            return await coroutine

    return asyncio.run(bounded())


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
    delays = [0.02, 0.02, 0.2, 0.02]

    async def main(answer_heartbeats: bool) -> HeartCheck:
        check = HeartCheck(0.04)
        schedule = zip(delays, itertools.repeat({"name": "x"}))
        all_sent = asyncio.Event()

        async def serve_guests(ws):
            if await push_guests(ws, schedule, answer_heartbeats=answer_heartbeats):
                all_sent.set()

        loop = asyncio.get_running_loop()
        async with aio.serve(serve_guests, ping_interval=None) as server:
            until = loop.time() + 5
            while not all_sent.is_set():
                ws = await aio.connect(f"ws://127.0.0.1:{server.port}/", ping_interval=None)
                await check.watch(ws, until)
                await ws.close()
        return check

    silent, answering = run(main(False)), run(main(True))
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
