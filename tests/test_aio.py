"""The asyncio layer's own behaviour: port 0, close codes, cancellation, timeouts, limits."""

from __future__ import annotations

import asyncio

import pytest

from wsteach import aio
from wsteach.connection import ConnectionClosed, State


def run(coroutine):
    async def bounded():
        async with asyncio.timeout(20):
            return await coroutine

    return asyncio.run(bounded())


async def echo(ws):
    async for message in ws:
        await ws.send(message)


def test_port_zero_and_addresses():
    async def main():
        async with aio.serve(echo, "127.0.0.1", 0) as server:
            assert server.port > 0
            async with aio.connect(f"ws://127.0.0.1:{server.port}/") as ws:
                assert ws.remote_address[:2] == ("127.0.0.1", server.port)
                await ws.send("ping?")
                assert await ws.recv() == "ping?"
            assert ws.close_code == 1000 and ws.state is State.CLOSED

    run(main())


def test_server_shutdown_closes_clients_with_going_away():
    async def main():
        server = await aio.serve(echo, "127.0.0.1", 0)
        ws = await aio.connect(f"ws://127.0.0.1:{server.port}/")
        await ws.send("hello")
        assert await ws.recv() == "hello"
        server.close()  # cancels the handler: it must still close cleanly
        await server.wait_closed()
        with pytest.raises(ConnectionClosed) as caught:
            await ws.recv()
        assert caught.value.code == 1001

    run(main())


def test_handler_exception_closes_with_internal_error():
    async def broken(ws):
        await ws.recv()
        raise RuntimeError("bug in the handler")

    async def main():
        async with aio.serve(broken, "127.0.0.1", 0) as server:
            ws = await aio.connect(f"ws://127.0.0.1:{server.port}/")
            await ws.send("trigger")
            await ws.wait_closed()
            assert ws.close_code == 1011

    run(main())


def test_async_for_ends_quietly_on_a_normal_close():
    async def say_two_things(ws):
        await ws.send("one")
        await ws.send(b"two")

    async def main():
        server = await aio.serve(say_two_things, "127.0.0.1", 0)
        async with server, aio.connect(f"ws://127.0.0.1:{server.port}/") as ws:
            assert [m async for m in ws] == ["one", b"two"]

    run(main())


def test_ping_waiter_gives_a_round_trip_time():
    async def main():
        server = await aio.serve(echo, "127.0.0.1", 0)
        async with server, aio.connect(f"ws://127.0.0.1:{server.port}/") as ws:
            latency = await (await ws.ping())
            assert 0 <= latency < 1

    run(main())


def test_message_over_max_size_closes_with_1009():
    async def main():
        async with aio.serve(echo, "127.0.0.1", 0, max_size=1000) as server:
            ws = await aio.connect(f"ws://127.0.0.1:{server.port}/")
            await ws.send(b"x" * 1001)
            await ws.wait_closed()
            assert ws.close_code == 1009

    run(main())


def test_a_client_that_never_finishes_the_handshake_is_dropped():
    async def main():
        async with aio.serve(echo, "127.0.0.1", 0, open_timeout=0.2) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(b"GET / HTTP/1.1\r\n")  # and then nothing
            assert await asyncio.wait_for(reader.read(), 2) == b""
            writer.close()

    run(main())


def test_send_waits_when_the_peer_does_not_read():
    async def stalled(ws):
        await asyncio.sleep(10)  # never reads: the client's writes must back up

    async def main():
        async with aio.serve(stalled, "127.0.0.1", 0, max_size=None) as server:
            ws = await aio.connect(f"ws://127.0.0.1:{server.port}/")
            chunk = b"x" * 2**20
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(1):
                    for _ in range(200):  # 200 MiB: far beyond the socket buffers
                        await ws.send(chunk)
            ws.transport.abort()

    run(main())


def test_connect_refuses_a_non_ws_uri():
    with pytest.raises(ValueError, match="ws://"):
        run(aio.connect("http://127.0.0.1:1/"))
