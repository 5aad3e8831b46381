"""Ending connections on purpose, as notebook 07 does (RFC 6455 section 7).

- ``close_answer(uri, payload)``: send a close frame with any payload at all, valid or not, and
  return the close frame the server answers with.
- ``reset_tcp(ws)``: vanish with a TCP reset (RST) instead of a closing handshake.
- ``time_wait_ports()``: the loopback connections the kernel holds in TIME_WAIT, to see which
  side closed TCP first (section 7.1.1).
"""

from __future__ import annotations

import socket
import struct
from pathlib import Path

from wsteach import aio
from wsteach.connection import Close, ConnectionClosed
from wsteach.frames import Frame, Opcode, encode_frame, random_mask_key

TCP_TABLE = Path("/proc/net/tcp")  # Linux's table of IPv4 TCP sockets
TIME_WAIT = "06"  # its state column for TIME_WAIT (include/net/tcp_states.h)


async def close_answer(uri: str, payload: bytes) -> Close | None:
    """Connect, send a close frame carrying ``payload`` (built by hand, so it may break the
    rules), and return the close frame the server answers with (None if it sent none).

    Our own ``Connection`` does not know about the hand-built frame, so it takes the answer for
    a close the server began and echoes it: a harmless extra frame after the handshake.
    """
    ws = await aio.connect(uri)
    await ws.send_raw(encode_frame(Frame(Opcode.CLOSE, payload), random_mask_key()))
    try:
        await ws.recv()
    except ConnectionClosed as closed:
        answer = closed.rcvd
    else:
        raise RuntimeError("the server sent a message instead of answering the close")
    await ws.wait_closed()
    return answer


def reset_tcp(ws: aio.WebSocket) -> None:
    """Vanish: close the socket with SO_LINGER set to 0 s, so the kernel sends RST (and no
    FIN), as a crashed peer or a middlebox dropping the connection would."""
    sock = ws.transport.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    ws.transport.abort()


def time_wait_ports() -> set[tuple[int, int]]:
    """``(local port, remote port)`` of every IPv4 TCP socket in TIME_WAIT (empty where there
    is no /proc/net/tcp, that is off Linux). The side that sent the first FIN holds TIME_WAIT
    for twice the maximum segment lifetime: 60 s on Linux."""
    if not TCP_TABLE.exists():
        return set()
    ports = set()
    for line in TCP_TABLE.read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == TIME_WAIT:
            ports.add((int(fields[1].split(":")[1], 16), int(fields[2].split(":")[1], 16)))
    return ports
