"""A reconnect storm: many clients of a server that restarts, and the moments they come back.

``storm(clients, ...)`` connects ``clients`` clients with ``async for ws in connect(...)``,
then "restarts" the server: every connection is closed with 1012 (service restart), for
``down_for`` seconds every attempt is answered 503 (as a load balancer in front of a restarting
server answers), and after that the server completes at most ``capacity`` opening handshakes
in each ``BUCKET`` of time, answering 503 to the rest (a server that has just started has cold
caches and every client's session to restore; beyond what it can take it sheds load). Each
attempt's time is recorded, so a notebook can plot attempts per 100 ms: with a fixed delay
(the article's ``lockReconnect``: 4 s, then again 4 s) they come in spikes of every client at
once, most of them refused; with exponential backoff and full jitter they spread out.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from wsteach import aio, http1
from wsteach.connection import ConnectionClosed
from wsteach.frames import CloseCode

BUCKET = 0.1  # seconds: the slot in which the server counts the handshakes it completes
UNAVAILABLE = http1.build_response(503, "Service Unavailable",
                                   [("Retry-After", "1"), ("Content-Length", "0")], b"")


@dataclass
class Storm:
    """What a storm measured: each attempt after the restart, in seconds since it."""

    clients: int
    attempts: list[float]
    back_after: float  # seconds from the restart until the last client was back
    refused: int  # attempts answered 503

    def per_bucket(self, bucket: float = BUCKET) -> list[int]:
        """Attempts in each ``bucket`` seconds after the restart."""
        counts = [0] * (int(max(self.attempts, default=0) / bucket) + 1)
        for at in self.attempts:
            counts[int(at / bucket)] += 1
        return counts


async def storm(clients: int, *, down_for: float, min_delay: float, factor: float,
                max_delay: float, jitter: bool, capacity: int | None = None,
                limit: float = 10.0) -> Storm:
    """Restart a server under ``clients`` reconnecting clients; see the module docstring.
    ``min_delay``, ``factor``, ``max_delay`` and ``jitter`` are the clients' backoff;
    ``capacity`` the handshakes the restarted server completes per ``BUCKET`` (None: all)."""
    loop = asyncio.get_running_loop()
    restarted_at: float | None = None
    down_until = 0.0
    attempts: list[float] = []
    accepted: dict[int, int] = {}  # handshakes completed in each bucket after the restart
    refused = 0
    connected = 0
    all_in, all_back = asyncio.Event(), asyncio.Event()

    def count_attempt(request: http1.Request) -> bytes | None:
        nonlocal refused
        if restarted_at is None:
            return None  # the clients' first connections, before the restart
        now = loop.time()
        attempts.append(now - restarted_at)
        bucket = int((now - restarted_at) / BUCKET)
        if now < down_until or (capacity is not None and accepted.get(bucket, 0) >= capacity):
            refused += 1
            return UNAVAILABLE
        accepted[bucket] = accepted.get(bucket, 0) + 1
        return None

    async def hold(ws: aio.WebSocket) -> None:
        await ws.wait_closed()

    async def client(uri: str) -> None:
        nonlocal connected
        async for ws in aio.connect(uri, ping_interval=None, min_delay=min_delay,
                                    factor=factor, max_delay=max_delay, jitter=jitter):
            connected += 1
            if connected == clients:
                all_in.set()
            elif connected == 2 * clients:
                all_back.set()
            try:
                await ws.recv()
            except ConnectionClosed:
                continue  # the restart: round the loop, wait, reconnect

    async with aio.serve(hold, ping_interval=None, process_request=count_attempt) as server:
        uri = f"ws://127.0.0.1:{server.port}/"
        tasks = [loop.create_task(client(uri)) for _ in range(clients)]
        try:
            async with asyncio.timeout(limit):
                await all_in.wait()
                restarted_at = loop.time()
                down_until = restarted_at + down_for
                for ws in list(server.connections):
                    ws.fail(CloseCode.SERVICE_RESTART, "service restart")
                await all_back.wait()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    back_after = (attempts[-1] if attempts else 0.0)
    return Storm(clients, attempts, back_after, refused)
