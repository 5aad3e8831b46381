"""A WebSocket layer for scapy (which has none): RFC 6455 section 5.2's diagram as fields.

```
>>> frame = WebSocketFrame(opcode="text", mask_key=b"\\x37\\xfa\\x21\\x3d", data=b"Hello")
>>> bytes(frame).hex()
'818537fa213d7f9f4d5158'
>>> WebSocketFrame(bytes(frame)).data
b'Hello'
```

``data`` is always the application's bytes, unmasked: building masks it with ``mask_key``,
dissecting unmasks it. Left unset, ``mask`` and the lengths are filled in by ``post_build``
(the shortest length form, as section 5.2 requires); set them to build a frame that breaks
the rules on purpose. Several frames in one buffer dissect as a chain of ``WebSocketFrame``
layers. The dissector checks nothing: a capture shows what was sent, valid or not.
"""

from __future__ import annotations

import struct

from scapy.fields import (
    BitEnumField,
    BitField,
    ConditionalField,
    LongField,
    ShortField,
    StrFixedLenField,
    StrLenField,
)
from scapy.layers.http import HTTP
from scapy.packet import Packet, Padding

from wsteach.frames import Opcode
from wsteach.masking import apply_mask

OPCODE_NAMES = {opcode.value: opcode.name.lower() for opcode in Opcode}


def _payload_length(frame: Packet) -> int:
    if frame.length == 126:
        return frame.length16
    if frame.length == 127:
        return frame.length64
    return frame.length


class WebSocketFrame(Packet):
    """One WebSocket frame, field by field as in RFC 6455 section 5.2."""

    name = "WebSocket"
    fields_desc = [
        BitField("fin", 1, 1),
        BitField("rsv1", 0, 1),
        BitField("rsv2", 0, 1),
        BitField("rsv3", 0, 1),
        BitEnumField("opcode", Opcode.TEXT, 4, OPCODE_NAMES),
        BitField("mask", None, 1),
        BitField("length", None, 7),
        ConditionalField(ShortField("length16", None), lambda frame: frame.length == 126),
        ConditionalField(LongField("length64", None), lambda frame: frame.length == 127),
        ConditionalField(StrFixedLenField("mask_key", None, 4), lambda frame: frame.mask == 1),
        StrLenField("data", b"", length_from=_payload_length),
    ]

    def post_dissect(self, s: bytes) -> bytes:
        """Unmask the payload (section 5.3) so that ``data`` holds what the sender meant."""
        if self.mask == 1 and self.mask_key and self.data:
            self.data = apply_mask(self.data, self.mask_key)
        return s

    def post_build(self, pkt: bytes, pay: bytes) -> bytes:
        """Write the frame from the fields, filling in what was left unset."""
        data = bytes(self.data or b"")
        # getfieldval: plain attribute access hides conditional fields whose condition is false.
        mask_key = self.getfieldval("mask_key") or b""
        length16, length64 = self.getfieldval("length16"), self.getfieldval("length64")
        mask = self.mask if self.mask is not None else int(bool(mask_key))
        length = self.length
        if length is None:
            length = len(data) if len(data) <= 125 else 126 if len(data) <= 0xFFFF else 127
        first = self.fin << 7 | self.rsv1 << 6 | self.rsv2 << 5 | self.rsv3 << 4 | self.opcode
        header = bytes([first, mask << 7 | length])
        if length == 126:
            header += struct.pack("!H", len(data) if length16 is None else length16)
        elif length == 127:
            header += struct.pack("!Q", len(data) if length64 is None else length64)
        if mask:
            return header + mask_key + apply_mask(data, mask_key) + pay
        return header + data + pay

    def default_payload_class(self, payload: bytes) -> type[Packet]:
        """More bytes after a frame are the next frame."""
        return WebSocketFrame if len(payload) >= 2 else Padding

    def mysummary(self) -> str:
        kind = OPCODE_NAMES.get(self.opcode, f"reserved 0x{self.opcode:X}")
        masked = " masked" if self.mask else ""
        return f"WebSocket {kind}{masked} fin={self.fin} {len(self.data or b'')} bytes"


def frame_size(frame: WebSocketFrame) -> int:
    """How many bytes the frame says it takes on the wire: header, masking key and payload
    (more than the buffer held, if the frame was cut short)."""
    extended = {126: 2, 127: 8}.get(frame.length, 0)
    return 2 + extended + (4 if frame.mask else 0) + _payload_length(frame)


def frames_in(buffer: bytes) -> list[WebSocketFrame]:
    """Every frame in a buffer of whole frames, in order."""
    if not buffer:
        return []
    frames = []
    layer = WebSocketFrame(buffer)
    while isinstance(layer, WebSocketFrame):
        frames.append(layer)
        layer = layer.payload
    return frames


def dissect_handshake(head: bytes) -> HTTP:
    """The opening handshake is plain HTTP: hand it to scapy's HTTP layer."""
    return HTTP(head)
