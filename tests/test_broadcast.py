"""``aio.broadcast`` against real peers: websockets clients read what our server broadcasts,
a websockets server reads what our clients broadcast (masked, or it would fail them with 1002),
closed connections are skipped, and a reader past its send buffer is failed with 1013."""

from __future__ import annotations

import asyncio

from test_chat import run
from websockets.asyncio.client import connect as websockets_connect
from websockets.asyncio.server import serve as websockets_serve

from wsteach import aio


async def hold(ws: aio.WebSocket) -> None:
    """A handler that keeps the connection open until the peer closes it."""
    await ws.wait_closed()


def test_every_reader_gets_every_message_once_in_order_text_and_binary():
    messages = [f"message {n}" if n % 2 else bytes([n]) * 100 for n in range(200)]

    async def scenario() -> None:
        async with aio.serve(hold, "127.0.0.1", 0) as server:
            clients = [await websockets_connect(f"ws://127.0.0.1:{server.port}/",
                                                compression=None) for _ in range(20)]
            while len(server.connections) < 20:
                await asyncio.sleep(0.001)
            for message in messages:
                aio.broadcast(server.connections, message)

            async def read(ws) -> list[str | bytes]:
                return [await ws.recv() for _ in messages]

            assert await asyncio.gather(*map(read, clients)) == [messages] * 20
            await asyncio.gather(*(ws.close() for ws in clients))

    run(scenario())


def test_client_connections_mask_what_they_broadcast():
    received: list[str] = []

    async def collect(ws) -> None:
        async for message in ws:
            received.append(message)

    async def scenario() -> None:
        async with websockets_serve(collect, "127.0.0.1", 0, compression=None) as server:
            port = server.sockets[0].getsockname()[1]
            clients = [await aio.connect(f"ws://127.0.0.1:{port}/") for _ in range(3)]
            aio.broadcast(clients, "from every client")
            await asyncio.gather(*(ws.close() for ws in clients))
            assert [ws.close_code for ws in clients] == [1000] * 3  # not 1002: masked
        assert received == ["from every client"] * 3

    run(scenario())


def test_connections_that_are_not_open_are_skipped():
    async def scenario() -> None:
        async with aio.serve(hold, "127.0.0.1", 0) as server:
            gone, stays = [await websockets_connect(f"ws://127.0.0.1:{server.port}/")
                           for _ in range(2)]
            while len(server.connections) < 2:
                await asyncio.sleep(0.001)
            connections = list(server.connections)
            await gone.close()
            while len(server.connections) > 1:
                await asyncio.sleep(0.001)
            aio.broadcast(connections, "only to the one still here")
            assert await stays.recv() == "only to the one still here"
            await stays.close()

    run(scenario())


def test_a_reader_past_its_send_buffer_is_failed_with_1013_and_the_others_are_not():
    async def scenario() -> None:
        async with aio.serve(hold, "127.0.0.1", 0, max_send_buffer=2**16) as server:
            sleeper = await aio.connect(f"ws://127.0.0.1:{server.port}/")  # never reads
            reader = await websockets_connect(f"ws://127.0.0.1:{server.port}/",
                                              compression=None)
            while len(server.connections) < 2:
                await asyncio.sleep(0.001)
            connections = list(server.connections)
            message, count = "x" * 1000, 0
            while all(ws.close_code is None and ws.connection.close_sent is None
                      for ws in connections) and count < 100_000:
                aio.broadcast(connections, message)
                count += 1
                assert await reader.recv() == message  # this one keeps up
            failed = [ws for ws in connections if ws.connection.close_sent is not None]
            assert len(failed) == 1 and failed[0].connection.close_sent.code == 1013
            assert count > 2**16 // 1000  # it took the buffer, and the kernel's, to fill up
            aio.broadcast(connections, "after")
            assert await reader.recv() == "after"
            await reader.close()
            sleeper.transport.abort()

    run(scenario())


def test_the_fanout_counters_know_the_size_of_a_server_frame():
    """``lessons.fanout`` counts bytes instead of parsing: its arithmetic must be the core's."""
    from wsteach.frames import Frame, Opcode, encode_frame
    from wsteach.lessons import fanout

    for size in (0, 100, 125, 126, 65535, 65536):
        assert fanout.frame_bytes(size) == len(encode_frame(Frame(Opcode.TEXT, b"x" * size)))
