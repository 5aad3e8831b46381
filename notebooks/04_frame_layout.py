# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 04 · Frame layout: FIN, RSV, opcode, MASK and the three length forms
#
# After the handshake, everything on a WebSocket travels in **frames** (帧). This notebook
# builds one bit by bit, decodes real ones, and sends hand-made frames to a real server: one it
# accepts, and one that makes it close the connection with a protocol error.
#
# **You will learn** every field of RFC 6455 section 5.2's frame header, where the length
# switches between its 7-, 16- and 64-bit forms, the opcodes (continuation included), how a
# message is fragmented with a control frame in the middle, and what a peer does with a frame
# that breaks the rules.
#
# **You need** notebook 03 (the opening handshake). **Time:** about 40 minutes with the exercises.

# %% [markdown] tags=["navigation"]
# [← 03 · The opening handshake](03_opening_handshake.ipynb) | [Contents](../README.md) | [05 · Masking →](05_masking.ipynb)

# %% [markdown]
# ## Parameters

# %%
MESSAGE = "Hello"  # what the hand-built frames carry
EXAMPLE_KEY = bytes.fromhex("37fa213d")  # RFC 6455 section 5.7's masking key
LENGTHS = [0, 1, 125, 126, 127, 65535, 65536, 1_000_000]  # payload sizes to compare
TIMEOUT = 2.0  # seconds to wait for the server's answers

# %% [markdown]
# ## The diagram
#
# RFC 6455 section 5.2 draws a frame 32 bits a row. Here is the header of a client's text
# frame carrying "Hello", drawn the same way from its real bits (hover a cell for its field):

# %%
from wsteach.frames import Frame, Opcode, encode_frame
from wsteach.show import pictures

hello_masked = encode_frame(Frame(Opcode.TEXT, MESSAGE.encode()), EXAMPLE_KEY)
pictures.bit_layout(hello_masked)

# %% [markdown]
# | field | bits | meaning |
# |---|---|---|
# | FIN | 1 | 1 on the last frame of a message |
# | RSV1, RSV2, RSV3 | 3 | 0 unless an extension defines them (permessage-deflate uses RSV1) |
# | opcode | 4 | what the frame is: continuation, text, binary, close, ping, pong |
# | MASK | 1 | 1 when a masking key follows: always from client to server |
# | payload len | 7 | the length, or 126 / 127 to announce a 16- / 64-bit length |
# | extended payload length | 0, 16 or 64 | the real length when payload len is 126 or 127 |
# | masking key | 0 or 32 | four random bytes chosen by the client (notebook 05) |
# | payload | 8 × length | the data, masked when MASK is 1 |
#
# > **Errata** (source article, 数据通信过程): "RSV1,RSV2,RSV3：为保留帧" calls the three RSV
# > fields reserved **frames** (保留帧). They are reserved **bits** (保留位) of every frame's
# > first byte, one bit each, as the article's own "(每个占1位)" says. What RFC 6455 reserves
# > for future kinds of frames are opcodes: 0x3-0x7 and 0xB-0xF (section "Opcodes" below).

# %% [markdown]
# ## Build a frame bit by bit
#
# First with nothing but integers and bit operations, as the diagram says: an unmasked text
# frame from the server carrying "Hello".

# %%
payload = MESSAGE.encode("utf-8")
fin, rsv1, rsv2, rsv3, opcode = 1, 0, 0, 0, 0x1
first_byte = fin << 7 | rsv1 << 6 | rsv2 << 5 | rsv3 << 4 | opcode
mask_bit, length = 0, len(payload)
second_byte = mask_bit << 7 | length
by_hand = bytes([first_byte, second_byte]) + payload
print(f"first byte  {first_byte:08b} = 0x{first_byte:02x}")
print(f"second byte {second_byte:08b} = 0x{second_byte:02x}")
print("frame:", by_hand.hex(" "))

# %% [markdown]
# Now the package's encoder, and RFC 6455 section 5.7's own example ("A single-frame unmasked
# text message: 0x81 0x05 0x48 0x65 0x6c 0x6c 0x6f").

# %%
rfc_example = bytes([0x81, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F])
by_package = encode_frame(Frame(Opcode.TEXT, payload))
assert by_hand == by_package == rfc_example
print("by hand == encode_frame == RFC 6455 section 5.7")
pictures.hex_view(by_package)

# %% [markdown]
# ## Decoding: reading the fields back
#
# `decode_frame` reads a buffer and returns the frame and how many bytes it used, or `None`
# when the buffer does not hold a whole frame yet (a TCP read can stop anywhere). Here are all
# eight frames of section 5.7's examples: each built by the encoder, compared with the bytes the
# RFC prints (for the two long ones it prints the header, then "[256 bytes of binary data]"
# and "[65536 bytes of binary data]"), and decoded again.

# %%
from wsteach.frames import decode_frame

examples = {  # name: (frame, the bytes section 5.7 prints)
    "unmasked text": (Frame(Opcode.TEXT, b"Hello"), "81 05 48 65 6c 6c 6f"),
    "masked text": (Frame(Opcode.TEXT, b"Hello", mask_key=EXAMPLE_KEY),
                    "81 85 37 fa 21 3d 7f 9f 4d 51 58"),
    "fragmented text, first": (Frame(Opcode.TEXT, b"Hel", fin=False), "01 03 48 65 6c"),
    "fragmented text, last": (Frame(Opcode.CONTINUATION, b"lo"), "80 02 6c 6f"),
    "unmasked ping": (Frame(Opcode.PING, b"Hello"), "89 05 48 65 6c 6c 6f"),
    "masked pong": (Frame(Opcode.PONG, b"Hello", mask_key=EXAMPLE_KEY),
                    "8a 85 37 fa 21 3d 7f 9f 4d 51 58"),
    "256 bytes binary": (Frame(Opcode.BINARY, bytes(256)), "82 7e 01 00"),
    "64 KiB binary": (Frame(Opcode.BINARY, bytes(65536)), "82 7f 00 00 00 00 00 01 00 00"),
}
rows = []
for name, (frame, rfc_bytes) in examples.items():
    wire = encode_frame(frame)
    assert wire.startswith(bytes.fromhex(rfc_bytes)), name
    decoded, used = decode_frame(wire)
    assert decoded == frame and used == len(wire)
    shown = wire.hex(" ") if len(wire) <= 16 else f"{wire[:10].hex(' ')} … ({len(wire)} bytes)"
    rows.append((name, shown, int(decoded.fin), decoded.opcode.name,
                 decoded.mask_key.hex() if decoded.mask_key else "-", len(decoded.payload)))
pictures.table(rows, ["section 5.7 example", "bytes (= the RFC's)", "FIN", "opcode",
                      "masking key", "payload bytes"])

# %%
wire = encode_frame(Frame(Opcode.TEXT, b"Hello"), EXAMPLE_KEY)
for end in range(len(wire) + 1):
    result = decode_frame(wire[:end])
    print(f"{end:>2} bytes available: {'incomplete' if result is None else result[0]}")

# %% [markdown]
# ## The three length forms
#
# Seven bits count to 127, but 126 and 127 are reserved as signals, so a payload of up to 125
# bytes is announced in the second byte itself. From 126 to 65535 bytes the second byte says
# 126 and a 16-bit length follows; from 65536 bytes on it says 127 and a 64-bit length follows
# (its top bit must be 0). The sender must use the shortest form.

# %%
length_rows = []
for size in LENGTHS:
    frame_bytes = encode_frame(Frame(Opcode.BINARY, bytes(size)))
    header = len(frame_bytes) - size
    length_rows.append((f"{size:,}", frame_bytes[1] & 0x7F, header, header + 4,
                        frame_bytes[:header].hex(" ")))
pictures.table(length_rows, ["payload bytes", "payload len (7 bits)", "server header bytes",
                         "client header bytes (+ key)", "server header"])

# %%
import matplotlib.pyplot as plt

sizes = sorted({2**k for k in range(21)} | {125, 126, 65535, 65536})
headers = [len(encode_frame(Frame(Opcode.BINARY, bytes(n)))) - n for n in sizes]
figure, axes = plt.subplots(figsize=(7, 3))
axes.step(sizes, headers, where="post", label="server frame header")
axes.step(sizes, [h + 4 for h in headers], where="post", label="client frame header (+ mask key)")
for boundary in (126, 65536):
    axes.axvline(boundary, color="grey", linestyle=":")
    axes.text(boundary, 11, f" {boundary:,}", color="grey")
axes.set_xscale("log")
axes.set_xlabel("payload bytes")
axes.set_ylabel("header bytes")
axes.set_title("A WebSocket frame header is 2 to 14 bytes")
axes.legend(loc="upper left")
figure.tight_layout()

# %% [markdown]
# > **Errata** (source article, 数据通信过程): "数据包的长度是固定的" ("the frame's length is
# > fixed") is not right: the header is 2 to 14 bytes depending on the payload length and on
# > the mask, as the table shows, and the payload can be anything from 0 bytes to 2⁶³ - 1.

# %% [markdown]
# ## Opcodes
#
# Four bits give sixteen values; six are defined and the rest are reserved. Values with the
# top bit set (0x8 and up) are **control frames**: at most 125 bytes, never fragmented, and
# allowed between the fragments of a message.

# %%
pictures.table([(f"0x{o.value:X}", o.name.lower(), "control" if o.is_control else "data")
            for o in Opcode], ["opcode", "name", "kind"])

# %% [markdown]
# > **Errata** (source article): its list of opcodes has five entries and leaves out 0x0,
# > **continuation**, which every fragment after the first one carries.

# %% [markdown]
# ## Fragmentation, with a control frame in between
#
# A message may be cut into frames: the first carries the opcode (text or binary) and FIN=0,
# the following ones carry opcode 0x0 (continuation), and the last has FIN=1. A ping may come
# between them; the receiver answers it at once and keeps reassembling.
#
# The package's `Connection` does exactly that. It is **sans-I/O** (in the style of the h11 and
# wsproto libraries): it never touches a socket or a clock. You hand it the bytes that arrived
# (`receive_data`), it hands back events (`events()`: a message, a ping, a close) and the
# bytes it wants sent (`data_to_send()`; its `send_text`, `ping` and `close` return bytes too).
# Whoever owns the socket writes them. That is why it works the same in a cell, in a test or
# in an asyncio server; notebook 07 uses it more. Here one client `Connection` makes the bytes
# of a message cut into 6-byte fragments and of a ping, and we slip the ping between the first
# two fragments:

# %%
from wsteach.connection import Connection, Role

client, server = Connection(Role.CLIENT), Connection(Role.SERVER)
fragments = client.send_text("Hello, fragments!", fragment_size=6)
ping = client.ping(b"still there?")
first_frame_end = decode_frame(fragments)[1]
stream = fragments[:first_frame_end] + ping + fragments[first_frame_end:]

offset, fragment_rows = 0, []
while offset < len(stream):
    frame, used = decode_frame(stream[offset:])
    fragment_rows.append((int(frame.fin), frame.opcode.name, frame.payload))
    offset += used
display(pictures.table(fragment_rows, ["FIN", "opcode", "payload (unmasked)"]))

server.receive_data(stream)
print("events:", list(server.events()))
print("the server owes the client:", decode_frame(server.data_to_send())[0])

# %% [markdown]
# ## Frames from a real capture
#
# The stored capture of notebook 06's session holds frames of every length form, from both
# sides. Take the first frame of each length form in each direction, decode it with
# `decode_frame` from the bytes cut out of the reassembled TCP stream, and compare with what
# the capture module (built on scapy) found.

# %%
from wsteach.paths import CAPTURES
from wsteach.wire import capture

session = capture.websocket_sessions(capture.read_pcap(CAPTURES / "websocket_session.pcap"))[0]
first_of_each_form = {}
for wire_frame in session.frames:
    form = {126: "16-bit", 127: "64-bit"}.get(wire_frame.wire[1] & 0x7F, "7-bit")
    first_of_each_form.setdefault((wire_frame.direction, form), wire_frame)
captured_rows = []
for (_, form), wire_frame in first_of_each_form.items():
    frame, used = decode_frame(wire_frame.wire)
    assert used == len(wire_frame.wire) and frame.payload == wire_frame.payload
    captured_rows.append((wire_frame.direction, form, frame.opcode.name, int(frame.fin),
                          frame.mask_key.hex() if frame.mask_key else "-", len(frame.payload),
                          wire_frame.wire[:14].hex(" ")))
assert {form for _, form in first_of_each_form} == {"7-bit", "16-bit", "64-bit"}
pictures.table(captured_rows, ["from", "length form", "opcode", "FIN", "masking key",
                               "payload bytes", "first bytes on the wire"])

# %% [markdown]
# ## Explore
#
# Type a message and pick the opcode, FIN and MASK: the bytes and the diagram follow. Try 125
# and 126 characters, a Chinese message (3 bytes a character in UTF-8), a ping with a long
# payload, and MASK on and off.

# %%
from wsteach.show import explorer

frame_explorer = explorer.FrameExplorer(MESSAGE)
frame_explorer.widget

# %% [markdown]
# ## Hand-built frames against a real server
#
# Start a server from the `websockets` library (a peer nobody here wrote), open a raw TCP
# connection, do the handshake with the package's request builder, then write our own bytes.
# Three helpers first: the server's handler (echo every message), the raw connection with its
# handshake, and a reader that waits until one whole frame has arrived.

# %%
import asyncio
import contextlib
import logging

from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

from wsteach import handshake, http1

# websockets logs every connection we break on purpose with a full traceback; we read the
# close codes on the wire instead.
logging.getLogger("websockets").setLevel(logging.CRITICAL)


async def echo(ws):
    with contextlib.suppress(ConnectionClosed):
        async for message in ws:
            await ws.send(message)


async def open_raw_websocket(port):
    """A raw TCP connection that has done the opening handshake by hand (notebook 03)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = handshake.generate_key()
    writer.write(handshake.build_request(f"127.0.0.1:{port}", "/", key))
    head = await reader.readuntil(b"\r\n\r\n")
    handshake.validate_response(http1.parse_response(head), key)
    return reader, writer


async def read_frame(reader, buffer=b""):
    """Read from the socket until one whole frame has arrived."""
    while (result := decode_frame(buffer)) is None:
        buffer += await reader.read(65536)
    return result[0]


# %% [markdown]
# First a valid masked text frame: the server echoes it.

# %%
async with serve(echo, "127.0.0.1", 0, compression=None) as server:
    port = server.sockets[0].getsockname()[1]
    reader, writer = await open_raw_websocket(port)
    writer.write(encode_frame(Frame(Opcode.TEXT, "你好, server".encode()), EXAMPLE_KEY))
    answer = await asyncio.wait_for(read_frame(reader), TIMEOUT)
    print("we sent a masked text frame; the server answered:", answer)
    writer.close()


# %% [markdown]
# Now frames that break the rules. A peer that receives one must *fail the WebSocket
# connection* (RFC 6455 section 7.1.7): it **should** first send a close frame with a status
# code from section 7.4.1 (1002 for a protocol error, 1007 for text that is not UTF-8), then
# close TCP. For an unmasked frame from a client, section 5.1 is looser still: the server
# **must** close the connection and **may** send 1002. What the `websockets` server does:

# %%
from wsteach.frames import parse_close_payload

bad_frames = {
    "unmasked frame from a client": encode_frame(Frame(Opcode.TEXT, b"Hello")),
    "RSV1 set without an extension": encode_frame(Frame(Opcode.TEXT, b"Hello", rsv1=True),
                                                  EXAMPLE_KEY),
    "ping of 200 bytes": encode_frame(Frame(Opcode.PING, bytes(200)), EXAMPLE_KEY),
    "text that is not UTF-8": encode_frame(Frame(Opcode.TEXT, b"\xff\xfe"), EXAMPLE_KEY),
}
verdicts = []
async with serve(echo, "127.0.0.1", 0, compression=None) as server:
    port = server.sockets[0].getsockname()[1]
    for name, wire in bad_frames.items():
        reader, writer = await open_raw_websocket(port)
        writer.write(wire)
        answer = await asyncio.wait_for(read_frame(reader), TIMEOUT)
        code, reason = parse_close_payload(answer.payload)
        verdicts.append((name, wire[:6].hex(" "), answer.opcode.name, code, reason))
        writer.close()
pictures.table(verdicts, ["what we sent", "first bytes", "server answered", "close code", "reason"])

# %% [markdown]
# ## Summary
#
# - A frame header is 2 bytes (FIN, RSV1-3, opcode; MASK, 7-bit length), plus 2 or 8 bytes of
#   extended length from 126 and 65536 bytes on, plus a 4-byte masking key from clients.
# - Opcodes: 0x0 continuation, 0x1 text, 0x2 binary, 0x8 close, 0x9 ping, 0xA pong; the rest
#   are reserved. Control frames are short, unfragmented, and may interrupt a message.
# - A decoder must cope with partial input: `None` until the whole frame is there.
# - A real peer answers a broken frame with a close frame and a code: 1002 or 1007 here.
#
# ## Exercises
#
# **Exercise 4.1.** What are the first **two** bytes of an unmasked binary frame with FIN=1
# carrying 300 bytes? Answer with a `bytes` object of length 2, computed by hand with bit
# operations (not with `encode_frame`).

# %% tags=["solution"]
answer_first_two = bytes([1 << 7 | 0x2, 126])

# %%
from wsteach.exercises import nb04

nb04.check_first_two_bytes(answer_first_two)

# %% [markdown]
# **Exercise 4.2.** A frame starts with the bytes `0x89 0x84`. Which opcode does it carry,
# how long is its payload, and is it masked? Answer as a tuple `(opcode, length, masked)`
# with `opcode` an `Opcode`.

# %%
header = bytes([0x89, 0x84])

# %% tags=["solution"]
answer_header = (Opcode(header[0] & 0x0F), header[1] & 0x7F, bool(header[1] & 0x80))

# %%
nb04.check_header_reading(header, answer_header)


# %% [markdown]
# **Exercise 4.3.** Write `frame_length(payload_size, masked)`: the total number of bytes of a
# frame on the wire (header, key if masked, payload). Use the three length forms.

# %% tags=["solution"]
def frame_length(payload_size, masked):
    extended = 0 if payload_size <= 125 else 2 if payload_size <= 65535 else 8
    return 2 + extended + (4 if masked else 0) + payload_size


# %%
nb04.check_frame_length(frame_length)

# %% [markdown]
# **Exercise 4.4** (predict, then run). A client sends a masked frame whose opcode is 0x3, one
# of the reserved values no one has defined. Which close code will the `websockets` server
# answer with? Write your prediction **before** you run the cell after it: that cell sends the
# frame to a real server and compares.

# %% tags=["solution"]
prediction_reserved_opcode = 1002

# %%
reserved_frame = bytearray(encode_frame(Frame(Opcode.TEXT, b"Hello"), EXAMPLE_KEY))
reserved_frame[0] = reserved_frame[0] & 0xF0 | 0x3  # keep FIN and RSV, opcode 0x3
async with serve(echo, "127.0.0.1", 0, compression=None) as server:
    reader, writer = await open_raw_websocket(server.sockets[0].getsockname()[1])
    writer.write(reserved_frame)
    answer = await asyncio.wait_for(read_frame(reader), TIMEOUT)
    writer.close()
answered_code, answered_reason = parse_close_payload(answer.payload)
print(f"we sent {bytes(reserved_frame[:2]).hex(' ')} …; the server answered "
      f"{answer.opcode.name} {answered_code} {answered_reason!r}")
nb04.check_reserved_opcode_prediction(prediction_reserved_opcode, answered_code)


# %% [markdown]
# **Exercise 4.5** (write a fragment reassembler). Write `reassemble(frames)`: given a list of
# `Frame`s as they arrived, return the list of messages they carry, a `str` for a text message
# and `bytes` for a binary one. Messages may be fragmented, and control frames (ping, pong)
# may sit between the fragments; they are not part of any message. Think about a Chinese
# character whose UTF-8 bytes are cut between two fragments.

# %% tags=["solution"]
def reassemble(frames):
    messages, parts, kind = [], [], None
    for frame in frames:
        if frame.opcode.is_control:
            continue  # answered at once by a real endpoint; no part of a message
        if frame.opcode != Opcode.CONTINUATION:
            kind, parts = frame.opcode, []
        parts.append(frame.payload)
        if frame.fin:
            data = b"".join(parts)
            messages.append(data.decode("utf-8") if kind == Opcode.TEXT else data)
    return messages


# %%
nb04.check_reassembler(reassemble)

# %% [markdown] tags=["navigation"]
# [← 03 · The opening handshake](03_opening_handshake.ipynb) | [Contents](../README.md) | [05 · Masking →](05_masking.ipynb)
