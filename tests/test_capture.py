"""Real packets: our capture reading against Wireshark's dissector, live capture, reassembly.

- Every stored pcap in ``data/captures`` is dissected twice, by ``wsteach.wire.capture`` and by
  ``tshark`` (Wireshark's dissector, which no one here wrote); they must agree on every frame.
- A live capture of a session on loopback must hold every frame exactly once (needs root or
  cap_net_raw), and a scenario recorded live must show what the scenario sent.
- Without privileges, ``Capture`` refuses with a message that says how to enable capture, while
  reading a stored pcap still works.
- Synthetic pcaps built packet by packet with scapy check TCP reassembly: segments out of order,
  a retransmitted duplicate, three frames in one segment, and a lost segment.
"""

from __future__ import annotations

import asyncio
import grp
import hashlib
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, require
from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import Ether
from scapy.packet import Packet, Raw

from wsteach import aio
from wsteach.frames import (
    Frame,
    Opcode,
    ProtocolError,
    decode_frame,
    encode_frame,
    parse_close_payload,
)
from wsteach.handshake import build_request, build_response
from wsteach.http1 import parse_request, parse_response
from wsteach.masking import apply_mask
from wsteach.show import envcheck
from wsteach.wire import scenarios, tls
from wsteach.wire.capture import (
    Capture,
    CaptureNotPermitted,
    WireFrame,
    packet_rows,
    read_pcap,
    tcp_streams,
    websocket_frames,
    websocket_sessions,
    write_pcap,
)

CAPTURES_DIR = ROOT / "data" / "captures"
STORED_PCAPS = sorted(CAPTURES_DIR.glob("*.pcap"))
TSHARK_TIMEOUT = 60  # seconds for one tshark run; the stored pcaps take well under one
LIVE_TIMEOUT = 30  # seconds for one live session, capture included

SYN, ACK = 0x02, 0x10


def need_tshark() -> None:
    require(shutil.which("tshark") is not None, "tshark (Wireshark's dissector)",
            "apt-get install tshark")


def need_live_capture() -> None:
    require(envcheck.capture_problem() is None, "live packet capture",
            envcheck.HOW_TO_ENABLE_CAPTURE)


# ---- Wireshark's view of a pcap ---------------------------------------------------------------

@dataclass(frozen=True)
class TsharkFrame:
    """One WebSocket frame as tshark reports it (in the packet where the frame completes)."""

    packet_index: int  # 0-based, like WireFrame.packet_index (tshark numbers from 1)
    stream: int  # tshark's tcp.stream
    direction: str  # "client" or "server", from tcp.srcport and the client's port
    fin: bool
    rsv1: bool
    opcode: int
    masked: bool
    mask_key: bytes | None
    length: int  # the declared payload length (7-bit field or its 16/64-bit extension)
    payload: bytes  # unmasked; for a compressed frame, the compressed bytes
    # for a compressed frame (RSV1), the message as tshark inflates it: the text of
    # websocket.payload.text, or the bytes of the data layer after a binary frame
    inflated: bytes | None


@dataclass
class TsharkView:
    frames: list[TsharkFrame] = field(default_factory=list)
    # (method, uri, status) of every connection upgraded with 101, in tcp.stream order
    upgrades: list[tuple[str, str, str]] = field(default_factory=list)
    keys: list[tuple[str, str]] = field(default_factory=list)  # (Sec-WebSocket-Key, -Accept)


def as_list(value: Any) -> list[Any]:
    """With --no-duplicate-keys, a layer seen several times in one packet becomes a list."""
    return value if isinstance(value, list) else [value]


def find_all(tree: Any, name: str) -> Iterator[Any]:
    """Every value stored under key ``name`` anywhere in a tshark JSON tree."""
    if isinstance(tree, dict):
        for key, value in tree.items():
            if key == name:
                yield from as_list(value) if not name.endswith("_raw") else [value]
            else:
                yield from find_all(value, name)
    elif isinstance(tree, list):
        for item in tree:
            yield from find_all(item, name)


def first(tree: Any, name: str) -> Any:
    return next(find_all(tree, name), None)


def raw_bytes(value: list[Any]) -> bytes:
    """A ``*_raw`` field of ``tshark -x``: [hex, offset, length, bitmask, type]."""
    return bytes.fromhex(value[0])


def run_tshark(pcap: Path, *options: str) -> list[dict[str, Any]]:
    """Every packet's layers, as ``tshark -T json -x`` shows them (``options``: more ``-o``)."""
    result = subprocess.run(
        ["tshark", "-n", "-r", str(pcap), "-T", "json", "-x", "--no-duplicate-keys",
         "-o", "tcp.desegment_tcp_streams:TRUE", "-o", "tcp.reassemble_out_of_order:TRUE",
         *options],
        capture_output=True, timeout=TSHARK_TIMEOUT, check=True,
    )
    return [packet["_source"]["layers"] for packet in json.loads(result.stdout)]


def tshark_view(pcap: Path, *options: str) -> TsharkView:
    packets = run_tshark(pcap, *options)
    # The client is the side that sent the SYN, or failing that (a capture started late) the GET.
    client_port: dict[int, int] = {}
    for layers in packets:
        tcp = layers.get("tcp")
        if tcp is None:
            continue
        flags = int(tcp["tcp.flags"], 16)
        if flags & SYN and not flags & ACK:
            client_port[int(tcp["tcp.stream"])] = int(tcp["tcp.srcport"])
    for layers in packets:
        if "tcp" in layers and first(layers.get("http"), "http.request.method") is not None:
            client_port.setdefault(int(layers["tcp"]["tcp.stream"]),
                                   int(layers["tcp"]["tcp.srcport"]))

    view = TsharkView()
    requests: dict[int, tuple[str, str, str]] = {}
    upgraded: dict[int, tuple[str, str, str, str, str]] = {}
    for layers in packets:
        if "tcp" not in layers:
            continue
        tcp = layers["tcp"]
        stream, source = int(tcp["tcp.stream"]), int(tcp["tcp.srcport"])
        for http in as_list(layers.get("http", [])):
            method = first(http, "http.request.method")
            if method is not None:
                requests[stream] = (method, first(http, "http.request.uri"),
                                    first(http, "http.sec_websocket_key"))
            if (first(http, "http.response.code") == "101"
                    and (first(http, "http.upgrade") or "").lower() == "websocket"):
                method, uri, key = requests.get(stream, ("", "", ""))
                upgraded[stream] = (method, uri, "101", key,
                                    first(http, "http.sec_websocket_accept"))
        # A binary frame's message is shown in a "data" layer after it, one per such frame.
        data_layers = iter(as_list(layers.get("data", [])))
        for ws in as_list(layers.get("websocket", [])):
            data = None
            if int(ws["websocket.opcode"]) == Opcode.BINARY and "websocket.payload_raw" in ws:
                data = next(data_layers, None)
            view.frames.append(tshark_frame(ws, int(layers["frame"]["frame.number"]) - 1, stream,
                                            "client" if source == client_port.get(stream)
                                            else "server", data))
    for stream in sorted(upgraded):
        method, uri, status, key, accept = upgraded[stream]
        view.upgrades.append((method, uri, status))
        view.keys.append((key, accept))
    return view


def tshark_frame(ws: dict[str, Any], packet_index: int, stream: int,
                 direction: str, data: dict[str, Any] | None = None) -> TsharkFrame:
    length = int(ws["websocket.payload_length"])
    for extended in ("websocket.payload_length_ext_16", "websocket.payload_length_ext_64"):
        if extended in ws:
            length = int(ws[extended])
    masked = ws["websocket.mask"] == "1"
    mask_key = raw_bytes(ws["websocket.masking_key_raw"]) if masked else None
    rsv1 = bool(int(ws["websocket.rsv"], 16) & 0x4)
    # websocket.payload_raw is the payload unmasked (websocket.masked_payload_raw is as sent);
    # tshark leaves it out for an empty payload.
    payload = raw_bytes(ws["websocket.payload_raw"]) if "websocket.payload_raw" in ws else b""
    if masked and payload:
        # Check what the field means rather than trust it: unmasking the wire bytes gives it.
        assert apply_mask(raw_bytes(ws["websocket.masked_payload_raw"]), mask_key) == payload
    inflated = None
    if rsv1 and isinstance(ws.get("websocket.payload"), dict):
        text = ws["websocket.payload"].get("websocket.payload.text_raw")
        inflated = raw_bytes(text) if text else None
    elif rsv1 and data is not None:
        inflated = raw_bytes(data["data.data_raw"])
    return TsharkFrame(packet_index, stream, direction, ws["websocket.fin"] == "1", rsv1,
                       int(ws["websocket.opcode"]), masked, mask_key, length, payload, inflated)


def digest(data: bytes) -> str:
    return f"{len(data)}:{hashlib.sha256(data).hexdigest()[:16]}"


def summary(frame: WireFrame | TsharkFrame) -> tuple:
    """What both sides must agree on, compact enough for a readable diff (payload as digest)."""
    length = frame.length if isinstance(frame, TsharkFrame) else len(frame.payload)
    return (frame.packet_index, frame.direction, frame.fin, frame.rsv1, frame.opcode,
            frame.masked, frame.mask_key.hex() if frame.mask_key else None, length,
            digest(frame.payload))


def assert_agree_with_tshark(pcap: Path) -> list[WireFrame]:
    """Our frames and tshark's: count, order, direction, flags, lengths and payloads."""
    ours = websocket_frames(pcap)
    theirs = tshark_view(pcap)
    assert [summary(frame) for frame in ours] == [summary(frame) for frame in theirs.frames]
    # One of our connections is one of tshark's streams, and the other way round.
    pairs = {(frame.connection, seen.stream)
             for frame, seen in zip(ours, theirs.frames, strict=True)}
    assert len({mine for mine, _ in pairs}) == len({its for _, its in pairs}) == len(pairs)

    # Compressed messages (RSV1, permessage-deflate): the payloads compared above are the
    # compressed bytes; each message inflated must be what tshark inflates. (tshark 4.0 does
    # not inflate a fragmented compressed message: test_inflated_* check those.)
    for frame, seen in zip(ours, theirs.frames, strict=True):
        if frame.rsv1 and frame.fin:
            inflated = frame.inflated
            if isinstance(inflated, str):
                inflated = inflated.encode("utf-8")
            assert inflated == seen.inflated, f"packet {frame.packet_index + 1}"
        elif frame.opcode != Opcode.CONTINUATION:
            assert frame.inflated is None, f"packet {frame.packet_index + 1}"

    # The opening handshakes.
    sessions = websocket_sessions(read_pcap(pcap))
    handshakes = []
    keys = []
    for session in sessions:
        request, response = parse_request(session.request), parse_response(session.response)
        handshakes.append((request.method, request.target, str(response.status)))
        keys.append((request.headers.get("Sec-WebSocket-Key"),
                     response.headers.get("Sec-WebSocket-Accept")))
    assert handshakes == theirs.upgrades
    assert keys == theirs.keys
    return ours


@pytest.mark.parametrize(
    "pcap",
    [pytest.param(path, id=path.name) for path in STORED_PCAPS]
    or [pytest.param(None, id="no-stored-captures")],
)
def test_stored_capture_agrees_with_tshark(pcap: Path | None) -> None:
    assert pcap is not None, (f"{CAPTURES_DIR} holds no pcap: run "
                              "`python -m wsteach capture --out data/captures` as root")
    need_tshark()
    frames = assert_agree_with_tshark(pcap)
    sessions = websocket_sessions(read_pcap(pcap))
    if not sessions:  # a plain HTTP scenario: neither side may see a frame
        assert frames == []
    for frame in frames:  # every wire image is one whole frame, decoding to the same payload
        try:
            decoded, used = decode_frame(frame.wire, allow_rsv1=True)
        except ProtocolError:
            continue  # a frame that breaks the rules on purpose (a lesson may capture one)
        assert used == len(frame.wire)
        assert decoded.payload == frame.payload


def test_stored_websocket_session_has_what_the_scenario_sends() -> None:
    """The stored capture of ``scenarios.websocket_session`` (when present) is that session."""
    pcap = CAPTURES_DIR / "websocket_session.pcap"
    if not pcap.exists():
        pytest.skip(f"{pcap} is not there")
    check_websocket_session(websocket_frames(pcap))


def test_stored_compressed_session_sets_rsv1() -> None:
    pcap = CAPTURES_DIR / "compressed_session.pcap"
    if not pcap.exists():
        pytest.skip(f"{pcap} is not there")
    frames = websocket_frames(pcap)
    data = [frame for frame in frames if frame.opcode == Opcode.TEXT]
    assert len(data) == 2 * 3 and all(frame.rsv1 for frame in data)  # 3 messages, echoed
    message = ('{"guest": "Ada", "table": 7, "time": "19:30"}' * 4).encode()
    assert all(len(frame.payload) < len(message) for frame in data)  # compressed, really
    assert [frame.inflated for frame in data] == [message.decode()] * 6  # and inflated back


# ---- what the websocket_session scenario sends ------------------------------------------------

def check_websocket_session(frames: list[WireFrame]) -> None:
    """The frames of ``scenarios.websocket_session``, per its docstring, each exactly once."""
    client = [frame for frame in frames if frame.direction == "client"]
    server = [frame for frame in frames if frame.direction == "server"]
    boundaries = [(Opcode.TEXT, True, b"x" * n) for n in scenarios.LENGTH_BOUNDARIES]
    assert [(frame.opcode, frame.fin, frame.payload) for frame in client[:-1]] == [
        (Opcode.TEXT, True, b"Hello"),
        (Opcode.BINARY, True, bytes(range(8))),
        *boundaries,
        (Opcode.TEXT, False, b"Hel"),  # a fragmented message...
        (Opcode.PING, True, b"between"),  # ...with a ping between its fragments
        (Opcode.CONTINUATION, True, b"lo"),
    ]
    assert [(frame.opcode, frame.fin, frame.payload) for frame in server[:-1]] == [
        (Opcode.TEXT, True, b"Hello"),
        (Opcode.BINARY, True, bytes(range(8))),
        *boundaries,
        (Opcode.PONG, True, b"between"),
        (Opcode.TEXT, True, b"Hello"),  # the fragments, echoed as one message
    ]
    assert client[-1].opcode == server[-1].opcode == Opcode.CLOSE
    assert parse_close_payload(client[-1].payload) == (1000, "bye")
    assert parse_close_payload(server[-1].payload)[0] == 1000
    assert all(frame.masked and len(frame.mask_key) == 4 for frame in client)  # clients mask
    assert not any(frame.masked or frame.mask_key for frame in server)  # servers do not
    assert len({frame.mask_key for frame in client}) == len(client)  # a fresh key per frame
    # Each answer completes after what it answers.
    pong = next(frame for frame in server if frame.opcode == Opcode.PONG)
    ping = next(frame for frame in client if frame.opcode == Opcode.PING)
    assert pong.packet_index > ping.packet_index
    assert all(answer.packet_index > asked.packet_index
               for asked, answer in zip(client[:6], server[:6], strict=True))
    assert server[-1].packet_index > client[-1].packet_index
    assert [frame.packet_index for frame in frames] == sorted(f.packet_index for f in frames)


def check_tcp_rows(packets) -> None:
    """The table shows the TCP handshake and the FINs, each from the right side."""
    rows = packet_rows(packets)
    what = {(row.what, row.direction) for row in rows}
    assert ("TCP handshake: SYN", "client → server") in what
    assert ("TCP handshake: SYN-ACK", "server → client") in what
    fins = {row.direction for row in rows if row.what.startswith("FIN")}
    assert fins == {"client → server", "server → client"}
    syn = next(row.index for row in rows if row.what == "TCP handshake: SYN")
    synack = next(row.index for row in rows if row.what == "TCP handshake: SYN-ACK")
    first_fin = min(row.index for row in rows if row.what.startswith("FIN"))
    assert syn < synack < first_fin
    assert all(row.index < first_fin for row in rows if row.what.startswith("WebSocket"))


# ---- what the closing scenarios send (notebook 07) ---------------------------------------------

# Per scenario: the close frames in order, as (sender, code, reason), then how TCP ended, as
# (sender, "FIN" or "RST") in order. The server sends FIN first however the close began.
CLOSINGS = {
    "close_by_client": ([("client", 1000, ""), ("server", 1000, "")],
                        [("server", "FIN"), ("client", "FIN")]),
    "close_by_server": ([("server", 1000, ""), ("client", 1000, "")],
                        [("server", "FIN"), ("client", "FIN")]),
    "close_with_reason": ([("client", *scenarios.GOODBYE), ("server", *scenarios.GOODBYE)],
                          [("server", "FIN"), ("client", "FIN")]),
    "peer_vanished": ([], [("client", "RST")]),
}


def closing_seen_by_us(pcap: Path) -> tuple[list, list]:
    closes = [(frame.direction, *parse_close_payload(frame.payload))
              for frame in websocket_frames(pcap) if frame.opcode == Opcode.CLOSE]
    endings = [(row.direction.split()[0], "FIN" if "F" in row.flags else "RST")
               for row in packet_rows(read_pcap(pcap)) if {"F", "R"} & set(row.flags)]
    return closes, endings


def closing_seen_by_tshark(pcap: Path) -> tuple[list, list]:
    """The same read from tshark's fields (status code and reason as its dissector parses
    them; the client is the side that sent the SYN)."""
    result = subprocess.run(
        ["tshark", "-n", "-r", str(pcap), "-T", "fields", "-E", "separator=|",
         "-e", "tcp.srcport", "-e", "tcp.flags.syn", "-e", "tcp.flags.ack", "-e", "tcp.flags.fin",
         "-e", "tcp.flags.reset", "-e", "websocket.payload.close.status_code",
         "-e", "websocket.payload.close.reason"],
        capture_output=True, text=True, timeout=TSHARK_TIMEOUT, check=True)
    closes, endings, client = [], [], None
    for line in result.stdout.splitlines():
        port, syn, ack, fin, reset, code, reason = line.split("|")
        if syn in ("1", "True") and ack in ("0", "False"):
            client = port
        side = "client" if port == client else "server"
        if code:
            closes.append((side, int(code), reason))
        if fin in ("1", "True") or reset in ("1", "True"):
            endings.append((side, "FIN" if fin in ("1", "True") else "RST"))
    return closes, endings


@pytest.mark.parametrize("name", sorted(CLOSINGS))
def test_stored_closing_capture(name: str) -> None:
    """Each stored closing capture holds the close frames and the TCP ending its scenario
    says, read by us and by tshark alike."""
    pcap = CAPTURES_DIR / f"{name}.pcap"
    assert pcap.exists(), f"run `python -m wsteach capture --out data/captures --only {name}`"
    assert closing_seen_by_us(pcap) == CLOSINGS[name]
    need_tshark()
    assert closing_seen_by_tshark(pcap) == CLOSINGS[name]


@pytest.mark.parametrize("name", sorted(CLOSINGS))
def test_record_closing_scenario(name: str, tmp_path: Path) -> None:
    """The scenario, captured live now, ends as its stored capture does."""
    need_live_capture()

    async def record() -> scenarios.Recording:
        async with asyncio.timeout(LIVE_TIMEOUT):
            return await scenarios.record(scenarios.SCENARIOS[name], tmp_path / "c.pcap")

    recording = asyncio.run(record())
    assert closing_seen_by_us(recording.path) == CLOSINGS[name]


# ---- live capture -----------------------------------------------------------------------------

BIG_MESSAGE = bytes(i * 31 % 256 for i in range(70_000))  # several TCP segments on loopback
BURST = [f"burst {i:03d} {'é' * (i % 5)}" for i in range(100)]


async def echo(ws: aio.WebSocket) -> None:
    async for message in ws:
        await ws.send(message)


async def big_and_burst_session(port: int) -> None:
    """A 70,000-byte binary message echoed, then 100 text frames written at once, each echoed."""
    async with aio.serve(echo, "127.0.0.1", port):
        ws = await aio.connect(f"ws://127.0.0.1:{port}/burst")
        await ws.send(BIG_MESSAGE)
        assert await ws.recv() == BIG_MESSAGE
        # One write of 100 frames: TCP carries many frames per segment.
        await ws.send_raw(b"".join(ws.connection.send_text(text) for text in BURST))
        for text in BURST:
            assert await ws.recv() == text
        await ws.close(1000, "done")


@dataclass(frozen=True)
class LiveCapture:
    pcap: Path
    packets: int
    seconds: float


@pytest.fixture(scope="module")
def live_burst(tmp_path_factory: pytest.TempPathFactory) -> LiveCapture:
    need_live_capture()

    async def capture() -> LiveCapture:
        port = envcheck.free_loopback_port()
        async with asyncio.timeout(LIVE_TIMEOUT):
            async with Capture(port) as cap:
                await big_and_burst_session(port)
        pcap = tmp_path_factory.mktemp("live") / "burst.pcap"
        write_pcap(cap.packets, pcap)
        return LiveCapture(pcap, len(cap.packets), cap.seconds)

    return asyncio.run(capture())


def test_live_capture_holds_every_frame_exactly_once(live_burst: LiveCapture) -> None:
    print(f"\nlive capture of the 70 KB + 100-frame session: {live_burst.packets} packets, "
          f"{live_burst.seconds:.2f} s")
    frames = websocket_frames(live_burst.pcap)
    # Payloads as digests: equal digests are equal payloads, and a diff stays readable.
    sent = [(Opcode.BINARY, digest(BIG_MESSAGE))]
    sent += [(Opcode.TEXT, digest(text.encode())) for text in BURST]
    for direction in ("client", "server"):
        mine = [frame for frame in frames if frame.direction == direction]
        assert len(mine) == len(sent) + 1, direction  # every message, then the close
        got = [(frame.opcode, digest(frame.payload)) for frame in mine[:-1]]
        assert got == sent, f"{direction}: lost, duplicated or reordered frames"
        assert all(frame.fin for frame in mine)
        assert mine[-1].opcode == Opcode.CLOSE
        assert all(frame.masked == (direction == "client") for frame in mine)
    client_close = next(f for f in frames if f.direction == "client" and f.opcode == Opcode.CLOSE)
    assert parse_close_payload(client_close.payload) == (1000, "done")
    # The 70 KB frame needed reassembly: its bytes came in more than one packet.
    packets = read_pcap(live_burst.pcap)
    big = next(frame for frame in frames if frame.payload == BIG_MESSAGE)
    assert max(len(bytes(p[TCP].payload)) for p in packets if TCP in p) < len(big.wire)
    # The burst: several frames completed in one packet.
    burst_packets = [frame.packet_index for frame in frames
                     if frame.direction == "client" and frame.opcode == Opcode.TEXT]
    assert len(set(burst_packets)) < len(burst_packets)
    check_tcp_rows(packets)


def test_tshark_agrees_on_the_live_capture(live_burst: LiveCapture) -> None:
    need_tshark()
    assert len(assert_agree_with_tshark(live_burst.pcap)) == 2 * (1 + len(BURST) + 1)


def test_record_websocket_session_scenario(tmp_path: Path) -> None:
    need_live_capture()

    async def record() -> scenarios.Recording:
        async with asyncio.timeout(LIVE_TIMEOUT):
            return await scenarios.record(scenarios.websocket_session, tmp_path / "s.pcap")

    recording = asyncio.run(record())
    print(f"\nlive capture of scenarios.websocket_session: {recording.packets} packets, "
          f"{recording.size} bytes, {recording.seconds:.2f} s")
    assert recording.path == tmp_path / "s.pcap"
    assert recording.size == recording.path.stat().st_size
    packets = read_pcap(recording.path)
    assert recording.packets == len(packets)
    check_websocket_session(websocket_frames(recording.path))
    check_tcp_rows(packets)
    [session] = websocket_sessions(packets)
    assert parse_request(session.request).target == "/chat"
    assert parse_response(session.response).status == 101


def test_wss_session_decrypts_with_the_key_log(tmp_path: Path) -> None:
    """The websocket_session scenario over TLS: the capture holds TLS records and nothing of
    the WebSocket; tshark, given the key log Python wrote, finds the whole session again."""
    need_live_capture()
    need_tshark()
    server_context, client_context = tls.loopback_contexts(tls.throwaway_certificate(tmp_path))
    keylog = tmp_path / "keys.log"
    client_context.keylog_filename = str(keylog)

    async def record() -> Capture:
        port = envcheck.free_loopback_port()
        async with asyncio.timeout(LIVE_TIMEOUT), Capture(port) as cap:
            await scenarios.websocket_session(port, server_ssl=server_context,
                                              client_ssl=client_context)
        return cap

    packets = asyncio.run(record()).packets
    pcap = tmp_path / "wss.pcap"
    write_pcap(packets, pcap)
    [connection] = tcp_streams(packets)
    for stream in (connection.from_client, connection.from_server):
        records = tls.records(stream.data)
        assert records[0].content_type == "handshake"  # ClientHello, ServerHello
        assert sum(5 + record.length for record in records) == len(stream.data)
        for readable in (b"GET /chat", b"websocket", b"Hello", b"bye"):
            assert readable not in stream.data
    assert websocket_sessions(packets) == []
    assert tshark_view(pcap).frames == []  # without the keys, tshark sees no frame either
    decrypted = tshark_view(pcap, "-o", f"tls.keylog_file:{keylog}")
    assert decrypted.upgrades == [("GET", "/chat", "101")]
    check_websocket_session(decrypted.frames)


# ---- without privileges -----------------------------------------------------------------------

UNPRIVILEGED_SCRIPT = """
import hashlib, json, os, sys
from wsteach.show import envcheck
from wsteach.wire.capture import Capture, CaptureNotPermitted, websocket_frames
report = {"uid": os.geteuid(), "problem": envcheck.capture_problem(), "refused": None}
try:
    with Capture(envcheck.free_loopback_port()):
        pass
except CaptureNotPermitted as exc:
    report["refused"] = str(exc)
report["frames"] = {
    path: [[f.direction, f.opcode, hashlib.sha256(f.payload).hexdigest()]
           for f in websocket_frames(path)]
    for path in sys.argv[1:]
}
print(json.dumps(report))
"""


def assert_says_how_to_enable(message: str) -> None:
    for words in ("root", "cap_net_raw", "setcap", "data/captures"):
        assert words in message, f"{words!r} missing from: {message}"


def unprivileged_command() -> list[str] | None:
    """How to run this venv's Python without capture privileges, or None if we cannot."""
    if os.geteuid() != 0:
        return [sys.executable]
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    try:
        pwd.getpwnam("nobody")
        group = next(name for name in ("nogroup", "nobody") if _group_exists(name))
    except (KeyError, StopIteration):
        return None
    command = [setpriv, "--reuid=nobody", f"--regid={group}", "--clear-groups", sys.executable]
    probe = subprocess.run([*command, "-c", "import wsteach"], cwd=ROOT,
                           env=_unprivileged_env(), capture_output=True, timeout=60)
    return command if probe.returncode == 0 else None


def _group_exists(name: str) -> bool:
    try:
        grp.getgrnam(name)
    except KeyError:
        return False
    return True


def _unprivileged_env() -> dict[str, str]:
    # nobody cannot write root's home or the repo: no caches, no bytecode.
    return {**os.environ, "HOME": "/nonexistent", "PYTHONDONTWRITEBYTECODE": "1",
            "XDG_CACHE_HOME": "/nonexistent", "XDG_CONFIG_HOME": "/nonexistent"}


def test_capture_refused_for_an_unprivileged_user() -> None:
    """A real unprivileged process (``nobody`` when we are root; CI runs as root)."""
    pcaps = [path for path in STORED_PCAPS if os.stat(path).st_mode & 0o004]
    if not pcaps:
        pytest.skip("no stored pcap readable by other users")
    command = unprivileged_command()
    if command is None:
        pytest.skip("cannot run Python as an unprivileged user here (setpriv, nobody, or a repo "
                    "nobody can read); test_capture_refused_simulated covers the refusal")
    result = subprocess.run([*command, "-c", UNPRIVILEGED_SCRIPT, *map(str, pcaps)], cwd=ROOT,
                            env=_unprivileged_env(), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    if report["problem"] is None:
        pytest.skip("this unprivileged Python may capture (cap_net_raw granted with setcap)")
    assert report["uid"] != 0
    assert report["refused"] is not None, "Capture() did not refuse"
    assert_says_how_to_enable(report["refused"])
    for path in pcaps:  # reading needs no privileges, and gives what root reads
        expected = [[f.direction, f.opcode, hashlib.sha256(f.payload).hexdigest()]
                    for f in websocket_frames(path)]
        assert report["frames"][str(path)] == expected


def test_capture_refused_simulated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The kernel's answer to an unprivileged AF_PACKET socket, simulated in this process."""
    if not hasattr(socket, "AF_PACKET"):
        pytest.skip("AF_PACKET is Linux only")
    real_socket = socket.socket

    def refusing_socket(family: int = -1, *args: Any, **kwargs: Any) -> socket.socket:
        if family == socket.AF_PACKET:
            raise PermissionError(1, "Operation not permitted")
        return real_socket(family, *args, **kwargs)

    monkeypatch.setattr(socket, "socket", refusing_socket)
    monkeypatch.setattr(envcheck.ctypes.util, "find_library", lambda name: f"lib{name}.so")
    with pytest.raises(CaptureNotPermitted) as refused, Capture(envcheck.free_loopback_port()):
        pytest.fail("the block must not run")
    assert_says_how_to_enable(str(refused.value))
    # Reading a pcap opens no raw socket.
    pcap = tmp_path / "synthetic.pcap"
    write_pcap(reassembly_packets().packets, pcap)
    assert len(websocket_frames(pcap)) == len(EXPECTED_SYNTHETIC)
    for path in STORED_PCAPS:
        websocket_frames(path)


# ---- reassembly, on packets built by hand ------------------------------------------------------

CLIENT, SERVER = ("127.0.0.1", 50123), ("127.0.0.1", 8080)
KEY = "dGhlIHNhbXBsZSBub25jZQ=="
BIG = Frame(Opcode.BINARY, bytes(i % 251 for i in range(3000)), mask_key=b"\x11\x22\x33\x44")
TRIO = [Frame(Opcode.TEXT, b"one"), Frame(Opcode.BINARY, bytes(200)), Frame(Opcode.PING, b"")]
CLIENT_CLOSE = Frame(Opcode.CLOSE, b"\x03\xe8", mask_key=b"\x01\x02\x03\x04")
SERVER_CLOSE = Frame(Opcode.CLOSE, b"\x03\xe8")
EXPECTED_SYNTHETIC = [("client", BIG), *(("server", frame) for frame in TRIO),
                      ("client", CLIENT_CLOSE), ("server", SERVER_CLOSE)]


class Conversation:
    """A TCP connection written packet by packet, with sequence numbers kept per side."""

    ISN = {"client": 1_000_000, "server": 2**32 - 100}  # the server's wraps around 2**32

    def __init__(self) -> None:
        self.packets: list[Packet] = []
        self.sent = {"client": 0, "server": 0}  # stream bytes each side has written
        self.time = 1_700_000_000.0

    def add(self, sender: str, flags: str, payload: bytes = b"", offset: int | None = None,
            syn_or_fin: int = 0) -> int:
        """Append one segment; ``offset`` (stream position) defaults to the next byte."""
        src, dst = (CLIENT, SERVER) if sender == "client" else (SERVER, CLIENT)
        other = "server" if sender == "client" else "client"
        start = self.sent[sender] if offset is None else offset
        seq = (self.ISN[sender] + (0 if "S" in flags else 1) + start) % 2**32
        ack = (self.ISN[other] + 1 + self.sent[other]) % 2**32 if "A" in flags else 0
        packet = (Ether() / IP(src=src[0], dst=dst[0])
                  / TCP(sport=src[1], dport=dst[1], flags=flags, seq=seq, ack=ack))
        if payload:
            packet = packet / Raw(payload)
        packet.time = self.time
        self.time += 0.001
        self.packets.append(packet)
        if offset is None:
            self.sent[sender] += len(payload)
        return len(self.packets) - 1

    def handshake(self) -> None:
        self.add("client", "S")
        self.add("server", "SA")
        self.add("client", "A")


@dataclass
class Synthetic:
    packets: list[Packet]
    big_parts: dict[str, int]  # which packet carried which third of the big frame
    trio: int  # the packet holding three frames


def reassembly_packets(drop: frozenset[str] = frozenset(), stop_after: str | None = None,
                       ) -> Synthetic:
    """A WebSocket session in which the client's 3,000-byte frame is cut in three segments that
    arrive out of order (first, third, second) with the second retransmitted, and one server
    segment holds three frames."""
    talk = Conversation()
    talk.handshake()
    talk.add("client", "PA", build_request(f"{SERVER[0]}:{SERVER[1]}", "/synthetic", KEY))
    talk.add("server", "PA", build_response(KEY))
    wire = encode_frame(BIG)
    cuts = {"first": (0, 1000), "second": (1000, 2000), "third": (2000, len(wire))}
    base = talk.sent["client"]
    parts = {}
    for name in ("first", "third", "second", "second again"):
        begin, end = cuts[name.split()[0]]
        if name.split()[0] in drop:
            continue
        parts[name] = talk.add("client", "PA", wire[begin:end], offset=base + begin)
        if name == stop_after:
            return Synthetic(talk.packets, parts, -1)
    talk.sent["client"] += len(wire)
    talk.add("server", "A")
    trio = talk.add("server", "PA", b"".join(encode_frame(frame) for frame in TRIO))
    talk.add("client", "PA", encode_frame(CLIENT_CLOSE))
    talk.add("server", "PA", encode_frame(SERVER_CLOSE))
    talk.add("server", "FA")
    talk.sent["server"] += 1
    talk.add("client", "FA")
    talk.sent["client"] += 1
    talk.add("server", "A")
    return Synthetic(talk.packets, parts, trio)


def plain_http_packets() -> list[Packet]:
    """A GET and its 200 on one connection: HTTP, but no WebSocket."""
    talk = Conversation()
    talk.handshake()
    talk.add("client", "PA", b"GET /guests HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n")
    body = b'{"guest": "Ada", "table": 7}'
    talk.add("server", "PA", b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
             b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    talk.add("client", "FA")
    talk.add("server", "FA")
    return talk.packets


def test_reassembly_out_of_order_retransmitted_and_coalesced(tmp_path: Path) -> None:
    synthetic = reassembly_packets()
    pcap = tmp_path / "reassembly.pcap"
    write_pcap(synthetic.packets, pcap)
    frames = websocket_frames(pcap)
    got = [(frame.direction, Frame(Opcode(frame.opcode), frame.payload, frame.fin, frame.rsv1,
                                   mask_key=frame.mask_key)) for frame in frames]
    assert got == EXPECTED_SYNTHETIC
    assert frames[0].wire == encode_frame(BIG)  # the bytes as sent, in stream order
    assert [frame.packet_index for frame in frames[1:4]] == [synthetic.trio] * 3
    assert all(frame.connection == 0 for frame in frames)


def test_out_of_order_frame_is_reported_where_it_completes(tmp_path: Path) -> None:
    """The big frame is whole only when its second third arrives, after the third third."""
    synthetic = reassembly_packets()
    pcap = tmp_path / "reassembly.pcap"
    write_pcap(synthetic.packets, pcap)
    big = websocket_frames(pcap)[0]
    assert big.payload == BIG.payload
    assert big.packet_index == synthetic.big_parts["second"]
    assert big.time == pytest.approx(float(synthetic.packets[synthetic.big_parts["second"]].time))


def test_lost_segment_raises(tmp_path: Path) -> None:
    synthetic = reassembly_packets(drop=frozenset({"second"}))
    pcap = tmp_path / "lost.pcap"
    write_pcap(synthetic.packets, pcap)
    with pytest.raises(ValueError, match="lost"):
        websocket_frames(pcap)


def test_capture_ending_inside_a_frame_reports_no_partial_frame(tmp_path: Path) -> None:
    """The capture stopped after two of the three segments: the frame is not all there."""
    synthetic = reassembly_packets(drop=frozenset({"third"}), stop_after="second")
    pcap = tmp_path / "truncated.pcap"
    write_pcap(synthetic.packets, pcap)
    try:
        frames = websocket_frames(pcap)
    except ValueError:
        return  # saying so is fine too
    for frame in frames:
        assert decode_frame(frame.wire, allow_rsv1=True) is not None, (
            f"a {len(frame.payload)}-byte part of a frame reported as a whole frame")
    assert frames == []


def test_plain_http_has_no_websocket_frames(tmp_path: Path) -> None:
    pcap = tmp_path / "http.pcap"
    write_pcap(plain_http_packets(), pcap)
    assert websocket_frames(pcap) == []
    assert websocket_sessions(read_pcap(pcap)) == []


def test_a_connection_that_is_not_http_has_no_websocket_frames() -> None:
    """20 KB of bytes that are no HTTP (TLS records, say) are no WebSocket session, and the
    packet table still describes them."""
    talk = Conversation()
    talk.handshake()
    talk.add("client", "PA", bytes([23, 3, 3]) + (20_000).to_bytes(2, "big") + bytes(20_000))
    talk.add("server", "A")
    assert websocket_sessions(talk.packets) == []
    assert packet_rows(talk.packets)[3].what == "20005 bytes of a message (continued)"


@pytest.mark.parametrize("name", ["reassembly", "plain_http"])
def test_synthetic_capture_agrees_with_tshark(name: str, tmp_path: Path) -> None:
    """tshark (with out-of-order reassembly on) sees the hand-built pcaps as we do."""
    need_tshark()
    packets = reassembly_packets().packets if name == "reassembly" else plain_http_packets()
    pcap = tmp_path / f"{name}.pcap"
    write_pcap(packets, pcap)
    frames = assert_agree_with_tshark(pcap)
    assert len(frames) == (len(EXPECTED_SYNTHETIC) if name == "reassembly" else 0)


# ---- permessage-deflate, compressed by the websockets library ---------------------------------

DEFLATE_MESSAGES = [(Opcode.TEXT, "生日快乐, Ada! " * 12), (Opcode.BINARY, bytes(range(64)) * 4),
                    (Opcode.TEXT, "生日快乐, Ada! " * 12)]  # the same again: the context helps


def deflate_packets(extensions: str, fragment: bool = False) -> list[Packet]:
    """A session whose 101 answers ``extensions``, with DEFLATE_MESSAGES each way, compressed
    by websockets' own permessage-deflate (a compressor no one here wrote). ``fragment`` splits
    the first message in two frames with a ping between them."""
    from websockets.extensions.permessage_deflate import PerMessageDeflate
    from websockets.frames import Frame as TheirFrame
    from websockets.frames import Opcode as TheirOpcode

    params = {param.strip() for param in extensions.split(";")[1:]}
    talk = Conversation()
    talk.handshake()
    offer = [("Sec-WebSocket-Extensions", "permessage-deflate")]
    talk.add("client", "PA", build_request(f"{SERVER[0]}:{SERVER[1]}", "/", KEY,
                                           extra_headers=offer))
    talk.add("server", "PA", build_response(KEY).replace(
        b"\r\n\r\n", f"\r\nSec-WebSocket-Extensions: {extensions}\r\n\r\n".encode()))
    for side in ("client", "server"):
        other = "server" if side == "client" else "client"
        compressor = PerMessageDeflate(f"{other}_no_context_takeover" in params,
                                       f"{side}_no_context_takeover" in params, 15, 15)
        mask_key = b"\x0a\x0b\x0c\x0d" if side == "client" else None
        for number, (opcode, message) in enumerate(DEFLATE_MESSAGES):
            data = message.encode() if isinstance(message, str) else message
            parts = [data[:40], data[40:]] if fragment and number == 0 else [data]
            for index, part in enumerate(parts):
                theirs = compressor.encode(TheirFrame(
                    TheirOpcode(opcode if index == 0 else Opcode.CONTINUATION), part,
                    fin=index == len(parts) - 1))
                talk.add(side, "PA", encode_frame(Frame(Opcode(theirs.opcode), theirs.data,
                                                        theirs.fin, theirs.rsv1), mask_key))
                if index == 0 and len(parts) > 1:
                    talk.add(side, "PA", encode_frame(Frame(Opcode.PING, b"between"), mask_key))
    return talk.packets


def inflated_messages(frames: list[WireFrame], side: str) -> list[str | bytes]:
    return [frame.inflated for frame in frames
            if frame.direction == side and frame.inflated is not None]


def check_inflated(frames: list[WireFrame], extensions: str) -> None:
    """Each side's compressed messages inflate to DEFLATE_MESSAGES; the repeated message is
    smaller than the first exactly when that side keeps its context (RFC 7692 7.1.1)."""
    sent = [message for _, message in DEFLATE_MESSAGES]
    assert inflated_messages(frames, "client") == inflated_messages(frames, "server") == sent
    for side in ("client", "server"):
        sizes = [len(f.payload) for f in frames if f.direction == side and f.rsv1]
        repeated_is_smaller = sizes[2] < sizes[0]
        assert repeated_is_smaller == (f"{side}_no_context_takeover" not in extensions), sizes


@pytest.mark.parametrize("extensions", [
    "permessage-deflate",
    "permessage-deflate; client_no_context_takeover; server_no_context_takeover",
])
def test_inflated_payloads_agree_with_tshark(extensions: str, tmp_path: Path) -> None:
    """Compressed text and binary messages, inflated by us and by tshark, alike."""
    need_tshark()
    pcap = tmp_path / "deflate.pcap"
    write_pcap(deflate_packets(extensions), pcap)
    check_inflated(assert_agree_with_tshark(pcap), extensions)


@pytest.mark.parametrize("extensions", [
    "permessage-deflate; server_no_context_takeover",
    "permessage-deflate; client_no_context_takeover; client_max_window_bits=15",
])
def test_inflated_payloads_when_one_side_resets(extensions: str, tmp_path: Path) -> None:
    """One side starts each message afresh, the other keeps its context. Not compared with
    tshark: Wireshark applies ``server_no_context_takeover`` to the messages sent *to* the
    server (packet-websocket.c picks ``server_take_over_context`` when the destination is
    the server's port), so it fails to inflate the other side's third message."""
    pcap = tmp_path / "deflate.pcap"
    write_pcap(deflate_packets(extensions), pcap)
    check_inflated(websocket_frames(pcap), extensions)


def test_inflated_fragmented_message(tmp_path: Path) -> None:
    """A compressed message in two frames with a ping between them: RSV1 on the first frame
    only, the message inflated once, on its last frame."""
    pcap = tmp_path / "deflate_fragments.pcap"
    write_pcap(deflate_packets("permessage-deflate", fragment=True), pcap)
    frames = websocket_frames(pcap)
    client = [frame for frame in frames if frame.direction == "client"]
    assert [(f.opcode, f.rsv1, f.inflated is not None) for f in client[:3]] == [
        (Opcode.TEXT, True, False), (Opcode.PING, False, False),
        (Opcode.CONTINUATION, False, True)]
    sent = [message for _, message in DEFLATE_MESSAGES]
    assert inflated_messages(frames, "client") == inflated_messages(frames, "server") == sent


def test_compressed_message_that_does_not_inflate(tmp_path: Path) -> None:
    """Bytes that are not deflate data, with RSV1 set: a clear error, not garbage."""
    talk = Conversation()
    talk.handshake()
    talk.add("client", "PA", build_request(f"{SERVER[0]}:{SERVER[1]}", "/", KEY))
    talk.add("server", "PA", build_response(KEY).replace(
        b"\r\n\r\n", b"\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n"))
    talk.add("server", "PA", encode_frame(Frame(Opcode.TEXT, b"\xff\xff not deflate", rsv1=True)))
    pcap = tmp_path / "bad_deflate.pcap"
    write_pcap(talk.packets, pcap)
    with pytest.raises(ValueError, match="does not inflate"):
        websocket_frames(pcap)


# ---- the packet table: frames across packets, retransmissions, phases ------------------------

def test_frame_spanning_packets_is_named_in_each_of_them() -> None:
    """The big frame came in three segments (out of order, one retransmitted): each row says
    which part of the frame it carried, and the retransmission says which packet it repeats."""
    synthetic = reassembly_packets()
    big = websocket_sessions(synthetic.packets)[0].frames[0]
    parts = synthetic.big_parts
    header = len(big.wire) - len(big.payload)
    assert big.segments == ((parts["first"], 1000), (parts["second"], 1000),
                            (parts["third"], len(big.wire) - 2000))
    what = {row.index: row.what for row in packet_rows(synthetic.packets)}
    assert what[parts["first"]].startswith("start of WebSocket binary masked, 3000 B")
    assert f"{header}-byte header + {1000 - header} B" in what[parts["first"]]
    assert what[parts["second"]] == "middle of WebSocket binary masked, 3000 B: 1000 B more"
    assert what[parts["third"]] == (f"end of WebSocket binary masked, 3000 B: last "
                                    f"{len(big.wire) - 2000} B")
    assert what[parts["second again"]] == (f"TCP retransmission: 1000 bytes already sent in "
                                           f"packet {parts['second']}, sent again")
    assert [(row.index, row.repeat_of) for row in packet_rows(synthetic.packets)
            if row.repeat_of is not None] == [(parts["second again"], parts["second"])]
    assert what[synthetic.trio] == ("WebSocket text 'one', 3 B, WebSocket binary, 200 B, "
                                    "WebSocket ping, 0 B")


def test_each_packet_gets_the_phase_of_its_connection() -> None:
    rows = packet_rows(reassembly_packets().packets)
    phases = [row.phase for row in rows]
    # In order, each phase once: a bare ACK stays in the phase before it.
    assert [phase for i, phase in enumerate(phases) if i == 0 or phases[i - 1] != phase] == [
        "TCP handshake", "HTTP", "WebSocket frames", "closing handshake", "TCP close"]
    assert {row.phase for row in rows if row.what.startswith("TCP handshake")} == {
        "TCP handshake"}
    assert {row.phase for row in rows if row.what.startswith(("GET", "HTTP/1.1 101"))} == {"HTTP"}
    assert {row.phase for row in rows if "close" in row.what} == {"closing handshake"}
    assert {row.phase for row in rows if row.what.startswith("FIN")} == {"TCP close"}
    plain = packet_rows(plain_http_packets())
    assert [row.phase for row in plain] == ["TCP handshake"] * 3 + ["HTTP"] * 2 + ["TCP close"] * 2


def test_stored_session_retransmission_is_named_as_tshark_names_it() -> None:
    """Wherever tshark suspects a retransmission of data in a stored capture, so do we, and only
    there (a repeated SYN or FIN carries no bytes, so no row calls it one)."""
    need_tshark()
    for pcap in STORED_PCAPS:
        result = subprocess.run(
            ["tshark", "-n", "-r", str(pcap), "-Y", "tcp.analysis.retransmission && tcp.len > 0",
             "-T", "fields", "-e", "frame.number"],
            capture_output=True, text=True, timeout=TSHARK_TIMEOUT, check=True)
        theirs = {int(number) - 1 for number in result.stdout.split()}
        ours = {row.index for row in packet_rows(read_pcap(pcap))
                if row.what.startswith("TCP retransmission")}
        assert ours == theirs, pcap.name
