"""Fan-out: one server broadcasts 100-byte messages to 1000 connected clients.

Run it with ``python benchmarks/fanout.py`` (about 30 s). For each library a server runs in a
process of its own (``fanout_server.py``, no compression, no keepalive); this process holds
1000 clients, each an ``asyncio.Protocol`` that only counts bytes
(``wsteach.lessons.fanout.CountingClient``), so that the server's work is what is measured.
The two servers take turns, ``ROUNDS`` times each; a round asks the server to broadcast
``MESSAGES`` messages and ends when every client has counted every byte of them.

It prints deliveries per second (messages times clients, divided by the seconds until the last
client has counted the last byte; and, beside it, by the seconds of the server's own loop), the
median of the rounds, ``wsteach.aio.broadcast`` against ``websockets.broadcast``, and the
resident memory each server gained by holding the 1000 idle connections, per connection.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
from pathlib import Path

from wsteach.aio import connect
from wsteach.lessons import fanout

CLIENTS = 1000
MESSAGES = 100  # per round
SIZE = 100  # bytes per message
ROUNDS = 9
TARGET = 1.0  # wsteach's deliveries per second, as a multiple of websockets'
SERVER = Path(__file__).with_name("fanout_server.py")


class Contender:
    """A server process, its control connection and its clients."""

    def __init__(self, library: str) -> None:
        self.library = library
        self.process = subprocess.Popen([sys.executable, SERVER, library],
                                        stdout=subprocess.PIPE, text=True)
        self.port = int(self.process.stdout.readline())
        self.rates: list[float] = []  # deliveries a second, until every client has all
        self.loop_rates: list[float] = []  # deliveries a second of the server's loop alone

    async def start(self) -> None:
        self.control = await connect(f"ws://127.0.0.1:{self.port}/control", ping_interval=None)
        before = await self.ask("rss")
        self.clients = await fanout.open_clients(self.port, CLIENTS)
        while await self.ask("count") < CLIENTS:
            await asyncio.sleep(0.01)
        self.per_connection = (await self.ask("rss") - before) / CLIENTS

    async def ask(self, command: str) -> int:
        await self.control.send(command)
        return int(await self.control.recv())

    async def round(self) -> None:
        for client in self.clients:
            client.received = 0
        started = asyncio.get_running_loop().time()
        await self.control.send(f"go {MESSAGES} {SIZE}")
        await fanout.wait_for_bytes(self.clients, MESSAGES * fanout.frame_bytes(SIZE))
        self.rates.append(MESSAGES * CLIENTS / (asyncio.get_running_loop().time() - started))
        done, seconds = (await self.control.recv()).split()
        assert done == "done"
        self.loop_rates.append(MESSAGES * CLIENTS / float(seconds))

    def stop(self) -> None:
        fanout.close_clients(self.clients)
        self.process.kill()
        self.process.wait()


async def main() -> None:
    contenders = [Contender("wsteach"), Contender("websockets")]
    try:
        for contender in contenders:
            await contender.start()
        for _ in range(ROUNDS):
            for contender in contenders:
                await contender.round()
    finally:
        for contender in contenders:
            contender.stop()
    ours, theirs = contenders
    print(f"Fan-out: {CLIENTS} clients, {SIZE}-byte messages, {MESSAGES} per round, "
          f"median of {ROUNDS} rounds\n")
    print(f"   {'':<32}{'wsteach':>14}{'websockets':>14}")
    print(f"   {'deliveries per second':<32}"
          + "".join(f"{statistics.median(c.rates):>14,.0f}" for c in contenders))
    print(f"   {'  the server loop alone':<32}"
          + "".join(f"{statistics.median(c.loop_rates):>14,.0f}" for c in contenders))
    print(f"   {'memory per idle connection':<32}"
          + "".join(f"{c.per_connection / 1024:>11.1f} KiB" for c in contenders))
    # Each round of ours ran next to one of theirs: the median of those paired ratios is less
    # shaken by other programs than a ratio of the two medians.
    ratio = statistics.median(a / b for a, b in zip(ours.rates, theirs.rates, strict=True))
    verdict = "PASS" if ratio >= TARGET else "MISS"
    print(f"\n   wsteach / websockets, deliveries per second (median of the paired rounds): "
          f"{ratio:.2f}x (target {TARGET:.1f}x): {verdict}")


if __name__ == "__main__":
    asyncio.run(main())
