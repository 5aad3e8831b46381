# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 02 · Polling, long polling, streaming and Server-Sent Events, measured
#
# Notebook 01 ended on HTTP's rule: the server speaks only when asked. Yet web pages showed
# chat messages, stock prices and, in the source article's demo, a guest list that changes
# every few seconds. This notebook builds the four tricks that made it work (section 二.2-5 of
# the article), runs them against the same stream of events, and measures each: how late the
# news arrives, and how many bytes each message costs. Then it recomputes the classic table
# that compares polling with WebSocket, from bytes measured here.
#
# **You will learn**
# - short polling (短轮询), long polling (长轮询), streaming with a "forever iframe" (iframe 流)
#   and Server-Sent Events, each as a working server and client whose bytes you can read;
# - how SSE reconnects without losing an event (`Last-Event-ID`);
# - latency and overhead per message for each, and for a WebSocket on the same events;
# - where the classic "871 bytes against 2" argument holds, and where it flatters WebSocket.
#
# **You need** notebook 01 (HTTP/1.1 requests and responses, keep-alive, HPACK), and
# `asyncio.gather` from notebook 00. **Time:** about 40 minutes to read and run; the exercises
# take another 30 to 45 (2.1 and 2.2 are small programs: set them as homework if short of
# time).

# %% [markdown] tags=["navigation"]
# [← 01 · HTTP before WebSocket](01_http_before_websocket.ipynb) | [Contents](../README.md) | [03 · The opening handshake →](03_opening_handshake.ipynb)

# %%
import asyncio
import json
import statistics
import threading
import time

import matplotlib.pyplot as plt
from hpack import Encoder
from scapy.layers.inet import IP, TCP

from wsteach import http1
from wsteach.exercises import nb02
from wsteach.frames import Opcode
from wsteach.lessons import polling, polling_clients
from wsteach.paths import CAPTURES
from wsteach.show import pictures
from wsteach.wire import capture, scenarios

# %% [markdown]
# Every timing the demos wait on, in one place. The article's server sent news every 2 to 7
# seconds and its client polled every second; dividing by `SPEED_UP` keeps the proportions and
# makes each demo take a second or two.

# %%
SPEED_UP = 40
MIN_INTERVAL = 2 / SPEED_UP  # seconds between two guests, at least (the article: 2 s)
MAX_INTERVAL = 7 / SPEED_UP  # and at most (the article: 7 s)
POLL_INTERVAL = 1 / SPEED_UP  # the short-polling client asks this often (the article: 1 s)
HOLD = 0.12  # a long poll is answered 204 after this long without news
RETRY_MS = 50  # the SSE reconnection delay the server asks for
SETTLE = 0.01  # a moment for a client to read what was just sent
DIALOGUE_MESSAGES = 3  # guests in each live dialogue
RACE_MESSAGES = 8  # guests in the side-by-side measurement
SLOWER_MESSAGES = 5  # guests in exercise 2.4's run
HELD_CLIENTS = 100  # long polls held at once, to count the threads that hold them
HELD_HOLD = 2.0  # their hold: longer than opening them all takes (news ends it at once)
SEED = 2019  # the random intervals, repeatable
CLIENTS = (1_000, 10_000, 100_000)  # the audiences of the classic table

# %% [markdown]
# ## 1. The news: guests arriving at random moments
#
# The article's server (section 五) fetched a guest list and sent it again after a random
# pause: `setTimeout(..., (Math.random() * 5 + 2) * 1000)`. `polling.EventSource` does the
# same with the guests in `data/guests.json`: `produce(n)` publishes n guests, each after a
# random pause between `MIN_INTERVAL` and `MAX_INTERVAL`, and keeps every message so that a
# client can ask for what it missed. Each message is a little JSON document; this is the
# *payload*, what every technique below must deliver:

# %%
guests = polling.load_guests()
example = polling.EventSource(guests).publish(guests[0])
print(example.body.decode())
print(len(example.body), "bytes")


# %% [markdown]
# `produced` is the time the source made the message; each client notes when it *saw* the
# message, so latency is `seen - produced`. Both clocks are the same one, since server and
# clients run in this kernel. Every client also counts each byte it sent and received.
#
# ## 2. Short polling: "啦啦啦，有没有新信息？"
#
# The client asks every `POLL_INTERVAL` seconds (`GET /poll?after=<last id seen>`); the server
# answers at once: `200` with the new messages, or `204 No Content`. Here is the article's
# dialogue, live: each line is printed as an answer arrives, with the request and status
# lines that carried it.

# %%
def first_line(data: bytes) -> str:
    return data.split(b"\r\n", 1)[0].decode()


def guests_in(response: bytes) -> str:
    """The names in a response whose body is a JSON list of messages."""
    body = json.loads(response[http1.head_end(response):])
    return "、".join(item["guest"]["surname"] + item["guest"]["name"] for item in body)


def short_polling_line(side: str, data: bytes) -> None:
    """Print each question with its answer, as the answer arrives."""
    short_log.append((side, data))
    if side == "client":
        return
    clock = f"{(time.perf_counter() - start) * 1000:5.0f} ms"
    answer = "没有" if b" 204 " in data[:13] else f"有啦给你：{guests_in(data)}"
    wire = f"{first_line(short_log[-2][1])} → {first_line(data)}"
    print(f"{clock}  客户端：啦啦啦，有没有新信息？ 服务端：{answer:<10}  {wire}")


short_log = []
source = polling.EventSource(guests, MIN_INTERVAL, MAX_INTERVAL, seed=SEED)
start = time.perf_counter()
async with polling.serve(source) as server:
    short, _ = await asyncio.gather(
        polling_clients.short_polling_client(server.port, DIALOGUE_MESSAGES, POLL_INTERVAL,
                                     trace=short_polling_line),
        source.produce(DIALOGUE_MESSAGES))
print(f"\n{short.tally.requests} questions for {len(short.deliveries)} guests, "
      f"{short.tally.sent + short.tally.received} bytes")

# %% [markdown]
# The first exchanges as bytes. The question is always the same few lines; most answers are
# an empty `204`:

# %%
pictures.transcript(short_log[:6])


# %% [markdown]
# ## 3. Long polling: "没有的话就等有了才返回给我吧"
#
# The client asks the same question, but the server *holds* the request until there is news,
# or until `HOLD` seconds have passed; then it answers `204` and the client asks again at
# once. News reaches the client as soon as it exists, and there are far fewer empty answers.

# %%
def long_polling_line(side: str, data: bytes) -> None:
    global asked
    now = time.perf_counter()
    clock = f"{(now - start) * 1000:5.0f} ms"
    if side == "client":
        asked = now
        print(f"{clock}  客户端：啦啦啦，有没有新信息，没有的话就等有了才返回给我吧  {first_line(data)}")
        return
    held = f"held {(now - asked) * 1000:.0f} ms"
    if b" 204 " in data[:13]:
        print(f"{clock}  服务端：还没有，你再问一次吧 ({held})      {first_line(data)}")
    else:
        print(f"{clock}  （一段时间之后。。。）服务端：有消息啦。。来给你：{guests_in(data)} ({held})")


asked = start = time.perf_counter()
source = polling.EventSource(guests, MIN_INTERVAL, MAX_INTERVAL, seed=SEED)
async with polling.serve(source, hold=HOLD) as server:
    long, _ = await asyncio.gather(
        polling_clients.long_polling_client(server.port, DIALOGUE_MESSAGES, trace=long_polling_line),
        source.produce(DIALOGUE_MESSAGES))
print(f"\n{long.tally.requests} questions for {len(long.deliveries)} guests, "
      f"{long.tally.sent + long.tally.received} bytes")

# %% [markdown]
# The line "还没有，你再问一次吧" ("nothing yet, ask again") is ours: the article's dialogue
# has no timeout, and its code meant to have one (its comment: when a request takes too long,
# jQuery's `error` callback asks again). A held request must be answered before a proxy or the
# browser gives up on it, which is what `HOLD` is for; notebook 08 meets the same problem
# again as the WebSocket heartbeat.
#
# > **Errata** (article section 二.3, its long-polling code). The code does not run. In
# > ```js
# >     success:function(res) { ... }
# >     //当请求时间过长（默认为60秒），就再次调用ajax长轮询
# >     error:function(res){
# >       $.ajax($getting);
# >     }
# > ```
# > there is no comma between the `success` and `error` members of the object literal, a
# > syntax error in every JavaScript engine, so the page runs none of its script; and once the
# > comma is added, `$getting` is a name that was never defined (the object is `getting`), so
# > the first timeout would throw a `ReferenceError` instead of asking again. (Also, jQuery's
# > `$.ajax` has no timeout by default: the "60 seconds" of the comment is whatever the
# > browser or a proxy allows.)
#
# > **Errata** (article section 二.3). The article describes long polling as "为某些数据设置过期
# > 时间。当数据过期后才会向服务端发送请求" (data gets an expiry time and the client asks only
# > when it has expired). That describes cache expiry, not long polling: in long polling the
# > client asks at once and the **server** waits, holding the request until it has news or its
# > timeout runs out; the article's own dialogue and code show exactly that.

# %% [markdown]
# ## 4. Streaming: the forever iframe
#
# One request, and a response that never ends. The page hides an
# `<iframe src="/stream">`; the server answers with a chunked HTML page
# (`Transfer-Encoding: chunked`, RFC 9112 section 7.1: each chunk is its size in hex, CR LF,
# the data, CR LF), and for every message it sends a chunk holding a script that calls the
# parent page: `<script>parent.push({...})</script>`. The browser runs each script as it
# arrives. Here are the bytes:

# %%
stream_log = []
source = polling.EventSource(guests, MIN_INTERVAL, MAX_INTERVAL, seed=SEED)
async with polling.serve(source) as server:
    streamed, _ = await asyncio.gather(
        polling_clients.streaming_client(server.port, 2, trace=lambda *sent: stream_log.append(sent)),
        source.produce(2))
pictures.transcript(stream_log)

# %% [markdown]
# After the request and the response head, each message costs only its chunk line and the
# script around it. The price is elsewhere: the connection stays open (a server holds one per
# client), and nothing in the page knows whether the stream is still alive.
#
# ## 5. Server-Sent Events: streaming, standardised
#
# `EventSource` in the browser (HTML Living Standard, section 9.2) does the forever iframe
# properly: the response is `text/event-stream`, each event is a few `field: value` lines and a
# blank line, and an event with an `id:` lets the browser resume. (A `data:` field may come
# several times in one event, its lines joined by a line feed; a line that starts with a colon
# is a comment, which servers send to keep a quiet connection alive.) When the connection
# drops, the browser waits `retry` milliseconds and reconnects with the header
# `Last-Event-ID: <the last id it saw>`; the server sends what was missed.
#
# Below, the server cuts every connection in the middle of the stream (`drop_connections`, as a
# failing network or an impatient proxy would), and a guest arrives while the client is away.

# %%
sse_log = []
source = polling.EventSource(guests, MIN_INTERVAL, MAX_INTERVAL, seed=SEED)
async with polling.serve(source, retry_ms=RETRY_MS) as server:
    client = asyncio.create_task(
        polling_clients.sse_client(server.port, 4, trace=lambda *sent: sse_log.append(sent)))
    await source.produce(2)
    await asyncio.sleep(SETTLE)  # let the client read the second event
    server.drop_connections()
    source.publish(guests[2])  # news while the client is disconnected
    await source.produce(1)
    events = await client
pictures.transcript(sse_log)

# %%
requests = [http1.parse_request(data) for side, data in sse_log
            if side == "client" and data.startswith(b"GET ")]
print("ids received:", [d.message_id for d in events.deliveries],
      f"over {events.tally.connections} connections")
print("Last-Event-ID sent when reconnecting:",
      [request.headers.get("Last-Event-ID") for request in requests])

# %% [markdown]
# No event was lost and none came twice: the second request said where the first stream
# stopped. With streaming (section 4) the page would have to build this itself.
#
# ## 6. All of them, and a WebSocket, on the same news
#
# Now the race: one event source, one HTTP server with every technique, one WebSocket server
# (`wsteach.aio`, pushing each message as a text frame), and five clients running at the same
# time for the same `RACE_MESSAGES` guests. For each message every client reports when it was
# produced, when it was seen, and the bytes spent since the message before (requests, heads,
# framing and the message itself; `wire_bytes - payload_bytes` is the overhead).

# %%
source = polling.EventSource(guests, MIN_INTERVAL, MAX_INTERVAL, seed=SEED)
async with (polling.serve(source, hold=HOLD) as server,
            polling.serve_websocket(source) as websocket_server):
    *reports, _ = await asyncio.gather(
        polling_clients.short_polling_client(server.port, RACE_MESSAGES, POLL_INTERVAL),
        polling_clients.long_polling_client(server.port, RACE_MESSAGES),
        polling_clients.streaming_client(server.port, RACE_MESSAGES),
        polling_clients.sse_client(server.port, RACE_MESSAGES),
        polling_clients.websocket_client(websocket_server.port, RACE_MESSAGES),
        source.produce(RACE_MESSAGES))


def mean(values) -> float:
    return statistics.fmean(values)


rows = []
for report in reports:
    latencies = [d.latency * 1000 for d in report.deliveries]
    spent = report.tally.sent + report.tally.received
    rows.append((report.technique, len(report.deliveries), report.tally.requests,
                 report.tally.connections, f"{spent / len(report.deliveries):.0f}",
                 f"{statistics.median(d.overhead_bytes for d in report.deliveries):.0f}",
                 f"{statistics.median(latencies):.1f}", f"{max(latencies):.1f}"))
pictures.table(rows, ["technique", "messages", "HTTP requests", "TCP connections",
                  "bytes per message", "median overhead (B)", "median latency (ms)",
                  "worst latency (ms)"])

# %%
colours = ["#e8590c", "#f08c00", "#1c7ed6", "#1098ad", "#2f9e44"]
names = [report.technique for report in reports]
figure, (late, cost) = plt.subplots(1, 2, figsize=(13, 4))
for position, (report, colour) in enumerate(zip(reports, colours, strict=True)):
    latencies = [d.latency * 1000 for d in report.deliveries]
    late.scatter([position] * len(latencies), latencies, color=colour, alpha=0.7)
    late.hlines(statistics.median(latencies), position - 0.3, position + 0.3, color=colour)
late.set_yscale("log")
late.set_xticks(range(len(names)), names)
late.set(ylabel="ms from produced to seen (log scale)", title="latency of each message")
payload = [mean(d.payload_bytes for d in r.deliveries) for r in reports]
overhead = [mean(d.overhead_bytes for d in r.deliveries) for r in reports]
cost.bar(names, payload, color="#adb5bd", label="the message itself")
cost.bar(names, overhead, bottom=payload, color=colours, label="overhead")
cost.set(ylabel="bytes per message (mean)", title="what a message costs (TCP payload)")
cost.legend()
figure.tight_layout()
plt.show()

# %%
by_name = {report.technique: report for report in reports}
short_latency = [d.latency for d in by_name["short polling"].deliveries]
print(f"Short polling: mean latency {mean(short_latency) * 1000:.1f} ms over "
      f"{len(short_latency)} messages. Expected: about half the time between two questions "
      f"(news arrives at a random moment between them), about {POLL_INTERVAL / 2 * 1000:.1f} "
      "ms; with so few messages the mean scatters around that, and each question also takes "
      "a little time.")
print(f"It asked {by_name['short polling'].tally.requests} times for {RACE_MESSAGES} messages; "
      f"long polling asked {by_name['long polling'].tally.requests} times.")
for name in ("streaming", "SSE", "WebSocket"):
    first, *rest = by_name[name].deliveries
    print(f"{name}: the first message paid {first.overhead_bytes:.0f} B of overhead (request "
          f"and head), each later one {statistics.median(d.overhead_bytes for d in rest):.0f} B")

# %% [markdown]
# Short polling is late by design: the news waits for the next question. Long polling is
# nearly as quick as the push techniques, but pays a full request and response per message.
# Streaming, SSE and WebSocket pay their setup once and then a few bytes of framing per
# message; the plot's overhead bars are the mean, setup included, the table's column the
# median, which is the steady state.
#
# > **Errata** (article section 二.5, on all of these techniques: "非真正的实时技术" (not
# > truly real-time) and "每次的HTTP请求和应答都带有完整HTTP头信息" (every request and
# > response carries full HTTP headers)). Both hold for short and long polling. They do not
# > hold for streaming, which the article files under the same heading (Comet, long polling
# > plus streaming): its one response never ends, so its messages carry no headers at all,
# > and they arrive as fast as the WebSocket's:

# %%
pictures.table([(name, f"{statistics.median(d.latency for d in by_name[name].deliveries) * 1000:.1f}",
                 f"{statistics.median(d.overhead_bytes for d in by_name[name].deliveries[1:]):.0f}",
                 by_name[name].tally.requests)
                for name in ("long polling", "streaming", "SSE", "WebSocket")],
               ["technique", "median latency (ms)", "overhead per later message (B)",
                "HTTP requests in all"])

# %% [markdown]
# > The same section says Comet keeps "线程大部分时间处于挂起状态" (threads suspended most of the
# > time), wasting server resources. That assumes a server with a thread per request, as the
# > servers of the time had. A held request needs a thread only if the server gives each
# > request one; an event-driven server holds it as a waiting coroutine. The server of this
# > notebook is asyncio, one thread for all. Count the threads of this kernel while it holds
# > `HELD_CLIENTS` long polls at once:

# %%
threads_before = threading.active_count()
source = polling.EventSource(guests)
async with polling.serve(source, hold=HELD_HOLD) as server:
    clients = [asyncio.create_task(polling_clients.long_polling_client(server.port, 1))
               for _ in range(HELD_CLIENTS)]
    async with asyncio.timeout(5):
        while source.waiting < HELD_CLIENTS:  # until the server holds every request
            await asyncio.sleep(SETTLE)
    threads_while_held = threading.active_count()
    source.publish(guests[0])
    answered = await asyncio.gather(*clients)
print(f"{len(answered)} long polls held at once, then all answered by one publish; threads in "
      f"this kernel: {threads_before} before, {threads_while_held} while they were held.")

# %% [markdown]
# What a held request does cost is what any open connection costs: a socket and its buffers
# on the server, and a place in every proxy's and NAT's table on the way (the article's other
# point, 网关的不可控性: an idle connection may be closed by any gateway). A WebSocket server
# pays the same for each client it holds open; that is the price of a server that can speak
# first, whatever the technique.
#
# ## 7. What the table leaves out: IP and TCP headers
#
# The bytes above are TCP payload. Every packet also carries an IP header and a TCP header,
# and most data packets are answered by an ACK packet of headers alone. The stored captures of
# the same techniques (`python -m wsteach capture --out data/captures`, scenarios
# `short_polling`, `long_polling`, `streaming`, `sse`, `websocket_events`, each delivering
# `scenarios.NEWS_COUNT` guests) show everything, connection setup and teardown included.
# They were recorded with the timings of `wsteach.wire.scenarios`, which are meant to be this
# notebook's; changing the parameter cell changes the live demos, not the stored captures:

# %%
capture_timings = [
    ("news interval (s)", (MIN_INTERVAL, MAX_INTERVAL), scenarios.NEWS_INTERVAL),
    ("poll interval (s)", POLL_INTERVAL, scenarios.POLL_INTERVAL),
    ("long-poll hold (s)", HOLD, scenarios.HOLD),
    ("SSE retry (ms)", RETRY_MS, scenarios.RETRY_MS),
]
pictures.table([(name, ours, theirs, "yes" if ours == theirs else
                 "no: regenerate the captures to follow the parameter cell")
                for name, ours, theirs in capture_timings],
               ["timing", "parameter cell", "stored captures", "same?"])

# %%
CAPTURED = {"short polling": "short_polling", "long polling": "long_polling",
            "streaming": "streaming", "SSE": "sse", "WebSocket": "websocket_events"}
captured = {name: capture.read_pcap(CAPTURES / f"{stem}.pcap") for name, stem in CAPTURED.items()}


def header_bytes(packet) -> int:
    """The IP and TCP headers of a packet: everything in it but the TCP payload."""
    return len(packet[IP]) - len(packet[TCP].payload)


news = scenarios.NEWS_COUNT
rows = []
for name, packets in captured.items():
    payload_total = sum(len(p[TCP].payload) for p in packets)
    header_total = sum(header_bytes(p) for p in packets)
    rows.append((name, len(capture.tcp_streams(packets)), len(packets),
                 f"{len(packets) / news:.1f}", f"{payload_total / news:.0f}",
                 f"{header_total / news:.0f}"))
pictures.table(rows, ["technique", "TCP connections", "packets", "packets per message",
                  "TCP payload per message (B)", "IP + TCP headers per message (B)"])

# %% [markdown]
# ## 8. The classic table, recomputed
#
# Peter Lubbers and Frank Greco's "HTML5 Web Sockets: A Quantum Leap in Scalability for the
# Web" made the case for WebSocket with one calculation: a polling request and its response
# carried 871 bytes of HTTP headers, a WebSocket frame 2 bytes of framing; with every client
# receiving one message a second, the bandwidth spent on overhead is:

# %%
CLASSIC_POLL_BYTES = 871  # their header bytes per poll (request + response)
CLASSIC_FRAME_BYTES = 2  # their bytes of framing per WebSocket message


def mbps(bytes_per_message: float, clients: int) -> float:
    """Overhead bandwidth when each client gets one message a second, in their unit: 2**20
    bits per second (their 871,000 bytes a second is '6.6 Mbps')."""
    return bytes_per_message * clients * 8 / 2**20


pictures.table([(f"{clients:,}", f"{mbps(CLASSIC_POLL_BYTES, clients):.1f}",
             f"{mbps(CLASSIC_FRAME_BYTES, clients):.3f}") for clients in CLIENTS],
           ["clients", "polling (Mbps)", "WebSocket (Mbps)"])

# %% [markdown]
# Now the same with what this notebook measured. For a poll: the request and the response
# head of an exchange that delivered a guest, from the short-polling dialogue of section 2.
# For a WebSocket message: the frame header, read from the captured frames. For the "+ TCP/IP"
# columns: the IP and TCP header bytes per poll and per message while each connection was
# busy (from its first question, or first message, to its close), from the captures. And,
# since the classic table predates it, a poll over HTTP/2: the headers of the second answered
# poll of section 2 (its `:path` and `content-length` differ from the first's) compressed with
# HPACK on a connection that already sent the first, in HEADERS frames, plus a DATA frame for
# the body, each with its 9-byte frame header (its "+ TCP/IP" row assumes the same packets as
# the HTTP/1.1 poll: the frames of a poll fit in them).

# %%
answered = [index for index, (side, data) in enumerate(short_log)
            if side == "server" and b" 200 " in data[:13]]


def poll_heads(index: int) -> tuple[bytes, bytes]:
    """The request and the response head of the exchange whose answer is short_log[index]."""
    answer = short_log[index][1]
    return short_log[index - 1][1], answer[:http1.head_end(answer)]


poll_request, poll_response_head = poll_heads(answered[0])
poll_bytes = len(poll_request) + len(poll_response_head)

frames = capture.websocket_frames(CAPTURES / "websocket_events.pcap")
texts = [frame for frame in frames if frame.opcode == Opcode.TEXT]
frame_bytes = statistics.median(len(frame.wire) - len(frame.payload) for frame in texts)


def tcpip_per_exchange(packets, starts: list[int], end: int) -> float:
    """IP + TCP header bytes per exchange while the connection is busy: every packet from the
    one that starts the first exchange up to ``end``, the connection's close (opening and
    closing the connection are left out, as the classic table leaves them out)."""
    return sum(header_bytes(packets[i]) for i in range(starts[0], end)) / len(starts)


poll_packets = captured["short polling"]
polls = [i for i, p in enumerate(poll_packets) if bytes(p[TCP].payload).startswith(b"GET ")]
first_fin = next(i for i, p in enumerate(poll_packets) if p[TCP].flags.F)
poll_tcpip = tcpip_per_exchange(poll_packets, polls, first_fin)
closing = next(frame.packet_index for frame in frames if frame.opcode == Opcode.CLOSE)
frame_tcpip = tcpip_per_exchange(captured["WebSocket"], [f.packet_index for f in texts], closing)

HTTP2_FRAME_HEADER = 9


def as_http2_fields(request_head: bytes, response_head: bytes) -> tuple[list, list]:
    """The header fields of a poll as HTTP/2 sends them: pseudo-headers, lowercase names."""
    request = http1.parse_request(request_head)
    response = http1.parse_response(response_head)
    return ([(":method", request.method), (":scheme", "http"),
             (":authority", request.headers.get("Host")), (":path", request.target)],
            [(":status", str(response.status)),
             *((name.lower(), value) for name, value in response.headers.items())])


request_encoder, response_encoder = Encoder(), Encoder()  # one HTTP/2 connection, both ways
first_request, first_response = as_http2_fields(poll_request, poll_response_head)
request_encoder.encode(first_request)  # the first poll fills the tables...
response_encoder.encode(first_response)
next_request, next_response = as_http2_fields(*poll_heads(answered[1]))
http2_bytes = (len(request_encoder.encode(next_request))  # ...so the next costs this much
               + len(response_encoder.encode(next_response)) + 3 * HTTP2_FRAME_HEADER)
print("the two polls:", first_request[-1], first_response[-1], "then", next_request[-1],
      next_response[-1])

columns = {
    "classic polling": CLASSIC_POLL_BYTES,
    "polling, HTTP/1.1": poll_bytes,
    "polling, HTTP/1.1 + TCP/IP": poll_bytes + poll_tcpip,
    "polling, HTTP/2": http2_bytes,
    "polling, HTTP/2 + TCP/IP": http2_bytes + poll_tcpip,
    "classic WebSocket": CLASSIC_FRAME_BYTES,
    "WebSocket": frame_bytes,
    "WebSocket + TCP/IP": frame_bytes + frame_tcpip,
}
pictures.table([(name, f"{size:.0f}") for name, size in columns.items()],
           ["overhead per message", "bytes"])

# %%
pictures.table([(f"{clients:,}", *(f"{mbps(size, clients):.3g}" for size in columns.values()))
            for clients in CLIENTS], ["clients (Mbps)", *columns])

# %%
figure, axes = plt.subplots(figsize=(10, 3.8))
bar_colours = ["#868e96", "#e8590c", "#d9480f", "#f08c00", "#e67700", "#868e96", "#2f9e44",
               "#2b8a3e"]
bandwidths = [mbps(size, CLIENTS[-1]) for size in columns.values()]
bars = axes.barh(list(columns), bandwidths, color=bar_colours)
axes.bar_label(bars, [f"{value:.3g}" for value in bandwidths], padding=3)
axes.set_xscale("log")
axes.set_xlim(0.5, 4 * max(bandwidths))
axes.invert_yaxis()
axes.set(xlabel=f"Mbps of overhead for {CLIENTS[-1]:,} clients, one message a second (log)",
         title="the classic comparison, and the same measured")
figure.tight_layout()
plt.show()
print(f"polling costs {CLASSIC_POLL_BYTES / CLASSIC_FRAME_BYTES:.0f} times WebSocket in the "
      f"classic table, {poll_bytes / frame_bytes:.0f} times with our HTTP/1.1 headers, "
      f"{(poll_bytes + poll_tcpip) / (frame_bytes + frame_tcpip):.1f} times with TCP/IP "
      f"counted on both sides, {(http2_bytes + poll_tcpip) / (frame_bytes + frame_tcpip):.1f} "
      "times over HTTP/2 with TCP/IP.")


# %% [markdown]
# **Where the classic claim holds.** Polling pays a full request and response head for every
# question, answered or not (section 6 counted the empty ones), and it cannot be faster than
# its interval. For many clients receiving frequent small messages, a pushed frame is far
# cheaper than a poll, and the news is not late.
#
# **Where it flatters WebSocket.**
#
# - It sets the *framing* of one server push against a whole *request and response*. The fair
#   opponents of a push are the other pushes: SSE and streaming pay a few bytes per message
#   too (section 6), over plain HTTP.
# - Its 871 bytes are a browser's request headers of the time, cookies included, and a
#   server's response headers. A lean exchange is much smaller (our client sends only
#   `Host`), and HTTP/2's HPACK shrinks repeated headers to a few bytes.
# - It ignores the IP and TCP headers under both. Every message travels in a packet with
#   tens of bytes of headers and is acknowledged by another, so the counted ratio shrinks a
#   lot once they are included.
# - Two bytes of framing hold only for server frames of up to 125 bytes: longer payloads take
#   4 or 10 bytes, and every client frame adds a 4-byte mask (notebooks 04 and 05). A WebSocket
#   also pays its handshake once, and the pings that keep idle connections alive (notebook 08).
#
# What polling cannot fix is latency and the questions nobody needed; that, and a channel on
# which *either* side may speak at any time (全双工, full duplex), is what WebSocket adds.
#
# > **Errata** (article section 三.1, "他实现了多路复用，他是全双工通信", "it implements
# > multiplexing; it is full duplex"). WebSocket is full duplex, but it does **not**
# > multiplex: a connection carries one ordered sequence of messages, and a large message
# > delays every message behind it (only control frames may slip in between the fragments of a
# > message, RFC 6455 section 5.4). A multiplexing extension was drafted and abandoned. Several
# > WebSockets share one TCP connection only when carried by HTTP/2 streams (RFC 8441), and
# > then it is HTTP/2 that multiplexes. Multiplexing is what HTTP/2 added (notebook 01).

# %% [markdown]
# ## Summary
#
# - **Short polling** asks at fixed intervals: late by up to one interval, and most answers
#   are empty.
# - **Long polling** lets the server hold the question until there is news (or a timeout,
#   then 204): prompt, but a full request and response per message.
# - **Streaming** (the forever iframe) and **Server-Sent Events** keep one response open and
#   send each message as a chunk: prompt and cheap per message; SSE adds event ids and
#   reconnection with `Last-Event-ID`.
# - **WebSocket** matches the push techniques on latency and per-message bytes for news from
#   the server, and adds what none of them has: the client can speak on the same connection.
# - The classic "871 bytes against 2" compares a poll with a push and leaves out TCP/IP and
#   HTTP/2; measured honestly, WebSocket still wins against polling, by much less.
#
# ## Exercises

# %% [markdown]
# **Exercise 2.1** (write a server's answer). Write the heart of a long-poll server:
# `long_poll_answer(source, after, hold)` returns the bytes of the response to
# `GET /long-poll?after=<after>`. Wait for news with `await source.wait_after(after, hold)`;
# with news, answer `200 OK` with `Content-Type: application/json` and a JSON list of the
# message bodies (each `message.body` is already JSON); when `hold` seconds pass without news,
# answer `204 No Content` (no body, no `Content-Length`). Build the bytes with
# `http1.build_response`. The check runs your function against an event source of its own.

# %% tags=["solution"]
async def long_poll_answer(source: polling.EventSource, after: int, hold: float) -> bytes:
    messages = await source.wait_after(after, hold)
    if not messages:
        return http1.build_response(204, "No Content", [])
    body = b"[" + b",".join(message.body for message in messages) + b"]"
    return http1.build_response(200, "OK", [("Content-Type", "application/json")], body)


# %%
await nb02.check_long_poll_answer(long_poll_answer)

# %% [markdown]
# **Exercise 2.2** (write a decoder). Write `sse_events(text)`, which reads a
# `text/event-stream` body as a browser's `EventSource` does and returns, for every event it
# would dispatch, the pair `(last event id, data)`. The rules (HTML Living Standard, section
# 9.2.6):
#
# - lines end in `\n` or `\r\n`; a blank line ends an event;
# - `name: value` sets a field: drop one space after the colon if there is one;
#   a line starting with `:` is a comment;
# - `data` may come several times: the values are joined with `\n`;
# - `id` sets the last event id, which stays for the following events until another `id`
#   (it starts as `''`);
# - an event with no `data` is not dispatched, nor is one whose blank line has not come yet.
#
# Section 5's stream, for a first try: `sse_events("retry: 50\n\nid: 1\ndata: hello\n\n")`
# gives `[("1", "hello")]`.

# %% tags=["solution"]
def sse_events(text: str) -> list[tuple[str, str]]:
    events, data, last_id = [], [], ""
    *lines, _unfinished = text.replace("\r\n", "\n").split("\n")
    for line in lines:
        if line == "":
            if data:
                events.append((last_id, "\n".join(data)))
            data = []
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "data":
                data.append(value)
            elif name == "id":
                last_id = value
    return events


# %%
nb02.check_event_stream_parser(sse_events)

# %% [markdown]
# **Exercise 2.3** (read a measured table). Look at the race table of section 6, its column
# "HTTP requests". Suppose the news came much less often: a guest every 10 seconds instead of
# every 2 to 7. For which techniques would the number of HTTP requests *per message* rise?
# Answer with a set of names as the table writes them.

# %% tags=["solution"]
answer = {"short polling", "long polling"}

# %%
nb02.check_rarer_news(answer, {report.technique: (report.tally.requests, len(report.deliveries))
                               for report in reports})

# %% [markdown]
# **Exercise 2.4** (predict, then run). In the race, short polling asked every
# `POLL_INTERVAL` (25 ms) and its mean latency was a little over half of that. Predict its mean
# latency in milliseconds if it asked four times less often, every `4 * POLL_INTERVAL`. The
# check cell then runs it on `SLOWER_MESSAGES` new guests.

# %% tags=["solution"]
prediction_ms = 4 * POLL_INTERVAL / 2 * 1000

# %%
source = polling.EventSource(guests, MIN_INTERVAL, MAX_INTERVAL, seed=SEED)
async with polling.serve(source) as server:
    slower, _ = await asyncio.gather(
        polling_clients.short_polling_client(server.port, SLOWER_MESSAGES, 4 * POLL_INTERVAL),
        source.produce(SLOWER_MESSAGES))
slower_ms = mean(d.latency for d in slower.deliveries) * 1000
nb02.check_latency_prediction(prediction_ms, 4 * POLL_INTERVAL, POLL_INTERVAL, slower_ms)

# %% [markdown]
# **Exercise 2.5** (discuss). The article lists, as a drawback of Comet, that the server keeps
# threads suspended most of the time. Section 6 held `HELD_CLIENTS` requests with one thread.
# So what *does* a held request cost a server, and does a WebSocket server pay less?

# %% [markdown] tags=["solution"]
# *Model answer.* A held request costs what any open TCP connection costs: a socket (a file
# descriptor, with its limit per process), kernel buffers, the server's state for it (here a
# coroutine waiting on an `asyncio.Event`, a few kilobytes), and an entry in every NAT and proxy
# on the path, which may drop it when idle. A thread per request is a design choice of older
# servers (a thread's stack costs far more than a coroutine). A WebSocket server holds one
# connection per client too, so it pays the same for being able to speak first; what it saves
# is the request and response heads of every message, and the gap in which long polling has no
# request open (between an answer and the next question).

# %% [markdown] tags=["navigation"]
# [← 01 · HTTP before WebSocket](01_http_before_websocket.ipynb) | [Contents](../README.md) | [03 · The opening handshake →](03_opening_handshake.ipynb)
