# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 01 · HTTP before WebSocket: one question, one answer
#
# Before a browser could hold a conversation with a server, it could only ask questions: a
# request, then a response, and the server speaks only when asked. This notebook looks at
# that model on the wire, in the versions the web went through: HTTP/1.0 with a TCP
# connection per request, HTTP/1.1 with keep-alive and pipelining, and HTTP/2. A small server
# from `wsteach.lessons.polling` writes every HTTP byte by hand, so we can read all of them.
#
# **You will learn**
# - what an HTTP/1.0 request and response look like, byte for byte, and why each one cost a
#   TCP three-way handshake (counted in a real capture);
# - what HTTP/1.1 keep-alive saves, measured for a growing number of requests, and why
#   pipelining runs into head-of-line blocking;
# - what HTTP/2 changed (multiplexing, header compression with HPACK, shown in bytes) and what
#   it did not change: the client still has to ask first.
#
# **You need** notebook 00 (top-level `await` in cells). **Time:** about 35 minutes, with the
# exercises.

# %% [markdown] tags=["navigation"]
# [← 00 · Start here](00_start_here.ipynb) | [Contents](../README.md) | [02 · Polling, long polling, streaming →](02_polling_long_polling_streaming.ipynb)

# %%
import asyncio
from functools import partial

import matplotlib.pyplot as plt
from hpack import Encoder
from scapy.layers.inet import IP, TCP

from wsteach import http1
from wsteach.exercises import nb01
from wsteach.lessons import polling, polling_clients
from wsteach.paths import CAPTURES
from wsteach.show import pictures
from wsteach.wire import capture

# %% [markdown]
# The parameters of this notebook's demos, in one place:

# %%
REQUEST_COUNTS = (1, 2, 5, 10, 20, 50)  # how many guests to fetch, for the cost plot
REPEATS = 3  # each fetch is timed this many times; the plot shows the fastest (least noise)
SLOW_MS = 200  # the one slow answer of the head-of-line demo, in milliseconds
RTT_MS = 50  # one round trip on a real network, for the model beside the measurement

# %% [markdown]
# ## 1. Something to fetch: the guest list
#
# The source article's demo pushes a table of guests (姓名 name, 性别 gender, 国家 region),
# fetched from a web API that no longer exists. We keep a local copy of the same shape in
# `data/guests.json`. The server below answers `GET /guests/<n>` with guest number n.

# %%
guests = polling.load_guests()
pictures.table([(g["surname"] + g["name"], "女" if g["gender"] == "female" else "男", g["region"])
            for g in guests[:5]], ["姓名", "性别", "国家"])

# %%
print(len(guests), "guests; the first as JSON, the body of a response:")
print(polling.encode_json(guests[0]).decode())

# %% [markdown]
# ## 2. HTTP/1.0: a TCP connection for every request
#
# In HTTP/1.0 (RFC 1945, 1996) a browser opened a TCP connection, sent one request, read the
# response, and the server closed the connection. The next request opened a new connection.
# (Many HTTP/1.0 clients and servers also spoke an unofficial extension: a request with
# `Connection: keep-alive` asked the server to leave the connection open, and a server that
# agreed said so in its answer. It never became part of HTTP/1.0; RFC 2068 section 19.7.1
# describes it, and why it broke through old proxies. Our client and server do not use it.)
#
# `polling.serve(source)` starts the server on port 0 (any free port) for the duration of the
# `async with` block. `polling_clients.fetch_http10` is a client on plain asyncio streams; its `trace`
# callback sees every byte each side sent, which `pictures.transcript` prints as text (␍␊ marks the
# CR LF that ends each line of an HTTP head).

# %%
log = []


def keep(side: str, data: bytes) -> None:
    log.append((side, data))


async with polling.serve(polling.EventSource(guests)) as server:
    old = await polling_clients.fetch_http10(server.port, ["/guests/1", "/guests/2"], trace=keep)

print(f"{old.tally.requests} requests, {old.tally.connections} TCP connections opened, "
      f"{old.tally.sent} bytes sent, {old.tally.received} bytes received")
pictures.transcript(log)

# %% [markdown]
# Read the transcript:
#
# - the request is a **request line** (`GET /guests/1 HTTP/1.0`), header lines, and an empty
#   line; a GET has no body;
# - the response is a **status line** (`HTTP/1.1 200 OK`: a server names the highest version it
#   speaks, RFC 9110 section 2.5), headers, the empty line, then the body, whose length
#   `Content-Length` announces;
# - `Connection: close`: after this answer the server closes the TCP connection, so the second
#   request needs a new one.
#
# Our parser in `wsteach.http1` reads the same bytes back:

# %%
response_bytes = log[1][1]
end = http1.head_end(response_bytes)
response = http1.parse_response(response_bytes[:end])
pictures.table([("status", response.status), ("reason", response.reason),
            *response.headers.items(), ("body bytes", len(response_bytes) - end)],
           ["field", "value"])

# %% [markdown]
# ## 3. The three-way handshake, counted in a real capture
#
# Before the first HTTP byte, TCP opens the connection with three packets: SYN, SYN-ACK, ACK
# (三次握手). After the response, each side closes its half with FIN. The capture
# `data/captures/http10_vs_keepalive.pcap` was recorded on loopback by
# `python -m wsteach capture --out data/captures` (scenario `http10_vs_keepalive`): five guests
# fetched over HTTP/1.0, then the same five over one HTTP/1.1 keep-alive connection.
# Here is the first connection, packet by packet:

# %%
packets = capture.read_pcap(CAPTURES / "http10_vs_keepalive.pcap")
connections = capture.tcp_streams(packets)
rows = capture.packet_rows(packets)
first = set(connections[0].packet_indexes)
first_rows = [row for row in rows if row.index in first]
figure = pictures.sequence_diagram(first_rows, "one HTTP/1.0 request: its own TCP connection")
plt.show()


# %% [markdown]
# Now every connection of the capture: how many requests each carried, how many packets it
# took, and how many handshakes (a packet with only the SYN flag starts one).
#
# The cells read packets with scapy's notation. A packet is a stack of layers, and indexing
# by a layer picks it out: `packet[IP]` is the IP header and everything it carries,
# `packet[TCP]` the TCP segment, `packet[TCP].payload` the bytes TCP carries (here HTTP).
# `packet[TCP].flags` holds the TCP flags, one attribute per flag: `.S` (SYN), `.A` (ACK),
# `.F` (FIN), `.P` (PUSH), each true when that bit is set. So a SYN-ACK has `.S` and `.A` set.

# %%
def is_syn(packet) -> bool:
    return bool(packet[TCP].flags.S and not packet[TCP].flags.A)


def version_of(connection: capture.TcpConnection) -> str:
    return "HTTP/1.0" if b" HTTP/1.0\r\n" in connection.from_client.data else "HTTP/1.1"


per_connection = [(number + 1, version_of(c), c.from_client.data.count(b"GET "),
                   len(c.packet_indexes), sum(is_syn(packets[i]) for i in c.packet_indexes))
                  for number, c in enumerate(connections)]
pictures.table(per_connection, ["connection", "version", "requests", "packets", "handshakes"])

# %%
summary = []
for version in ("HTTP/1.0", "HTTP/1.1"):
    rows_of_version = [row for row in per_connection if row[1] == version]
    requests, packet_count, handshakes = (sum(row[column] for row in rows_of_version)
                                          for column in (2, 3, 4))
    summary.append((version, requests, handshakes, f"{packet_count / requests:.1f}"))
pictures.table(summary, ["version", "requests", "TCP handshakes", "packets per request"])

# %% [markdown]
# Every HTTP/1.0 request paid a handshake and a close, several packets that carry no data at
# all; the keep-alive connection paid them once for all its requests.
#
# Those empty packets are not free either: each carries an IP header and a TCP header. The
# capture tells how big they are on this machine:

# %%
header_sizes = sorted({len(p[IP]) - len(p[TCP].payload) for p in packets})
print("IP + TCP header bytes per packet in this capture:", header_sizes)
print("the SYN packets:", sorted({len(p[IP]) for p in packets if is_syn(p)}), "bytes each "
      "(their TCP options are longer)")

# %% [markdown]
# ## 4. HTTP/1.1: keep-alive
#
# HTTP/1.1 (RFC 2068 in 1997, RFC 2616 in 1999, today RFC 9112) keeps the connection open by
# default: **persistent connections** (长连接, keep-alive). Either side may still close it, and
# says so with `Connection: close`.
#
# > **Errata** (article section 二.1, "1996年 发布了HTTP1.0版本，1999年HTTP1.1 …… 2015年HTTP2.0。
# > HTTP协议经历了17年的发展", "HTTP/1.0 in 1996, HTTP/1.1 in 1999 … HTTP/2 in 2015: 17 years of
# > development"). HTTP/1.1 was first published in January **1997** (RFC 2068); 1999 is its
# > revision, RFC 2616. And none of the article's own dates are 17 years apart:

# %%
HTTP_VERSIONS = [  # (version, the document that defined it, year)
    ("HTTP/0.9", "Tim Berners-Lee's one-page description", 1991),
    ("HTTP/1.0", "RFC 1945", 1996),
    ("HTTP/1.1", "RFC 2068", 1997),
    ("HTTP/1.1, revised", "RFC 2616", 1999),
    ("HTTP/2", "RFC 7540", 2015),
    ("HTTP/1.1 and HTTP/2, revised again", "RFC 9110, 9112, 9113", 2022),
]
years = {version: year for version, _, year in HTTP_VERSIONS}
pictures.table(HTTP_VERSIONS, ["version", "defined in", "year"])
print(f"HTTP/1.0 to HTTP/2: {years['HTTP/2'] - years['HTTP/1.0']} years; HTTP/1.1 (1999, as the "
      f"article says) to HTTP/2: {years['HTTP/2'] - years['HTTP/1.1, revised']} years; the "
      f"first HTTP to HTTP/2: {years['HTTP/2'] - years['HTTP/0.9']} years.")

# %% [markdown]
# The same two guests, now on one connection:

# %%
log = []
async with polling.serve(polling.EventSource(guests)) as server:
    kept = await polling_clients.fetch_keep_alive(server.port, ["/guests/1", "/guests/2"], trace=keep)

pictures.table([("HTTP/1.0", old.tally.requests, old.tally.connections, old.tally.sent,
             old.tally.received),
            ("HTTP/1.1 keep-alive", kept.tally.requests, kept.tally.connections, kept.tally.sent,
             kept.tally.received)],
           ["client", "requests", "TCP connections", "bytes sent", "bytes received"])

# %%
pictures.transcript(log)

# %% [markdown]
# Same requests, same answers, minus `Connection: close`: the difference is not in the HTTP
# bytes but in the connections, and what each costs before its first byte.
#
# ## 5. The cost of N requests, with and without keep-alive
#
# Fetch N guests one after the other over HTTP/1.0, over one keep-alive connection, and
# pipelined (all requests sent at once, see section 6). On loopback a round trip takes
# microseconds, so the measured difference is small; on a real network every round trip costs
# the RTT. The right-hand plot counts the round trips each way needs before its last answer:
# HTTP/1.0 two per request (handshake, then request and response), keep-alive one per request
# plus one handshake, pipelining one handshake plus one for all the requests.

# %%
ways = {  # each takes (port, targets)
    "HTTP/1.0, a connection each": polling_clients.fetch_http10,
    "HTTP/1.1 keep-alive": polling_clients.fetch_keep_alive,
    "HTTP/1.1 pipelined": partial(polling_clients.fetch_keep_alive, pipeline=True),
}


def round_trips(way: str, n: int) -> int:
    """Round trips before the last of n answers: the model of the right-hand plot."""
    return {"HTTP/1.0, a connection each": 2 * n, "HTTP/1.1 keep-alive": n + 1,
            "HTTP/1.1 pipelined": 2}[way]


fetches = {name: [] for name in ways}
async with polling.serve(polling.EventSource(guests)) as server:
    for count in REQUEST_COUNTS:
        targets = [f"/guests/{n}" for n in range(1, count + 1)]
        for name, fetch in ways.items():
            tries = [await fetch(server.port, targets) for _ in range(REPEATS)]
            fetches[name].append(min(tries, key=lambda f: f.seconds))

figure, (opened, measured, modelled) = plt.subplots(1, 3, figsize=(14, 4))
for name, results in fetches.items():
    opened.plot(REQUEST_COUNTS, [f.tally.connections for f in results], "o-", label=name)
    measured.plot(REQUEST_COUNTS, [f.seconds * 1000 for f in results], "o-", label=name)
    modelled.plot(REQUEST_COUNTS, [round_trips(name, n) * RTT_MS for n in REQUEST_COUNTS],
                  "o-", label=name)
opened.set(title="TCP connections opened (measured)", xlabel="requests", ylabel="connections")
measured.set(title="time on loopback (measured)", xlabel="requests", ylabel="ms")
modelled.set(title=f"time with {RTT_MS} ms round trips (model)", xlabel="requests",
             ylabel="ms")
opened.legend()
figure.tight_layout()
plt.show()

# %%
largest = REQUEST_COUNTS[-1]
old_ms = fetches["HTTP/1.0, a connection each"][-1].seconds * 1000
kept_ms = fetches["HTTP/1.1 keep-alive"][-1].seconds * 1000
print(f"{largest} requests on loopback: {old_ms:.1f} ms over HTTP/1.0, {kept_ms:.1f} ms kept "
      f"alive: about {(old_ms - kept_ms) / largest * 1000:.0f} µs per extra connection here "
      "(Python's own work included).")
old_model = round_trips("HTTP/1.0, a connection each", largest) * RTT_MS
kept_model = round_trips("HTTP/1.1 keep-alive", largest) * RTT_MS
print(f"With {RTT_MS} ms round trips the model says {old_model} ms against {kept_model} ms.")

# %% [markdown]
# ## 6. Pipelining and head-of-line blocking
#
# Keep-alive still waits for each answer before asking the next question. **Pipelining**
# (RFC 9112 section 9.3.2) sends several requests without waiting, but the server must answer
# them *in the order they came*: there is nothing in an HTTP/1.1 response that says which
# request it answers. So one slow answer holds up every answer behind it: **head-of-line
# blocking** (队头阻塞).
#
# The first guest below takes `SLOW_MS` to answer; the other two are instant. Pipelined on one
# connection, against three HTTP/1.0 connections in parallel (what browsers did instead, with
# a few connections per host):

# %%
targets = [f"/guests/1?delay_ms={SLOW_MS}", "/guests/2", "/guests/3"]
async with polling.serve(polling.EventSource(guests)) as server:
    pipelined = await polling_clients.fetch_keep_alive(server.port, targets, pipeline=True)
    parallel = await asyncio.gather(*(polling_clients.fetch_http10(server.port, [t]) for t in targets))

figure, axes = plt.subplots(figsize=(11, 2.8))
labels = [target.split("?")[0] + (" (slow)" if "delay" in target else "") for target in targets]
rows_at = range(len(targets))
axes.barh([y + 0.2 for y in rows_at], [s * 1000 for s in pipelined.finished], height=0.4,
          label="pipelined on one connection")
axes.barh([y - 0.2 for y in rows_at], [f.finished[0] * 1000 for f in parallel], height=0.4,
          label="a connection each, in parallel")
axes.set_yticks(list(rows_at), labels)
axes.invert_yaxis()
axes.set(xlabel="ms until the answer was complete", title="head-of-line blocking")
axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1))
figure.tight_layout()
plt.show()
print("pipelined, answers complete after (ms):", [round(s * 1000, 1) for s in pipelined.finished])
print("in parallel, answers complete after (ms):",
      [round(f.finished[0] * 1000, 1) for f in parallel])

# %% [markdown]
# Most browsers shipped pipelining switched off (Opera, with its Presto engine, was the
# exception that had it on) and later removed it: a misbehaving proxy could mix up the answers,
# and head-of-line blocking made it slow anyway. They opened several connections per host
# instead.
#
# > **Errata** (article section 二.1, "同一域名只有4个连接", "only 4 connections per domain").
# > No HTTP standard says 4. RFC 2616 (1999) asked clients to keep at most 2 connections per
# > server; RFC 7230 (2014) dropped the number; browsers chose their own limits, today 6 per
# > host for HTTP/1.1. With HTTP/2 a browser needs only one.

# %% [markdown]
# ## 7. What HTTP/2 changed
#
# HTTP/2 (RFC 7540 in 2015, today RFC 9113) keeps the meaning of HTTP (methods, status codes,
# headers) and changes how it travels:
#
# - **binary frames and multiplexing** (多路复用): every request/response pair is a *stream*
#   with a number, and the frames of many streams interleave on one TCP connection, so a slow
#   answer no longer blocks the others at the HTTP level. (A lost TCP packet still stalls every
#   stream behind it; HTTP/3 over QUIC removes that last head-of-line blocking.)
# - **header compression** (HPACK, RFC 7541): both sides keep a table of headers already sent,
#   so a header repeated on the next request costs an index of a byte or so instead of its
#   text. There are two tables. The **static table** is fixed by RFC 7541 (appendix A): 61
#   common fields such as `:method: GET` or the name `user-agent`, the same for everyone.
#   The **dynamic table** holds what this connection has sent so far. Values that are in
#   neither are sent as text, optionally shortened by a fixed **Huffman code** (common
#   letters take fewer than 8 bits).
# - **pseudo-headers**: the request line of HTTP/1.1 becomes header fields whose names start
#   with a colon, `:method`, `:scheme`, `:authority` (the `Host`) and `:path`, and the status
#   line becomes `:status`, so the table can compress them like any other field.
#
# Header compression matters for what notebook 02 measures: a poller sends nearly the same
# headers every time. Below, the headers a browser might send when it polls (its user agent,
# language, a cookie...) for five polls in a row, as HTTP/1.1 text and as HPACK on one HTTP/2
# connection (plus the 9-byte frame header every HTTP/2 frame carries, RFC 9113 section 4.1).

# %%
BROWSER_HEADERS = [
    ("user-agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                   "Chrome/120.0.0.0 Safari/537.36"),
    ("accept", "application/json"),
    ("accept-language", "zh-CN,zh;q=0.9,en;q=0.8"),
    ("accept-encoding", "gzip, deflate, br"),
    ("referer", "http://127.0.0.1:8000/guests.html"),
    ("cookie", "session=3f9a1c0e5b7d4e2a8c6f1b0d9e7a5c3b; theme=dark"),
]
HTTP2_FRAME_HEADER = 9
AUTHORITY = "127.0.0.1:8000"

encoder = Encoder()  # one HTTP/2 connection: its header table lives as long as the connection
sizes = []
for poll in range(1, 6):
    path = f"/poll?after={poll}"
    as_http1 = http1.build_request("GET", path, [("Host", AUTHORITY), *BROWSER_HEADERS])
    pseudo = [(":method", "GET"), (":scheme", "http"), (":authority", AUTHORITY), (":path", path)]
    as_hpack = encoder.encode(pseudo + BROWSER_HEADERS)
    sizes.append((poll, len(as_http1), len(as_hpack) + HTTP2_FRAME_HEADER))
pictures.table(sizes, ["poll", "HTTP/1.1 request head (bytes)", "HTTP/2 HEADERS frame (bytes)"])

# %%
figure, axes = plt.subplots(figsize=(8, 3.2))
polls = [poll for poll, _, _ in sizes]
axes.bar([p - 0.2 for p in polls], [h1 for _, h1, _ in sizes], width=0.4, label="HTTP/1.1 text")
axes.bar([p + 0.2 for p in polls], [h2 for _, _, h2 in sizes], width=0.4, label="HTTP/2 + HPACK")
axes.set(xlabel="poll number", ylabel="bytes", title="the same request headers, five times")
axes.set_ylim(0, 1.35 * max(h1 for _, h1, _ in sizes))
axes.legend()
figure.tight_layout()
plt.show()
print(f"from poll 2 on HPACK saves {1 - sizes[1][2] / sizes[1][1]:.0%}: the headers are in "
      "the dynamic table, and only the changed :path is sent again.")

# %% [markdown]
# The first poll saves something too, though the dynamic table is still empty. Where from?
# Encode it again with Huffman coding switched off (`huffman=False`): what remains of the
# saving comes from the static table and HPACK's binary syntax.

# %%
first_poll = [(":method", "GET"), (":scheme", "http"), (":authority", AUTHORITY),
              (":path", "/poll?after=1"), *BROWSER_HEADERS]
as_text = sizes[0][1]
without_huffman = len(Encoder().encode(first_poll, huffman=False)) + HTTP2_FRAME_HEADER
with_huffman = len(Encoder().encode(first_poll)) + HTTP2_FRAME_HEADER
pictures.table([("HTTP/1.1 text", as_text, "-"),
                ("HPACK, values as plain text", without_huffman, as_text - without_huffman),
                ("HPACK with Huffman coding", with_huffman, without_huffman - with_huffman)],
               ["poll 1", "bytes", "saved by this step"])
print(f"poll 1: HPACK saves {as_text - with_huffman} B ({1 - with_huffman / as_text:.0%}): "
      f"{as_text - without_huffman} B from the static table and the binary syntax, "
      f"{without_huffman - with_huffman} B from Huffman coding.")

# %% [markdown]
# ## What HTTP/2 did not change: the client still asks first
#
# Every HTTP/2 stream that carries an answer was opened by a request. HTTP/2's *server push*
# (`PUSH_PROMISE`) lets a server send extra responses, but only alongside the answer to a
# real request, and only responses to requests the client would have made itself (a style
# sheet for the page it asked for). It is not a channel for news, and browsers have since
# removed it. So to learn that a guest arrived, a browser on HTTP/1.1 or HTTP/2 alike must
# ask: again and again (polling), or once and wait (long polling, streaming). That is
# notebook 02; WebSocket (from notebook 03 on) is the answer that lets either side speak.
#
# > **Errata** (article section 二.1, "2.0：……服务器可以主动推送响应到客户端", "the server can
# > push responses to the client on its own"). HTTP/2 server push answers requests the client
# > *would* make, and only while answering one it *did* make; it cannot deliver an event the
# > client did not ask about, and browsers no longer support it.

# %% [markdown]
# ## Summary
#
# - HTTP is question and answer: the server speaks only when asked.
# - HTTP/1.0 paid a TCP handshake (SYN, SYN-ACK, ACK) and a close for every request; we
#   counted them in a real capture.
# - HTTP/1.1 keep-alive reuses one connection; pipelining sends requests without waiting but
#   answers must come back in order, so one slow answer blocks the rest (head-of-line
#   blocking).
# - HTTP/2 multiplexes streams on one connection and compresses repeated headers (HPACK), but
#   the client still asks first.
#
# ## Exercises

# %% [markdown]
# **Exercise 1.1** (diagnose a broken capture). A capture started by hand often starts late.
# `late` below is the capture of section 3 as if it had been started a moment too late: it
# begins with the request of the second connection. How many TCP three-way handshakes does it
# show, and how many HTTP requests? Count them from `late`; answer with a pair
# `(handshakes, requests)`.

# %%
second = connections[1]
cut = next(i for i in second.packet_indexes if bytes(packets[i][TCP].payload).startswith(b"GET "))
late = packets[cut:]
print(f"{len(late)} packets, from packet {cut} of the whole capture on")

# %% tags=["solution"]
handshakes = sum(1 for packet in late if packet[TCP].flags.S and not packet[TCP].flags.A)
requests = sum(1 for packet in late if bytes(packet[TCP].payload).startswith(b"GET "))
answer = (handshakes, requests)

# %%
nb01.check_late_capture(late, answer)

# %% [markdown]
# **Exercise 1.2** (predict, then run). Three requests pipelined on one connection again, but
# now the *second* answer is the slow one:
# `["/guests/1", f"/guests/2?delay_ms={SLOW_MS}", "/guests/3"]`. For each of the three answers,
# predict whether it is complete "fast" (within a few milliseconds) or "slow" (after about
# `SLOW_MS`). Write your prediction first; the check cell then runs the requests and compares.

# %% tags=["solution"]
prediction = ["fast", "slow", "slow"]

# %%
slow_second = ["/guests/1", f"/guests/2?delay_ms={SLOW_MS}", "/guests/3"]
async with polling.serve(polling.EventSource(guests)) as server:
    run = await polling_clients.fetch_keep_alive(server.port, slow_second, pipeline=True)
nb01.check_pipeline_prediction(prediction, slow_second, run.finished)

# %% [markdown]
# **Exercise 1.3** (write a parser). On a keep-alive connection the answers arrive one after
# the other in one stream of bytes, and only `Content-Length` says where a body ends and the
# next response begins (HTTP/1.0 had it easy: the end of the connection was the end of the
# answer). Write `split_responses(stream)`, which returns `(status, body)` for every response
# in `stream`, the status as an int and the body as bytes. Read `Content-Length` yourself;
# `http1.head_end(data)` (the index just after the empty line, or None) and
# `http1.parse_response(head)` may help. Try it on what the server sent in section 4:

# %%
kept_stream = b"".join(data for side, data in log if side == "server")
print(len(kept_stream), "bytes:", kept_stream[:60], "...")


# %% tags=["solution"]
def split_responses(stream: bytes) -> list[tuple[int, bytes]]:
    answers = []
    while stream:
        end = http1.head_end(stream)
        head = http1.parse_response(stream[:end])
        length = int(head.headers.get("Content-Length", "0"))
        answers.append((head.status, stream[end:end + length]))
        stream = stream[end + length:]
    return answers


# %%
nb01.check_split_responses(split_responses, kept_stream)

# %% [markdown] tags=["navigation"]
# [← 00 · Start here](00_start_here.ipynb) | [Contents](../README.md) | [02 · Polling, long polling, streaming →](02_polling_long_polling_streaming.ipynb)
