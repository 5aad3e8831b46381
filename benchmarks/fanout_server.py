"""The server side of ``fanout.py``: ``python fanout_server.py wsteach|websockets``.

It prints its port, then serves two kinds of connection: counting clients, which it only holds
open, and one control connection (path ``/control``) that asks it

- ``rss``: its resident memory now, in bytes (``VmRSS`` of ``/proc/self/status``);
- ``count``: how many clients it holds;
- ``go N SIZE``: broadcast N messages of SIZE bytes to every client, then answer ``done S``,
  S the seconds its broadcast loop took (the kernel may still be delivering).

The broadcast loop is the same for both libraries (``wsteach.lessons.fanout.broadcast_many``);
only the ``broadcast`` function differs: ``wsteach.aio.broadcast`` or ``websockets.broadcast``.
"""
import asyncio
import sys
import time
from functools import partial

from wsteach.lessons import fanout


def rss() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmRSS:"))


async def main(library: str) -> None:
    if library == "wsteach":
        from wsteach.aio import broadcast, serve
        options = {}
    else:
        from websockets import broadcast
        from websockets.asyncio.server import serve
        options = {"compression": None}
    clients = set()

    async def handler(ws) -> None:
        path = ws.request.target if library == "wsteach" else ws.request.path
        if path != "/control":
            clients.add(ws)
            try:
                await ws.wait_closed()
            finally:
                clients.discard(ws)
            return
        async for command in ws:
            if command == "rss":
                await ws.send(str(rss()))
            elif command == "count":
                await ws.send(str(len(clients)))
            else:
                _, messages, size = command.split()
                started = time.perf_counter()
                await fanout.broadcast_many(partial(broadcast, clients, "x" * int(size)),
                                            int(messages))
                await ws.send(f"done {time.perf_counter() - started}")

    async with serve(handler, "127.0.0.1", 0, ping_interval=None, **options) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
