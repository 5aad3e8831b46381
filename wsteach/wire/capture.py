"""Real packets: capture loopback traffic with scapy, read pcaps, and find the WebSocket in them.

- ``Capture(port)``: live capture as a context manager (``with`` or ``async with``): one copy of
  each packet, a buffer large enough for a 70 KB message, traffic started only once the sniffer
  is ready. Needs root or cap_net_raw; otherwise ``CaptureNotPermitted`` says how to enable it.
- ``read_pcap`` / ``write_pcap``.
- ``tcp_streams(packets)``: each TCP connection's two byte streams, reassembled from segments.
- ``websocket_frames(pcap_path)``: every WebSocket frame in a capture, in order, with who sent it
  (and, for a message compressed with permessage-deflate, its inflated text or bytes).
- ``packet_rows(packets)``: one line per packet (time, direction, TCP flags, bytes, what it is,
  and the phase of the connection it belongs to: TCP handshake, HTTP, frames, closing).

Reassembly matters: a 70 KB message is several TCP segments, and one segment may hold several
frames, so frames are cut from the reassembled stream, never from single packets.
"""

from __future__ import annotations

import asyncio
import bisect
import threading
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from scapy.all import AsyncSniffer, PacketList, conf, rdpcap, wrpcap
from scapy.arch.linux import L2Socket
from scapy.layers.inet import TCP
from scapy.packet import Packet

from wsteach.frames import Opcode
from wsteach.http1 import HTTPError, head_end, parse_request, parse_response
from wsteach.show import envcheck
from wsteach.wire.scapy_ws import frame_size, frames_in

BUFFER_SIZE = 2**22  # kernel buffer: the default loses packets of a 70 KB message on loopback
READ_SIZE = 2**17  # loopback packets reach 65,536 bytes plus headers: more than scapy reads
SETTLE_SECONDS = 0.2  # after the traffic, wait this long for the last packets to be seen


class CaptureNotPermitted(RuntimeError):
    """Live capture is impossible here; the message says why and how to enable it."""


# ---- live capture ----------------------------------------------------------------------------

class Capture:
    """Capture the TCP traffic of one loopback port while the ``with`` block runs.

    ``cap.packets`` holds the packets afterwards. Start the traffic inside the block: the sniffer
    is ready when the block begins.
    """

    def __init__(self, port: int, iface: str = "lo") -> None:
        self.port = port
        self.iface = iface
        self.packets = PacketList()
        self.seconds = 0.0
        self._sniffer: AsyncSniffer | None = None

    def __enter__(self) -> Capture:
        problem = envcheck.capture_problem()
        if problem is not None:
            raise CaptureNotPermitted(f"live capture is not available: {problem}")
        conf.bufsize = BUFFER_SIZE
        # Our own L2Socket sees each loopback packet once (scapy's default listener sees the
        # outgoing and the incoming copy of each).
        sock = _LoopbackSocket(iface=self.iface, filter=f"tcp port {self.port}")
        ready = threading.Event()
        self._sniffer = AsyncSniffer(opened_socket=sock, started_callback=ready.set, store=True)
        self._sniffer.start()
        if not ready.wait(timeout=5):
            self._sniffer.stop()
            raise CaptureNotPermitted("the sniffer did not start within 5 s")
        self._started = time.perf_counter()
        return self

    def __exit__(self, *exc_info: object) -> None:
        time.sleep(SETTLE_SECONDS)
        assert self._sniffer is not None
        self.packets = self._sniffer.stop()
        self.seconds = time.perf_counter() - self._started

    async def __aenter__(self) -> Capture:
        return await asyncio.to_thread(self.__enter__)

    async def __aexit__(self, *exc_info: object) -> None:
        await asyncio.sleep(SETTLE_SECONDS)
        assert self._sniffer is not None
        self.packets = await asyncio.to_thread(self._sniffer.stop)
        self.seconds = time.perf_counter() - self._started


class _LoopbackSocket(L2Socket):
    """scapy's Linux packet socket, reading whole loopback packets (its default cuts them at
    65,535 bytes)."""

    def recv_raw(self, x: int = READ_SIZE):
        return super().recv_raw(x)


def read_pcap(path: str | Path) -> PacketList:
    """The packets of a pcap file (no privileges needed)."""
    return rdpcap(str(path))


def write_pcap(packets: Iterable[Packet], path: str | Path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    wrpcap(str(path), list(packets))


# ---- TCP streams -----------------------------------------------------------------------------

Endpoint = tuple[str, int]


@dataclass
class Stream:
    """One direction of a TCP connection: its bytes and, for each byte, the packet it came in."""

    data: bytes = b""
    ends: list[int] = field(default_factory=list)  # stream offset where each piece ends...
    packets: list[int] = field(default_factory=list)  # ...and the index of its packet
    # packets that brought no new byte (a retransmission), and the packet that first brought
    # the bytes they repeat
    repeats: dict[int, int] = field(default_factory=dict)

    def carried_by(self, start: int, end: int) -> list[tuple[int, int]]:
        """Which packets carried bytes ``start:end`` of the stream, in stream order: (packet
        index, how many of those bytes it brought)."""
        first = bisect.bisect_right(self.ends, start)
        last = bisect.bisect_right(self.ends, end - 1)
        carried = []
        for piece in range(first, last + 1):
            piece_start = self.ends[piece - 1] if piece else 0
            overlap = min(end, self.ends[piece]) - max(start, piece_start)
            carried.append((self.packets[piece], overlap))
        return carried

    def completed_by(self, start: int, end: int) -> int:
        """The index of the packet that completed bytes ``start:end``: the last to arrive of
        those that carried them (segments may arrive out of order)."""
        return max(packet for packet, _ in self.carried_by(start, end))


@dataclass
class TcpConnection:
    """A TCP connection: who opened it, and what each side sent."""

    client: Endpoint
    server: Endpoint
    packet_indexes: list[int]
    from_client: Stream
    from_server: Stream


def _endpoints(packet: Packet) -> tuple[Endpoint, Endpoint]:
    ip = packet[TCP].underlayer
    return (ip.src, packet[TCP].sport), (ip.dst, packet[TCP].dport)


def tcp_streams(packets: PacketList) -> list[TcpConnection]:
    """Every TCP connection in ``packets``, each direction reassembled by sequence number.

    Retransmitted bytes are kept once; a gap (a lost packet) raises ``ValueError``.
    """
    grouped: dict[frozenset[Endpoint], list[int]] = {}
    for index, packet in enumerate(packets):
        if TCP in packet:
            grouped.setdefault(frozenset(_endpoints(packet)), []).append(index)
    connections = []
    for indexes in grouped.values():
        first = packets[indexes[0]]
        syn = next((i for i in indexes if packets[i][TCP].flags.S and not packets[i][TCP].flags.A),
                   indexes[0])
        client, server = _endpoints(packets[syn])
        if syn == indexes[0] and not first[TCP].flags.S:
            client, server = _endpoints(first)
        streams = {client: _reassemble(packets, indexes, client),
                   server: _reassemble(packets, indexes, server)}
        connections.append(TcpConnection(client, server, indexes, streams[client], streams[server]))
    return connections


def _reassemble(packets: PacketList, indexes: list[int], sender: Endpoint) -> Stream:
    mine = [i for i in indexes if _endpoints(packets[i])[0] == sender]
    if not mine:
        return Stream()
    syn = next((i for i in mine if packets[i][TCP].flags.S), None)
    start = packets[syn][TCP].seq + 1 if syn is not None else min(packets[i][TCP].seq for i in mine)
    pieces = sorted(((packets[i][TCP].seq - start) % 2**32, i) for i in mine
                    if len(packets[i][TCP].payload) and not packets[i][TCP].flags.S)
    stream = Stream()
    data = bytearray()
    for offset, index in pieces:
        payload = bytes(packets[index][TCP].payload)
        if offset > len(data):
            raise ValueError(f"{offset - len(data)} bytes from {sender} are missing before "
                             f"packet {index}: the capture lost a packet")
        fresh = payload[len(data) - offset:]
        if fresh:
            data += fresh
            stream.ends.append(len(data))
            stream.packets.append(index)
        else:
            stream.repeats[index] = stream.packets[bisect.bisect_right(stream.ends, offset)]
    stream.data = bytes(data)
    return stream


# ---- WebSocket -------------------------------------------------------------------------------

@dataclass(frozen=True)
class WireFrame:
    """A frame as seen in a capture. ``payload`` is unmasked; ``wire`` is the bytes as sent.

    ``inflated``: on the last frame of a message compressed with permessage-deflate (RFC 7692),
    the whole message inflated (``str`` for text, ``bytes`` for binary); None otherwise.
    """

    direction: str  # "client" or "server": who sent it
    fin: bool
    rsv1: bool
    opcode: int
    masked: bool
    mask_key: bytes | None
    payload: bytes
    wire: bytes
    time: float  # when the packet completing the frame was captured
    packet_index: int
    connection: int  # which TCP connection of the capture
    # the packets that carried the frame's bytes, in stream order: (packet index, how many of
    # the frame's bytes it brought); one entry when the frame came in one segment
    segments: tuple[tuple[int, int], ...] = ()
    inflated: str | bytes | None = None

    @property
    def kind(self) -> str:
        return Opcode(self.opcode).name.lower() if self.opcode in Opcode._value2member_map_ else (
            f"reserved 0x{self.opcode:X}")


@dataclass(frozen=True)
class WebSocketSession:
    """One upgraded connection: the handshake heads and the frames that followed."""

    request: bytes
    response: bytes
    frames: list[WireFrame]


@dataclass(frozen=True)
class HttpMessage:
    """An HTTP/1.1 message found in a stream: its head, its body, the offset just past it."""

    head: bytes
    body: bytes
    end: int


def http_messages(stream: Stream) -> list[HttpMessage]:
    """The HTTP messages a stream starts with, framed by ``Content-Length``, up to and
    including an Upgrade request or a 101 answer (what follows those is frames)."""
    messages: list[HttpMessage] = []
    at = 0
    while (end := head_end(stream.data[at:])) is not None:
        head = stream.data[at:at + end]
        try:
            parsed = parse_response(head) if head.startswith(b"HTTP/") else parse_request(head)
            length = int(parsed.headers.get("Content-Length") or 0)
        except (HTTPError, ValueError):
            break  # not HTTP we can frame (a lesson may send a broken head on purpose)
        messages.append(HttpMessage(head, stream.data[at + end:at + end + length],
                                    at + end + length))
        at += end + length
        if getattr(parsed, "status", None) == 101 or parsed.headers.get("Upgrade"):
            break
    return messages


def websocket_sessions(packets: PacketList) -> list[WebSocketSession]:
    """Every WebSocket connection in ``packets`` (plain HTTP connections are skipped), also one
    upgraded after earlier requests on the same keep-alive connection (Engine.IO's upgrade
    from long polling does that)."""
    sessions = []
    for number, conn in enumerate(tcp_streams(packets)):
        try:
            requests, responses = http_messages(conn.from_client), http_messages(conn.from_server)
        except HTTPError:  # no end of a head in the first 16 KiB: not HTTP (TLS, for one)
            continue
        if not requests or not responses or not responses[-1].head.startswith(b"HTTP/1.1 101"):
            continue
        request, response = requests[-1], responses[-1]
        fresh_context = _deflate_resets(response.head)
        frames = (_inflated(_frames(packets, conn.from_client, request.end, "client", number),
                            fresh_context.get("client"))
                  + _inflated(_frames(packets, conn.from_server, response.end, "server", number),
                              fresh_context.get("server")))
        frames.sort(key=lambda frame: (frame.packet_index, frame.direction != "client"))
        sessions.append(WebSocketSession(request.head, response.head, frames))
    return sessions


def _frames(packets: PacketList, stream: Stream, start: int, direction: str,
            connection: int) -> list[WireFrame]:
    frames = []
    offset = start
    for layer in frames_in(stream.data[start:]):
        size = frame_size(layer)
        if offset + size > len(stream.data):
            break  # the capture ended inside this frame
        segments = tuple(stream.carried_by(offset, offset + size))
        index = stream.completed_by(offset, offset + size)
        mask_key = layer.getfieldval("mask_key") if layer.mask else None
        frames.append(WireFrame(direction, bool(layer.fin), bool(layer.rsv1), layer.opcode,
                                bool(layer.mask), mask_key, bytes(layer.data),
                                stream.data[offset:offset + size], float(packets[index].time),
                                index, connection, segments))
        offset += size
    return frames


def _deflate_resets(response_head: bytes) -> dict[str, bool]:
    """Whether each side starts every message with a fresh compression context, if the 101
    accepted permessage-deflate (RFC 7692 section 7.1.1: ``client_no_context_takeover``,
    ``server_no_context_takeover``); empty if it did not."""
    for offer in parse_response(response_head).headers.tokens("Sec-WebSocket-Extensions"):
        name, *params = (part.strip() for part in offer.split(";"))
        if name == "permessage-deflate":
            names = {param.split("=")[0].strip() for param in params}
            return {side: f"{side}_no_context_takeover" in names for side in ("client", "server")}
    return {}


def _inflated(frames: list[WireFrame], fresh_context: bool | None) -> list[WireFrame]:
    """One direction's frames, each compressed message's inflated text or bytes added to its
    last frame (RFC 7692 section 7.2.2: join the fragments, append 00 00 ff ff, inflate with
    the context of the messages before unless ``fresh_context``). None: not negotiated."""
    if fresh_context is None:
        return frames
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate, no zlib header
    message: list[bytes] | None = None  # the compressed message being collected
    opcode = 0
    for index, frame in enumerate(frames):
        if frame.opcode in (Opcode.TEXT, Opcode.BINARY):
            message, opcode = ([] if frame.rsv1 else None), frame.opcode
        if message is None or frame.opcode >= Opcode.CLOSE:
            continue  # not compressed, or a control frame between fragments
        message.append(frame.payload)
        if frame.fin:
            if fresh_context:
                inflater = zlib.decompressobj(-zlib.MAX_WBITS)
            try:
                data = inflater.decompress(b"".join(message) + b"\x00\x00\xff\xff")
            except zlib.error as error:
                raise ValueError(f"the compressed message completed in packet "
                                 f"{frame.packet_index} does not inflate ({error})") from None
            frames[index] = replace(frame, inflated=data.decode("utf-8", "replace")
                                    if opcode == Opcode.TEXT else data)
            message = None
    return frames


def websocket_frames(pcap_path: str | Path) -> list[WireFrame]:
    """Every WebSocket frame in a pcap, in the order they were completed on the wire."""
    packets = read_pcap(pcap_path)
    frames = [frame for session in websocket_sessions(packets) for frame in session.frames]
    return sorted(frames, key=lambda frame: frame.packet_index)


# ---- one line per packet ---------------------------------------------------------------------

# The phases of a connection, in the order they come; a packet without news (a bare ACK) stays
# in the phase of the packet before it on its connection.
TCP_HANDSHAKE = "TCP handshake"
HTTP = "HTTP"
FRAMES = "WebSocket frames"
CLOSING = "closing handshake"
TCP_CLOSE = "TCP close"


@dataclass(frozen=True)
class PacketRow:
    """What a packet table shows for one packet."""

    index: int
    time: float  # seconds since the first packet
    direction: str  # "client → server" or "server → client"
    flags: str
    size: int  # TCP payload bytes
    what: str
    phase: str = ""  # TCP_HANDSHAKE, HTTP, FRAMES, CLOSING or TCP_CLOSE, per connection
    repeat_of: int | None = None  # a retransmission: the packet that first carried its bytes


def packet_rows(packets: PacketList) -> list[PacketRow]:
    """Describe every TCP packet: handshake flags, HTTP heads, WebSocket frames (a frame that
    spans several packets is named in each: its start, its middle, its end), retransmissions,
    FIN; and give each packet the phase its connection is in."""
    connections = tcp_streams(packets)
    clients = {conn.client for conn in connections}
    repeats = {packet: original for conn in connections
               for stream in (conn.from_client, conn.from_server)
               for packet, original in stream.repeats.items()}
    pieces: dict[int, list[tuple[WireFrame, int, int]]] = {}  # packet -> (frame, part, bytes)
    for session in websocket_sessions(packets):
        for frame in session.frames:
            for part, (index, size) in enumerate(frame.segments):
                pieces.setdefault(index, []).append((frame, part, size))
    phases: dict[frozenset[Endpoint], str] = {}
    t0 = float(packets[0].time) if packets else 0.0
    rows = []
    for index, packet in enumerate(packets):
        if TCP not in packet:
            continue
        source, destination = _endpoints(packet)
        arrow = "client → server" if source in clients else "server → client"
        tcp = packet[TCP]
        payload = bytes(tcp.payload)
        here = pieces.get(index, [])
        if index in repeats:
            what = (f"TCP retransmission: {len(payload)} bytes already sent in packet "
                    f"{repeats[index]}, sent again")
        else:
            what = _describe(tcp, payload, here)
        connection = frozenset((source, destination))
        phase = _next_phase(phases.get(connection, TCP_HANDSHAKE), tcp, payload, here)
        phases[connection] = phase
        rows.append(PacketRow(index, float(packet.time) - t0, arrow, str(tcp.flags), len(payload),
                              what, phase, repeats.get(index)))
    return rows


def _next_phase(phase: str, tcp: TCP, payload: bytes,
                pieces: list[tuple[WireFrame, int, int]]) -> str:
    order = [TCP_HANDSHAKE, HTTP, FRAMES, CLOSING, TCP_CLOSE]
    if tcp.flags.F or tcp.flags.R:
        news = TCP_CLOSE
    elif any(frame.opcode == Opcode.CLOSE for frame, _, _ in pieces):
        news = CLOSING
    elif pieces:
        news = FRAMES
    elif payload and not tcp.flags.S:
        news = HTTP
    else:
        news = phase
    return max(phase, news, key=order.index)


def _describe(tcp: TCP, payload: bytes, pieces: list[tuple[WireFrame, int, int]]) -> str:
    flags = tcp.flags
    if flags.S:
        return "TCP handshake: SYN-ACK" if flags.A else "TCP handshake: SYN"
    if flags.F:
        return "FIN: no more data from this side"
    if flags.R:
        return "RST: connection reset"
    if pieces:
        return ", ".join(_piece_summary(frame, part, size) for frame, part, size in pieces)
    if not payload:
        return "ACK"
    first_line = payload.split(b"\r\n", 1)[0]
    if first_line.startswith((b"GET ", b"POST ", b"HTTP/")):
        return first_line.decode("latin-1")  # an HTTP request line or status line
    return f"{len(payload)} bytes of a message (continued)"


def _piece_summary(frame: WireFrame, part: int, size: int) -> str:
    """A frame in one packet, or the part of it this packet carried."""
    summary = _frame_summary(frame)
    if len(frame.segments) == 1:
        return summary
    header = len(frame.wire) - len(frame.payload)
    if part == 0:
        return f"start of {summary}: its {header}-byte header + {size - header} B"
    if part == len(frame.segments) - 1:
        return f"end of {summary}: last {size} B"
    return f"middle of {summary}: {size} B more"


def _frame_summary(frame: WireFrame) -> str:
    masked = " masked" if frame.masked else ""
    fin = "" if frame.fin else " (FIN=0: more fragments follow)"
    text = ""
    if frame.opcode == Opcode.TEXT and len(frame.payload) <= 24:
        text = f" {frame.payload.decode('utf-8', 'replace')!r}"
    elif frame.opcode == Opcode.CLOSE and len(frame.payload) >= 2:
        text = f" code {int.from_bytes(frame.payload[:2], 'big')}"
    return f"WebSocket {frame.kind}{masked}{text}, {len(frame.payload)} B{fin}"
