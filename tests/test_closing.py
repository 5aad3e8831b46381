"""Closing as the best peers do it: the reply echoes code and reason; a refused message's close
frame reaches a client that is still sending; a peer that resets leaves no traceback."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import struct

import pytest

from wsteach import aio, handshake, http1
from wsteach.connection import ConnectionClosed
from wsteach.frames import Opcode, decode_frame, parse_close_payload

TRIES = 20


def run(coroutine, limit: float = 60):
    async def bounded():
        async with asyncio.timeout(limit):
            return await coroutine

    return asyncio.run(bounded())


async def echo(ws: aio.WebSocket) -> None:
    async for message in ws:
        await ws.send(message)


def test_the_close_reply_echoes_code_and_reason():
    async def main():
        async with aio.serve(echo) as server:
            ws = await aio.connect(f"ws://127.0.0.1:{server.port}/")
            await ws.close(4000, "done here")
        assert (ws.close_code, ws.close_reason) == (4000, "done here")  # what the server sent

    run(main())


def raw_client(port: int) -> socket.socket:
    """A TCP socket that has done the opening handshake by hand."""
    sock = socket.create_connection(("127.0.0.1", port))
    key = handshake.generate_key()
    sock.sendall(handshake.build_request(f"127.0.0.1:{port}", "/", key))
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(4096)
    response = http1.parse_response(head[:head.index(b"\r\n\r\n") + 4])
    assert response.status == 101
    return sock


def send_then_read(port: int) -> tuple[str, int | None]:
    """A client that sends a whole 64 MiB frame, then reads. Returns how the sending ended
    ("sent", or the error a reset gave) and the close code the server sent (None if none could
    be read)."""
    sock = raw_client(port)
    payload = os.urandom(2**20)
    sending = "sent"
    try:
        sock.sendall(struct.pack("!BBQ", 0x82, 0x80 | 127, 64 * 2**20) + os.urandom(4))
        for _ in range(64):
            sock.sendall(payload)
    except OSError as error:  # the server reset the connection while we were sending
        sending = type(error).__name__
    try:
        return sending, read_close_frame(sock)
    finally:
        sock.close()


def read_close_frame(sock: socket.socket) -> int | None:
    """The close code of the first frame the server sent, if it can still be read."""
    data = b""
    sock.settimeout(15)
    try:
        while True:
            decoded = decode_frame(data)
            if decoded is not None:
                frame, _ = decoded
                return parse_close_payload(frame.payload)[0] if frame.opcode is Opcode.CLOSE \
                    else None
            more = sock.recv(65536)
            if not more:
                return None
            data += more
    except OSError:  # a reset destroyed what was not yet read
        return None


def test_a_client_still_sending_reads_our_1009_every_time():
    """Refused at its header (max_size is 1 MiB), the frame keeps coming: we read and discard
    it instead of closing at once. Closing a socket with unread data sends a reset: the client's
    sending fails, and a client that gives up on the error never reads our close frame."""
    async def main() -> list[tuple[str, int | None]]:
        async with aio.serve(echo, close_timeout=5) as server:
            loop = asyncio.get_running_loop()
            return [await loop.run_in_executor(None, send_then_read, server.port)
                    for _ in range(TRIES)]

    results = run(main(), limit=120)
    assert results == [("sent", 1009)] * TRIES, f"(sending, close code read): {results}"


def test_a_peer_that_resets_while_we_send_leaves_no_traceback(caplog):
    ended: asyncio.Future[ConnectionClosed]

    async def flood(ws: aio.WebSocket) -> None:
        try:
            while True:
                await ws.send(os.urandom(2**16))
        except ConnectionClosed as closed:
            ended.set_result(closed)
            raise

    async def main():
        nonlocal ended
        ended = asyncio.get_running_loop().create_future()
        async with aio.serve(flood) as server:
            ws = await aio.connect(f"ws://127.0.0.1:{server.port}/")
            await ws.recv()
            sock = ws.transport.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            ws.transport.abort()  # RST
            closed = await ended
        return closed

    with caplog.at_level(logging.INFO, logger="wsteach"):
        closed = run(main())
    assert closed.code == 1006 and closed.rcvd is None
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize("reason", ["", "bye", "再见"])
def test_a_peer_close_reason_comes_back_byte_for_byte(reason):
    async def main():
        async with aio.serve(echo) as server:
            ws = await aio.connect(f"ws://127.0.0.1:{server.port}/")
            await ws.close(1000, reason)
            return ws.connection.close_received

    received = run(main())
    assert (received.code, received.reason) == (1000, reason)
