# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 06 · Packets on the wire: a whole WebSocket session, packet by packet
#
# Notebooks 03-05 built the handshake, the frame and the mask by hand. Here we watch them
# travel: a real session between the package's client and server on loopback, captured with
# scapy, and walked from the first SYN to the last FIN; then the same session over TLS
# (`wss://`), where the capture shows nothing readable until Wireshark gets the keys.
#
# **You will learn** what a WebSocket looks like to the network: the TCP three-way handshake,
# the HTTP Upgrade and its 101, each frame with its fields and the mask visible in the hex, a
# frame cut across several TCP segments, a fragmented message with a ping between its
# fragments, the closing handshake, how many packets and bytes all that costs compared with
# polling, and what `wss://` changes on the wire.
#
# **You need** notebook 04 (frame layout) and 05 (masking); 03 (handshake) helps.
# **Time:** about 40 minutes with the exercises.

# %% [markdown] tags=["navigation"]
# [← 05 · Masking](05_masking.ipynb) | [Contents](../README.md) | [07 · Control frames and closing →](07_control_frames_and_closing.ipynb)

# %% [markdown]
# ## Parameters

# %%
from wsteach.paths import CAPTURES

STORED_SESSION = CAPTURES / "websocket_session.pcap"  # used when live capture is not permitted
STORED_WEBSOCKET = CAPTURES / "websocket_events.pcap"  # five guests pushed over a WebSocket
STORED_POLLING = CAPTURES / "short_polling.pcap"  # the same five guests fetched by polling
SESSION_TIMEOUT = 10.0  # seconds: the upper bound for one captured session (it takes ms)
TSHARK_TIMEOUT = 20.0  # seconds for tshark to decrypt the TLS capture (it takes about one)

# %% [markdown]
# ## Capture a session, or load the stored one
#
# `scenarios.websocket_session` runs the package's echo server and client on a free loopback
# port: a text message, a binary one, messages of 125, 126, 65535 and 65536 bytes (where the
# length field changes form), a message in two fragments with a ping between them, and a close
# with code 1000 and the reason "bye". `capture.Capture` records it with scapy, keeping the
# packets in memory. Capturing needs root or `cap_net_raw`; without it we read the capture
# stored in `data/captures/`, made by the same scenario with `python -m wsteach capture`.

# %%
import asyncio

from wsteach.show import envcheck
from wsteach.wire import capture, scenarios

problem = envcheck.capture_problem()
if problem is None:
    port = envcheck.free_loopback_port()
    async with asyncio.timeout(SESSION_TIMEOUT), capture.Capture(port) as live:
        await scenarios.websocket_session(port)
    packets, source = live.packets, "live capture"
    print(f"Live capture: {len(packets)} packets captured in {live.seconds:.2f} s.")
else:
    packets, source = capture.read_pcap(STORED_SESSION), STORED_SESSION.name
    print(f"Live capture is not possible here ({problem}).")
    print(f"Using the stored capture {STORED_SESSION.name} instead.")

rows = capture.packet_rows(packets)
session = capture.websocket_sessions(packets)[0]
frames = session.frames
print(f"{len(packets)} packets, {len(frames)} WebSocket frames.")

# %% [markdown]
# ## The whole session at a glance
#
# One row per packet. Blue rows go from client to server, green rows back. "payload bytes" is
# what TCP carried for the application; every packet also carries headers, counted here from
# the capture itself (loopback adds a stand-in 14-byte Ethernet header, as a real link has
# its own):

# %%
from collections import Counter

from scapy.layers.inet import IP, TCP

overheads = Counter((len(p) - len(p[IP]), p[IP].ihl * 4, p[TCP].dataofs * 4) for p in packets)
for (link, ip_header, tcp_header), count in sorted(overheads.items()):
    print(f"{count:>3} packets: {link} B link + {ip_header} B IP + {tcp_header} B TCP = "
          f"{link + ip_header + tcp_header} B of headers")

# %%
from wsteach.show import pictures

pictures.packet_table(rows)

# %% [markdown]
# **How to read it.** Each packet belongs to one phase of the connection: the TCP handshake,
# the HTTP exchange that upgrades it, the WebSocket frames, the closing handshake, and TCP's
# own close. `capture.packet_rows` tells them apart from the packets themselves (a bare ACK
# belongs to the phase it acknowledges), so here is where each phase starts and ends in this
# capture:

# %%
from itertools import groupby

WHAT_HAPPENS = {
    capture.TCP_HANDSHAKE: "SYN, SYN-ACK, ACK: TCP opens the connection (section 1 below)",
    capture.HTTP: "the GET with Upgrade: websocket, and the 101 (section 2)",
    capture.FRAMES: "frames both ways, each answered by the echo server (section 3)",
    capture.CLOSING: "a close frame each way (section 4)",
    capture.TCP_CLOSE: "FIN from each side, and the last ACK (section 4)",
}
guide = []
for phase, phase_rows in groupby(rows, key=lambda row: row.phase):
    phase_rows = list(phase_rows)
    guide.append((phase, f"{phase_rows[0].index}-{phase_rows[-1].index}", len(phase_rows),
                  sum(row.size for row in phase_rows), WHAT_HAPPENS[phase]))
pictures.table(guide, ["phase", "packets", "how many", "payload bytes", "what happens"])

# %% [markdown]
# Two kinds of row need a word. A frame too big for one TCP segment is named in each packet
# that carries a part of it: its **start** (the header and the first payload bytes), its
# **middle**, its **end**. And a **retransmission** is a segment TCP sent a second time; its
# bytes are counted once:

# %%
stored_rows = rows if source == STORED_SESSION.name else capture.packet_rows(
    capture.read_pcap(STORED_SESSION))
captures_seen = {source: rows, STORED_SESSION.name: stored_rows}
for name, these in captures_seen.items():
    by_number = {row.index: row for row in these}
    repeated = [row for row in these if row.repeat_of is not None]
    for row in repeated:
        waited = (row.time - by_number[row.repeat_of].time) * 1000
        print(f"{name}, packet {row.index}: {row.size} bytes sent again, {waited:.1f} ms after "
              f"packet {row.repeat_of} first carried them")
    if not repeated:
        print(f"{name}: no retransmission")

# %% [markdown]
# A retransmission on loopback, where nothing gets lost? It happens while the sender waits for
# an ACK after sending as much as the receiver's window allows (tshark marks such packets
# "TCP Window Full"): when no ACK has come back when a short timer runs out (the wait printed
# above), Linux sends the last segment again as a probe (RFC 8985's tail loss probe), in case
# it was the one that got lost. The ACK that follows covers both
# copies. Nothing was lost, and the reassembled stream keeps the bytes once, so the frames come
# out whole all the same.
#
# The same session as a sequence diagram: time flows downwards, packets are numbered as in the
# table, and the phases are the grey and white bands.

# %%
import matplotlib.pyplot as plt

figure = pictures.sequence_diagram(rows, title=f"{source}: {len(rows)} packets")
plt.show()

# %% [markdown]
# ## 1. The TCP three-way handshake (三次握手)
#
# Before a single HTTP byte, TCP opens the connection: the client sends SYN with its initial
# sequence number, the server answers SYN-ACK with its own and acknowledges the client's plus
# one, and the client acknowledges the server's. WebSocket pays this once per connection; a
# client that opens a connection per HTTP request pays it every time (notebook 01).

# %%
handshake_rows = []
for packet in packets[:3]:
    tcp = packet[TCP]
    handshake_rows.append((str(tcp.flags), f"{tcp.sport} → {tcp.dport}", tcp.seq, tcp.ack))
pictures.table(handshake_rows, ["flags", "ports", "sequence number", "acknowledges"])

# %%
syn, syn_ack, ack = (packet[TCP] for packet in packets[:3])
assert syn_ack.ack == syn.seq + 1 and ack.ack == syn_ack.seq + 1
print("SYN-ACK acknowledges SYN's sequence number + 1, and ACK acknowledges SYN-ACK's + 1.")

# %% [markdown]
# ## 2. The HTTP Upgrade and the 101
#
# The first bytes on the connection are plain HTTP/1.1. scapy has no WebSocket layer (the
# package adds one, `wsteach.wire.scapy_ws`), but it has an HTTP layer, and the handshake is HTTP.

# %%
print(session.request.decode())
print(session.response.decode())

# %%
from wsteach import handshake
from wsteach.wire import scapy_ws

request = scapy_ws.dissect_handshake(session.request)
response = scapy_ws.dissect_handshake(session.response)
key = request.Unknown_Headers[b"Sec-WebSocket-Key"].decode()
accept = response.Unknown_Headers[b"Sec-WebSocket-Accept"].decode()
pictures.table(
    [("method and path", f"{request.Method.decode()} {request.Path.decode()}"),
     ("Upgrade / Connection", f"{request.Upgrade.decode()} / {request.Connection.decode()}"),
     ("Sec-WebSocket-Key", key),
     ("status", f"{response.Status_Code.decode()} {response.Reason_Phrase.decode()}"),
     ("Sec-WebSocket-Accept", accept),
     ("accept_key(key) (notebook 03)", handshake.accept_key(key))],
    ["field (as scapy's HTTP layer reads it)", "value"],
)

# %%
assert handshake.accept_key(key) == accept
print("The server's Sec-WebSocket-Accept is SHA-1(key + GUID) in base64, as notebook 03 derived.")


# %% [markdown]
# ## 3. Frames, field by field
#
# After the 101, both directions carry frames. `capture.websocket_frames` reassembles each
# direction's TCP stream and cuts it into frames with the scapy layer, so frames split across
# segments, or several frames in one segment, come out whole.

# %%
def frame_row(index, frame):
    length_form = {126: "16-bit", 127: "64-bit"}.get(frame.wire[1] & 0x7F, "7-bit")
    preview = frame.payload[:16]
    return (index, frame.direction, int(frame.fin), frame.kind, int(frame.masked),
            frame.mask_key.hex() if frame.mask_key else "-", len(frame.payload), length_form,
            repr(preview) + ("…" if len(frame.payload) > 16 else ""))


FRAME_COLUMNS = ["#", "from", "FIN", "opcode", "MASK", "masking key", "payload bytes",
                 "length form", "payload (unmasked)"]
pictures.table([frame_row(i, f) for i, f in enumerate(frames)], FRAME_COLUMNS)

# %% [markdown]
# ### The mask, visible in the hex
#
# The client's "Hello" and the server's echo carry the same five letters, but on the wire the
# client's are XORed with its masking key (section 5.3), and the server's are not. Notebook 05
# unmasked such a frame byte by byte; the capture module has done it for every frame, and
# `payload` holds the result.

# %%
client_hello = next(f for f in frames if f.direction == "client" and f.payload == b"Hello")
server_hello = next(f for f in frames if f.direction == "server" and f.payload == b"Hello")
print(f"client → server, payload unmasked: {client_hello.payload!r}")
display(pictures.hex_view(client_hello.wire))
print(f"server → client, payload as sent: {server_hello.payload!r}")
display(pictures.hex_view(server_hello.wire))

# %% [markdown]
# ### Where the length changes form
#
# Up to 125 bytes the length fits in the 7 bits of byte 2. At 126 bytes byte 2 says 126 and
# two more bytes hold the length; at 65536 bytes it says 127 and eight more bytes follow.

# %%
boundary_frames = [f for f in frames if f.direction == "client"
                   and len(f.payload) in scenarios.LENGTH_BOUNDARIES]
for frame in boundary_frames:
    print(f"{len(frame.payload):>6} bytes of payload, header "
          f"{len(frame.wire) - len(frame.payload)} bytes:")
    display(pictures.hex_view(frame.wire, max_payload=4))

# %% [markdown]
# ### A frame across several TCP segments
#
# TCP does not know where a frame ends: it cuts the byte stream into segments as its window
# and buffers allow. In this capture, these frames did not fit in one segment:

# %%
spread = [(i, f) for i, f in enumerate(frames) if len(f.segments) > 1]
pictures.table([(i, f.direction, len(f.wire), len(f.segments),
                 " + ".join(f"{size} B (packet {index})" for index, size in f.segments))
                for i, f in spread],
               ["frame #", "from", "bytes on the wire", "segments", "which packets carried it"])

# %% [markdown]
# Each frame is complete only in the last packet that carries it, and the packets between
# say nothing by themselves about frames. This is why frames are cut from the reassembled
# stream, never from single packets. Here are the packets that carried the client's
# 65536-byte frame:

# %%
big = next(f for f in frames if f.direction == "client" and len(f.payload) == 65536)
by_index = {row.index: row for row in rows}
pictures.table([(index, size, by_index[index].what) for index, size in big.segments],
               ["packet", "bytes of this frame", "what the packet table says"])

# %% [markdown]
# ### A fragmented message with a ping in the middle
#
# The client sent "Hel" with FIN=0, then a ping, then a continuation frame "lo" with FIN=1.
# Control frames may be interleaved with fragments (section 5.4), and the server answered the
# ping with a pong before it delivered the reassembled "Hello".

# %%
start = next(i for i, f in enumerate(frames) if not f.fin)
pictures.table([frame_row(i, frames[i]) for i in range(start, start + 5)], FRAME_COLUMNS)

# %% [markdown]
# ## 4. The closing handshake and FIN
#
# The client sends a close frame with code 1000 and reason "bye"; the server answers with a
# close frame echoing the code; then the **server** closes TCP first (section 7.1.1), so the
# client does not get stuck in TCP's TIME_WAIT.

# %%
from wsteach.frames import parse_close_payload

closes = [f for f in frames if f.kind == "close"]
for frame in closes:
    code, reason = parse_close_payload(frame.payload)
    print(f"{frame.direction:>6} close: code {code}, reason {reason!r}")
fins = [r for r in rows if "F" in r.flags]
print("FIN order:", " then ".join(r.direction.split(" ")[0] for r in fins))

# %% [markdown]
# ## 5. What it cost, against polling
#
# The session above is a test bench, full of large messages. For a fair count, take two stored
# captures of the same job: five guests announced by the event source of notebook 02, once
# pushed over a WebSocket and once fetched by short polling on one keep-alive connection.
# Count every packet and every byte on the wire, headers included.

# %%
def wire_bytes(packet_list):
    """Bytes on the wire including IP and TCP headers (the loopback's stand-in Ethernet header
    is not counted: a real link has its own)."""
    return sum(len(p[IP]) for p in packet_list if IP in p)


def delivered(packet_list):
    """Messages that reached the client: server frames, or HTTP responses with a body."""
    sessions = capture.websocket_sessions(packet_list)
    if sessions:
        return sum(1 for f in sessions[0].frames if f.direction == "server" and f.kind == "text")
    return sum(1 for r in capture.packet_rows(packet_list) if r.what.startswith("HTTP/1.1 200"))


comparison = []
for name, path in [("WebSocket", STORED_WEBSOCKET), ("short polling", STORED_POLLING)]:
    captured = capture.read_pcap(path)
    comparison.append((name, len(captured), delivered(captured), wire_bytes(captured)))
pictures.table([(name, n, m, b, f"{n / m:.1f}", f"{b / m:,.0f}") for name, n, m, b in comparison],
               ["five guests by", "packets", "messages", "bytes on the wire",
                "packets / message", "bytes / message"])

# %%
(_, ws_packets, _, ws_bytes), (_, poll_packets, _, poll_bytes) = comparison
print(f"Short polling used {poll_packets / ws_packets:.1f}× the packets and "
      f"{poll_bytes / ws_bytes:.1f}× the bytes of the WebSocket for the same five messages,")
print("and most of its requests came back empty. Notebook 02 measures this message by message.")

# %% [markdown]
# ## 6. The same session over TLS: `wss://`
#
# Everything above travelled in the clear: the proxy of notebook 05, your network's admin, or
# anyone on the path can read every frame, because masking hides nothing. A `wss://` URI
# (RFC 6455 section 3) runs the very same WebSocket inside TLS: the client opens TCP, then does
# a TLS handshake, and only then sends the HTTP Upgrade (section 4.1), so the Upgrade, the 101
# and every frame travel encrypted.
#
# To try it on loopback we need a certificate the client will trust. Make a throwaway one for
# 127.0.0.1, valid for a day, with the `cryptography` package; the client trusts that one
# certificate and nothing else. Python can also write the session keys of every TLS
# connection to a file (`SSLContext.keylog_filename`, the "key log" format browsers write
# when `SSLKEYLOGFILE` is set): that file is what lets Wireshark decrypt, below. Everything goes
# in a temporary folder, deleted when the kernel stops or this cell runs again.

# %%
import tempfile
from pathlib import Path

from cryptography import x509

from wsteach.wire import tls

tls_folder = tempfile.TemporaryDirectory(prefix="wsteach-tls-")
folder = Path(tls_folder.name)
certificate = tls.throwaway_certificate(folder)
server_context, client_context = tls.loopback_contexts(certificate)
keylog = folder / "keys.log"
client_context.keylog_filename = str(keylog)  # Python writes the session keys here
made = x509.load_pem_x509_certificate(certificate.certificate.read_bytes())
names = made.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
print(f"certificate for {[str(ip) for ip in names.get_values_for_type(x509.IPAddress)]}, "
      f"issued by itself ({made.issuer.rfc4514_string()}), valid until "
      f"{made.not_valid_after_utc:%Y-%m-%d %H:%M} UTC")

# %% [markdown]
# Now the same scenario as in the first section, with the two TLS contexts: the server serves
# `wss://`, the client connects to `wss://127.0.0.1:PORT/chat`. Captured the same way, if we
# may capture.

# %%
tls_port = envcheck.free_loopback_port()
tls_session = scenarios.websocket_session(tls_port, server_ssl=server_context,
                                          client_ssl=client_context)
if problem is None:
    async with asyncio.timeout(SESSION_TIMEOUT), capture.Capture(tls_port) as tls_live:
        await tls_session
    tls_packets = tls_live.packets
    tls_pcap = folder / "wss_session.pcap"
    capture.write_pcap(tls_packets, tls_pcap)
    print(f"The session over TLS: {len(tls_packets)} packets captured in "
          f"{tls_live.seconds:.2f} s.")
else:
    async with asyncio.timeout(SESSION_TIMEOUT):
        await tls_session
    tls_packets = tls_pcap = None
    print(f"The session ran over TLS, but there is no capture of it ({problem}): the next two "
          "cells have nothing to show.")
print("key log lines Python wrote:", [line.split()[0] for line in keylog.read_text().splitlines()
                                      if not line.startswith("#")])

# %% [markdown]
# What does the capture show now? The TCP handshake is the same three packets. After it, each
# direction is a sequence of TLS records (RFC 8446 section 5.1), each a 5-byte header (the
# content type, a version, a length) and then that many bytes. Only the first ones, the
# ClientHello and ServerHello, are readable; in TLS 1.3 everything after them is sent as
# "application_data", the rest of the TLS handshake included (the one-byte
# "change_cipher_spec" beside them means nothing in TLS 1.3: it is sent so that old middleboxes
# see what they expect, RFC 8446 appendix D.4).

# %%
if tls_packets is None:
    print("No TLS capture here (see above).")
else:
    tls_connection = capture.tcp_streams(tls_packets)[0]
    sides = {"client": tls_connection.from_client, "server": tls_connection.from_server}
    record_rows = []
    for side, stream in sides.items():
        records = tls.records(stream.data)
        for number, record in enumerate(records[:4]):
            record_rows.append((side, number, record.content_type, record.length))
        kinds = Counter(record.content_type for record in records)
        record_rows.append((side, "all", ", ".join(f"{n} {kind}" for kind, n in kinds.items()),
                            sum(record.length for record in records)))
    display(pictures.table(record_rows, ["from", "record", "content type", "bytes"]))
    plain_connection = capture.tcp_streams(packets)[0]
    plain = [plain_connection.from_client.data, plain_connection.from_server.data]
    encrypted = [stream.data for stream in sides.values()]
    looked_for = [b"GET /chat", b"Upgrade: websocket", b"Sec-WebSocket-Accept", b"Hello", b"bye"]
    readable = [(repr(needle), "yes" if any(needle in data for data in plain) else "no",
                 "yes" if any(needle in data for data in encrypted) else "no")
                for needle in looked_for]
    readable.append(("WebSocket frames found by capture.websocket_sessions", len(frames),
                     sum(len(s.frames) for s in capture.websocket_sessions(tls_packets))))
    display(pictures.table(readable, ["in the bytes of the capture", "ws://", "wss://"]))

# %% [markdown]
# Nothing of the WebSocket is left to read: no Upgrade, no key, no frame, no "Hello". The
# masking keys, the opcodes and the lengths are inside the encrypted records too. What is
# still visible: the addresses and ports, the timing, the sizes of the records, and, when the
# client connects to a name rather than to an IP address as here, that name in the
# ClientHello (the SNI extension).
#
# **Decrypting with the key log.** Wireshark's dissector, `tshark`, reads the key log Python
# wrote (`-o tls.keylog_file:...`) and decrypts the same capture: the HTTP Upgrade and the
# frames appear again, exactly as in the `ws://` session.

# %%
import shutil
import subprocess


def tshark_frames(pcap, keylog=None):
    """The WebSocket frames tshark finds in ``pcap``: (packet, source port, opcode, MASK,
    payload length, text)."""
    command = ["tshark", "-n", "-r", str(pcap), "-Y", "websocket", "-T", "fields"]
    if keylog is not None:
        command += ["-o", f"tls.keylog_file:{keylog}"]
    for field in ("frame.number", "tcp.srcport", "websocket.opcode", "websocket.mask",
                  "websocket.payload_length", "websocket.payload_length_ext_16",
                  "websocket.payload_length_ext_64", "websocket.payload.text"):
        command += ["-e", field]
    result = subprocess.run(command, capture_output=True, text=True, check=True,
                            timeout=TSHARK_TIMEOUT)
    found = []
    for line in result.stdout.splitlines():
        number, port, opcode, mask, short, medium, long, text = line.split("\t")
        found.append((int(number) - 1, int(port), int(opcode), int(mask),
                      int(long or medium or short), text[:16]))
    return found


if shutil.which("tshark") is None:
    print("tshark is not installed here (Debian: apt-get install tshark), so this cell skips "
          "the decryption.")
elif tls_pcap is None:
    print("No TLS capture to decrypt here (see above).")
else:
    without_keys = tshark_frames(tls_pcap)
    with_keys = tshark_frames(tls_pcap, keylog)
    print(f"tshark without the key log: {len(without_keys)} WebSocket frames; "
          f"with it: {len(with_keys)}.")
    display(pictures.table(
        [(packet, "client" if source_port != tls_port else "server", opcode, mask, length, text)
         for packet, source_port, opcode, mask, length, text in with_keys],
        ["packet", "from", "opcode", "MASK", "payload bytes", "text (first 16 characters)"]))
    for side in ("client", "server"):
        decrypted = [(opcode, length) for _, port, opcode, _, length, _ in with_keys
                     if (port == tls_port) == (side == "server")]
        assert decrypted == [(f.opcode, len(f.payload)) for f in frames if f.direction == side]
    print("The frames of each side are those of the ws:// session in section 3, in order.")

# %% [markdown]
# **Ports, and why `wss://` is what you deploy.** A `ws://` URI defaults to port 80 and a
# `wss://` URI to port 443 (RFC 6455 section 3), the ports of `http://` and `https://`, so a
# WebSocket passes wherever the web does. On port 80 it meets whatever a network put there to
# handle HTTP: transparent proxies that do not understand `Upgrade` (notebook 05's toy is one),
# filters that strip the header or drop the connection after the 101, caches that buffer the
# response and sit on the frames, idle timers tuned for short requests. Over TLS none of them
# can read the bytes, so they pass them on: an explicit proxy gets a `CONNECT` tunnel, a
# transparent box sees an ordinary TLS connection to port 443. That is why `wss://` works in
# many networks where `ws://` fails, and why browsers refuse a `ws://` WebSocket from a page
# loaded over `https://` (mixed content). TLS also gives what masking never did: secrecy, and
# the certainty of talking to the server the certificate names. Masking stays on anyway:
# RFC 6455 requires it on every client frame, whatever the transport.

# %% [markdown]
# ## Summary
#
# - A WebSocket session is one TCP connection: three packets to open it, one HTTP request and
#   one 101 response, then frames in both directions, and FIN from the server first.
# - Client frames carry the MASK bit and a fresh 4-byte key; the payload on the wire is XORed.
#   Server frames are sent in the clear.
# - The length field has three forms, switching at 126 and 65536 bytes; a large frame spans
#   several TCP segments, and one segment may carry several frames: reassemble first.
# - Control frames (ping, pong, close) may sit between the fragments of a message.
# - `wss://` is the same session inside TLS, on port 443 by default: a capture shows TLS
#   records and nothing readable, until the session keys (a key log) decrypt it.
#
# ## Exercises
#
# **Exercise 6.1.** Find the index (in `frames`) of the first frame whose length uses the
# 16-bit form. Look at the second byte of each frame's `wire` bytes.

# %% tags=["solution"]
answer_16bit = next(i for i, f in enumerate(frames) if f.wire[1] & 0x7F == 126)

# %%
from wsteach.exercises import nb06

nb06.check_16bit_length_frame(frames, answer_16bit)

# %% [markdown]
# **Exercise 6.2** (diagnose a broken capture). Someone started the capture late: `late` below
# holds the packets from the first WebSocket frame on, without the TCP handshake and without
# the Upgrade. Neither `capture.websocket_sessions` nor Wireshark finds a single frame in it:
# both need the Upgrade to know the bytes are WebSocket. But the bytes are all there. Cut the
# client's bytes into frames yourself: reassemble the stream with `capture.tcp_streams(late)`,
# then call `decode_frame` (notebook 04) from the first byte, again and again. Answer with the
# list of `(opcode, payload length)` of every frame the client sent.

# %%
first_frame_packet = next(row.index for row in rows if row.phase == capture.FRAMES)
late = packets[first_frame_packet:]
print(f"{len(late)} packets; WebSocket sessions found: {len(capture.websocket_sessions(late))}")

# %% tags=["solution"]
from wsteach.frames import decode_frame

client_bytes = capture.tcp_streams(late)[0].from_client.data
late_client_frames, offset = [], 0
while (decoded := decode_frame(client_bytes[offset:])) is not None:
    frame, used = decoded
    late_client_frames.append((frame.opcode, len(frame.payload)))
    offset += used

# %%
nb06.check_late_capture(late, frames, late_client_frames)

# %% [markdown]
# **Exercise 6.3.** In the packet table, how many packets pass before the first WebSocket
# frame? Answer with a number; then say (in words, for yourself) which of them a second message
# on the same connection would not need.

# %% tags=["solution"]
answer_before_first_frame = next(position for position, row in enumerate(rows)
                                 if row.phase == capture.FRAMES)

# %%
nb06.check_packets_before_first_frame(rows, answer_before_first_frame)

# %% [markdown] tags=["solution"]
# *Model answer.* None of them: the TCP handshake, the HTTP Upgrade and the 101, and their ACKs
# are paid once per connection. A second message is one frame (plus TCP's ACK for it), which
# is the whole point of keeping the connection open instead of polling (section 5).

# %% [markdown]
# **Exercise 6.4** (open). In a hotel network, `ws://chat.example/room` connects, gets its
# 101, and then no message ever arrives, while `wss://chat.example/room` works. Give two
# things a box in that network could be doing that break `ws://` but not `wss://`, and say what
# that box still sees of the `wss://` session.

# %% [markdown] tags=["solution"]
# *Model answer.* Over port 80 the box can read and act on HTTP. It may be a transparent proxy
# that forwarded the 101 but still expects HTTP after it, and buffers or drops the frames
# because they are no HTTP response it understands; it may be a cache that waits for the
# response to end before passing it on (it never ends); it may strip `Upgrade`/`Connection`
# (hop-by-hop headers) on later requests, or cut a connection that stays quiet longer than a
# web request would. Over TLS it cannot parse anything, so it forwards the bytes as they are.
# It still sees: the client's and server's IP addresses and ports, when and how many bytes
# flow each way (record sizes and timing), and in the ClientHello the server name
# (`chat.example`, the SNI) unless it is encrypted.

# %% [markdown] tags=["navigation"]
# [← 05 · Masking](05_masking.ipynb) | [Contents](../README.md) | [07 · Control frames and closing →](07_control_frames_and_closing.ipynb)
