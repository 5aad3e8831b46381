"""The closing handshake as notebook 07 shows it, against real peers (RFC 6455 section 7).

- The codes that never travel (1005, 1006, 1015, section 7.4.1): a close frame carrying one is
  refused with 1002 by our server and by the websockets library's; an empty close frame is
  reported as 1005 and echoed empty; a reset peer is reported as 1006 with neither half of the
  closing handshake.
- Who closes TCP first (section 7.1.1): the server, whichever side started the close, so the
  server's side of the connection is the one left in TIME_WAIT.
- A code that never travels is refused before it is sent.
"""

from __future__ import annotations

import asyncio
import struct

import pytest
from websockets.asyncio.server import serve as websockets_serve

from wsteach import aio
from wsteach.connection import Close, Connection, ConnectionClosed, Role
from wsteach.frames import parse_close_payload
from wsteach.lessons import closing


def run(coroutine):
    async def bounded():
        async with asyncio.timeout(20):
            return await coroutine

    return asyncio.run(bounded())


async def echo(ws) -> None:
    async for message in ws:
        await ws.send(message)


def noting(seen: list[ConnectionClosed]):
    """A handler that reads until the connection closes and keeps the ``ConnectionClosed``."""
    async def note(ws: aio.WebSocket) -> None:
        try:
            while True:
                await ws.recv()
        except ConnectionClosed as closed:
            seen.append(closed)

    return note


@pytest.mark.parametrize("code", [1005, 1006, 1015, 1004, 999, 5000])
def test_a_code_that_never_travels_is_refused_with_1002(code: int) -> None:
    async def main():
        async with (aio.serve(echo, "127.0.0.1", 0) as ours,
                    websockets_serve(echo, "127.0.0.1", 0, compression=None) as theirs):
            their_port = theirs.sockets[0].getsockname()[1]
            for port in (ours.port, their_port):
                payload = struct.pack("!H", code)
                answer = await closing.close_answer(f"ws://127.0.0.1:{port}/", payload)
                assert answer is not None and answer.code == 1002, (port, answer)

    run(main())


def test_an_empty_close_is_reported_as_1005_and_echoed_empty() -> None:
    seen: list[ConnectionClosed] = []
    note = noting(seen)

    async def main():
        async with aio.serve(note, "127.0.0.1", 0) as server:
            answer = await closing.close_answer(f"ws://127.0.0.1:{server.port}/", b"")
        assert answer == Close(1005, "")
        [closed] = seen
        assert (closed.code, closed.rcvd, closed.ok) == (1005, Close(1005, ""), True)

    run(main())


def test_a_reset_is_reported_as_1006_with_no_close_frames() -> None:
    seen: list[ConnectionClosed] = []
    note = noting(seen)

    async def main():
        async with aio.serve(note, "127.0.0.1", 0) as server:
            ws = await aio.connect(f"ws://127.0.0.1:{server.port}/")
            closing.reset_tcp(ws)
            async with asyncio.timeout(5):
                while not seen:
                    await asyncio.sleep(0.01)
        [closed] = seen
        assert (closed.code, closed.rcvd, closed.sent, closed.ok) == (1006, None, None, False)

    run(main())


@pytest.mark.parametrize("who_closes", ["client", "server"])
def test_the_server_closes_tcp_first_and_keeps_time_wait(who_closes: str) -> None:
    async def close_now(ws: aio.WebSocket) -> None:
        await ws.close()

    async def main():
        handler = close_now if who_closes == "server" else echo
        async with aio.serve(handler, "127.0.0.1", 0) as server:
            server_port = server.port
            ws = await aio.connect(f"ws://127.0.0.1:{server_port}/")
            if who_closes == "client":
                await ws.close()
            await ws.wait_closed()
            client_port = ws.local_address[1]
        waiting = closing.time_wait_ports()
        assert (server_port, client_port) in waiting  # the server's end waits...
        assert (client_port, server_port) not in waiting  # ...not the client's

    if not closing.TCP_TABLE.exists():
        pytest.skip("no /proc/net/tcp (not Linux)")
    run(main())


@pytest.mark.parametrize("code", [1005, 1006, 1015])
def test_close_never_sends_a_code_reserved_for_reporting(code: int) -> None:
    """Section 7.4.1: 1005, 1006 and 1015 MUST NOT be set in a close frame. Refusing (a
    ValueError) or sending another code (wsproto sends 1000) are both fine."""
    connection = Connection(Role.SERVER)
    try:
        data = connection.close(code)
    except ValueError:
        return
    assert parse_close_payload(data[2:])[0] != code
