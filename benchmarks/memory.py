"""What does a large message cost the server in memory, for wsteach and for websockets?

Run it with ``python benchmarks/memory.py`` (about 20 s). For each library a server runs in a
process of its own, with ``max_size`` 32 MiB and no compression. A client in this process
(ours: the websockets client fails with an AttributeError when its 64 MiB message is refused)
sends it one message of 1 MiB, 16 MiB (text, then binary) or 64 MiB (refused by
``max_size`` with 1009), and the server reports how far its resident memory rose above what
it was just before: the peak RSS growth. Linux resets the peak for us (``/proc/self/clear_refs``
with ``5``), so each message is measured on its own.

A message of n bytes must cost at least n (the message itself) plus whatever the library
keeps while assembling it: 2n means it was reassembled once and decoded once.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
from pathlib import Path

from wsteach.aio import ConnectionClosed, connect

MiB = 2**20
SIZES = {"1 MiB": MiB, "16 MiB": 16 * MiB, "64 MiB (refused)": 64 * MiB}
MAX_SIZE = 32 * MiB
REPEATS = 3  # a fresh server each time; the median is reported

SERVER = Path(__file__).with_name("memory_server.py")


async def peak_growth(library: str, message: str | bytes) -> int:
    """Bytes the server's RSS rose to while receiving ``message``, in a fresh server."""
    server = subprocess.Popen([sys.executable, SERVER, library, str(MAX_SIZE)],
                              stdout=subprocess.PIPE, text=True)
    try:
        port = int(server.stdout.readline())
        uri = f"ws://127.0.0.1:{port}/"
        ws = await connect(uri, max_size=None, ping_interval=None)
        await ws.send("warm up")  # the first message's own allocations are not counted
        await ws.recv()
        await ws.send("reset")
        await ws.recv()
        try:
            await ws.send(message)
            assert int(await ws.recv()) == len(message)
        except ConnectionClosed as closed:  # refused: the server closed with 1009
            assert closed.code == 1009, closed
        await ws.close()
        async with connect(uri, ping_interval=None) as again:
            await again.send("report")
            return int(await again.recv())
    finally:
        server.kill()
        server.wait()


async def main() -> None:
    print(f"Peak RSS growth of the server per message, as a multiple of the message's size "
          f"(median of {REPEATS} fresh servers)\n")
    print(f"   {'message':<28}{'wsteach':>20}{'websockets':>20}")
    for size_name, size in SIZES.items():
        kinds = {"text": "x" * size, "binary": os.urandom(size)}
        if "refused" in size_name:
            kinds = {"binary": os.urandom(size)}
        for kind, message in kinds.items():
            cells = []
            for library in ("wsteach", "websockets"):
                growth = [await peak_growth(library, message) for _ in range(REPEATS)]
                value = statistics.median(growth)
                cells.append(f"{value / size:.2f}x ({value / MiB:.1f} MiB)")
            print(f"   {size_name + ' ' + kind:<28}{cells[0]:>20}{cells[1]:>20}")


if __name__ == "__main__":
    asyncio.run(main())
