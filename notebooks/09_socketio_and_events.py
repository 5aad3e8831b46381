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
# to a plain WebSocket server, nor the other way round; and where the article goes wrong.
#
# **You need** notebooks 02 (long polling), 03 (the handshake), 04 (frames) and 06 (reading a
# capture); 08's heartbeat helps. **Time:** about 40 minutes.

# %% [markdown] tags=["navigation"]
# [← 08 · Heartbeat and reconnect](08_heartbeat_and_reconnect.ipynb) | [Contents](../README.md) | [10 · The live chat →](10_live_chat.ipynb)

# %% [markdown]
# ## Parameters
#
# Every timing the demos wait on. The article pushed its guest table every 2 to 7 seconds;
# here the news comes every 0.1 s so that the notebook runs in seconds.

# %%
from wsteach.paths import CAPTURES

NEWS_INTERVAL = 0.1  # seconds between two news on our server (the article: 2 to 7 s)
PING_INTERVAL = 0.3  # Engine.IO heartbeat of the demo server (socket.io's default: 25 s)
PING_TIMEOUT = 0.3  # (socket.io's default: 20 s)
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
# Socket.IO's EVENT. (Specs: socket.io's `docs/engine.io-protocol/v4-current.md` and
# `docs/socket.io-protocol/v5-current.md`. Socket.IO 3 and 4 speak these versions, and so does
# python-socketio 5.)
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
# `12` up to the JSON: the ack id. python-socketio's own packet class reads it the same way:

# %%
from socketio import packet as their_packet

theirs = their_packet.Packet(encoded_packet=outer.data)
print("python-socketio:", their_packet.packet_names[theirs.packet_type], theirs.namespace,
      theirs.id, theirs.data)
assert (theirs.packet_type, theirs.id, theirs.data) == (inner.type, inner.id, inner.data)

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


def short(packet: engineio.Packet, limit: int = 44) -> str:
    text = engineio.encode(packet)
    text = text if isinstance(text, str) else f"<{len(text)} bytes>"
    return text if len(text) <= limit else text[:limit] + f"… ({len(text)} chars)"


session = socketio_capture.engineio_packets(UPGRADE_CAPTURE)
pictures.table([(f"{w.time * 1000:.0f} ms", f"{w.direction} → "
                 f"{'server' if w.direction == 'client' else 'client'}", w.transport,
                 w.carrier[:58], w.carrier_bytes, short(w.packet), describe(w.packet))
                for w in session],
               ["time", "who", "transport", "carried by", "bytes", "packet", "what it is"],
               ["#eef6ff" if w.direction == "client" else "#f4fbee" for w in session])

# %% [markdown]
# Read it from the top:
#
# - **The open packet** `0{"sid":...,"upgrades":["websocket"],"pingInterval":1000,...}` comes
#   as the body of the first `GET /socket.io/?EIO=4&transport=polling`: the Engine.IO session
#   id, the transports the client may upgrade to, and the heartbeat's timers in milliseconds.
# - **CONNECT**: the client posts `40{}` (python-socketio sends an empty auth object; the
#   JavaScript client sends plain `40`); the server answers `40{"sid":...}` with a *second* id,
#   the client's Socket.IO id in this namespace (`socket.id` in JavaScript).
# - **An event with an ack**: `421["echo","\u4f60\u597d"]` goes up in a POST; `431[...]` comes
#   back on a held GET: ACK with the same id, 1.
# - **News** `42["news",[...]]` arrive as answers to held GETs: that is long polling (notebook
#   02), each answer gzipped by the server.
# - **The heartbeat**: the *server* sends `2` (ping) and the client answers `3` (pong) in a
#   POST. Engine.IO 4 moved the ping to the server "because the timers set in the browsers are
#   not reliable enough" (its spec, "From v3 to v4").
# - **The upgrade** (second session): after the open packet, the client opens a WebSocket with
#   the same sid, sends `2probe`, gets `3probe`, then sends `5` (upgrade), and everything goes
#   on in frames: one packet per frame.
#
# The upgrade, as a sequence diagram:

# %%
from dataclasses import dataclass


@dataclass
class Row:  # what pictures.sequence_diagram reads
    index: int
    direction: str
    what: str
    phase: str = ""  # no bands: these rows are Engine.IO packets, not TCP's phases


upgraded = [w for w in session if w.connection == session[-1].connection][:11]
figure = pictures.sequence_diagram(
    [Row(n, "client → server" if w.direction == "client" else "server → client",
         f"{short(w.packet, 16)}  {describe(w.packet)}") for n, w in enumerate(upgraded)],
    title="python-socketio: the open packet by polling, then the upgrade to a WebSocket")

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
# The server's size, in lines:

# %%
import inspect

from wsteach.socketio import newsfeed, server

for module in (engineio, packets, server, newsfeed):
    lines = inspect.getsource(module).splitlines()
    print(f"{module.__name__:26} {len(lines):4} lines")

# %% [markdown]
# Start it on a free port (Run All twice: the first server is closed before a new one starts),
# and connect the **official Python client**, python-socketio's `AsyncClient`, over the
# WebSocket transport:

# %%
import asyncio

import socketio

previous = globals().get("feed_server")  # the server of an earlier Run All
if previous is not None:
    previous.close()
    await previous.wait_closed()
feed = newsfeed.news_feed(NEWS_INTERVAL, ping_interval=PING_INTERVAL, ping_timeout=PING_TIMEOUT)
feed_server = await feed.serve()
URL = f"http://127.0.0.1:{feed_server.port}"


async def connected_client(name: str) -> socketio.AsyncClient:
    """A python-socketio client that keeps what it receives in client.got."""
    client = socketio.AsyncClient(reconnection=False)
    client.got = {"news": [], "said": []}
    client.on("news", client.got["news"].append)
    client.on("said", lambda message: client.got["said"].append(message))
    await client.connect(URL, transports=["websocket"])
    client.name = name
    return client


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
while (answer := await raw.recv()).startswith('42["news"'):
    pass  # more news arrived meanwhile
print("server:", answer)
await raw.close()

# %% [markdown]
# ### Rooms and broadcast
#
# A room is nothing the client can see: it is a set on the server (`feed.rooms`, room name →
# the clients' ids), filled by `join` and emptied when a client leaves. `say` is an emit to the
# room with the sender skipped.

# %%
bob, carol = await connected_client("bob"), await connected_client("carol")
for client, room in ((alice, "kitchen"), (bob, "kitchen"), (carol, "garden")):
    assert await client.call("join", room) is True
print({room: sorted(members) for room, members in feed.rooms.items()})
reached = await alice.call("say", {"room": "kitchen", "text": "dinner is ready"})
await asyncio.sleep(0.05)
print(f"alice's say reached {reached} client(s)")
for client in (alice, bob, carol):
    print(f"  {client.name:6} got said: {client.got['said']}")

# %% [markdown]
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
# frames.) A hand-made client that never answers:

# %%
import time

silent = await aio.connect(f"ws://127.0.0.1:{feed_server.port}/socket.io/?EIO=4&transport=websocket",
                           ping_interval=None)
await silent.recv()  # the open packet
await silent.send('40')
await silent.recv()  # 40{"sid":...}
started, seen = time.monotonic(), []
try:
    while True:
        if (text := await silent.recv()) == "2":
            seen.append(f"ping at {time.monotonic() - started:.2f} s (not answered)")
except aio.ConnectionClosed as closed:
    dropped, why = time.monotonic() - started, closed
print(*seen, sep="\n")
print(f"dropped after {dropped:.2f} s with {why.code} {why.reason!r}; "
      f"pingInterval + pingTimeout = {PING_INTERVAL + PING_TIMEOUT:.2f} s")
print("alice, who answers pings, is still connected:", alice.connected)

# %% [markdown]
# ### Leaving: out of every room
#
# When bob goes, the server takes him out of every room; alice's next `say` reaches nobody:

# %%
await bob.disconnect()
await asyncio.sleep(0.05)
print({room: sorted(members) for room, members in feed.rooms.items()})
print("alice's say now reaches", await alice.call("say", {"room": "kitchen", "text": "hello?"}))

# %% [markdown]
# ## 4. What Socket.IO costs, measured
#
# `data/captures/socketio_vs_websocket.pcap` holds the same guest table sent three times, once
# as the event `news` from our server to python-socketio's client, once as a plain text
# message over a plain WebSocket. Each row is measured on the wire (frame header + payload).

# %%
from wsteach.wire import capture

frames = capture.websocket_frames(BYTES_CAPTURE)
ours = [w for w in socketio_capture.engineio_packets(BYTES_CAPTURE)
        if short(w.packet).startswith('42["news"')]
plain_connection = max(frame.connection for frame in frames)
plain = [f for f in frames if f.connection == plain_connection and f.direction == "server"
         and f.opcode == Opcode.TEXT]
theirs_ws = [w for w in session if w.transport == "websocket"
             and short(w.packet).startswith('42["news"')]
theirs_polling = [w for w in session if w.transport == "polling"
                  and short(w.packet).startswith('42["news"')]
table_bytes = len(plain[0].payload)
per_message = {
    "plain WebSocket": len(plain[0].wire),
    "Socket.IO, our server": ours[0].carrier_bytes,
    "Socket.IO, python-socketio (WebSocket)": theirs_ws[0].carrier_bytes,
    "Socket.IO, python-socketio, long polling (gzipped)":
        min(w.carrier_bytes for w in theirs_polling),
}
pictures.table([(name, size, f"{size - per_message['plain WebSocket']:+d}")
                for name, size in per_message.items()],
               ["one news message (the 1630-byte table)", "bytes on the wire",
                "against plain WebSocket"])

# %% [markdown]
# So on a WebSocket, Socket.IO's own cost per event is small: `42["news",` and `]`, 11 bytes
# on a 1,630-byte table. Two things cost far more than the protocol:
#
# - **How the JSON is written.** python-socketio writes JSON with `ensure_ascii`, so each
#   Chinese character becomes `\uXXXX`: 6 bytes instead of 3 in UTF-8. Our server (like the
#   JavaScript one) writes UTF-8 as it is.
# - **The transport.** On long polling each news is a whole HTTP response (and a new GET to
#   hold); the server gzips bodies over 1 KB, which here makes the response *smaller* than the
#   uncompressed frame. A WebSocket could compress too (permessage-deflate, notebook 07), if
#   both sides agree to it.
#
# What a session costs once, and what the heartbeat costs while nothing happens:

# %%
sessions = capture.websocket_sessions(capture.read_pcap(BYTES_CAPTURE))
socketio_session, plain_session = sessions[0], sessions[-1]
opened = [w for w in socketio_capture.engineio_packets(BYTES_CAPTURE)
          if w.packet.type is engineio.PacketType.OPEN or short(w.packet).startswith("40")]
ping_frame = len(encode_frame(Frame(Opcode.TEXT, b"2")))  # server to client: unmasked
pong_frame = len(encode_frame(Frame(Opcode.TEXT, b"3"), b"mask"))  # client to server: masked
pictures.table([
    ("opening handshake (request + 101)",
     len(socketio_session.request) + len(socketio_session.response),
     len(plain_session.request) + len(plain_session.response)),
    ("open packet, CONNECT and its reply", sum(w.carrier_bytes for w in opened), 0),
    ("one heartbeat (ping + pong frames)", ping_frame + pong_frame, 0),
], ["once per session", "Socket.IO", "plain WebSocket"])

# %%
import matplotlib.pyplot as plt

figure, axes = plt.subplots(figsize=(8, 2.6))
names = list(per_message)
axes.barh(names, [per_message[n] for n in names], color=["#adb5bd", "#4dabf7", "#ffa94d",
                                                          "#69db7c"])
for y, name in enumerate(names):
    axes.text(per_message[name] + 15, y, f"{per_message[name]} B", va="center", fontsize=9)
axes.axvline(table_bytes, color="black", linestyle=":", linewidth=1)
axes.text(table_bytes, len(names) - 0.45, " the table itself", fontsize=8)
axes.invert_yaxis()
axes.set_xlabel("bytes on the wire for one news message")
axes.set_xlim(0, max(per_message.values()) * 1.2)
figure.tight_layout()

# %% [markdown]
# ## 5. Why a Socket.IO client cannot talk to a plain WebSocket server (and back)
#
# "WebSocket" in Socket.IO is only the transport. Both sides expect Engine.IO packets inside
# it, so a plain WebSocket peer and a Socket.IO peer never understand each other:

# %%
async def plain_echo(ws):
    async for message in ws:
        await ws.send(message)


async with aio.serve(plain_echo, "127.0.0.1", 0) as echo_server:
    client = socketio.AsyncClient(reconnection=False)
    try:
        async with asyncio.timeout(1):  # python-socketio itself would wait for ever
            await client.connect(f"http://127.0.0.1:{echo_server.port}",
                                 transports=["websocket"])
    except TimeoutError:
        print("python-socketio against a plain WebSocket echo server: connected a WebSocket, "
              "then waited 1 s for an open packet that never came")
    except socketio.exceptions.ConnectionError as error:
        print("python-socketio against a plain WebSocket echo server:", repr(error))

from wsteach.handshake import HandshakeError

try:
    await aio.connect(f"ws://127.0.0.1:{feed_server.port}/")
except HandshakeError as error:  # the handshake is refused: no WebSocket at /
    print("a plain WebSocket to our Socket.IO server at / :", error)

# %% [markdown]
# The Socket.IO client waited for an open packet `0{...}` that an echo server never sends
# (it only echoes). A plain WebSocket client asking at `/` gets the news page (200, not 101);
# at `/socket.io/?EIO=4&...` it
# would be let in, receive `0{...}` it does not understand, and be dropped when it neither
# sends CONNECT nor answers pings (section 3). Our server also refuses the polling transport
# with a plain 400 that says why:

# %%
# (urllib would block the kernel's event loop, where our server runs: ask with asyncio)
reader, writer = await asyncio.open_connection("127.0.0.1", feed_server.port)
writer.write(b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
print((await reader.read()).decode())
writer.close()

# %% [markdown]
# ## 6. Errata: the article on Socket.IO
#
# <div style="border-left:4px solid #e8590c;padding:4px 12px;background:#fff4e6">
#
# **"WebSocket是SocketIO的一个子集" (WebSocket is a subset of Socket.IO).** No: Socket.IO is
# a protocol built *on top of* WebSocket (and of HTTP long polling), as section 1 shows: every
# Socket.IO packet rides inside an Engine.IO packet inside a WebSocket frame. Nothing in
# WebSocket is "part of" Socket.IO's API, and, as section 5 shows, a WebSocket client cannot
# talk to a Socket.IO server at all.
#
# **"支持的浏览器最近达IE5.5" (browsers back to IE 5.5).** That was Socket.IO 0.9's claim
# (2012), with Flash sockets, the `htmlfile` ActiveX object and JSONP polling. Socket.IO 3 and
# 4, the versions the article's `socket.io-client` installs today, "support IE9 and above. IE
# 6/7/8 are not supported anymore" (socket.io's documentation, "Client Installation"). A
# WebSocket-only server such as ours needs a browser with WebSocket (IE 10 and later).
#
# **`if (socket.readyState === io.OPEN)`.** Neither name exists: a Socket.IO server's `socket`
# has no `readyState` and the server `io` has no `OPEN` (socket.io's `lib/socket.ts` and
# `lib/index.ts`). The test compares `undefined === undefined`, which is **always true**, also
# after the client has left (checked by hand on socket.io 2.5.1 and 4.8.4 servers). So the
# feed does emit, but never stops: every client that ever connected keeps a timer (and a
# request to the guest API) running every 2 to 7 s, forever. The check to write is
# `socket.connected`, and the timer must be cleared on `disconnect`, which is what our
# news feed does (its news task is cancelled when the client goes). The cell below shows the
# same `undefined === undefined` on the client library's own objects, when Node.js is here.
#
# **`socket.emit('news', JSON.stringify(jsonObject))`, then `JSON.parse(res)`.** Socket.IO
# already encodes the arguments as JSON; stringifying first sends a string of JSON inside
# JSON, every quote escaped (measured below), and makes the client parse twice.
# </div>

# %%
import json
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

guests = newsfeed.load_guests()
as_object = packets.encode(packets.Packet(packets.PacketType.EVENT, ["news", guests]))
as_string = packets.encode(packets.Packet(packets.PacketType.EVENT, [
    "news", json.dumps(guests, ensure_ascii=False, separators=(",", ":"))]))
print(f"news as an object: {len(as_object.encode())} bytes; as a JSON string (the article): "
      f"{len(as_string.encode())} bytes, {len(as_string.encode()) - len(as_object.encode())} "
      "more for the escaped quotes")

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
# What Socket.IO does *not* give by default: delivery guarantees. Events are at most once;
# an event sent by the server while a client is away is lost (socket.io's "delivery
# guarantees" page), unless you turn on its connection state recovery (which python-socketio
# lacks). Notebook 08 builds resuming without loss on a plain WebSocket.

# %%
for client in (alice, carol):
    await client.disconnect()
await asyncio.sleep(0.05)
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
# - On a WebSocket the protocol costs a few bytes per message (11 here, on a 1,630-byte
#   table), a packet or two per session and a heartbeat; how JSON is written and which
#   transport carries it cost more.
# - A Socket.IO client and a plain WebSocket server cannot talk, nor the other way round.
# - The article's `readyState === io.OPEN` is always true (two undefineds), so its feed never
#   stops for clients that left.
#
# Next: notebook 10 builds a live chat on the same ideas.

# %% [markdown]
# ## Exercises
#
# **9.1 Decode a packet by hand.** Without calling `packets.decode`, read
# `'4213["join","room 1"]'` into `(engineio_type, socketio_type, namespace, ack_id, event,
# args)`.

# %% tags=["solution"]
decoded_by_hand = (4, 2, "/", 13, "join", ["room 1"])

# %%
from wsteach.exercises import nb09

nb09.check_decoded('4213["join","room 1"]', decoded_by_hand)

# %% [markdown]
# **9.2 Write the ack reply.** A server received an Engine.IO message holding an EVENT; its
# handler returned `values` (a list). Write `ack_reply(message, values)` returning the text the
# server sends back to answer the ack, or None when the event asked for none. Use
# `packets.decode` if you like, and mind the namespace.

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
# **9.3 Predict who receives a room broadcast.** On a fresh server, four clients: ann joins
# `red`; ben joins `red` and `blue`; cat joins `blue`; dan joins nothing. Then, in order: ann
# says to `red`; cat says to `blue`; ben disconnects; ann says to `red` again. For each of the
# three messages, predict the set of names that receive `said`. Write the prediction in the
# solution cell; the check runs the scenario on our server (the function below) and compares.

# %%
async def measure_rooms() -> dict[str, set[str]]:
    """The scenario of exercise 9.3, run on our server with python-socketio clients."""
    rooms_feed = newsfeed.news_feed(60)
    async with rooms_feed.serve() as running:
        clients = {}
        for name in ("ann", "ben", "cat", "dan"):
            client = socketio.AsyncClient(reconnection=False)
            client.got = []
            client.on("said", client.got.append)
            await client.connect(f"http://127.0.0.1:{running.port}", transports=["websocket"])
            clients[name] = client
        for name, rooms in (("ann", ["red"]), ("ben", ["red", "blue"]), ("cat", ["blue"])):
            for room in rooms:
                await clients[name].call("join", room)
        measured = {}
        for step, sender, room in (("ann to red", "ann", "red"), ("cat to blue", "cat", "blue"),
                                   ("ben leaves", "ben", None),
                                   ("ann to red again", "ann", "red")):
            if room is None:
                await clients[sender].disconnect()
                await asyncio.sleep(0.05)
                continue
            for client in clients.values():
                client.got.clear()
            await clients[sender].call("say", {"room": room, "text": step})
            await asyncio.sleep(0.05)
            measured[step] = {name for name, client in clients.items() if client.got}
        for client in clients.values():
            if client.connected:
                await client.disconnect()
    return measured


# %% tags=["solution"]
prediction = {"ann to red": {"ben"}, "cat to blue": {"ben"}, "ann to red again": set()}

# %%
measured_rooms = await measure_rooms()  # the scenario, run for real
print(measured_rooms)
nb09.check_room_prediction(prediction, measured_rooms)

# %% [markdown]
# **9.4 (open) A heartbeat by the numbers.** With socket.io's defaults (pingInterval 25 s,
# pingTimeout 20 s), how long can a server keep a client that vanished without a FIN, and how
# many bytes of heartbeat does an idle client cost per hour on a WebSocket (use the frame
# sizes of section 4)? Why did Engine.IO 4 move the ping from the client to the server?

# %% [markdown]
# **9.5 (open) Talk Socket.IO with a plain WebSocket.** Using only `aio.connect` and the
# packets of section 2, write a client that joins the room `kitchen` on our server, answers
# every ping, and prints the `said` events it receives. Which packets must it send, in which
# order, and which must it answer?

# %%
feed_server.close()
await feed_server.wait_closed()

# %% [markdown] tags=["navigation"]
# [← 08 · Heartbeat and reconnect](08_heartbeat_and_reconnect.ipynb) | [Contents](../README.md) | [10 · The live chat →](10_live_chat.ipynb)
