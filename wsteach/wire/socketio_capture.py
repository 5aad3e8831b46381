"""Engine.IO packets found in a capture, on either transport: the bodies of long-polling
requests and responses, and the frames of a WebSocket.

``engineio_packets(pcap_path)`` walks every TCP connection to ``/socket.io/`` in the capture.
Its HTTP exchanges give the packets of their bodies (gunzipped when the server compressed
them), joined by ``\\x1e``; once upgraded to a WebSocket, each text or binary frame is one
packet. The result is in the order the packets were completed on the wire.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass
from pathlib import Path

from wsteach import http1
from wsteach.frames import Opcode
from wsteach.socketio import engineio
from wsteach.wire.capture import http_messages, read_pcap, tcp_streams, websocket_sessions

PATH = b" /socket.io/"  # in the request line of every Engine.IO request


@dataclass(frozen=True)
class WirePacket:
    """One Engine.IO packet and what carried it."""

    time: float  # seconds since the first packet of the capture
    direction: str  # "client" or "server": who sent it
    transport: str  # "polling" or "websocket"
    carrier: str  # the HTTP request line or status line, or "text frame" / "binary frame"
    carrier_bytes: int  # bytes of the whole HTTP message (head and body), or of the frame
    connection: int  # which TCP connection of the capture
    packet: engineio.Packet


def _first_line(head: bytes) -> str:
    return head.split(b"\r\n", 1)[0].decode("latin-1")


def _body_text(head: bytes, body: bytes) -> str:
    encoding = (http1.parse_response(head).headers.get("Content-Encoding") or "").lower()
    if encoding == "gzip":
        body = gzip.decompress(body)
    elif encoding == "deflate":
        body = zlib.decompress(body)
    return body.decode("utf-8")


def engineio_packets(pcap_path: str | Path) -> list[WirePacket]:
    """Every Engine.IO packet in the capture, on long polling and on WebSocket."""
    packets = read_pcap(pcap_path)
    t0 = float(packets[0].time) if packets else 0.0
    found: list[WirePacket] = []
    for number, conn in enumerate(tcp_streams(packets)):
        requests = http_messages(conn.from_client)
        if not requests or PATH not in requests[0].head.split(b"\r\n", 1)[0]:
            continue
        for request, response in zip(requests, http_messages(conn.from_server), strict=False):
            request_line, status_line = _first_line(request.head), _first_line(response.head)
            carried = []
            if request_line.startswith("POST") and request.body:
                carried.append(("client", conn.from_client, request, request_line,
                                request.body.decode("utf-8")))
            if request_line.startswith("GET") and status_line.split()[1] == "200":
                carried.append(("server", conn.from_server, response,
                                f"{status_line} to {request_line.split('&t=')[0]}",
                                _body_text(response.head, response.body)))
            for direction, stream, message, carrier, body in carried:
                # the packet that brought the message's last byte: when it was complete
                index = stream.completed_by(message.end - 1, message.end)
                found += [WirePacket(float(packets[index].time) - t0, direction, "polling",
                                     carrier, len(message.head) + len(message.body), number,
                                     packet) for packet in engineio.decode_payload(body)]
    for session in websocket_sessions(packets):
        if PATH not in session.request.split(b"\r\n", 1)[0]:
            continue
        for frame in session.frames:
            if frame.opcode not in (Opcode.TEXT, Opcode.BINARY):
                continue  # the WebSocket's own control frames: not Engine.IO
            text = frame.opcode == Opcode.TEXT
            data = frame.payload.decode("utf-8") if text else frame.payload
            found.append(WirePacket(frame.time - t0, frame.direction, "websocket",
                                    "text frame" if text else "binary frame", len(frame.wire),
                                    frame.connection, engineio.decode(data)))
    return sorted(found, key=lambda wire: wire.time)
