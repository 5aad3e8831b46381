"""WebSocket frames: the byte layout of RFC 6455 section 5.2, encoded and decoded.

```
 0                   1                   2                   3
 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
+-+-+-+-+-------+-+-------------+-------------------------------+
|F|R|R|R| opcode|M| Payload len |    Extended payload length    |
|I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
|N|V|V|V|       |S|             |   (if payload len==126/127)   |
| |1|2|3|       |K|             |                               |
+-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
|     Extended payload length continued, if payload len == 127  |
+ - - - - - - - - - - - - - - - +-------------------------------+
|                               |Masking-key, if MASK set to 1  |
+-------------------------------+-------------------------------+
| Masking-key (continued)       |          Payload Data         |
+-------------------------------- - - - - - - - - - - - - - - - +
```

``encode_frame`` writes any frame the diagram can express, even one a peer must reject (the
notebooks send such frames on purpose). ``decode_frame`` enforces every rule that one frame
alone can tell; rules that depend on the role (who must mask) or on earlier frames (fragment
order, UTF-8 across fragments) belong to ``wsteach.connection``.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from enum import IntEnum

from wsteach.masking import apply_mask


class Opcode(IntEnum):
    """The 4-bit frame type (RFC 6455 section 5.2); 0x3-0x7 and 0xB-0xF are reserved."""

    CONTINUATION = 0x0
    TEXT = 0x1
    BINARY = 0x2
    CLOSE = 0x8
    PING = 0x9
    PONG = 0xA

    @property
    def is_control(self) -> bool:
        """Control frames (close, ping, pong) have the high bit of the opcode set (5.5)."""
        return self >= 0x8


class CloseCode(IntEnum):
    """Close status codes (RFC 6455 section 7.4.1, and the IANA registry for 1012-1014)."""

    NORMAL = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    NO_STATUS = 1005  # never sent: reported when a close frame carries no code
    ABNORMAL = 1006  # never sent: reported when TCP closed without a close frame
    INVALID_DATA = 1007
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    MANDATORY_EXTENSION = 1010
    INTERNAL_ERROR = 1011
    SERVICE_RESTART = 1012
    TRY_AGAIN_LATER = 1013
    BAD_GATEWAY = 1014
    TLS_HANDSHAKE = 1015  # never sent


class ProtocolError(Exception):
    """A peer broke RFC 6455. ``code`` is the close code to fail the connection with."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"{reason} (close code {code})")
        self.code = code
        self.reason = reason


@dataclass(slots=True)
class Frame:
    """One frame. ``mask_key`` is the key it travels masked with; None means unmasked.

    ``payload`` is always the unmasked data.
    """

    opcode: Opcode
    payload: bytes = b""
    fin: bool = True
    rsv1: bool = False
    rsv2: bool = False
    rsv3: bool = False
    mask_key: bytes | None = None


MAX_CONTROL_PAYLOAD = 125  # section 5.5: control frames carry at most 125 bytes
_OPCODES = {opcode.value: opcode for opcode in Opcode}
CLOSE = Opcode.CLOSE
_VALID_CLOSE_CODES = frozenset(range(1000, 1004)) | frozenset(range(1007, 1015))


def random_mask_key() -> bytes:
    """A fresh, unpredictable masking key for one client frame (section 5.3)."""
    return os.urandom(4)


def encode_frame(frame: Frame, mask_key: bytes | None = None) -> bytes:
    """The bytes of ``frame`` on the wire, masked with ``mask_key`` (or ``frame.mask_key``).

    The length takes the shortest form that fits (section 5.2): 7 bits up to 125, then 126 and a
    16-bit length up to 65535, then 127 and a 64-bit length.
    """
    key = mask_key if mask_key is not None else frame.mask_key
    first = (frame.fin << 7) | (frame.rsv1 << 6) | (frame.rsv2 << 5) | (frame.rsv3 << 4)
    first |= frame.opcode
    mask_bit = 0x80 if key is not None else 0
    length = len(frame.payload)
    if length <= 125:
        header = struct.pack("!BB", first, mask_bit | length)
    elif length <= 0xFFFF:
        header = struct.pack("!BBH", first, mask_bit | 126, length)
    else:
        header = struct.pack("!BBQ", first, mask_bit | 127, length)
    if key is None:
        return header + frame.payload
    return header + key + apply_mask(frame.payload, key)


def decode_header(
    buffer: bytes | bytearray | memoryview,
    *,
    max_size: int | None = None,
    allow_rsv1: bool = False,
) -> tuple[Frame, int, int] | None:
    """The header of the frame at the start of ``buffer``, or None if it has not all arrived.

    Returns ``(frame, header size, payload length)``, the frame's payload not read yet (empty).
    Raises ``ProtocolError`` for what a header alone shows to be wrong: reserved bits (unless
    ``allow_rsv1``, for a negotiated extension such as permessage-deflate), reserved opcodes,
    oversized or fragmented control frames, a 64-bit length with its top bit set, and a payload
    over ``max_size`` (1009), so a claimed 8 EB length is refused before any of it is read.
    """
    available = len(buffer)
    if available < 2:
        return None
    first, second = buffer[0], buffer[1]
    if first & (0x30 if allow_rsv1 else 0x70):
        raise ProtocolError(1002, f"reserved bits set ({first >> 4 & 7:03b}) but no extension "
                                  "was negotiated that defines them (section 5.2)")
    opcode = _OPCODES.get(first & 0x0F)
    if opcode is None:
        raise ProtocolError(1002, f"opcode 0x{first & 0x0F:X} is reserved (section 5.2)")
    length = second & 0x7F
    offset = 2
    if length == 126:
        if available < 4:
            return None
        length = buffer[2] << 8 | buffer[3]
        offset = 4
    elif length == 127:
        if available < 10:
            return None
        length = int.from_bytes(buffer[2:10], "big")
        if length >> 63:
            raise ProtocolError(1002, "the 64-bit length has its top bit set (section 5.2)")
        offset = 10
    if first & 0x08:
        _check_control_frame(opcode, first & 0x80, length)
    if max_size is not None and length > max_size:
        raise ProtocolError(1009, f"a frame of {length} bytes is over the limit of {max_size}")
    mask_key = None
    if second & 0x80:
        if available < offset + 4:
            return None
        mask_key = bytes(buffer[offset:offset + 4])
        offset += 4
    frame = Frame(opcode, b"", first & 0x80 != 0, first & 0x40 != 0, first & 0x20 != 0,
                  first & 0x10 != 0, mask_key)
    return frame, offset, length


def decode_frame(
    buffer: bytes | bytearray | memoryview,
    *,
    max_size: int | None = None,
    allow_rsv1: bool = False,
) -> tuple[Frame, int] | None:
    """Decode the frame at the start of ``buffer``: ``(frame, bytes used)``, or None if incomplete.

    Reads nothing past the frame and copies no payload before all of it has arrived. Raises
    ``ProtocolError`` for what one frame alone shows to be wrong: everything ``decode_header``
    checks, and a bad close payload.
    """
    header = decode_header(buffer, max_size=max_size, allow_rsv1=allow_rsv1)
    if header is None:
        return None
    frame, offset, length = header
    end = offset + length
    if len(buffer) < end:
        return None
    if frame.mask_key is None:
        frame.payload = bytes(buffer[offset:end])
    else:
        frame.payload = apply_mask(buffer[offset:end], frame.mask_key)
    if frame.opcode is CLOSE:  # a close frame: check its code and reason
        parse_close_payload(frame.payload)
    return frame, end


def _check_control_frame(opcode: Opcode, fin: int, length: int) -> None:
    """Section 5.5: control frames are never fragmented and carry at most 125 bytes."""
    if length > MAX_CONTROL_PAYLOAD:
        raise ProtocolError(1002, f"a {opcode.name} frame of {length} bytes: control frames "
                                  "carry at most 125 bytes (section 5.5)")
    if not fin:
        raise ProtocolError(1002, f"a fragmented {opcode.name} frame: control frames must not "
                                  "be fragmented (section 5.5)")


def close_payload(code: int, reason: str = "") -> bytes:
    """The payload of a close frame: a 2-byte code, then a UTF-8 reason (section 5.5.1)."""
    return struct.pack("!H", code) + reason.encode("utf-8")


def parse_close_payload(payload: bytes) -> tuple[int, str]:
    """``(code, reason)`` of a close frame; an empty payload means 1005, "no status" (7.1.5)."""
    if not payload:
        return CloseCode.NO_STATUS, ""
    if len(payload) == 1:
        raise ProtocolError(1002, "a close frame with a 1-byte payload: the code takes 2 bytes")
    code = payload[0] << 8 | payload[1]
    if not (code in _VALID_CLOSE_CODES or 3000 <= code <= 4999):
        raise ProtocolError(1002, f"close code {code} may not be sent on the wire (section 7.4)")
    try:
        return code, payload[2:].decode("utf-8")
    except UnicodeDecodeError as exc:
        problem = exc.reason
    # Raised outside the except block, so that the decoding error (and through its traceback
    # the receive buffer) is not kept alive by the ProtocolError.
    raise ProtocolError(1007, f"the close reason is not valid UTF-8 ({problem})")
