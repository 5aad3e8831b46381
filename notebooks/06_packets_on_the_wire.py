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
# scapy, and walked from the first SYN to the last FIN.
#
# **You will learn** what a WebSocket looks like to the network: the TCP three-way handshake,
# the HTTP Upgrade and its 101, each frame with its fields and the mask visible in the hex, a
# fragmented message with a ping between its fragments, the closing handshake, and how many
# packets and bytes all that costs compared with polling.
#
# **You need** notebook 04 (frame layout) and 05 (masking); 03 (handshake) helps.
# **Time:** about 25 minutes.

# %% [markdown] tags=["navigation"]
# [← 05 · Masking](05_masking.ipynb) | [Contents](../README.md) | [07 · Control frames and closing →](07_control_frames_and_closing.ipynb)

# %% [markdown]
# ## Parameters

# %%
from pathlib import Path

from wsteach.paths import CAPTURES

STORED_SESSION = CAPTURES / "websocket_session.pcap"  # used when live capture is not permitted
STORED_WEBSOCKET = CAPTURES / "websocket_events.pcap"  # five guests pushed over a WebSocket
STORED_POLLING = CAPTURES / "short_polling.pcap"  # the same five guests fetched by polling
MAX_PAYLOAD_SHOWN = 24  # bytes of payload shown in the hex views

# %% [markdown]
# ## Capture a session, or load the stored one
#
# `scenarios.websocket_session` runs the package's echo server and client on a free loopback
# port: a text message, a binary one, messages of 125, 126, 65535 and 65536 bytes (where the
# length field changes form), a message in two fragments with a ping between them, and a close
# with code 1000 and the reason "bye". `scenarios.record` captures it with scapy. Capturing
# needs root or `cap_net_raw`; without it we read the capture stored in `data/captures/`, made
# by the same scenario with `python -m wsteach capture`.

# %%
import tempfile

from wsteach.show import envcheck
from wsteach.wire import capture, scenarios

problem = envcheck.capture_problem()
if problem is None:
    live_dir = Path(tempfile.mkdtemp(prefix="wsteach-"))
    recording = await scenarios.record(scenarios.websocket_session, live_dir / "session.pcap")
    pcap_path = recording.path
    print(f"Live capture: {recording.packets} packets captured in {recording.seconds:.2f} s.")
else:
    pcap_path = STORED_SESSION
    print(f"Live capture is not possible here ({problem}).")
    print(f"Using the stored capture {pcap_path.name} instead.")

packets = capture.read_pcap(pcap_path)
rows = capture.packet_rows(packets)
session = capture.websocket_sessions(packets)[0]
frames = session.frames
print(f"{len(packets)} packets, {len(frames)} WebSocket frames.")

# %% [markdown]
# ## The whole session at a glance
#
# One row per packet. Blue rows go from client to server, green rows back. "payload bytes" is
# what TCP carried for the application; every packet also has 52-66 bytes of Ethernet, IP and
# TCP headers on top.

# %%
from wsteach.show import pictures

pictures.packet_table(rows)

# %% [markdown]
# The same as a sequence diagram: time flows downwards.

# %%
pictures.sequence_diagram(rows, title=f"{pcap_path.name}: {len(rows)} packets")

# %% [markdown]
# ## 1. The TCP three-way handshake (三次握手)
#
# Before a single HTTP byte, TCP opens the connection: the client sends SYN with its initial
# sequence number, the server answers SYN-ACK with its own and acknowledges the client's plus
# one, and the client acknowledges the server's. WebSocket pays this once per connection; a
# client that opens a connection per HTTP request pays it every time (notebook 01).

# %%
from scapy.layers.inet import TCP

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


pictures.table([frame_row(i, f) for i, f in enumerate(frames)],
           ["#", "from", "FIN", "opcode", "MASK", "masking key", "payload bytes", "length form",
            "payload (unmasked)"])

# %% [markdown]
# ### The mask, visible in the hex
#
# The client's "Hello" and the server's echo carry the same five letters, but on the wire the
# client's are XORed with its masking key (section 5.3), and the server's are not.

# %%
client_hello = next(f for f in frames if f.direction == "client" and f.payload == b"Hello")
server_hello = next(f for f in frames if f.direction == "server" and f.payload == b"Hello")
print("client → server:")
display(pictures.hex_view(client_hello.wire))
print("server → client:")
display(pictures.hex_view(server_hello.wire))

# %%
from wsteach.masking import apply_mask

masked_payload = client_hello.wire[-5:]
print("on the wire:     ", masked_payload.hex(" "), masked_payload)
print("XOR with the key:", apply_mask(masked_payload, client_hello.mask_key).hex(" "),
      apply_mask(masked_payload, client_hello.mask_key))

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
# A 65536-byte message is larger than one loopback TCP segment: the packet table above shows
# it arriving in several packets, and the frame is complete only in the last one. This is why
# frames are cut from the reassembled stream, never from single packets.

# %%
big = next(f for f in frames if f.direction == "client" and len(f.payload) == 65536)
carrying = [r for r in rows if r.direction == "client → server"
            and r.index <= big.packet_index and r.size > 0][-3:]
pictures.table([(r.index, r.size, r.what) for r in carrying], ["packet", "TCP payload", "what"])

# %% [markdown]
# ### A fragmented message with a ping in the middle
#
# The client sent "Hel" with FIN=0, then a ping, then a continuation frame "lo" with FIN=1.
# Control frames may be interleaved with fragments (section 5.4), and the server answered the
# ping with a pong before it delivered the reassembled "Hello".

# %%
start = next(i for i, f in enumerate(frames) if not f.fin)
pictures.table([frame_row(i, frames[i]) for i in range(start, start + 5)],
           ["#", "from", "FIN", "opcode", "MASK", "masking key", "payload bytes", "length form",
            "payload (unmasked)"])

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
# pushed over a WebSocket and once fetched by short polling (a request every 40 ms on one
# keep-alive connection). Count every packet and every byte on the wire, headers included.

# %%
from scapy.layers.inet import IP


def wire_bytes(packet_list):
    """Bytes on the wire including IP and TCP headers (the loopback's fake Ethernet header is
    not counted: a real link has its own)."""
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
           ["five guests by", "packets", "messages", "bytes on the wire", "packets / message",
            "bytes / message"])

# %%
(_, ws_packets, _, ws_bytes), (_, poll_packets, _, poll_bytes) = comparison
print(f"Short polling used {poll_packets / ws_packets:.1f}× the packets and "
      f"{poll_bytes / ws_bytes:.1f}× the bytes of the WebSocket for the same five messages,")
print("and most of its requests came back empty. Notebook 02 measures this message by message.")

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
# **Exercise 6.2.** Unmask the client's "Hello" frame by hand: take its masking key (the four
# bytes before the payload in `client_hello.wire`) and XOR each payload byte with
# `key[i % 4]`. Do not call `apply_mask`.

# %% tags=["solution"]
wire = client_hello.wire
key_bytes, masked = wire[2:6], wire[6:]
answer_unmasked = bytes(byte ^ key_bytes[i % 4] for i, byte in enumerate(masked))

# %%
nb06.check_unmasked(client_hello, answer_unmasked)

# %% [markdown]
# **Exercise 6.3** (open). In the packet table, how many packets pass before the first
# WebSocket frame? Which of them would a second message on the same connection not need?

# %% [markdown] tags=["navigation"]
# [← 05 · Masking](05_masking.ipynb) | [Contents](../README.md) | [07 · Control frames and closing →](07_control_frames_and_closing.ipynb)
