"""Engine.IO v4: the packets under Socket.IO, as pure functions.

Engine.IO carries Socket.IO over a WebSocket, or over HTTP long polling when a WebSocket cannot
be opened (the spec: socket.io's ``docs/engine.io-protocol/v4-current.md``). A packet is one
digit, its type, then its data::

    0{"sid":"...","upgrades":["websocket"],"pingInterval":25000,...}   open (server -> client)
    2 / 3                         ping from the server / pong from the client (the heartbeat)
    2probe / 3probe / 5           the probe of an upgrade from polling to WebSocket, then upgrade
    4<data>                       message: what Socket.IO sends (so 42["news",...] is 4 + 2[...])

Over a WebSocket each packet is one frame; binary data goes in a binary frame as it is. Over
long polling one HTTP body holds several packets, joined by the record separator ``\\x1e``, and
binary data is written ``b`` + base64 (``encode_payload``, ``decode_payload``).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from enum import IntEnum

SEPARATOR = "\x1e"  # between the packets of a polling payload (ASCII record separator)


class PacketType(IntEnum):
    OPEN = 0  # server -> client, first: the session's id and timers (JSON)
    CLOSE = 1  # the transport can be closed
    PING = 2  # server -> client every pingInterval (and "2probe" during an upgrade)
    PONG = 3  # the client's answer, within pingTimeout
    MESSAGE = 4  # the payload: a Socket.IO packet, text or binary
    UPGRADE = 5  # client -> server: switch to the probed WebSocket
    NOOP = 6  # ends a pending polling request during an upgrade


class EngineIOError(ValueError):
    """A malformed Engine.IO packet or payload; the message says what is wrong."""


@dataclass(frozen=True)
class Packet:
    """One Engine.IO packet: its type and its data (text, or bytes for a binary message)."""

    type: PacketType
    data: str | bytes = ""

    def __post_init__(self) -> None:
        if isinstance(self.data, bytes) and self.type is not PacketType.MESSAGE:
            raise EngineIOError(f"only a message packet may carry bytes, not {self.type.name}")


def encode(packet: Packet) -> str | bytes:
    """The packet as one WebSocket message: text ``<type><data>``, or the bytes themselves."""
    if isinstance(packet.data, bytes):
        return packet.data
    return f"{packet.type.value}{packet.data}"


def decode(message: str | bytes) -> Packet:
    """A WebSocket message as a packet: a binary message is a binary ``MESSAGE``."""
    if isinstance(message, bytes | bytearray):
        return Packet(PacketType.MESSAGE, bytes(message))
    if not message:
        raise EngineIOError("an empty message is no Engine.IO packet (it needs a type digit)")
    kind = message[0]
    if kind not in "0123456":
        raise EngineIOError(f"{kind!r} is no Engine.IO packet type (0 to 6) in {message[:20]!r}")
    return Packet(PacketType(int(kind)), message[1:])


def encode_payload(packets: list[Packet]) -> str:
    """The body of a polling response or POST: the packets joined by ``\\x1e``, binary data
    written as ``b`` + base64."""
    parts = []
    for packet in packets:
        if isinstance(packet.data, bytes):
            parts.append("b" + base64.b64encode(packet.data).decode("ascii"))
        elif SEPARATOR in packet.data:
            raise EngineIOError("a packet sent by polling may not hold the separator \\x1e")
        else:
            parts.append(encode(packet))
    return SEPARATOR.join(parts)


def decode_payload(body: str) -> list[Packet]:
    """The packets of a polling body (``encode_payload`` undone)."""
    packets = []
    for part in body.split(SEPARATOR):
        if part.startswith("b"):
            try:
                packets.append(Packet(PacketType.MESSAGE, base64.b64decode(part[1:],
                                                                           validate=True)))
            except binascii.Error as error:
                raise EngineIOError(f"{part[:20]!r} is not base64 after its b: {error}") from None
        else:
            packets.append(decode(part))
    return packets


def open_packet(sid: str, *, ping_interval: float, ping_timeout: float, max_payload: int,
                upgrades: tuple[str, ...] = ()) -> Packet:
    """The server's first packet: the session id, the transports it may upgrade to, and the
    heartbeat's timers in milliseconds (the spec's "Handshake")."""
    return Packet(PacketType.OPEN, json.dumps({
        "sid": sid, "upgrades": list(upgrades), "pingInterval": round(ping_interval * 1000),
        "pingTimeout": round(ping_timeout * 1000), "maxPayload": max_payload,
    }, separators=(",", ":")))
