"""The article's heartbeat (心跳机制), in Python: its server sweep and its browser heartCheck,
first with the article's bugs, then fixed.

The server (Node's ``ws``, as in its README): every ``interval`` it terminates each client not
marked alive since the last sweep, then marks every client not alive and pings it; a pong
marks the client alive again. The article writes the pong handler as an arrow function::

    heartbeat = () => { this.isAlive = true; }

An arrow function has no ``this`` of its own: it is the module's, not the socket that got the
pong. No socket is ever marked alive, so every client, healthy or not, is terminated at the
second sweep. ``Sweeper(as_in_the_article=True)`` does exactly that; ``False`` marks the socket.

The client (the article's React page): ``heartCheck`` sends "HeartBeat" after ``timeout`` of
silence and closes the connection when nothing arrives within ``timeout`` more; the page then
reconnects after a fixed delay (``lockReconnect``, 4 s). The article's server never answers
"HeartBeat": only its guest pushes, every 2-7 s, reset the timer, so any gap longer than twice
the timeout (6 s) closes a healthy connection. ``HeartCheck`` reproduces it; a server that
answers "HeartBeat" at once (``answer_heartbeats``) fixes it. ``heartcheck_against`` plays
the two against each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass

from wsteach import aio
from wsteach.connection import ConnectionClosed

HEARTBEAT = "HeartBeat"


@dataclass
class Sweep:
    """What one sweep did: when (seconds since the sweeper started), whom it terminated."""

    at: float
    terminated: list[str]
    pinged: int


class Sweeper:
    """The server's sweep over its clients, as in the article (ws's README pattern)."""

    def __init__(self, interval: float, *, as_in_the_article: bool) -> None:
        self.interval = interval
        self.as_in_the_article = as_in_the_article
        self.alive: dict[aio.WebSocket, bool] = {}
        self.names: dict[aio.WebSocket, str] = {}
        self.isAlive = False  # noqa: N815 - the article's `this.isAlive`, on the wrong object
        self.sweeps: list[Sweep] = []

    def add(self, ws: aio.WebSocket, name: str) -> None:
        """``wss.on("connection")``: ``ws.isAlive = true``."""
        self.alive[ws] = True
        self.names[ws] = name

    def heartbeat(self, ws: aio.WebSocket) -> None:
        """``ws.on("pong", heartbeat)``: what the pong handler marks alive."""
        if self.as_in_the_article:
            self.isAlive = True  # `this` in an arrow function: the module, not the socket
        else:
            self.alive[ws] = True

    async def run(self, sweeps: int) -> list[Sweep]:
        """``setInterval(function ping() {...}, interval)``, ``sweeps`` times."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        for _ in range(sweeps):
            await asyncio.sleep(self.interval)
            terminated, pinged = [], 0
            for ws in list(self.alive):
                if self.alive[ws] is False:
                    terminated.append(self.names[ws])
                    del self.alive[ws]
                    ws.transport.abort()  # ws.terminate(): no closing handshake, just TCP
                    continue
                self.alive[ws] = False
                try:
                    pong = await ws.ping()
                except ConnectionClosed:
                    continue
                pong.add_done_callback(lambda done, ws=ws: done.cancelled() or
                                       self.heartbeat(ws))
                pinged += 1
            self.sweeps.append(Sweep(loop.time() - started, terminated, pinged))
        return self.sweeps


@dataclass
class HeartCheck:
    """The article's client heartbeat: after ``timeout`` of silence send "HeartBeat"; if
    nothing at all arrives within ``timeout`` more, close the connection (then reconnect)."""

    timeout: float
    closes: int = 0  # connections it closed as dead
    messages: int = 0  # messages received, its own "HeartBeat" answers not counted

    async def watch(self, ws: aio.WebSocket, until: float) -> None:
        """Follow one connection until it closes or ``until`` (a loop time) passes."""
        loop = asyncio.get_running_loop()
        with contextlib.suppress(ConnectionClosed):
            while loop.time() < until:
                message = await self._next_message(ws)
                if message is None:
                    self.closes += 1  # socket.close(): the connection looked dead
                    await ws.close()
                    return
                if message != HEARTBEAT:
                    self.messages += 1

    async def _next_message(self, ws: aio.WebSocket) -> str | bytes | None:
        """The next message, or None if none came within the two timeouts."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.timeout):  # heartCheck.start(): timeoutObj
                return await ws.recv()
        await ws.send(HEARTBEAT)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.timeout):  # serverTimeoutObj
                return await ws.recv()
        return None


async def push_guests(ws: aio.WebSocket, schedule: Iterator[tuple[float, dict]], *,
                      answer_heartbeats: bool) -> bool:
    """The article's server for one client: for each ``(delay, guest)`` of ``schedule``, wait
    the delay (its random 2-7 s, scaled) and send the guest; when ``answer_heartbeats``, also
    answer "HeartBeat" at once (the article's server only logs it).

    Several connections may share one ``schedule`` iterator: a client that reconnects gets the
    pushes that remain, and the push that was due when its connection closed is lost, as in
    the article. Returns True when the schedule ran out, False when the connection closed."""
    async def answer() -> None:
        with contextlib.suppress(ConnectionClosed):  # the pushes below notice it too
            async for message in ws:
                if answer_heartbeats and message == HEARTBEAT:
                    await ws.send(HEARTBEAT)

    answering = asyncio.create_task(answer())
    try:
        for delay, guest in schedule:
            await asyncio.sleep(delay)
            await ws.send(json.dumps(guest, ensure_ascii=False))
    except ConnectionClosed:
        return False
    finally:
        answering.cancel()
    return True


async def heartcheck_against(delays: list[float], guests: list[dict], timeout: float, *,
                             answer_heartbeats: bool) -> HeartCheck:
    """The article's page against the article's server: the server pushes ``guests`` after
    ``delays``; the page's ``HeartCheck(timeout)`` follows, and reconnects at once after each
    close (the article waits 4 s first), getting the pushes that remain."""
    check = HeartCheck(timeout)
    schedule = zip(delays, itertools.cycle(guests))  # one iterator for all the connections
    all_sent = asyncio.Event()

    async def serve_guests(ws: aio.WebSocket) -> None:
        if await push_guests(ws, schedule, answer_heartbeats=answer_heartbeats):
            all_sent.set()

    loop = asyncio.get_running_loop()
    async with aio.serve(serve_guests, ping_interval=None) as server:
        until = loop.time() + sum(delays) + 1.0  # a bound, in case something hangs
        while not all_sent.is_set() and loop.time() < until:  # reconnect after each close
            ws = await aio.connect(f"ws://127.0.0.1:{server.port}/", ping_interval=None)
            await check.watch(ws, until)
            await ws.close()
    return check
