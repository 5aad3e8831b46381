"""How fast is wsteach, next to `websockets` and `wsproto`, measured in the same process?

Run it with ``python benchmarks/protocol.py`` (about 40-60 s). Three measurements:

1. Masking: MB/s of each way to XOR a payload with the 4-byte key, at 125 B (the largest
   7-bit length), 64 KiB and 1 MiB.
2. Decoding: frames per second for 100 000 masked 20-byte text frames, as a client sends
   them, fed to a server-side sans-I/O connection in 64 KiB chunks, with every rule checked
   and every message decoded from UTF-8 to ``str``.
3. Echo: round-trip time of 32-byte text messages, sent one at a time, over loopback TCP, with
   client and server running on one asyncio event loop.

Every number is the median of several repetitions, and the contenders take turns within each
repetition, so a burst of load from another process on a shared machine hits all of them
alike. Absolute numbers depend on the machine; the ratios are what to look at.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import os
import platform
import resource
import statistics
import time
from collections.abc import Callable

import numpy as np
import websockets
import websockets.asyncio.client
import websockets.asyncio.server
import websockets.speedups
import websockets.utils
import wsproto
import wsproto.frame_protocol
from websockets.frames import Opcode as WebsocketsOpcode
from websockets.protocol import Protocol, Side
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Request, TextMessage

from wsteach import aio, masking
from wsteach.connection import Connection, Role, Text
from wsteach.frames import Frame, Opcode, encode_frame

REPEATS = 5  # decoding: the median of this many runs
MASK_REPEATS = 9  # masking: many short runs, so that one burst of load elsewhere matters less
MIN_RUN_SECONDS = 0.02  # a masking run calls the function often enough to take this long
MASK_SIZES = {"125 B": 125, "64 KiB": 64 * 2**10, "1 MiB": 2**20}
DECODE_FRAMES = 100_000
DECODE_PAYLOAD = 20
CHUNK_SIZE = 64 * 2**10
ECHO_MESSAGES = 10_000
ECHO_PAYLOAD = 32
ECHO_REPEATS = 3
ECHO_WARMUP = 200
ECHO_BATCH = 100  # the connections take turns, this many round trips each


def median_of(times: list[float]) -> float:
    return statistics.median(times)


def ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}x"


# ---- 1. masking -----------------------------------------------------------------------------


def wsproto_mask(data: bytes, key: bytes) -> bytes:
    """wsproto masks with bytes.translate over every 4th byte; it makes one masker per frame."""
    return wsproto.frame_protocol.XorMaskerSimple(key).process(data)


# websockets masks with its C extension, websockets.speedups, when it was built, and falls back
# to websockets.utils.apply_mask otherwise: a big-integer XOR in Python, like apply_mask_int.
assert inspect.isbuiltin(websockets.speedups.apply_mask), "expected the C speedup"
assert inspect.isfunction(websockets.utils.apply_mask), "expected the pure-Python fallback"

MASKERS: dict[str, Callable[[bytes, bytes], bytes]] = {
    "wsteach apply_mask (default)": masking.apply_mask,
    "wsteach apply_mask_loop": masking.apply_mask_loop,
    "wsteach apply_mask_int": masking.apply_mask_int,
    "wsteach apply_mask_numpy": masking.apply_mask_numpy,
    "websockets C speedup": websockets.speedups.apply_mask,
    "websockets pure Python": websockets.utils.apply_mask,
}
if hasattr(wsproto.frame_protocol, "XorMaskerSimple"):  # wsproto's own masker, if it has one
    MASKERS["wsproto XorMaskerSimple"] = wsproto_mask
LOOP_ONLY_AT = "125 B"  # one byte at a time: measured at the smallest size only


def time_calls(function: Callable[[bytes, bytes], bytes], data: bytes, key: bytes,
               number: int) -> tuple[float, float]:
    """Seconds for ``number`` calls, and the minor page faults per call.

    A page fault here means the memory for a result came fresh from the operating system,
    which must map and zero it, page by page: for 1 MiB that can cost more than the XOR.
    """
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    start = time.perf_counter()
    for _ in range(number):
        function(data, key)
    elapsed = time.perf_counter() - start
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
    return elapsed, faults / number


def calls_per_run(function: Callable[[bytes, bytes], bytes], data: bytes, key: bytes) -> int:
    """How many calls take at least MIN_RUN_SECONDS (like ``timeit.Timer.autorange``)."""
    number = 1
    while time_calls(function, data, key, number)[0] < MIN_RUN_SECONDS:
        number *= 2
    return number


Table = dict[str, dict[str, float]]  # masker -> size -> value


def bench_masking() -> tuple[Table, Table]:
    """MB/s, and page faults per call, per masker and size (missing: not measured)."""
    key = os.urandom(4)
    results: Table = {name: {} for name in MASKERS}
    page_faults: Table = {name: {} for name in MASKERS}
    for size_name, size in MASK_SIZES.items():
        data = os.urandom(size)
        contenders = {name: function for name, function in MASKERS.items()
                      if name != "wsteach apply_mask_loop" or size_name == LOOP_ONLY_AT}
        expected = websockets.speedups.apply_mask(data, key)
        for name, function in contenders.items():  # all must agree before any is timed
            assert bytes(function(data, key)) == expected, f"{name} masks {size_name} wrongly"
        numbers = {name: calls_per_run(function, data, key)
                   for name, function in contenders.items()}
        times: dict[str, list[float]] = {name: [] for name in contenders}
        faults: dict[str, list[float]] = {name: [] for name in contenders}
        for _ in range(MASK_REPEATS):
            for name, function in contenders.items():
                gc.collect()
                elapsed, faults_per_call = time_calls(function, data, key, numbers[name])
                times[name].append(elapsed / numbers[name])
                faults[name].append(faults_per_call)
        for name in contenders:
            results[name][size_name] = size / median_of(times[name]) / 1e6
            page_faults[name][size_name] = median_of(faults[name])
    return results, page_faults


# ---- 2. decoding ----------------------------------------------------------------------------


def client_stream() -> tuple[list[bytes], list[str]]:
    """DECODE_FRAMES masked text frames, each with its own random key, cut in 64 KiB chunks."""
    messages = [f"message {index:012d}" for index in range(DECODE_FRAMES)]
    assert all(len(message.encode()) == DECODE_PAYLOAD for message in messages)
    stream = b"".join(encode_frame(Frame(Opcode.TEXT, message.encode()), os.urandom(4))
                      for message in messages)
    chunks = [stream[start:start + CHUNK_SIZE] for start in range(0, len(stream), CHUNK_SIZE)]
    return chunks, messages


def decode_wsteach(chunks: list[bytes]) -> list[str]:
    connection = Connection(Role.SERVER, max_message_size=None)
    received = []
    for chunk in chunks:
        connection.receive_data(chunk)
        for event in connection.events():
            if isinstance(event, Text):
                received.append(event.data)  # already checked and decoded from UTF-8
    return received


def decode_websockets(chunks: list[bytes]) -> list[str]:
    # websockets' sans-I/O core, already in the OPEN state (ServerProtocol adds only the
    # opening handshake). It checks each frame but leaves UTF-8 to the layer above: its
    # asyncio connection calls ``bytes.decode()`` on each text message, and so do we here.
    protocol = Protocol(Side.SERVER, max_size=None)
    received = []
    for chunk in chunks:
        protocol.receive_data(chunk)
        for frame in protocol.events_received():
            if frame.opcode is WebsocketsOpcode.TEXT:
                received.append(frame.data.decode())
    return received


def wsproto_server() -> WSConnection:
    """A wsproto server connection after a real opening handshake with a wsproto client."""
    client, server = WSConnection(ConnectionType.CLIENT), WSConnection(ConnectionType.SERVER)
    server.receive_data(client.send(Request(host="localhost", target="/")))
    request = next(server.events())
    assert isinstance(request, Request)
    client.receive_data(server.send(AcceptConnection()))
    assert isinstance(next(client.events()), AcceptConnection)
    return server


def decode_wsproto(chunks: list[bytes]) -> list[str]:
    # WSConnection after the handshake, the object applications use: its events() checks every
    # frame (FrameProtocol) and decodes text with an incremental UTF-8 decoder. FrameProtocol
    # alone would skip the event objects an application receives, so it would flatter wsproto.
    # It hands over whatever part of a frame has arrived (a frame cut by a chunk boundary comes
    # in two events), so an application joins the parts until ``message_finished``.
    server = wsproto_server()
    received, parts = [], []
    for chunk in chunks:
        server.receive_data(chunk)
        for event in server.events():
            if isinstance(event, TextMessage):
                parts.append(event.data)
                if event.message_finished:
                    received.append("".join(parts))
                    parts.clear()
    return received


DECODERS: dict[str, Callable[[list[bytes]], list[str]]] = {
    "wsteach Connection": decode_wsteach,
    "websockets Protocol": decode_websockets,
    "wsproto WSConnection": decode_wsproto,
}


def bench_decoding() -> dict[str, float]:
    """Frames per second per decoder."""
    chunks, messages = client_stream()
    times: dict[str, list[float]] = {name: [] for name in DECODERS}
    for _ in range(REPEATS):
        for name, decode in DECODERS.items():
            gc.collect()
            start = time.perf_counter()
            received = decode(chunks)
            times[name].append(time.perf_counter() - start)
            # Each must give back exactly what was sent (checked outside the timing).
            assert received == messages, f"{name} decoded the stream wrongly"
    return {name: DECODE_FRAMES / median_of(times[name]) for name in DECODERS}


# ---- 3. echo round trips --------------------------------------------------------------------


async def echo(ws) -> None:  # the same handler serves both libraries: their APIs match
    async for message in ws:
        await ws.send(message)


def connect_wsteach(uri: str):
    return aio.connect(uri)


def connect_websockets(uri: str):
    return websockets.asyncio.client.connect(uri, compression=None)


async def round_trips(ws, count: int) -> list[float]:
    """Seconds per round trip for ``count`` messages, each sent when the last came back."""
    message = "x" * ECHO_PAYLOAD
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        await ws.send(message)
        reply = await ws.recv()
        samples.append(time.perf_counter() - start)
        assert reply == message
    return samples


async def bench_echo() -> dict[str, tuple[float, float]]:
    """Median and 90th percentile round trip (seconds) per client -> server pair.

    All four connections stay open and take turns, ECHO_BATCH messages each, so that a burst
    of load from elsewhere on the machine slows them all alike; who goes first rotates.
    """
    async with (
        aio.serve(echo, "127.0.0.1", 0) as ours,
        websockets.asyncio.server.serve(echo, "127.0.0.1", 0, compression=None) as theirs,
    ):
        our_uri = f"ws://127.0.0.1:{ours.port}/"
        their_uri = f"ws://127.0.0.1:{theirs.sockets[0].getsockname()[1]}/"
        pairs = {
            "wsteach client -> wsteach server": (connect_wsteach, our_uri),
            "websockets client -> websockets server": (connect_websockets, their_uri),
            "wsteach client -> websockets server": (connect_wsteach, their_uri),
            "websockets client -> wsteach server": (connect_websockets, our_uri),
        }
        clients = {name: await connect(uri) for name, (connect, uri) in pairs.items()}
        for ws in clients.values():
            await round_trips(ws, ECHO_WARMUP)
        medians: dict[str, list[float]] = {name: [] for name in pairs}
        p90s: dict[str, list[float]] = {name: [] for name in pairs}
        for _ in range(ECHO_REPEATS):
            samples: dict[str, list[float]] = {name: [] for name in pairs}
            gc.collect()
            names = list(clients)
            for turn in range(ECHO_MESSAGES // ECHO_BATCH):
                shift = turn % len(names)  # who goes first changes from turn to turn
                for name in names[shift:] + names[:shift]:
                    samples[name] += await round_trips(clients[name], ECHO_BATCH)
            for name in pairs:
                medians[name].append(statistics.median(samples[name]))
                p90s[name].append(statistics.quantiles(samples[name], n=10)[-1])
        for ws in clients.values():
            await ws.close()
    return {name: (median_of(medians[name]), median_of(p90s[name])) for name in pairs}


# ---- the report -----------------------------------------------------------------------------


def main() -> None:
    started = time.perf_counter()
    print(f"Python {platform.python_version()}, websockets {websockets.__version__}, "
          f"wsproto {wsproto.__version__}, numpy {np.__version__}, "
          f"{os.cpu_count()} CPUs; medians of {MASK_REPEATS} (masking), {REPEATS} (decoding) and "
          f"{ECHO_REPEATS} (echo) runs\n")

    mask, page_faults = bench_masking()
    sizes = list(MASK_SIZES)
    print(f"{'1. Masking, MB/s':<43}" + "".join(f"{size:>12}" for size in sizes))
    for name, by_size in mask.items():
        cells = "".join(f"{by_size[size]:12.0f}" if size in by_size else f"{'-':>12}"
                        for size in sizes)
        print(f"   {name:<40}{cells}")
    default = mask["wsteach apply_mask (default)"]
    for reference in [name for name in mask if not name.startswith("wsteach")]:
        cells = "".join(f"{ratio(default[size], mask[reference][size]):>12}" for size in sizes)
        print(f"   {'default / ' + reference:<40}{cells}")
    for name in ("wsteach apply_mask (default)", "websockets C speedup"):
        cells = "".join(f"{page_faults[name][size]:12.1f}" for size in sizes)
        print(f"   {'page faults per call, ' + name.split(' (')[0]:<40}{cells}")

    decode = bench_decoding()
    ours = decode["wsteach Connection"]
    print(f"\n2. Decoding {DECODE_FRAMES:,} masked {DECODE_PAYLOAD}-byte text frames, "
          f"{CHUNK_SIZE // 1024} KiB chunks")
    print(f"   {'':<30}{'frames/s':>12}{'wsteach / it':>14}")
    for name, rate in decode.items():
        print(f"   {name:<30}{rate:12,.0f}{ratio(ours, rate):>14}")

    rtt = asyncio.run(bench_echo())
    baseline = rtt["websockets client -> websockets server"][0]
    print(f"\n3. Echo, {ECHO_MESSAGES:,} sequential {ECHO_PAYLOAD}-byte text messages, "
          "one event loop, no compression")
    print(f"   {'client -> server':<40}{'median us':>10}{'p90 us':>10}{'/ websockets':>14}")
    for name, (median, p90) in rtt.items():
        print(f"   {name:<40}{median * 1e6:10.1f}{p90 * 1e6:10.1f}{ratio(median, baseline):>14}")

    our_rtt = rtt["wsteach client -> wsteach server"][0]
    targets = [
        ("decoding >= 1.0x websockets Protocol", ours / decode["websockets Protocol"], 1.0),
        ("decoding >= 4x wsproto", ours / decode["wsproto WSConnection"], 4.0),
        *((f"default masking >= 0.5x websockets C at {size}",
           default[size] / mask["websockets C speedup"][size], 0.5)
          for size in ("64 KiB", "1 MiB")),
        *((f"default masking >= 1.0x websockets pure Python at {size}",
           default[size] / mask["websockets pure Python"][size], 1.0) for size in sizes),
    ]
    print("\nTargets")
    for text, value, goal in targets:
        print(f"   {'PASS' if value >= goal else 'MISS'}  {text:<56}{value:8.2f}x")
    # Round-trip time: lower is better, so ours must be at most 0.9 times theirs.
    verdict = "PASS" if our_rtt <= 0.9 * baseline else "MISS"
    print(f"   {verdict}  {'echo median RTT <= 0.9x websockets (ours / theirs)':<56}"
          f"{our_rtt / baseline:8.2f}x")
    print(f"\n({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
