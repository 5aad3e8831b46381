"""The server side of ``memory.py``: ``python memory_server.py wsteach|websockets MAX_SIZE``.

It prints its port, then answers each message with its length; "reset" starts measuring
(Linux resets the peak resident size on ``5`` written to ``/proc/self/clear_refs``), "report"
answers how many bytes the peak rose above the resident size at the reset.
"""
import asyncio
import sys


def kib(field: str) -> int:
    """A field of /proc/self/status, in KiB (VmRSS: resident now, VmHWM: the peak)."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field))


start = 0


async def handler(ws) -> None:  # the same code serves both libraries: their APIs match
    global start
    try:
        async for message in ws:
            if message == "reset":
                with open("/proc/self/clear_refs", "w") as clear_refs:
                    clear_refs.write("5")  # the peak resident size starts again from now
                start = kib("VmRSS:")
                await ws.send("ok")
            elif message == "report":
                await ws.send(str((kib("VmHWM:") - start) * 1024))
            else:
                await ws.send(str(len(message)))
            del message
    except Exception:  # the connection closed: 1009 for the refused message
        return

async def main(library: str) -> None:
    if library == "wsteach":
        from wsteach.aio import serve
        options = {}
    else:
        from websockets.asyncio.server import serve
        options = {"compression": None}
    async with serve(handler, "127.0.0.1", 0, max_size=int(sys.argv[2]), **options) as server:
        port = server.sockets[0].getsockname()[1]
        print(port, flush=True)
        await asyncio.Future()

if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
