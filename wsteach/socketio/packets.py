"""Socket.IO v5: the packets inside Engine.IO's message packets, as pure functions.

The format (socket.io's ``docs/socket.io-protocol/v5-current.md``, "Packet encoding")::

    <type>[<attachments>-][<namespace>,][<ack id>][<JSON>]

    0                          CONNECT to the main namespace "/" (sent by the client)
    0{"sid":"wZX3oN0bSVIhsaknAAAI"}    the server's CONNECT reply: the client's Socket.IO id
    2["news",[...]]            EVENT "news" with one argument
    212["echo","hi"]           EVENT with ack id 12: the receiver must answer ACK 12...
    312["hi"]                  ...with the ack's arguments
    4{"message":"Invalid namespace"}   CONNECT_ERROR
    2/admin,["hey"]            an EVENT in the namespace /admin
    51-["up",{"_placeholder":true,"num":0}]   BINARY_EVENT: one binary message follows

On the wire each is prefixed by Engine.IO's ``4`` (message): ``42["news",...]``. ``decode``
checks what the reference parser (socket.io-parser) checks, and one thing more (an event's
name must be a string; socket.io-parser also takes a number), and raises ``SocketIOError``
with a sentence saying what is wrong.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

MAX_ATTACHMENTS = 10  # socket.io-parser's default maxAttachments
MAX_ID_DIGITS = 15  # ack ids stay below 2**53, the largest integer JavaScript counts exactly
# Event names the receiving library keeps for itself (socket.io-parser's RESERVED_EVENTS).
RESERVED_EVENTS = frozenset({"connect", "connect_error", "disconnect", "disconnecting",
                             "newListener", "removeListener"})
_DIGITS = re.compile(r"[0-9]*")


class PacketType(IntEnum):
    CONNECT = 0  # client: join a namespace; server: accepted, with the Socket.IO id
    DISCONNECT = 1  # leave the namespace
    EVENT = 2  # ["name", arg, ...], with an ack id if the sender wants an answer
    ACK = 3  # the answer to the EVENT with the same id: [arg, ...]
    CONNECT_ERROR = 4  # server: the CONNECT was refused, {"message": ...}
    BINARY_EVENT = 5  # an EVENT whose arguments hold bytes, sent as attachments after it
    BINARY_ACK = 6  # an ACK whose arguments hold bytes


BINARY_TYPES = {PacketType.BINARY_EVENT, PacketType.BINARY_ACK}


class SocketIOError(ValueError):
    """A malformed Socket.IO packet; the message says what is wrong."""


@dataclass(frozen=True)
class Packet:
    """One Socket.IO packet. ``data`` is a JSON value (with placeholders where bytes were);
    ``attachments`` is how many binary messages follow a binary packet."""

    type: PacketType
    data: Any = None
    namespace: str = "/"
    id: int | None = None
    attachments: int = 0


def encode(packet: Packet) -> str:
    """The packet's text, as JavaScript's socket.io-parser writes it (UTF-8 left unescaped)."""
    if not packet.namespace.startswith("/") or "," in packet.namespace:
        raise SocketIOError(f"a namespace starts with / and holds no comma: {packet.namespace!r}")
    text = str(packet.type.value)
    if packet.type in BINARY_TYPES:
        text += f"{packet.attachments}-"
    if packet.namespace != "/":
        text += packet.namespace + ","
    if packet.id is not None:
        text += str(packet.id)
    if packet.data is not None:
        text += json.dumps(packet.data, ensure_ascii=False, separators=(",", ":"))
    return text


def decode(text: str) -> Packet:
    """A packet's text as a ``Packet``; raises ``SocketIOError`` if it is malformed."""
    if not text or text[0] not in "0123456":
        raise SocketIOError(f"{text[:20]!r} does not start with a packet type (0 to 6)")
    packet_type = PacketType(int(text[0]))
    at = 1
    attachments = 0
    if packet_type in BINARY_TYPES:
        count = _DIGITS.match(text, at)[0]
        if not count or not text.startswith("-", at + len(count)):
            raise SocketIOError(f"a {packet_type.name} must say how many attachments follow "
                                f"(<n>- after the type): {text[:20]!r}")
        attachments = int(count[:4])
        if len(count) > 3 or attachments > MAX_ATTACHMENTS:
            raise SocketIOError(f"{count[:20]} attachments: more than {MAX_ATTACHMENTS}")
        at += len(count) + 1
    namespace = "/"
    if text.startswith("/", at):
        comma = text.find(",", at)
        end = len(text) if comma == -1 else comma
        namespace = text[at:end]
        at = end + 1 if comma != -1 else end
    ack_id = None
    if digits := _DIGITS.match(text, at)[0]:
        if len(digits) > MAX_ID_DIGITS:
            raise SocketIOError(f"the ack id {digits[:20]}... has more than {MAX_ID_DIGITS} "
                                "digits")
        ack_id = int(digits)
        at += len(digits)
    data = _json(text[at:], text) if at < len(text) else None
    _check_payload(packet_type, data, text)
    return Packet(packet_type, data, namespace, ack_id, attachments)


def _json(rest: str, text: str) -> Any:
    def refuse(constant: str) -> None:
        raise SocketIOError(f"{constant} is not JSON (in {text[:40]!r})")

    try:
        return json.loads(rest, parse_constant=refuse)
    except json.JSONDecodeError as error:
        raise SocketIOError(f"the payload of {text[:40]!r} is not JSON: {error.msg} at "
                            f"character {error.pos}") from None


def _check_payload(packet_type: PacketType, data: Any, text: str) -> None:
    """What each type may carry (the spec, and socket.io-parser's ``isPayloadValid``)."""
    shown = text[:40]
    if packet_type is PacketType.CONNECT and data is not None and not isinstance(data, dict):
        raise SocketIOError(f"a CONNECT carries a JSON object or nothing, not {shown!r}")
    if packet_type is PacketType.DISCONNECT and data is not None:
        raise SocketIOError(f"a DISCONNECT carries no payload: {shown!r}")
    if packet_type is PacketType.CONNECT_ERROR and not isinstance(data, dict | str):
        raise SocketIOError(f"a CONNECT_ERROR carries an object or a string: {shown!r}")
    if packet_type in (PacketType.EVENT, PacketType.BINARY_EVENT):
        if not isinstance(data, list) or not data:
            raise SocketIOError(f"an event's payload must be a non-empty JSON array: {shown!r}")
        name = data[0]
        if not isinstance(name, str) or isinstance(name, bool):
            raise SocketIOError(f"an event's first element is its name, a string: {shown!r}")
        if name in RESERVED_EVENTS:
            raise SocketIOError(f"{name!r} is reserved and cannot be sent as an event")
    if packet_type in (PacketType.ACK, PacketType.BINARY_ACK) and not isinstance(data, list):
        raise SocketIOError(f"an ACK's payload must be a JSON array: {shown!r}")


# ---- binary attachments ---------------------------------------------------------------------

def deconstruct(data: Any) -> tuple[Any, list[bytes]]:
    """Take the bytes out of ``data``: each becomes ``{"_placeholder": true, "num": n}`` and
    the n-th attachment (socket.io-parser's ``deconstructPacket``)."""
    buffers: list[bytes] = []

    def walk(value: Any) -> Any:
        if isinstance(value, bytes | bytearray | memoryview):
            buffers.append(bytes(value))
            return {"_placeholder": True, "num": len(buffers) - 1}
        if isinstance(value, list | tuple):
            return [walk(item) for item in value]
        if isinstance(value, dict):
            return {key: walk(item) for key, item in value.items()}
        return value

    return walk(data), buffers


def reconstruct(data: Any, buffers: list[bytes]) -> Any:
    """Put the attachments back where their placeholders are (``deconstruct`` undone)."""
    def walk(value: Any) -> Any:
        if isinstance(value, list):
            return [walk(item) for item in value]
        if isinstance(value, dict):
            if value.get("_placeholder") is True and "num" in value:
                num = value["num"]
                if not isinstance(num, int) or isinstance(num, bool) or not (
                        0 <= num < len(buffers)):
                    raise SocketIOError(f"placeholder {num!r} names no attachment "
                                        f"(there are {len(buffers)})")
                return buffers[num]
            return {key: walk(item) for key, item in value.items()}
        return value

    return walk(data)


def to_messages(packet_type: PacketType, data: Any, *, namespace: str = "/",
                id: int | None = None) -> list[str | bytes]:  # noqa: A002 - the spec's name
    """An EVENT or ACK (or any packet) as the Engine.IO messages that carry it: the packet's
    text, then one binary message per attachment when ``data`` holds bytes (the type becomes
    BINARY_EVENT or BINARY_ACK)."""
    stripped, buffers = deconstruct(data)
    if buffers:
        binary = {PacketType.EVENT: PacketType.BINARY_EVENT, PacketType.ACK: PacketType.BINARY_ACK}
        if packet_type not in binary:
            raise SocketIOError(f"a {packet_type.name} cannot carry bytes")
        packet_type = binary[packet_type]
    return [encode(Packet(packet_type, stripped, namespace, id, len(buffers))), *buffers]
