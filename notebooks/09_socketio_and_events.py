# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 09 · Socket.IO and events: what rides on the WebSocket
#
# The source article ends its tour with Socket.IO: events with names, an id per client,
# broadcast, "it falls back to long polling". Here we take Socket.IO apart the way this series
# takes everything apart: decode its packets from a real capture, build the part of it that
# matters on our own WebSocket stack (`wsteach.aio`), and check that the official clients
# accept what we built.
#
# **You will learn** the two protocols inside Socket.IO (Engine.IO carries, Socket.IO names
# events); what `0{...}`, `40`, `42["news",...]`, `4312[...]`, `2` and `3`, `2probe`, `3probe`
# and `5` mean; how acknowledgements, rooms and broadcast work on a server; what Socket.IO
# costs per message against a plain WebSocket (measured); why a Socket.IO client cannot talk
# to a plain WebSocket server, nor the other way round; what Socket.IO does not promise (each
# message delivered, an id that lasts); and where the article goes wrong.
#
# **You need** notebooks 02 (long polling), 03 (the handshake), 04 (frames) and 06 (reading a
# capture); 08's heartbeat helps. **Time:** about 85 minutes with the exercises.

# %% [markdown] tags=["navigation"]
# [← 08 · Heartbeat and reconnect](08_heartbeat_and_reconnect.ipynb) | [Contents](../README.md) | [10 · The live chat →](10_live_chat.ipynb)

# %% [markdown]
# ## Parameters
#
# Every timing the demos wait on. The article pushed its guest table every 2 to 7 seconds;
# here the news comes every 0.1 s so that the notebook runs in seconds, and the heartbeat demo
# drops a silent client within a second.

# %%
from wsteach.paths import CAPTURES

NEWS_INTERVAL = 0.1  # seconds between two news on our server (the article: 2 to 7 s)
PING_INTERVAL = 0.3  # Engine.IO heartbeat of section 3's heartbeat demo (socket.io: 25 s)
PING_TIMEOUT = 0.3  # (socket.io: 20 s; the other servers here keep both defaults)
OPEN_PACKET_WAIT = 0.5  # section 5: how long a client waits for an open packet that never comes
QUIET_WAIT = 0.02  # exercise 9.3: after the expected messages, watch this long for others
UPGRADE_CAPTURE = CAPTURES / "socketio_upgrade.pcap"  # python-socketio: polling, then upgrade
BYTES_CAPTURE = CAPTURES / "socketio_vs_websocket.pcap"  # the same table, Socket.IO and plain

# %% [markdown]
# ## 1. Two protocols inside one
#
# Socket.IO is not one protocol but two, stacked on a transport:
#
# | layer | what it does | its packets look like |
# |---|---|---|
# | **Socket.IO** (protocol 5) | named events, acknowledgements, namespaces, binary attachments | `2["news",...]` EVENT, `312["hi"]` ACK, `0` CONNECT |
# | **Engine.IO** (protocol 4) | a session with an id, a heartbeat, the upgrade from polling to WebSocket | `0{...}` open, `2` ping, `3` pong, `4...` message, `5` upgrade |
# | **transport** | HTTP long polling, or a WebSocket | HTTP bodies, or one frame per packet |
#
# Every Socket.IO packet travels as the payload of an Engine.IO *message* packet, whose type is
# `4`; so the event `news` becomes the text `42["news",...]`: 4 for Engine.IO, 2 for
# Socket.IO's EVENT. The same digit means different things in the two layers: a lone `2` is
# Engine.IO's ping, while the `2` of `42` is Socket.IO's EVENT. (Specs: socket.io's
# `docs/engine.io-protocol/v4-current.md` and `docs/socket.io-protocol/v5-current.md`.
# Socket.IO 3 and 4 speak these versions, and so does python-socketio 5.)
#
# **The words used below.**
#
# - An **event** is a message with a name: `("news", table)`. The name picks the handler on the
#   other side, as the article's `socket.on('news', ...)` does.
# - An **acknowledgement** (**ack**) answers one event. The sender gives the event a number,
#   its **ack id**; the answer, an ACK packet, carries the same number back, so the sender
#   knows which of its waiting callbacks it answers.
# - A **namespace** is a channel inside one connection, named like a path: `/` (the main one,
#   which almost everyone uses), `/admin`. A client joins each namespace with its own CONNECT.
# - **Two ids.** Engine.IO's open packet gives the connection a **session id** (`sid`), which
#   long polling uses to tie its HTTP requests together. The Socket.IO CONNECT reply gives the
#   client its **Socket.IO id** in the namespace (also sent under the name `sid`; JavaScript
#   shows it as `socket.id`). A server sends to a client by this second id.
# - A **room** is a named set of those ids, kept on the server (section 3).
#
# Our codec is `wsteach.socketio.engineio` and `wsteach.socketio.packets`: pure functions, as
# in the core of this series. Here is one packet peeled layer by layer.

# %%
from wsteach.frames import Frame, Opcode, encode_frame
from wsteach.show import pictures
from wsteach.socketio import engineio, packets

message = '4212["echo","你好"]'
outer = engineio.decode(message)  # Engine.IO: the first character
inner = packets.decode(outer.data)  # Socket.IO: the rest
print("Engine.IO:", outer.type.name, "carrying", repr(outer.data))
print("Socket.IO:", inner.type.name, "namespace", inner.namespace, "ack id", inner.id,
      "data", inner.data)
frame = encode_frame(Frame(Opcode.TEXT, message.encode()))
pictures.coloured_bytes([("WebSocket frame header", frame[:2]),
                         ("Engine.IO type: 4 message", frame[2:3]),
                         ("Socket.IO type: 2 EVENT", frame[3:4]),
                         ("ack id: 12", frame[4:6]),
                         ("JSON: the event's name and arguments", frame[6:])])

# %% [markdown]
# The digits are read left to right, and only the format tells them apart:
# `<type>[<attachments>-][<namespace>,][<ack id>][JSON]`. After the Engine.IO `4`: `2` is the
# Socket.IO type, no `-` so no attachments, no `/` so the main namespace `/`, then the digits
# `12` up to the JSON: the ack id. python-socketio's own packet class reads it the same way
# (it writes `None` for the main namespace, where we write `/`):

# %%
from socketio import packet as their_packet

theirs = their_packet.Packet(encoded_packet=outer.data)
print("python-socketio:", their_packet.packet_names[theirs.packet_type], theirs.namespace,
      theirs.id, theirs.data)
assert (theirs.packet_type, theirs.namespace or "/", theirs.id, theirs.data) == (
    inner.type, inner.namespace, inner.id, inner.data)

# %% [markdown]
# ## 2. A session, packet by packet, from a capture
#
# `data/captures/socketio_upgrade.pcap` holds real python-socketio, server and client, on
# loopback (`python -m wsteach capture --only socketio_upgrade` makes it again). First a
# client that only *polls*, then one that starts polling and upgrades to a WebSocket.
# `socketio_capture.engineio_packets` finds every Engine.IO packet in the HTTP bodies and in
# the WebSocket frames.

# %%
from wsteach.wire import socketio_capture


def describe(packet: engineio.Packet) -> str:
    """What an Engine.IO packet says, with the Socket.IO packet inside a message."""
    if packet.type is not engineio.PacketType.MESSAGE:
        shown = f" {packet.data!r}" if packet.data and len(packet.data) <= 10 else ""
        return f"Engine.IO {packet.type.name}{shown}"
    if isinstance(packet.data, bytes):
        return f"binary attachment, {len(packet.data)} bytes"
    inner = packets.decode(packet.data)
    what = f"Socket.IO {inner.type.name}"
    if inner.id is not None:
        what += f" (ack id {inner.id})"
    if inner.type is packets.PacketType.EVENT:
        what += f" {inner.data[0]!r}"
    return what


def who(wire: socketio_capture.WirePacket) -> str:
    return "client → server" if wire.direction == "client" else "server → client"


def short(packet: engineio.Packet, limit: int = 44) -> str:
    text = engineio.encode(packet)
    text = text if isinstance(text, str) else f"<{len(text)} bytes>"
    return text if len(text) <= limit else text[:limit] + f"… ({len(text)} chars)"


session = socketio_capture.engineio_packets(UPGRADE_CAPTURE)
pictures.table([(f"{w.time * 1000:.0f} ms", who(w), w.transport, w.carrier[:58],
                 w.carrier_bytes, short(w.packet), describe(w.packet)) for w in session],
               ["time", "who", "transport", "carried by", "bytes", "packet", "what it is"],
               ["#eef6ff" if w.direction == "client" else "#f4fbee" for w in session])

# %% [markdown]
# Read it from the top. The "bytes" column is the whole HTTP message or frame that carried the
# packet; two packets in one HTTP body (joined by the separator `\x1e`) share one row's bytes.
#
# - **The open packet** `0{"sid":...,"upgrades":["websocket"],"pingInterval":1000,...}` comes
#   as the body of the first `GET /socket.io/?EIO=4&transport=polling`: the Engine.IO session
#   id, the transports the client may upgrade to, and the heartbeat's timers in milliseconds.
# - **CONNECT**: the client posts `40{}` (python-socketio sends an empty auth object; the
#   JavaScript client sends plain `40`); the server answers `40{"sid":...}` with the *second*
#   id, the client's Socket.IO id in this namespace (`socket.id` in JavaScript).
# - **An event with an ack**: `421["echo","\u4f60\u597d"]` goes up in a POST; `431[...]` comes
#   back on a held GET: ACK with the same id, 1.
# - **News** `42["news",[...]]` arrive as answers to held GETs: that is long polling (notebook
#   02). The server gzips a body of 1 KB or more (python-engineio's `compression_threshold`),
#   so the news travel compressed and the small answers do not.
# - **The heartbeat**: the *server* sends `2` (ping) and the client answers `3` (pong) in a
#   POST. Engine.IO 4 moved the ping to the server "because the timers set in the browsers are
#   not reliable enough" (its spec, "From v3 to v4").
# - **Leaving**: `41` (Socket.IO DISCONNECT), then `1` (Engine.IO CLOSE).
# - **The upgrade** (second session, from 3 s on): after the open packet, the client opens a
#   WebSocket with the same sid, sends `2probe`, gets `3probe`, then sends `5` (upgrade), and
#   everything goes on in frames: one packet per frame. The `6` (noop) is what a server sends
#   to end a GET still held on the polling side; python-engineio queues it, and with no GET
#   waiting here it went out in a frame, where the client ignores it.
#
# The upgrade, as a sequence diagram:

# %%
from dataclasses import dataclass


@dataclass
class Row:  # what pictures.sequence_diagram reads
    index: int
    direction: str
    what: str
    phase: str


def phase(wire: socketio_capture.WirePacket, upgraded_yet: bool) -> str:
    if wire.transport == "polling":
        return "long polling (HTTP)"
    return "WebSocket, upgraded" if upgraded_yet else "WebSocket: the probe"


upgrade = [w for w in session if w.connection == session[-1].connection][:11]
rows, upgraded_yet = [], False
for index, wire in enumerate(upgrade):
    rows.append(Row(index, who(wire), f"{short(wire.packet, 16)}  {describe(wire.packet)}",
                    phase(wire, upgraded_yet)))
    upgraded_yet = upgraded_yet or wire.packet.type is engineio.PacketType.UPGRADE
figure = pictures.sequence_diagram(
    rows, title="python-socketio: the open packet by polling, then the upgrade to a WebSocket")

# %% [markdown]
# ## 3. Our own small server, and the official clients
#
# `wsteach/socketio/server.py` is a Socket.IO server on `wsteach.aio`, WebSocket transport
# only, namespace `/`. `newsfeed.news_feed` gives it the behaviour of the article's news feed,
# fixed so that any client can check it (and `python -m wsteach socketio --port 4001` runs it
# from a terminal, with a page at `/`):
#
# - on connecting, each client gets the event `news` with the guest table, then again every
#   `news_interval` seconds;
# - `echo` is acknowledged with its own arguments; `join` puts the client in a room (ack
#   `true`); `say` `{"room", "text"}` sends `said` to everyone else in the room, acknowledged
#   with how many it reached.
#
# The server's size, in source lines (docstrings and comments included):

# %%
import inspect

from wsteach.socketio import newsfeed, server

for module in (engineio, packets, server, newsfeed):
    lines = inspect.getsource(module).splitlines()
    print(f"{module.__name__:26} {len(lines):4} lines")

# %% [markdown]
# Start it on a free port (Run All twice: the first server is closed before a new one starts):

# %%
previous = globals().get("feed_server")  # the server of an earlier Run All
if previous is not None:
    previous.close()
    await previous.wait_closed()
feed = newsfeed.news_feed(NEWS_INTERVAL)  # the heartbeat's defaults: 25 s and 20 s
feed_server = await feed.serve()
URL = f"http://127.0.0.1:{feed_server.port}"

# %% [markdown]
# Three helpers for the rest of the notebook: a client of the **official Python client**,
# python-socketio's `AsyncClient`, over the WebSocket transport, that keeps what it receives;
# and two ways to wait, bounded, for something that happens on other connections.

# %%
import asyncio

import socketio


async def connected_client(name: str, url: str = URL) -> socketio.AsyncClient:
    """A python-socketio client that keeps what it receives in client.got."""
    client = socketio.AsyncClient(reconnection=False)
    client.got = {"news": [], "said": []}
    client.on("news", client.got["news"].append)
    client.on("said", client.got["said"].append)
    await client.connect(url, transports=["websocket"])
    client.name = name
    return client


async def until(condition, seconds: float = 2) -> None:
    """Wait until condition() holds (it is about other connections): at most seconds."""
    async with asyncio.timeout(seconds):
        while not condition():
            await asyncio.sleep(0.005)


async def said_received(clients, count: int) -> None:
    """Wait until the clients hold count "said" events between them."""
    await until(lambda: sum(len(client.got["said"]) for client in clients) >= count)

# %% [markdown]
# alice connects, waits for a few news, and calls `echo` (an event with an ack, answered with
# its own arguments), with text and with bytes:

# %%
alice = await connected_client("alice")
await asyncio.sleep(2.5 * NEWS_INTERVAL)
print(f"alice is {alice.get_sid()!r} over {alice.transport()}; "
      f"{len(alice.got['news'])} news so far, each a table of {len(alice.got['news'][0])} guests")
print("echo acknowledged with:", await alice.call("echo", ("你好", {"n": [1, 2]})))
print("binary echo:", await alice.call("echo", b"\x00\x01\xff"))

# %% [markdown]
# The same conversation, typed by hand on a plain WebSocket of our own (`wsteach.aio`): the
# open packet, our CONNECT and the server's reply, the first news, and an event with ack id 7.

# %%
from wsteach import aio

raw = await aio.connect(f"ws://127.0.0.1:{feed_server.port}/socket.io/?EIO=4&transport=websocket",
                        ping_interval=None)
print("server:", await raw.recv())
await raw.send("40")
print("client: 40")
print("server:", await raw.recv())
print("server:", short(engineio.decode(await raw.recv()), 60))
await raw.send('427["echo","by hand"]')
print('client: 427["echo","by hand"]')
async with asyncio.timeout(5):  # the answer comes in milliseconds; never wait for ever
    while not (answer := await raw.recv()).startswith("43"):
        if answer == "2":  # a ping from the server: answer it, or be dropped
            await raw.send("3")
        # anything else is more news, arrived meanwhile
print("server:", answer)
await raw.close()

# %% [markdown]
# ### Rooms and broadcast
#
# A room is nothing the client can see or enter by itself: it is a set on the server
# (`feed.rooms`, room name → the clients' Socket.IO ids). Only the server's code puts a client
# in a room: here the `join` handler does, when a client asks; the server could as well put
# every client in a room named after its user. A client leaves every room when it goes. `say`
# is an emit to the room with the sender skipped. alice and bob join `kitchen`, carol
# `garden`; then alice says something to `kitchen`:

# %%
bob, carol = await connected_client("bob"), await connected_client("carol")
for client, room in ((alice, "kitchen"), (bob, "kitchen"), (carol, "garden")):
    assert await client.call("join", room) is True
names = {client.get_sid(): client.name for client in (alice, bob, carol)}


def rooms_by_name() -> dict[str, list[str]]:
    """The server's rooms (room -> Socket.IO ids), with our clients' names for their ids."""
    return {room: sorted(names[sid] for sid in sids) for room, sids in feed.rooms.items()}


print("the server's rooms:", rooms_by_name())
reached = await alice.call("say", {"room": "kitchen", "text": "dinner is ready"})
await said_received((alice, bob, carol), reached)
print(f"alice's say reached {reached} client(s)")


def room_row(client: socketio.AsyncClient) -> tuple[str, ...]:
    in_room = [client.get_sid() in feed.rooms.get(room, ()) for room in ("kitchen", "garden")]
    said = client.got["said"][-1]["text"] if client.got["said"] else "-"
    return (client.name, *("✓" if member else "" for member in in_room), said)


pictures.table([room_row(c) for c in (alice, bob, carol)],
               ["client", "in room kitchen", "in room garden", "got said"],
               [pictures.OK_COLOUR if c.got["said"] else "white" for c in (alice, bob, carol)])

# %% [markdown]
# ### Leaving: out of every room
#
# When bob goes, the server takes him out of every room; alice's next `say` reaches nobody:

# %%
bob_sid = bob.get_sid()
await bob.disconnect()
await until(lambda: bob_sid not in feed.clients)  # the server has seen him go
print("the server's rooms:", rooms_by_name())
print("alice's say now reaches", await alice.call("say", {"room": "kitchen", "text": "hello?"}))

# %% [markdown]
# ### The official browser client
#
# The official **browser** client, `socket.io-client` 4.x from npm, connects to the same
# server: `tests/test_socketio_browser.py` loads the server's page in Chromium, sees the news
# table fill, emits with acks (text and binary) and checks that `socket.id` is the sid our
# CONNECT reply gave. Try it by hand: `python -m wsteach socketio --port 4001`, then open
# http://127.0.0.1:4001/. The page needs the npm package (`make lab` installs it when Node.js
# is there):

# %%
import shutil

if newsfeed.CLIENT_BUNDLE.exists():
    print(f"socket.io-client bundle: {newsfeed.CLIENT_BUNDLE.stat().st_size} bytes, served at "
          f"{URL}/socket.io.min.js")
else:
    print("socket.io-client is not installed (no Node.js here?): the page will say so; "
          "install Node.js, then run `make lab` again.")

# %% [markdown]
# ### The heartbeat: a silent client is dropped
#
# The server sends `2` every `pingInterval`; a client that does not answer `3` within
# `pingTimeout` is gone. (Notebook 08 did the same with WebSocket ping *frames*; Engine.IO
# uses its own *messages*, because a browser's JavaScript can neither send nor see ping
# frames.) On a second server with a short heartbeat (`PING_INTERVAL`, `PING_TIMEOUT`), a
# hand-made client that never answers, beside a python-socketio client that does:

# %%
import time

heartbeat_feed = newsfeed.news_feed(NEWS_INTERVAL, ping_interval=PING_INTERVAL,
                                    ping_timeout=PING_TIMEOUT)
async with heartbeat_feed.serve() as heartbeat_server:
    steady = await connected_client("steady", f"http://127.0.0.1:{heartbeat_server.port}")
    silent = await aio.connect(f"ws://127.0.0.1:{heartbeat_server.port}/socket.io/"
                               "?EIO=4&transport=websocket", ping_interval=None)
    await silent.recv()  # the open packet
    await silent.send("40")
    await silent.recv()  # 40{"sid":...}
    started, seen = time.monotonic(), []
    try:
        async with asyncio.timeout(10 * (PING_INTERVAL + PING_TIMEOUT)):  # a bound, if all fails
            while True:
                if await silent.recv() == "2":
                    seen.append(f"ping at {time.monotonic() - started:.2f} s (not answered)")
    except aio.ConnectionClosed as closed:
        dropped, why = time.monotonic() - started, closed
    print(*seen, sep="\n")
    print(f"dropped after {dropped:.2f} s with {why.code} {why.reason!r}; "
          f"pingInterval + pingTimeout = {PING_INTERVAL + PING_TIMEOUT:.2f} s")
    print("steady, who answers pings, is still connected:", steady.connected)
    await steady.disconnect()

# %% [markdown]
# ## 4. What Socket.IO costs, measured
#
# `data/captures/socketio_vs_websocket.pcap` holds the same guest table pushed three times by
# each of two servers: as the event `news` by our Socket.IO server to python-socketio's client,
# then as a plain text message by a plain WebSocket server to our own client. Beside them, the
# news of python-socketio's own server from section 2's capture, on both transports. Each row
# is measured on the wire: the whole frame (header and payload), or the whole HTTP message.

# %%
from wsteach.wire import capture


def news_only(wires: list[socketio_capture.WirePacket], transport: str) -> list:
    return [w for w in wires if w.transport == transport
            and short(w.packet).startswith('42["news"')]


frames = capture.websocket_frames(BYTES_CAPTURE)
plain_connection = max(frame.connection for frame in frames)  # the second server's
plain = [f for f in frames if f.connection == plain_connection and f.direction == "server"
         and f.opcode == Opcode.TEXT]
ours = news_only(socketio_capture.engineio_packets(BYTES_CAPTURE), "websocket")
theirs_ws, theirs_polling = news_only(session, "websocket"), news_only(session, "polling")
# the polling response that holds the news alone (others also carry a ping or a CONNECT reply)
polling_news = min(w.carrier_bytes for w in theirs_polling)
held_gets = [len(m.head) for c in capture.tcp_streams(capture.read_pcap(UPGRADE_CAPTURE))
             for m in capture.http_messages(c.from_client)
             if m.head.startswith(b"GET") and b"transport=polling" in m.head and b"sid=" in m.head]
table_bytes = len(plain[0].payload)
per_message = {
    "plain WebSocket": len(plain[0].wire),
    "Socket.IO on WebSocket, our server": ours[0].carrier_bytes,
    "Socket.IO on WebSocket, python-socketio": theirs_ws[0].carrier_bytes,
    "Socket.IO on long polling: the response (gzipped)": polling_news,
    "Socket.IO on long polling: the response + its GET": polling_news + min(held_gets),
}
pictures.table([(name, size, f"{size - per_message['plain WebSocket']:+d}")
                for name, size in per_message.items()],
               [f"one news message (the {table_bytes}-byte table)", "bytes on the wire",
                "against plain WebSocket"])

# %% [markdown]
# Where python-socketio's extra bytes on the WebSocket come from:

# %%
table_text = plain[0].payload.decode()
non_ascii = sum(1 for character in table_text if ord(character) > 127)
print(f"the table holds {non_ascii} Chinese characters: 3 bytes each in UTF-8, 6 as \\uXXXX")
print(f"python-socketio's frame - ours = {theirs_ws[0].carrier_bytes} - "
      f"{ours[0].carrier_bytes} = {theirs_ws[0].carrier_bytes - ours[0].carrier_bytes} "
      f"= 3 x {non_ascii}")

# %% [markdown]
# So on a WebSocket, Socket.IO's own cost per event is small: `42["news",` and `]`, 11 bytes
# on the table (the first table's second row). Two things cost far more than the protocol:
#
# - **How the JSON is written.** python-socketio writes JSON with Python's default
#   `ensure_ascii`, so each Chinese character becomes `\uXXXX`: 6 bytes instead of 3 in
#   UTF-8, which is all of the difference printed above. Our server (like the JavaScript one)
#   writes UTF-8 as it is.
# - **The transport.** On long polling each news is a whole HTTP response, and the client has
#   sent a whole GET for it to answer. The server gzips bodies of 1 KB or more, which here
#   makes the response *smaller* than the uncompressed frame. A WebSocket could compress too
#   (permessage-deflate, notebook 07), if both sides agree to it.
#
# What a session costs once, and what the heartbeat costs while nothing happens:

# %%
sessions = capture.websocket_sessions(capture.read_pcap(BYTES_CAPTURE))
socketio_session, plain_session = sessions[0], sessions[-1]
opened = [w for w in socketio_capture.engineio_packets(BYTES_CAPTURE)
          if w.packet.type is engineio.PacketType.OPEN or short(w.packet).startswith("40")]
ping, pong = (next(w.carrier_bytes for w in session if w.transport == "websocket"
                   and engineio.encode(w.packet) == text) for text in ("2", "3"))
# a plain WebSocket's keepalive (notebook 08): a ping frame with 4 bytes of data, as websockets
# and wsteach.aio send it, unmasked from the server, and its pong, masked by the client
keepalive = (len(encode_frame(Frame(Opcode.PING, b"1234")))
             + len(encode_frame(Frame(Opcode.PONG, b"1234"), b"mask")))
pictures.table([
    ("the client's upgrade request", len(socketio_session.request), len(plain_session.request)),
    ("the server's 101", len(socketio_session.response), len(plain_session.response)),
    ("open packet, CONNECT and its reply", sum(w.carrier_bytes for w in opened), 0),
    ("one heartbeat: ping and pong frames", f"{ping} + {pong} = {ping + pong}",
     f"none built in; with keepalive pings {keepalive}"),
], ["once per session", "Socket.IO", "plain WebSocket"])

# %% [markdown]
# The longer request is the client's, not the protocol's: python-socketio asks for
# `/socket.io/?transport=websocket&EIO=4&t=<a timestamp>`, and aiohttp, under it, adds
# `Accept`, `Accept-Encoding` and `User-Agent` headers; the two 101s are the same size. The
# heartbeat is cheap (Engine.IO's ping is one character in a frame), and a plain WebSocket
# needs one too, as notebook 08 showed. The whole picture, per message:

# %%
import matplotlib.pyplot as plt

figure, axes = plt.subplots(figsize=(9, 2.9))
labels = list(per_message)
axes.barh(labels, [per_message[n] for n in labels],
          color=["#adb5bd", "#4dabf7", "#ffa94d", "#69db7c", "#b2f2bb"])
for y, label in enumerate(labels):
    axes.text(per_message[label] + 15, y, f"{per_message[label]} B", va="center", fontsize=9)
axes.axvline(table_bytes, color="black", linestyle=":", linewidth=1,
             label=f"the table itself, {table_bytes} B")
axes.legend(loc="lower right", fontsize=8)
axes.invert_yaxis()
axes.set_xlabel("bytes on the wire for one news message")
axes.set_xlim(0, max(per_message.values()) * 1.25)
figure.tight_layout()

# %% [markdown]
# ## 5. Why a Socket.IO client cannot talk to a plain WebSocket server (and back)
#
# "WebSocket" in Socket.IO is only the transport. Both sides expect Engine.IO packets inside
# it: a Socket.IO peer and a plain WebSocket peer connect, and then wait for each other. First
# python-socketio's client against a plain WebSocket echo server, which records what it gets:

# %%
echo_log = []


async def plain_echo(ws):
    echo_log.append("a WebSocket opened")
    async for message in ws:
        echo_log.append(f"received {message!r}")
        await ws.send(message)


async with aio.serve(plain_echo, "127.0.0.1", 0) as echo_server:
    client = socketio.AsyncClient(reconnection=False)
    try:
        async with asyncio.timeout(OPEN_PACKET_WAIT):  # python-socketio would wait for ever
            await client.connect(f"http://127.0.0.1:{echo_server.port}",
                                 transports=["websocket"])
    except TimeoutError:
        print(f"python-socketio: no open packet within {OPEN_PACKET_WAIT} s; still waiting, "
              "so we gave up")
    except socketio.exceptions.ConnectionError as error:
        print("python-socketio:", repr(error))
    finally:  # a connect cut short leaves its HTTP session open: close it
        if client.eio.http is not None and not client.eio.http.closed:
            await client.eio.http.close()
print("the echo server's log:", echo_log)

# %% [markdown]
# The WebSocket opened, and then nothing: the Socket.IO client waits for an open packet
# `0{...}` before it sends anything, and an echo server only ever echoes. (python-engineio
# 4.15 reads that first message with no timeout of its own.)
#
# The other way round: a plain WebSocket client that knows nothing of Socket.IO. Asking at `/`,
# it gets the news page (200, not 101):

# %%
from wsteach.handshake import HandshakeError

try:
    await aio.connect(f"ws://127.0.0.1:{feed_server.port}/")
except HandshakeError as error:  # the handshake is refused: no WebSocket at /
    print("a plain WebSocket to our Socket.IO server at / :", error)

# %% [markdown]
# At `/socket.io/?EIO=4&transport=websocket` it would be let in, receive `0{...}`, which it
# does not understand, and be dropped when it neither sends CONNECT nor answers pings
# (section 3). A plain WebSocket *library* can still talk to a Socket.IO server, as section 3
# did by hand: but then the program speaks Engine.IO and Socket.IO itself, which is writing a
# Socket.IO client (exercise 9.5). Our server also refuses the polling transport with a plain
# 400 that says why:

# %%
# (urllib would block the kernel's event loop, where our server runs: ask with asyncio)
reader, writer = await asyncio.open_connection("127.0.0.1", feed_server.port)
writer.write(b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
print((await reader.read()).decode())
writer.close()

# %% [markdown]
# ## 6. Errata: the article on Socket.IO
#
# > **Errata** (article section 六, Socket.io): *"WebSocket是SocketIO的一个子集"* (WebSocket is
# > a subset of Socket.IO). The other way round: Socket.IO is a protocol built *on top of*
# > WebSocket (and of HTTP long polling). Every Socket.IO packet rides inside an Engine.IO
# > packet inside a WebSocket frame (section 1), and a client that speaks only WebSocket
# > cannot use a Socket.IO server, nor a Socket.IO client a WebSocket server (section 5).
#
# > **Errata** (section 六): *"支持的浏览器最近达IE5.5"* (browsers back to IE 5.5). That was
# > Socket.IO 0.9's claim (2012: "a wide variety of browsers, including old (IE 5.5+)", the
# > *Node Cookbook*, Packt), with Flash sockets, the `htmlfile` ActiveX object and JSONP
# > polling. The documentation of Socket.IO 2, current when the article was written, already
# > said: "Socket.IO does support IE9 and above. IE 6/7/8 are not supported anymore"
# > (socket.io/docs/v2/client-installation; the same in the v3 and v4 pages). A WebSocket-only
# > server such as ours needs a browser with WebSocket (IE 10 and later).
#
# > **Errata** (section 六, its server): *`if (socket.readyState === io.OPEN)`*. Neither name
# > exists: a Socket.IO server's `socket` has no `readyState` and the server `io` has no `OPEN`.
# > The test compares `undefined === undefined`, which is **always true**, also after the
# > client has left (checked by hand on socket.io 2.5.1 and 4.8.4 servers in Node.js:
# > `readyState` and `OPEN` both `undefined`, the test `true` before and after the client's
# > disconnect, `socket.connected` `false` after it). So the feed does emit, but never stops:
# > every client that ever connected keeps a timer (and a request to the guest API) running
# > every 2 to 7 s, for as long as the server runs. The check to write is `socket.connected`,
# > and the timer must be cleared on `disconnect`, which is what our news feed does (its news
# > task is cancelled when the client goes). The cell below shows the same
# > `undefined === undefined` on the client library's objects, when Node.js is here.
#
# > **Errata** (section 六): *`socket.emit('news', JSON.stringify(jsonObject))`*, then
# > `JSON.parse(res)` in the client. Socket.IO already encodes the arguments as JSON;
# > stringifying first sends a string of JSON inside JSON, every quote escaped (measured
# > below), and makes the client parse twice. Emit the object itself.
#
# > **Errata** (section 六.1): *"socket.io客户端封装的websocket请求自带id，服务器可以根据id区分客户端，
# > 进行精准推送"* (the client's requests carry their own id, by which the server can push to
# > one client precisely). The id is not the client's: the server draws it and sends it in its
# > CONNECT reply (section 2), and it is new after every reconnection. socket.io's documentation
# > calls it "an ephemeral ID that is not meant to be used in your application", because "this
# > ID is regenerated after each reconnection" ("The Socket instance (server-side)"). To push
# > to one user, put their connections in a room named after the user's own id, from a login
# > or a session; the last cell of this section shows a reconnection's new id.

# %%
import subprocess

if shutil.which("node") and newsfeed.CLIENT_BUNDLE.exists():
    script = ("const io = require('socket.io-client');"
              "const socket = io('http://127.0.0.1:9', {autoConnect: false});"
              "console.log(JSON.stringify({readyState: String(socket.readyState),"
              " OPEN: String(io.OPEN), check: socket.readyState === io.OPEN,"
              " connected: socket.connected}));")
    result = subprocess.run(["node", "-e", script], capture_output=True, text=True, timeout=10,
                            cwd=newsfeed.CLIENT_BUNDLE.parents[3])
    print("socket.io-client in Node.js:", result.stdout.strip() or result.stderr.strip())
else:
    print("Node.js or socket.io-client is not here: skipped (install Node.js, then make lab).")

# %%
import json

guests = newsfeed.load_guests()
as_object = packets.encode(packets.Packet(packets.PacketType.EVENT, ["news", guests]))
as_string = packets.encode(packets.Packet(packets.PacketType.EVENT, [
    "news", json.dumps(guests, ensure_ascii=False, separators=(",", ":"))]))
print(f"news as an object: {len(as_object.encode())} bytes; as a JSON string (the article): "
      f"{len(as_string.encode())} bytes, {len(as_string.encode()) - len(as_object.encode())} "
      "more for the escaped quotes")

# %%
dora = await connected_client("dora")
first_id = dora.get_sid()
await dora.disconnect()
await dora.connect(URL, transports=["websocket"])  # the same client object, connecting again
print(f"dora's Socket.IO id: {first_id!r}, then after reconnecting {dora.get_sid()!r}")
await dora.disconnect()

# %% [markdown]
# ## 7. When to pick which
#
# | you need | pick |
# |---|---|
# | browsers and servers you control, a few message types, the least bytes and dependencies | a plain WebSocket, with your own small message format (a `type` field in JSON) |
# | named events, acks, rooms and broadcast, reconnection with backoff, out of the box | Socket.IO, on both sides (it is its own protocol: both ends must speak it) |
# | clients behind proxies that break WebSockets | Socket.IO's long-polling fallback, or SSE (notebook 02) for one-way news |
# | talking to third-party WebSocket APIs (exchanges, chat services) | a plain WebSocket client: they do not speak Socket.IO |
#
# What Socket.IO does *not* give by default: delivery guarantees. Events arrive in order, but
# **at most once** (socket.io's "delivery guarantees" page): the client buffers its own emits
# while it is disconnected, the server has no such buffer, so an event the server sends while
# a client is away is lost. *At least once* takes acks and retries (the client's `retries`
# and `ackTimeout` options), and then an event may arrive twice: the receiver must drop
# duplicates by an id of its own. Socket.IO 4.6's connection state recovery replays what a
# client missed during a short disconnection (2 minutes by default; python-socketio lacks
# it). Notebook 08 builds resuming without loss on a plain WebSocket.
#
# Our last clients leave, and the server keeps nothing of them, not even an empty room:

# %%
for client in (alice, carol):
    await client.disconnect()
await until(lambda: not feed.clients)
print("clients left on our server:", len(feed.clients), "| rooms left:", feed.rooms)

# %% [markdown]
# ## Summary
#
# - Socket.IO is two protocols on a transport: **Engine.IO** (open packet with a session id,
#   server pings `2` answered by `3`, messages `4`, the `2probe`/`3probe`/`5` upgrade from
#   long polling) carries **Socket.IO** (CONNECT `0`, EVENT `2`, ACK `3` with the event's id,
#   namespaces, binary attachments). `42["news",...]` is both at once.
# - An ack is an id on the event and an ACK with the same id back; a room is a set on the
#   server; broadcast is an emit to a set, minus the sender if you skip it.
# - The Socket.IO id is the server's, and new after every reconnection; delivery is at most
#   once unless you add acks and retries (and then drop duplicates).
# - On a WebSocket the protocol costs a few bytes per message (11 here, on a 1,630-byte
#   table), a few packets per session and a small heartbeat; how JSON is written and which
#   transport carries it cost more.
# - A Socket.IO client and a plain WebSocket server cannot talk, nor the other way round,
#   unless the program on the plain side speaks Engine.IO and Socket.IO itself.
# - The article's `readyState === io.OPEN` is always true (two undefineds), so its feed never
#   stops for clients that left.
#
# Next: notebook 10 builds a live chat on the same ideas.

# %% [markdown]
# ## Exercises
#
# **Exercise 9.1.** Decode a packet by hand. Without calling `packets.decode`, read
# `'42/chat,13["join","room 1"]'` into the tuple `(engineio_type, socketio_type, namespace,
# ack_id, event, args)`: the two types and the ack id as numbers (`None` if there is no ack
# id), the namespace as a string, the event's name, and its arguments as a list.

# %% tags=["solution"]
decoded_by_hand = (4, 2, "/chat", 13, "join", ["room 1"])

# %%
from wsteach.exercises import nb09

nb09.check_decoded('42/chat,13["join","room 1"]', decoded_by_hand)

# %% [markdown]
# **Exercise 9.2.** Write the ack reply. A server received an Engine.IO message holding an
# EVENT; its handler returned `values` (a list). Write `ack_reply(message, values)` returning
# the text the server sends back to answer the ack, or None when the event asked for none. Use
# `packets.decode` and `packets.encode` if you like, and mind the namespace.

# %% tags=["solution"]
def ack_reply(message, values):
    event = packets.decode(message[1:])
    if event.id is None:
        return None
    return "4" + packets.encode(packets.Packet(packets.PacketType.ACK, values, event.namespace,
                                               event.id))


# %%
nb09.check_ack_reply(ack_reply)

# %% [markdown]
# **Exercise 9.3** (predict, then run). Who receives a room broadcast? On a fresh server, four
# clients: ann joins `red`; ben joins `red` and `blue`; cat joins `blue`; dan joins nothing.
# Then, in order: ann says to `red`; cat says to `blue`; ben disconnects; ann says to `red`
# again. For each of the three messages, predict the set of names that receive `said` (`set()`
# for nobody). Write the prediction in the solution cell; the check runs the scenario on our
# server (the function below) and compares.

# %%
async def measure_rooms() -> dict[str, set[str]]:
    """The scenario of exercise 9.3, run on our server with python-socketio clients."""
    rooms_feed = newsfeed.news_feed(60)
    async with rooms_feed.serve() as running:
        clients = {name: await connected_client(name, f"http://127.0.0.1:{running.port}")
                   for name in ("ann", "ben", "cat", "dan")}
        for name, rooms in (("ann", ["red"]), ("ben", ["red", "blue"]), ("cat", ["blue"])):
            for room in rooms:
                await clients[name].call("join", room)
        measured = {}
        for step, sender, room in (("ann to red", "ann", "red"), ("cat to blue", "cat", "blue"),
                                   ("ben leaves", "ben", None),
                                   ("ann to red again", "ann", "red")):
            if room is None:  # ben leaves: wait until the server has seen him go
                await clients[sender].disconnect()
                await until(lambda: len(rooms_feed.clients) == 3)
                continue
            for client in clients.values():
                client.got["said"].clear()
            reached = await clients[sender].call("say", {"room": room, "text": step})
            await said_received(clients.values(), reached)
            await asyncio.sleep(QUIET_WAIT)  # for any message the count did not foresee
            measured[step] = {name for name, client in clients.items() if client.got["said"]}
        for client in clients.values():
            await client.disconnect()
    return measured


# %% tags=["solution"]
prediction = {"ann to red": {"ben"}, "cat to blue": {"ben"}, "ann to red again": set()}

# %%
measured_rooms = await measure_rooms()  # the scenario, run for real
print(measured_rooms)
nb09.check_room_prediction(prediction, measured_rooms)

# %% [markdown]
# **Exercise 9.4** (open). A heartbeat by the numbers. With socket.io's defaults (pingInterval
# 25 s, pingTimeout 20 s), how long can a server keep a client that vanished without a FIN,
# and how many bytes of heartbeat does an idle client cost per hour on a WebSocket (use the
# frame sizes of section 4)? Why did Engine.IO 4 move the ping from the client to the server?

# %% [markdown] tags=["solution"]
# *Model answer.* At most pingInterval + pingTimeout = 45 s: the client vanishes just after a
# pong, the next ping leaves 25 s later, and the server gives up 20 s after that (at best
# 20 s, when it vanishes just as a ping leaves; exercise 8.1). Per hour, 3600 / 25 = 144
# heartbeats of a 3-byte ping frame and a 7-byte pong frame: 1,440 bytes of frames. On the
# wire each frame is its own TCP segment with at least 52 bytes of IP and TCP headers
# (notebook 06), so about 144 × (10 + 2 × 52) ≈ 16 KB an hour, more when the ACKs travel
# alone: nothing for one client, 16 GB an hour for a million. The ping moved to the server
# because "the timers set in the browsers are not reliable enough" (Engine.IO's spec, "From
# v3 to v4"): browsers slow down the timers of background tabs (MDN, `setTimeout`, "Timeouts
# in inactive tabs"), so a client-driven ping came late and healthy clients were dropped. The
# server's timers are its own, and it is the side that must notice dead clients.

# %% [markdown]
# **Exercise 9.5** (open). Talk Socket.IO with a plain WebSocket. Using only `aio.connect` and
# the packets of sections 2 and 3, write a client that joins the room `kitchen` on our server
# (section 3's, still running at `feed_server.port`), answers every ping, and prints the `said`
# events it receives (to send some, join `kitchen` with another `connected_client(...)` and
# `call("say", ...)`). Which packets must it send, in which order, and which must it answer?

# %% [markdown] tags=["solution"]
# *Model answer.* Connect to `/socket.io/?EIO=4&transport=websocket`; read the open packet
# `0{...}` (its `pingInterval` and `pingTimeout` say how fast to answer); send `40` (CONNECT to
# `/`) and read `40{"sid":...}`; send `420["join","kitchen"]` (an event with ack id 0) and
# expect `430[true]`. Then read for ever: answer each `2` with `3` at once (or be dropped
# after pingTimeout), print the data of `42["said",...]`, and ignore `42["news",...]`. Leave
# with `41` (DISCONNECT), or just close. For example:
#
# ```python
# async def kitchen_listener(port: int, seconds: float) -> None:
#     async with aio.connect(f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket",
#                            ping_interval=None) as ws:
#         assert (await ws.recv()).startswith("0{")      # Engine.IO open
#         await ws.send("40")                              # Socket.IO CONNECT to /
#         assert (await ws.recv()).startswith("40{")     # the reply, with our Socket.IO id
#         await ws.send('420["join","kitchen"]')          # an event with ack id 0
#         async with asyncio.timeout(seconds):
#             async for message in ws:
#                 if message == "2":
#                     await ws.send("3")                   # Engine.IO pong
#                 elif message == "430[true]":
#                     print("joined kitchen")
#                 elif message.startswith('42["said"'):
#                     print("said:", packets.decode(message[1:]).data[1])
# ```
#
# (`asyncio.timeout` ends it with a `TimeoutError` after `seconds`: catch it to stop quietly.)

# %% [markdown] tags=["navigation"]
# [← 08 · Heartbeat and reconnect](08_heartbeat_and_reconnect.ipynb) | [Contents](../README.md) | [10 · The live chat →](10_live_chat.ipynb)
