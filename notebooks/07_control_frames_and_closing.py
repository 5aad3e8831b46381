# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 07 · Control frames and closing: ping, pong, close codes, and who hangs up first
#
# Data frames carry the application's messages. Three **control frames** (控制帧) keep the
# connection itself in order: **ping** and **pong** ask "are you still there?" and answer it,
# and **close** (关闭帧) ends the connection in a handshake of its own. This notebook sends each
# by hand, reads them in real captures, and checks the rules against the `websockets` library
# and against Chromium. It ends with the extension browsers offer in every handshake:
# **permessage-deflate**, compression seen on the wire.
#
# **You will learn**
# - ping and pong: the payload is echoed, at most 125 bytes, allowed between the fragments of a
#   message;
# - the close codes: which ones travel in a close frame, and why 1005, 1006 and 1015 never do
#   (each shown on a real connection);
# - the closing handshake packet by packet, and why the **server** closes TCP first
#   (RFC 6455 section 7.1.1, TIME_WAIT);
# - what a browser's `CloseEvent` reports (`code`, `reason`, `wasClean`) for each ending;
# - why a text message with bad UTF-8 is refused at its first bad byte (1007);
# - permessage-deflate: RSV1, the inflated payloads, the bytes saved, the shared context, and
#   the leak a shared context can cause.
#
# **You need** notebook 04 (frame layout) and 06 (packets on the wire); 05 (masking) helps.
# **Time:** about 60 minutes to read and run, 90 with the exercises.

# %% [markdown] tags=["navigation"]
# [← 06 · Packets on the wire](06_packets_on_the_wire.ipynb) | [Contents](../README.md) | [08 · Heartbeat and reconnect →](08_heartbeat_and_reconnect.ipynb)

# %% [markdown]
# ## Parameters
#
# The captures are stored in `data/captures/` (made by `python -m wsteach capture --only NAME`
# with the scenarios of `wsteach/wire/scenarios.py`); the browser's results are stored in
# `data/browser_close_events.json` (made and checked by `tests/test_browser.py`). Every server
# here listens on a port the system picks (port 0), on loopback.

# %%
from wsteach.paths import CAPTURES, DATA

SESSION = CAPTURES / "websocket_session.pcap"  # notebook 06's session: a ping between fragments
CLOSE_CAPTURES = {name: CAPTURES / f"{name}.pcap" for name in (
    "close_by_client", "close_by_server", "close_with_reason", "peer_vanished")}
COMPRESSED = CAPTURES / "compressed_session.pcap"  # the websockets library, compressing
BROWSER_CLOSE_EVENTS = DATA / "browser_close_events.json"  # Chromium, in tests/test_browser.py
WAIT_SECONDS = 5  # the longest any live demo below waits for an answer
CLIENT_KEY = bytes.fromhex("37fa213d")  # the masking key of the hand-built client frames

# %% [markdown]
# ## 1. Ping and pong
#
# Control frames have the top bit of the opcode set (0x8-0xF; 0xB-0xF are reserved). Section
# 5.5 gives all of them two rules: **at most 125 bytes** of payload, and **never fragmented**
# (FIN is always 1). 125 is the largest length the 7-bit field holds, so a control frame's
# header is always 2 bytes, 6 with a mask.

# %%
from wsteach.frames import Opcode
from wsteach.show import pictures

pictures.table(
    [(f"0x{op:X}", op.name.lower(), "yes" if op.is_control else "no") for op in Opcode],
    ["opcode", "frame", "control frame?"],
    [pictures.OK_COLOUR if op.is_control else "white" for op in Opcode])

# %% [markdown]
# ### 1.1 By hand, on the sans-I/O connection
#
# `wsteach.connection.Connection` is the protocol without a socket (notebook 04): bytes in,
# events out, and the bytes it owes the peer in `data_to_send()`. Give a server-side connection
# a client's ping (masked, as every client frame is), and look at what it answers.

# %%
from wsteach.connection import Connection, Role
from wsteach.frames import Frame, decode_frame, encode_frame

server = Connection(Role.SERVER)
ping_wire = encode_frame(Frame(Opcode.PING, b"are you there?"), CLIENT_KEY)
server.receive_data(ping_wire)
print("events:", list(server.events()))
pong_wire = server.data_to_send()
print("the client's ping (masked):")
display(pictures.hex_view(ping_wire))
print("the server's pong (sent by the connection itself, unmasked):")
display(pictures.hex_view(pong_wire))

# %%
pong, _ = decode_frame(pong_wire)
assert pong.opcode is Opcode.PONG and pong.payload == b"are you there?"
print(f"The pong carries the ping's payload back: {pong.payload!r} (section 5.5.3: "
      "\"identical Application data\").")

# %% [markdown]
# The application did not write the pong: the connection queues it as soon as the ping is
# decoded, and the `Ping` event only tells the application that it happened. Browsers do the
# same, and their pages never see a ping at all (`tests/test_browser.py` checks that a ping
# from our server reaches no `onmessage`). A pong that answers nothing is
# allowed too (section 5.5.3: an unsolicited pong is a one-way heartbeat, needing no answer).
#
# ### 1.2 At most 125 bytes
#
# A 125-byte ping is fine. A 126-byte one is refused, by our decoder, by our sender, and by
# the `websockets` library's frame check:

# %%
import websockets.frames as their_frames

from wsteach.frames import ProtocolError


def outcome(attempt):
    try:
        attempt()
    except (ProtocolError, their_frames.ProtocolError, ValueError) as error:
        return f"refused: {type(error).__name__}: {error}"
    return "accepted"


pictures.table([
    ("our decoder, 125-byte ping",
     outcome(lambda: decode_frame(encode_frame(Frame(Opcode.PING, bytes(125)), CLIENT_KEY)))),
    ("our decoder, 126-byte ping",
     outcome(lambda: decode_frame(encode_frame(Frame(Opcode.PING, bytes(126)), CLIENT_KEY)))),
    ("our Connection.ping(126 bytes)", outcome(lambda: Connection(Role.CLIENT).ping(bytes(126)))),
    ("websockets' Frame.check(), 126-byte ping",
     outcome(lambda: their_frames.Frame(their_frames.Opcode.PING, bytes(126)).check())),
], ["who", "what happens"])

# %% [markdown]
# ### 1.3 Between the fragments of a message
#
# A long message may be sent in fragments (notebook 04). Control frames may come between them
# (section 5.4): a ping need not wait behind a 100 MB message. Feed a server-side connection
# "Hel" (FIN=0), a ping, and "lo" (a continuation with FIN=1), one frame at a time, and watch
# what comes out after each:

# %%
server = Connection(Role.SERVER)
pieces = [Frame(Opcode.TEXT, b"Hel", fin=False), Frame(Opcode.PING, b"between"),
          Frame(Opcode.CONTINUATION, b"lo")]
steps = []
for piece in pieces:
    server.receive_data(encode_frame(piece, CLIENT_KEY))
    answer = server.data_to_send()
    answered = decode_frame(answer)[0] if answer else None
    steps.append((f"{piece.opcode.name.lower()} {piece.payload!r}, FIN={int(piece.fin)}",
                  ", ".join(repr(event) for event in server.events()) or "(none yet)",
                  f"{answered.opcode.name.lower()} {answered.payload!r}" if answered else "-"))
pictures.table(steps, ["frame in", "events out", "the connection answers"])

# %% [markdown]
# The pong left before the message was complete. The same on the wire, in notebook 06's
# stored session (our client and our echo server): "Hel", the ping, "lo", then the pong and
# the echoed "Hello".

# %%
from wsteach.wire import capture

session_rows = capture.packet_rows(capture.read_pcap(SESSION))
first = next(i for i, row in enumerate(session_rows) if "FIN=0" in row.what)
shown = [row for row in session_rows[first:] if row.what != "ACK"][:5]
pictures.packet_table(shown)

# %% [markdown]
# And live, against a server nobody here wrote: the `websockets` library's echo server gets
# the same three frames from our client. Its pong comes back before the echoed message.

# %%
import asyncio
import contextlib

import websockets
from websockets.asyncio.server import serve as websockets_serve

from wsteach import aio


async def echo(ws):
    """Send every message back; for our server and for websockets' (their APIs match)."""
    with contextlib.suppress(aio.ConnectionClosed, websockets.ConnectionClosed):
        async for message in ws:
            await ws.send(message)


order = []
async with websockets_serve(echo, "127.0.0.1", 0, compression=None) as theirs:
    ws = await aio.connect(f"ws://127.0.0.1:{theirs.sockets[0].getsockname()[1]}/")
    await ws.send_raw(encode_frame(Frame(Opcode.TEXT, b"Hel", fin=False), CLIENT_KEY))
    pong_waiter = await ws.ping(b"between")
    pong_waiter.add_done_callback(lambda _: order.append("pong"))
    await ws.send_raw(encode_frame(Frame(Opcode.CONTINUATION, b"lo"), CLIENT_KEY))
    async with asyncio.timeout(WAIT_SECONDS):
        order.append(f"message {await ws.recv()!r}")
    round_trip = await pong_waiter
    await ws.close()
print("what came back, in order:", " then ".join(order))
print(f"round trip of the ping: {round_trip * 1000:.2f} ms")

# %% [markdown]
# `ws.ping()` returns a future of the round-trip time, as in the websockets library. Sent
# every `ping_interval` seconds with a deadline of `ping_timeout`, pings become a **keepalive**
# that notices a dead peer; that is notebook 08. The defaults, as in websockets:

# %%
print(f"ping_interval = {aio.Limits.ping_interval} s, ping_timeout = {aio.Limits.ping_timeout} s")

# %% [markdown]
# ## 2. Close codes: which travel, which never do
#
# A close frame's payload is empty, or a 2-byte **status code** (big-endian) followed by a
# UTF-8 **reason** of at most 123 bytes (section 5.5.1). Section 7.4 defines the codes, and
# IANA's registry adds 1012-1014. Which codes may a close frame carry? Ask our decoder and the
# websockets library's, code by code:

# %%
import struct

from wsteach.frames import CloseCode, parse_close_payload

MEANING = {
    1000: "normal closure", 1001: "going away (server shutting down, page left)",
    1002: "protocol error", 1003: "unsupported data (binary to a text-only endpoint)",
    1004: "reserved", 1005: "no status received: the close frame had no code",
    1006: "abnormal closure: TCP ended without a close frame",
    1007: "invalid payload data (text that is not UTF-8)", 1008: "policy violation",
    1009: "message too big", 1010: "the server did not negotiate an extension we need",
    1011: "internal error", 1012: "service restart", 1013: "try again later",
    1014: "bad gateway", 1015: "TLS handshake failed",
}
RANGES = [(0, 999, "not used"), (1016, 2999, "for future standards (IANA)"),
          (3000, 3999, "registered by libraries and frameworks (IANA)"),
          (4000, 4999, "private: your application's own"), (5000, 65535, "not a close code")]
CODES = [999, *range(1000, 1017), 2999, 3000, 3999, 4000, 4999, 5000]


def described(code):
    """(name, meaning) of a close code."""
    try:
        name = CloseCode(code).name
    except ValueError:
        name = ""
    if code in MEANING:
        return name, MEANING[code]
    return name, next(text for low, high, text in RANGES if low <= code <= high)


# %% [markdown]
# Now the question, asked of both decoders: is a close frame carrying this code accepted?

# %%
def we_accept(code):
    try:
        parse_close_payload(struct.pack("!H", code))
    except ProtocolError as error:
        return f"no ({error.code})"
    return "yes"


def websockets_accepts(code):
    try:
        their_frames.Close(code, "").check()
    except their_frames.ProtocolError:
        return "no"
    return "yes"


code_rows = [(code, *described(code), we_accept(code), websockets_accepts(code))
             for code in CODES]
pictures.table(code_rows, ["code", "name", "meaning", "may travel (wsteach)",
                           "may travel (websockets)"],
               [pictures.OK_COLOUR if row[3] == "yes" else pictures.PROBLEM_COLOUR
                for row in code_rows])

# %%
never = [code for code, *_, ours, theirs in code_rows
         if ours != "yes" and 1000 <= code <= 1015]
assert all((row[3] == "yes") == (row[4] == "yes") for row in code_rows)
print(f"Both implementations agree on all {len(code_rows)} codes. Between 1000 and 1015, "
      f"these never travel: {never}.")

# %% [markdown]
# 1004 is simply reserved. **1005, 1006 and 1015** are different: section 7.4.1 defines them
# as codes an endpoint *reports* to its application ("MUST NOT be set as a status code in a
# Close control frame"), for endings in which no code arrived. Here is each one happening.
#
# ### 2.1 1005: a close frame with no code
#
# A close frame may be empty. The receiver then reports 1005, "no status received", and its
# reply is empty too (it echoes what it got). By hand first: a server-side connection gets an
# empty close from a client.

# %%
server = Connection(Role.SERVER)
server.receive_data(encode_frame(Frame(Opcode.CLOSE, b""), CLIENT_KEY))
print("events:", list(server.events()))
print("the reply:")
pictures.hex_view(server.data_to_send())

# %% [markdown]
# `88 00`: FIN + close, length 0. Nothing on the wire said 1005; it is the receiver's word for
# "no code". Now on a real connection: our client sends an empty close frame to our server,
# whose handler reports what it saw.

# %%
from wsteach.connection import ConnectionClosed
from wsteach.lessons import closing

endings = []


async def report_close(ws):
    """Read until the connection closes; keep the ConnectionClosed the handler got."""
    try:
        while True:
            await ws.recv()
    except ConnectionClosed as closed:
        endings.append(closed)


async with aio.serve(report_close, "127.0.0.1", 0) as server:
    await closing.close_answer(f"ws://127.0.0.1:{server.port}/", b"")
print("the server's handler got:", endings[-1])
print("code", endings[-1].code, "| a normal end?", endings[-1].ok)

# %% [markdown]
# `ConnectionClosed` carries both halves of the closing handshake, `rcvd` (the peer's close
# frame) and `sent` (ours), each a `Close(code, reason)` or None, as in websockets. "received
# 1005" is its way of saying "received a close frame without a code", and the empty echo is
# "sent 1005". 1005 counts as a normal end (`ok`), like 1000 and 1001.
#
# ### 2.2 1006: TCP ended, and no close frame came
#
# A peer that crashes, or a middlebox that drops the connection, sends no close frame at all.
# `closing.reset_tcp(ws)` makes our client vanish with a TCP reset (RST): it sets `SO_LINGER`
# to 0 seconds, so that closing the socket sends RST instead of FIN.

# %%
async with aio.serve(report_close, "127.0.0.1", 0) as server:
    before = len(endings)
    ws = await aio.connect(f"ws://127.0.0.1:{server.port}/")
    closing.reset_tcp(ws)
    async with asyncio.timeout(WAIT_SECONDS):
        while len(endings) == before:
            await asyncio.sleep(0.01)
reset = endings[-1]
print("the server's handler got:", reset)
print("rcvd:", reset.rcvd, "| sent:", reset.sent, "| a normal end?", reset.ok)

# %% [markdown]
# Neither half of the closing handshake happened: "no close frame received; no close frame
# sent", where older libraries would only say 1006. The stored capture of the same scenario
# (`peer_vanished`) shows it on the wire: a message each way, then RST from the client, and
# not one close frame.

# %%
pictures.packet_table(capture.packet_rows(capture.read_pcap(CLOSE_CAPTURES["peer_vanished"])))

# %% [markdown]
# ### 2.3 A close frame that carries 1005 is refused
#
# What if a peer puts one of these codes in a close frame anyway? It breaks section 7.4.1, so
# the receiver fails the connection with **1002** (protocol error). `closing.close_answer(uri,
# payload)` sends a close frame with any payload and returns the server's answer. Ask our
# server and the websockets library's, with a valid code beside them for comparison:

# %%
payloads = [struct.pack("!H", code) for code in (1000, 1005, 1006, 1015)]
answers = []
async with (aio.serve(echo, "127.0.0.1", 0) as ours,
            websockets_serve(echo, "127.0.0.1", 0, compression=None) as theirs):
    uris = {"wsteach": f"ws://127.0.0.1:{ours.port}/",
            "websockets": f"ws://127.0.0.1:{theirs.sockets[0].getsockname()[1]}/"}
    for payload in payloads:
        replies = [await closing.close_answer(uri, payload) for uri in uris.values()]
        answers.append((payload.hex(" "), struct.unpack("!H", payload)[0],
                        *(f"{r.code} {r.reason!r}" for r in replies)))
pictures.table(answers, ["close payload", "code in it", "our server answers",
                         "websockets answers"])

# %%
assert all(answer[2].startswith("1002") and answer[3].startswith("1002")
           for answer in answers[1:])
print("1000 is echoed; 1005, 1006 and 1015 are refused with 1002 by both servers.")

# %% [markdown]
# Chromium does the same (section 4 below): to a server whose close frame carries 1005 it
# answers with a close frame carrying 1002.
#
# ### 2.4 1015: the TLS handshake failed
#
# 1015 is for a `wss://` connection whose TLS handshake failed: then no WebSocket frame can
# travel at all, so the code can only be reported. Neither our package nor websockets uses
# it, and Chromium reports such a failure as 1006 (the table in section 4, last row).
#
# ## 3. The closing handshake, and who closes TCP first
#
# Section 7.1.2: one side sends a close frame; the other answers with a close frame (section
# 5.5.1), after which neither sends data. Then TCP is closed, and section 7.1.1 says by whom:
#
# > The underlying TCP connection, in most normal cases, SHOULD be closed first by the
# > server, so that it holds the TIME_WAIT state and not the client (as this would prevent it
# > from re-opening the connection for 2 maximum segment lifetimes (2MSL), while there is no
# > corresponding server impact as a TIME_WAIT connection is immediately reopened upon a new
# > SYN with a higher seq number).
#
# Four stored captures, each made by a scenario of `wsteach/wire/scenarios.py`: a close
# started by the client, one started by the server, a close with a reason, and the peer that
# vanished (2.2).

# %%
rows_by_capture = {name: capture.packet_rows(capture.read_pcap(path))
                   for name, path in CLOSE_CAPTURES.items()}
for name, rows in rows_by_capture.items():
    print(f"{name}: {len(rows)} packets")

# %% [markdown]
# ### 3.1 Predict first
#
# **Exercise 7.1.** Before looking at the packets: in each of the four captures, who sends the
# first FIN, the client, the server, or nobody? Fill in the dict, then run the check.

# %% tags=["solution"]
answer_first_fin = {"close_by_client": "server", "close_by_server": "server",
                    "close_with_reason": "server", "peer_vanished": "nobody"}

# %%
from wsteach.exercises import nb07

nb07.check_first_fin(rows_by_capture, answer_first_fin)


# %% [markdown]
# ### 3.2 The two closing handshakes, as sequence diagrams
#
# From the first WebSocket frame on (the TCP and HTTP handshakes before it are notebook 06's).
# Blue arrows go from client to server, green ones back; time flows downwards.

# %%
import matplotlib.pyplot as plt


def after_the_handshake(rows):
    start = next(i for i, row in enumerate(rows) if row.what.startswith("WebSocket"))
    return rows[start:]


def diagram(name, title):
    figure = pictures.sequence_diagram(after_the_handshake(rows_by_capture[name]), title=title)
    plt.close(figure)  # shown once, as the cell's result
    return figure


diagram("close_by_client", "close_by_client: the client starts the close")

# %%
diagram("close_by_server", "close_by_server: the server starts the close")

# %% [markdown]
# Whoever starts, the order of the FINs is the same. For all four captures:

# %%
endings_rows = []
for name, rows in rows_by_capture.items():
    closes = [row.direction.split()[0] for row in rows if "WebSocket close" in row.what]
    ends = [f"{'FIN' if 'F' in row.flags else 'RST'} from {row.direction.split()[0]}"
            for row in rows if {"F", "R"} & set(row.flags)]
    endings_rows.append((name, " then ".join(closes) or "no close frame", ", then ".join(ends),
                         nb07.first_fin(rows)))
pictures.table(endings_rows, ["capture", "close frames from", "TCP ends with",
                              "first FIN (holds TIME_WAIT)"])

# %% [markdown]
# ### 3.3 Why the server: TIME_WAIT, measured
#
# The side that sends the first FIN keeps the connection's (address, port, address, port) in
# **TIME_WAIT** for 2 MSL, 60 seconds on Linux, so that a late packet of the old connection
# cannot be taken for part of a new one. Linux lists its TCP sockets in `/proc/net/tcp`
# (readable without privileges); `closing.time_wait_ports()` reads the ones in TIME_WAIT.
# Close three connections, and see whose end of each is left waiting: one closed by the
# client, one by the server, and one whose client breaks the rule by sending FIN together
# with its close frame (`write_eof()` right after it).

# %%
async def close_now(ws):
    await ws.close()


async def client_closes(uri):
    ws = await aio.connect(uri)
    await ws.close()
    return ws


async def client_hangs_up_first(uri):
    ws = await aio.connect(uri)
    await ws.send_raw(ws.connection.close())
    ws.transport.write_eof()  # FIN now, before the server has answered
    await ws.wait_closed()
    return ws


async def server_closes(uri):
    ws = await aio.connect(uri)
    await ws.wait_closed()
    return ws


# %% [markdown]
# Each case against a fresh server; then, in the kernel's table, which end of the connection
# is left in TIME_WAIT:

# %%
waits = []
for case, handler, client in [("the client starts the close", echo, client_closes),
                              ("the server starts the close", close_now, server_closes),
                              ("the client sends FIN with its close", echo,
                               client_hangs_up_first)]:
    async with aio.serve(handler, "127.0.0.1", 0) as server:
        async with asyncio.timeout(WAIT_SECONDS):
            ws = await client(f"ws://127.0.0.1:{server.port}/")
        server_port, client_port = server.port, ws.local_address[1]
    waiting = closing.time_wait_ports()
    holder = ("server" if (server_port, client_port) in waiting else
              "client" if (client_port, server_port) in waiting else "neither")
    waits.append((case, server_port, client_port, holder))
pictures.table(waits, ["case", "server port", "client port", "left in TIME_WAIT"])

# %% [markdown]
# When the server closes first, the waiting is done by the side that can afford it: a server
# has one listening port and many clients, and a new connection from a client's new port is
# unaffected. A client that closed first would hold its own port, and a client that opens
# many short connections (a load test, a reconnecting crowd) can run out of ports. That is
# why our client, like websockets', waits for the server's FIN after the closing handshake,
# and drops TCP itself only after `close_timeout` (10 s by default) if the FIN never comes.
#
# ### 3.4 A close with a reason
#
# The third capture: the client closes with 4001, a code of the private range 4000-4999, and
# the reason "下课了, class is over" ("class is over"). The server's answer echoes the code
# **and** the reason, as websockets and Chromium do (section 5.5.1 asks only for the code).

# %%
reason_frames = capture.websocket_frames(CLOSE_CAPTURES["close_with_reason"])
client_close, server_close = (f for f in reason_frames if f.opcode == Opcode.CLOSE)
print("client → server (masked):")
display(pictures.hex_view(client_close.wire, max_payload=40))
print("server → client (unmasked: the reason's UTF-8 bytes are readable in the hex):")
display(pictures.hex_view(server_close.wire, max_payload=40))
for frame in (client_close, server_close):
    code, reason = parse_close_payload(frame.payload)
    print(f"{frame.direction:>6}: code {code}, reason {reason!r} "
          f"({len(frame.payload) - 2} bytes of UTF-8 for {len(reason)} characters)")

# %% [markdown]
# The reason is for people reading logs, not for programs: at most 123 bytes, so that the
# payload stays within a control frame's 125. 123 bytes are 123 ASCII letters, but only 41
# Chinese characters (3 bytes each in UTF-8). Exercise 7.3 decodes the client's masked frame
# by hand.
#
# ## 4. What the browser reports: `CloseEvent`
#
# A page learns how its WebSocket ended from the `close` event: `event.code`, `event.reason`,
# and `event.wasClean`, true only when the closing handshake completed. The table below was
# measured in Chromium by `tests/test_browser.py::test_close_event_for_each_ending` (one page,
# one fresh connection per ending, against our server or a server written by hand for the
# endings no proper server produces), which stores it in `data/browser_close_events.json`
# and fails whenever Chromium reports anything else. Notebooks run offline and without a
# browser, so here we read the stored result.
#
# **Exercise 7.2.** Predict first: for the three endings below, what do `code` and
# `wasClean` say in the page? Answer with `(code, wasClean)` tuples.

# %%
PREDICTED_ENDINGS = [
    "the page calls close() with no code",
    "a server resets TCP (RST)",
    "a server's close frame carries 1005 (never allowed on the wire)",
]

# %% tags=["solution"]
answer_close_events = {
    "the page calls close() with no code": (1005, True),
    "a server resets TCP (RST)": (1006, False),
    "a server's close frame carries 1005 (never allowed on the wire)": (1006, False),
}

# %%
nb07.check_browser_close_events(PREDICTED_ENDINGS, answer_close_events)

# %%
import json

stored = json.loads(BROWSER_CLOSE_EVENTS.read_text(encoding="utf-8"))
print(f"Measured in Chromium {stored['browser']}:")
pictures.table(
    [(row["ending"], row["code"], repr(row["reason"]), row["wasClean"],
      row["browser_sent"] or "", row["server_saw"] or "") for row in stored["endings"]],
    ["how the connection ended", "event.code", "event.reason", "event.wasClean",
     "the browser answered with", "our server's handler saw"],
    [pictures.OK_COLOUR if row["wasClean"] else pictures.PROBLEM_COLOUR
     for row in stored["endings"]])

# %% [markdown]
# What to read in it:
#
# - `event.code` and `event.reason` are those of the close frame the browser **received**:
#   the server's own close, or its reply to the page's close (which our server makes echo the
#   page's code and reason).
# - `close()` without a code sends an **empty** close frame: the server reports 1005, the
#   page too. Only a code in a frame gives anything else.
# - **1006** and `wasClean: false` for every ending without a completed closing handshake:
#   a reset, a FIN without a close frame, a failed TLS handshake (not 1015), and a close frame
#   the browser refused (it answered 1002, but its own page sees only a failure).
# - 1009: our server refused a message over its `max_size`; it then kept reading until
#   Chromium had answered, so the browser saw a clean close. (Our server's own record says
#   "no close frame received" although Chromium did answer: RFC 6455 section 7.1.7 says an
#   endpoint that fails the connection "MUST NOT continue to attempt to process data
#   (including a responding Close frame)". It reads on only so that its own close frame is
#   not destroyed by a reset, and discards what it reads.)
#
# The page cannot even ask for some of these. `WebSocket.close(code, reason)` accepts only
# 1000 or 3000-4999, and a reason of at most 123 bytes of UTF-8 (WHATWG WebSockets standard,
# the `close()` method); the same test tried:

# %%
pictures.table([(f"ws.{call['call']}", call["error"] or "allowed: the close frame is sent")
                for call in stored["refused"]], ["in the page", "what the browser does"])

# %% [markdown]
# ## 5. Text must be UTF-8, and a receiver can tell early (1007)
#
# A text message must be valid UTF-8 (section 5.6); if it is not, the receiver fails the
# connection with 1007 (section 8.1). Our connection decodes text as it arrives, with an
# incremental decoder, so a bad byte is found when it comes in, not when the frame ends: a
# long message with a bad byte near its start is refused long before its end. Feed a
# 1000-byte text frame whose 11th byte is 0xFF to a server-side connection, 100 bytes at a
# time:

# %%
bad_text = b"Hello, wor" + b"\xff" + b"l" * 989
frame_wire = encode_frame(Frame(Opcode.TEXT, bad_text), CLIENT_KEY)
server = Connection(Role.SERVER)
for fed in range(100, len(frame_wire) + 100, 100):
    server.receive_data(frame_wire[fed - 100:fed])
    try:
        list(server.events())
    except ProtocolError as error:
        refusal = error
        break
print(f"refused after {fed} of the frame's {len(frame_wire)} bytes: {refusal}")
print("waiting to be sent:", parse_close_payload(decode_frame(server.data_to_send())[0].payload))

# %% [markdown]
# Not every implementation does this. The websockets library's sans-I/O protocol does not
# check the UTF-8 of text messages; its asyncio layer decodes a message when the application
# reads it
# (`websockets/asyncio/messages.py`). Given the same bytes, its `ServerProtocol` reports a
# whole frame, bad byte included:

# %%
from websockets.protocol import State as TheirState
from websockets.server import ServerProtocol

their_server = ServerProtocol(state=TheirState.OPEN)
their_server.receive_data(frame_wire[:100])
print("after 100 bytes:", their_server.events_received())
their_server.receive_data(frame_wire[100:])
[their_frame] = their_server.events_received()
print(f"after all {len(frame_wire)} bytes: a {their_frame.opcode.name} frame of "
      f"{len(their_frame.data)} bytes, starting {their_frame.data[:12]!r}")

# %% [markdown]
# Failing fast has one subtlety: a character may be split between two fragments (or two TCP
# segments), and that is not an error. "é" is `c3 a9` in UTF-8; cut between its two bytes,
# the message is still fine:

# %%
server = Connection(Role.SERVER)
server.receive_data(encode_frame(Frame(Opcode.TEXT, b"caf\xc3", fin=False), CLIENT_KEY)
                    + encode_frame(Frame(Opcode.CONTINUATION, b"\xa9"), CLIENT_KEY))
print(list(server.events()))

# %% [markdown]
# So the decoder rejects only a byte that **cannot** continue what came before (exercise 7.5
# asks where). Close reasons are UTF-8 too: a reason that is not is refused with 1007.

# %%
print(outcome(lambda: parse_close_payload(struct.pack("!H", 1000) + b"\xff")))

# %% [markdown]
# ## 6. permessage-deflate, seen on the wire
#
# Browsers offer compression in their opening handshake (RFC 7692; Chromium's offer is checked
# in `tests/test_browser.py`). The stored capture
# `compressed_session.pcap` is the websockets library talking to itself with its defaults,
# compression on: the client sends the same 180-byte message (a 45-byte JSON object, four
# times over) three times, and the server echoes each. The offer and the answer:

# %%
from wsteach.http1 import parse_request, parse_response

packets = capture.read_pcap(COMPRESSED)
[compressed] = capture.websocket_sessions(packets)
offer = parse_request(compressed.request).headers.get("Sec-WebSocket-Extensions")
accepted = parse_response(compressed.response).headers.get("Sec-WebSocket-Extensions")
print("client offers:   ", offer)
print("server accepts:  ", accepted)

# %% [markdown]
# The server accepted, and limited both sides' compression window to 2^12 = 4 KiB (each
# connection keeps a window of recent bytes per direction: memory per connection). Neither
# side said `*_no_context_takeover`, so each direction keeps one compression context for the
# whole connection. A compressed message has **RSV1** set in its first frame (the bit section
# 5.2 reserves for extensions), which is the only sign of compression in the frame:

# %%
first_text = next(f for f in compressed.frames if f.opcode == Opcode.TEXT)
print(f"first byte 0x{first_text.wire[0]:02x}: FIN={first_text.fin}, RSV1={first_text.rsv1}, "
      f"opcode {first_text.kind}")
pictures.bit_layout(first_text.wire)

# %% [markdown]
# `capture.websocket_frames` inflates each compressed message (join its fragments, append
# `00 00 ff ff`, inflate with the direction's context, RFC 7692 section 7.2.2) and keeps the
# result in the frame's `inflated` field; `tests/test_capture.py` checks it against tshark's
# own inflation. What each frame carried on the wire, and what it stood for:

# %%
deflate_rows = []
for frame in capture.websocket_frames(COMPRESSED):
    inflated = len(frame.inflated.encode()) if frame.inflated is not None else None
    deflate_rows.append((frame.direction, frame.kind, int(frame.rsv1), len(frame.payload),
                         inflated if inflated is not None else "-",
                         f"{1 - len(frame.payload) / inflated:.0%}" if inflated else "-"))
pictures.table(deflate_rows, ["from", "opcode", "RSV1", "payload bytes on the wire",
                              "inflated bytes", "saved"])

# %%
messages = [f for f in capture.websocket_frames(COMPRESSED) if f.inflated is not None]
on_wire = sum(len(f.payload) for f in messages)
inflated_total = sum(len(f.inflated.encode()) for f in messages)
print(f"{len(messages)} messages: {inflated_total} bytes of JSON travelled as {on_wire} bytes "
      f"of payload, {1 - on_wire / inflated_total:.0%} saved "
      f"({inflated_total - on_wire} bytes).")
print("per message on the wire:", [len(f.payload) for f in messages if f.direction == "client"])

# %% [markdown]
# The first message shrank to a quarter: its text repeats itself four times, and DEFLATE writes
# each repeat as a short back-reference. The second and third took **5 bytes** each: with the
# context shared, the compressor only had to say "the same 180 bytes as before", a
# back-reference into the previous message. That reference is also why a receiver cannot
# inflate a message alone. By hand, with `zlib`: raw DEFLATE (`wbits=-15`, no zlib header),
# `00 00 ff ff` appended:

# %%
import zlib

client_payloads = [f.payload for f in messages if f.direction == "client"]
shared = zlib.decompressobj(-15)
print("one context for all:", [len(shared.decompress(p + b"\x00\x00\xff\xff"))
                               for p in client_payloads])
try:
    zlib.decompressobj(-15).decompress(client_payloads[0] + b"\x00\x00\xff\xff")
    zlib.decompressobj(-15).decompress(client_payloads[1] + b"\x00\x00\xff\xff")
except zlib.error as error:
    print("the second message in a fresh context:", error)

# %% [markdown]
# Our own package does not negotiate permessage-deflate: Chromium offers it, our 101 does not
# accept it, and every frame stays uncompressed (`tests/test_browser.py` checks that RSV1
# stays clear).
#
# **A caveat: compression can leak secrets.** A compressed message is shorter when it repeats
# something already in the context. If an attacker can put text of their choosing into the
# same context as a secret (a chat message next to a session token, say) and can see the
# sizes of the frames (on the network, even through TLS, which hides the bytes but not their
# number), they can guess the secret a character at a time: the right guess compresses one
# byte shorter. That is the CRIME (2012, TLS compression) and BREACH (2013, HTTP compression)
# attacks; a shared WebSocket context makes the same thing possible. In miniature:

# %%
def frame_size_for(guess, secret='{"token": "7f3a9c"}'):
    """The compressed size of ``guess`` sent after ``secret`` in the same context."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    compressor.compress(secret.encode())
    compressor.flush(zlib.Z_SYNC_FLUSH)  # the secret went out as an earlier message
    return len(compressor.compress(guess.encode()) + compressor.flush(zlib.Z_SYNC_FLUSH))


known = '{"token": "'
for _ in range(6):
    sizes = {c: frame_size_for(known + c) for c in "0123456789abcdef"}
    known += min(sizes, key=sizes.get)
print("recovered from frame sizes alone:", known)

# %% [markdown]
# Defences: do not compress messages that mix secrets with text others control, or send
# secrets in a context of their own (`server_no_context_takeover` and
# `client_no_context_takeover` start every message afresh, at the price of the 5-byte
# repeats above).
#
# ## 7. Errata: the source article on control frames and closing
#
# > **Errata** (article section 四.3, WebSocket API 的实践): `new WebSocket('ws//localhost:8080')`
# > has lost the colon after `ws`. In 2019, when the article was written, that threw a
# > `SyntaxError` ("the URL's scheme must be ws or wss"). Since 2023 the WHATWG standard lets
# > the constructor take relative URLs and http(s) ones (whatwg/websockets commit 771cd4f;
# > Chrome 125, Firefox 124, Safari 17.3), and the typo fails silently instead: the string
# > is read as a relative path and the page connects to **its own server**. Chromium, in the
# > test that made section 4's table (`PAGE_HOST` stands for the test page's own host and
# > port):

# %%
print(f"new WebSocket('ws//localhost:8080') on a page of PAGE_HOST connects to "
      f"{stored['article_url']['url']}")

# %% [markdown]
# > The right line is `new WebSocket('ws://localhost:8080')`.
#
# > **Errata** (article section 五, 心跳机制): its heartbeat mixes two mechanisms that never
# > meet. The server calls `ws.ping(...)`: a ping **frame**, which the browser answers with a
# > pong by itself; the page's script never sees either (browsers expose no ping or pong,
# > `tests/test_browser.py::test_ping_from_our_server_gets_a_pong` checks that a ping from
# > our server reaches no `onmessage`). So the page's `heartCheck` cannot be reset by the
# > server's pings. The page in turn sends "HeartBeat" as an ordinary **text message** and
# > expects "a heartbeat message back" (后端收到后，返回一个心跳消息), but the article's server
# > only logs the messages it receives and never answers one. What resets `heartCheck` is the
# > guest list, pushed every 2 to 7 seconds; whenever a push takes more than the 3 + 3 seconds
# > of `heartCheck`, the page closes a healthy connection (with the article's uniform 2-7 s
# > delay, about one push in five). Notebook 08 runs both halves and fixes them.
#
# > **Note** (not an error): the article lists `close()` among the API's methods with no
# > arguments. Called so, the browser sends an empty close frame and the server reports 1005
# > (section 4's table). `close(1000, "bye")` says more, and only 1000 and 3000-4999 are
# > allowed from a page.
#
# ## Summary
#
# - Ping, pong and close are control frames: at most 125 bytes, never fragmented, allowed
#   between the fragments of a message. The pong echoes the ping's payload; the connection
#   sends it by itself, and browsers hide both from the page.
# - A close frame carries nothing, or a 2-byte code and a UTF-8 reason of up to 123 bytes.
#   1005 (no code), 1006 (no close frame at all) and 1015 (TLS failed) are only ever
#   reported, never sent: a frame carrying one is refused with 1002, by us, by websockets
#   and by Chromium.
# - The closing handshake is a close frame each way, then TCP: the server sends FIN first,
#   whoever began, so the server holds TIME_WAIT and the client's port is free at once.
# - A page's `CloseEvent` shows the server's code and reason after a clean close, 1005 after
#   an empty close frame, and 1006 with `wasClean: false` for everything abnormal.
# - Text is UTF-8; a receiver that decodes as bytes arrive refuses bad text at its first bad
#   byte, with 1007.
# - permessage-deflate sets RSV1 on compressed messages; with the context shared, repeated
#   text costs a few bytes, and the receiver must inflate the messages in order. A shared
#   context can leak secrets mixed with attacker-chosen text (CRIME, BREACH).
#
# ## Exercises
#
# Exercises 7.1 (who sends FIN first) and 7.2 (the browser's `CloseEvent`) are above, in
# sections 3.1 and 4.
#
# **Exercise 7.3.** Decode the client's close frame of `close_with_reason` by hand, from its
# bytes on the wire (`client_close.wire`): find the masking key, unmask the payload, read the
# code and the reason. Answer with `(code, reason)`; do not use `parse_close_payload` or
# `client_close.payload`.

# %% tags=["solution"]
wire = client_close.wire
length = wire[1] & 0x7F  # under 126: the 7-bit form
key, masked = wire[2:6], wire[6:6 + length]
payload = bytes(byte ^ key[i % 4] for i, byte in enumerate(masked))
answer_close = (payload[0] << 8 | payload[1], payload[2:].decode("utf-8"))

# %%
nb07.check_close_payload(client_close.wire, answer_close)

# %% [markdown]
# **Exercise 7.4.** Write `inflate_messages(payloads)`: given the compressed payloads of one
# side's messages, in order, return their texts. Use `zlib` only (not `capture`'s `inflated`).

# %% tags=["solution"]
def inflate_messages(payloads):
    inflater = zlib.decompressobj(-15)  # raw DEFLATE, one context for the whole connection
    return [inflater.decompress(p + b"\x00\x00\xff\xff").decode("utf-8") for p in payloads]


# %%
nb07.check_inflate_messages(inflate_messages, client_payloads,
                            [f.inflated for f in messages if f.direction == "client"])

# %% [markdown]
# **Exercise 7.5.** A fail-fast receiver gets a text frame whose payload is `bad_payload`
# below. At which index of the payload does it know that the text is not UTF-8?

# %%
bad_payload = b"caf\xc3(au lait"

# %% tags=["solution"]
answer_failure_index = 4  # 0xc3 opens a 2-byte character; "(" (0x28) cannot continue it

# %%
nb07.check_utf8_failure(bad_payload, answer_failure_index)

# %% [markdown]
# **Exercise 7.6** (open). A chat server compresses with permessage-deflate and one shared
# context per connection. Each message it sends to a user carries the user's session token
# and the text of the latest chat message, written by anyone. What could an attacker who can
# post chat messages and watch the network learn, and what would you change?

# %% [markdown] tags=["solution"]
# *Model answer.* The attacker posts messages that guess the token a character at a time
# ("token=7", "token=8", ...). Each guess is compressed in the same context as the real token,
# and a right guess makes the frame about a byte shorter; frame sizes are visible on the
# network even through TLS. So the token leaks in about 16 guesses per hex character (96 frames
# for section 6's 6-character token). Fixes, best first: never put secrets in messages that
# also carry text others control (the token belongs in the opening handshake's cookie, not in
# every message); otherwise send secrets uncompressed or in a context of their own
# (`no_context_takeover` resets it every message), or turn compression off for that connection.
# Random padding only makes the attack slower.

# %% [markdown] tags=["navigation"]
# [← 06 · Packets on the wire](06_packets_on_the_wire.ipynb) | [Contents](../README.md) | [08 · Heartbeat and reconnect →](08_heartbeat_and_reconnect.ipynb)
