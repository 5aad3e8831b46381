# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 08 · Heartbeat and reconnection: dead peers, backoff, and resuming without loss
#
# The article's last technical section is the heartbeat (心跳机制): a client whose network
# vanished is never heard to close, so the server keeps "sending" to nobody. This notebook
# makes that happen for real, with a proxy on loopback that injects the faults of real networks,
# then builds the cures: the article's own sweep and heartCheck (with their bugs, reproduced,
# then fixed), the protocol's keepalive pings, reconnection with backoff and jitter, and
# resuming without losing a message.
#
# **You will learn** why TCP alone does not notice a dead peer; how a keepalive notices it, and
# how long that takes for given settings; why browsers need an application heartbeat; how a
# thousand clients of a restarted server should come back; and how a client that reconnects
# gets exactly what it missed.
#
# **You need** notebook 07 (control frames: ping, pong, close codes), and asyncio's
# `create_task`, `gather` and `async with` (notebook 00).
# **Time:** about 45 minutes.

# %% [markdown] tags=["navigation"]
# [← 07 · Control frames and closing](07_control_frames_and_closing.ipynb) | [Contents](../README.md) | [09 · Socket.IO and events →](09_socketio_and_events.ipynb)

# %% [markdown]
# ## Parameters
#
# Every timing a demo waits on. The article's seconds are scaled down so the whole notebook
# runs in a few seconds; the ratios between them are the article's.

# %%
PUSH_BYTES = 64 * 1024  # bytes per message the server pushes in the blackhole demo
PUSH_EVERY = 0.01  # seconds between those messages
BLACKHOLE_AFTER = 0.2  # seconds of healthy traffic before the client's network vanishes
WATCH_FOR = 0.8  # seconds we watch the server "send" into the void

ARTICLE_SECOND = 0.01  # one second of the article, in this notebook's seconds
SWEEP_EVERY = 30 * ARTICLE_SECOND  # the article's server sweeps every 30 s
SWEEPS = 3
PUSH_MIN, PUSH_MAX = 2 * ARTICLE_SECOND, 7 * ARTICLE_SECOND  # its guest pushes: every 2-7 s
HEARTCHECK_TIMEOUT = 3 * ARTICLE_SECOND  # its client's heartCheck.timeout: 3 s
HEARTCHECK_PUSHES = 40  # guests pushed while we count the heartCheck's verdicts

DETECTION_SETTINGS = [(0.1, 0.1), (0.2, 0.1), (0.1, 0.2), (0.2, 0.2), (0.3, 0.2), (0.2, 0.3)]
DETECTION_TRIALS = 4  # blackholes per setting, each at a random moment

STORM_CLIENTS = 200
STORM_DOWN = 0.5  # seconds the restarted server answers 503
ARTICLE_RECONNECT = 0.25  # the article's lockReconnect delay (4 s), scaled to the storm
BACKOFF = {"min_delay": 0.25, "factor": 2.0, "max_delay": 1.0}  # exponential, full jitter

RESUME_MESSAGES = 400
RESUME_CUTS = 20
HISTORY_SIZE = 1000
SEED = 2019

# %% [markdown]
# ## 1. Why TCP does not notice a dead peer
#
# A server pushes a 64 KiB message every 10 ms to a client. The client sits behind
# `FaultyProxy`, a TCP proxy on loopback (`wsteach/lessons/faulty_proxy.py`) that forwards both
# ways until told otherwise. After 0.2 s it **blackholes** the connection: it keeps both TCP
# connections open but moves nothing more, like a laptop whose lid was closed or a Wi-Fi that
# went away. The server is never told. We watch what its `send()` does.

# %%
import asyncio
import fcntl
import struct
import termios
import time

from wsteach import aio
from wsteach.lessons.faulty_proxy import FaultyProxy


def kernel_unsent(ws: aio.WebSocket) -> int:
    """Bytes in the kernel's send queue of this connection (not yet acknowledged by the peer)."""
    sock = ws.transport.get_extra_info("socket")
    return struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0" * 4))[0]


async def push_into_the_void():
    """Push through the proxy; blackhole it; record what the server's side sees."""
    timeline = []  # (seconds, messages sent, bytes in asyncio's buffer, in the kernel's)
    sent = 0
    errors = []
    opened = asyncio.get_running_loop().create_future()

    async def pusher(ws):
        nonlocal sent
        opened.set_result(ws)
        try:
            while True:
                await ws.send(b"x" * PUSH_BYTES)  # waits while too much is unsent
                sent += 1
                await asyncio.sleep(PUSH_EVERY)
        except Exception as error:
            errors.append(error)

    async def read_everything(client):
        async for _ in client:
            pass

    async with (aio.serve(pusher, ping_interval=None) as server,
                FaultyProxy(server.port) as proxy):
        client = await aio.connect(f"ws://127.0.0.1:{proxy.port}/", ping_interval=None,
                                   max_size=None)
        reading = asyncio.create_task(read_everything(client))
        ws = await opened
        start, blackholed = time.monotonic(), False
        while (now := time.monotonic() - start) < BLACKHOLE_AFTER + WATCH_FOR:
            if now >= BLACKHOLE_AFTER and not blackholed:
                proxy.blackhole()
                blackholed = True
            timeline.append((now, sent, ws.unsent, kernel_unsent(ws)))
            await asyncio.sleep(0.02)
        state = ws.state.name
        reading.cancel()
        client.transport.abort()
    return timeline, errors, state


timeline, errors, state = await push_into_the_void()
print(f"{WATCH_FOR} s into the blackhole the server's connection is {state}; "
      f"errors raised: {len(errors)}.")

# %%
import matplotlib.pyplot as plt

seconds = [row[0] for row in timeline]
figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.2))
left.plot(seconds, [row[1] for row in timeline], color="#1c7ed6")
left.set_title("messages the server's send() accepted")
right.plot(seconds, [row[3] / 1e6 for row in timeline], label="in the kernel's send queue")
right.plot(seconds, [row[2] / 1e6 for row in timeline], label="in asyncio's buffer")
right.set_title("bytes waiting to leave the server (MB)")
right.legend(fontsize=8)
for axes in (left, right):
    axes.axvline(BLACKHOLE_AFTER, color="#c92a2a", linestyle=":")
    axes.set_xlabel("seconds (red: the client's network vanishes)")
figure.tight_layout()
plt.show()
stalled_at = next((row[1] for row in timeline if row[0] > BLACKHOLE_AFTER + 0.5), None)
print(f"send() accepted {timeline[-1][1]} messages in all; it stopped returning once "
      f"{max(row[3] for row in timeline) / 1e6:.1f} MB sat in the kernel and "
      f"{max(row[2] for row in timeline) / 1e3:.0f} kB in asyncio's buffer, and it simply waits.")

# %% [markdown]
# Nothing failed. After the blackhole, `send()` kept returning until the buffers on the way
# filled (the proxy's kernel, then the server's), then it simply **waited**: a write
# back-pressure that never ends, with no error, because TCP has no way to tell "slow" from
# "gone". A real blackhole (packets dropped instead of held) differs only in how long it
# takes: the kernel retransmits with growing pauses and gives up after `tcp_retries2`
# retransmissions (computed below from this machine's setting). TCP has its own keepalive, but it is off unless a program
# turns it on (`SO_KEEPALIVE`), and its defaults are read here from this machine's kernel:

# %%
from pathlib import Path

sysctl = Path("/proc/sys/net/ipv4")
keepalive = {name: int((sysctl / name).read_text()) for name in
             ("tcp_keepalive_time", "tcp_keepalive_intvl", "tcp_keepalive_probes",
              "tcp_retries2")}
first_probe, between, probes = (keepalive["tcp_keepalive_time"], keepalive["tcp_keepalive_intvl"],
                                keepalive["tcp_keepalive_probes"])
print(keepalive)
rto, waited = 0.2, 0.0  # Linux: the retransmission timeout starts at 200 ms, doubles, caps at 120 s
for _ in range(keepalive["tcp_retries2"] + 1):
    waited += rto
    rto = min(2 * rto, 120.0)
print(f"A peer that stopped acknowledging: {keepalive['tcp_retries2']} retransmissions, given up "
      f"after about {waited / 60:.0f} minutes (at best, with the shortest RTO).")
print(f"With SO_KEEPALIVE on, a dead peer is noticed after {first_probe} s of silence plus "
      f"{probes} probes {between} s apart: {(first_probe + probes * between) / 3600:.2f} hours.")

# %% [markdown]
# Two hours is no use to a chat. So applications send their own heartbeat, and WebSocket has
# one built in: the ping and pong control frames of notebook 07.
#
# ## 2. The article's heartbeat, and its bugs
#
# ### The server's sweep
#
# The article's Node server follows the `ws` README: every 30 s it terminates each client not
# marked alive since the last sweep, then marks every client not alive and pings it; a pong
# marks it alive again. But it writes the pong handler as an arrow function:
#
# ```js
# heartbeat = () => { this.isAlive = true; }
# ```
#
# An arrow function has no `this` of its own: `this` is the module's, not the socket that got
# the pong. `wsteach/lessons/heartbeat.py` reproduces both versions: `Sweeper` with
# `as_in_the_article=True` sets the attribute on itself, as the arrow function does on the
# module. Three healthy clients, which answer every ping:

# %%
from wsteach.lessons.heartbeat import Sweeper
from wsteach.show import pictures


async def sweep_healthy_clients(as_in_the_article: bool):
    sweeper = Sweeper(SWEEP_EVERY, as_in_the_article=as_in_the_article)
    names = iter(["Ada", "Bo", "Cai"])

    async def register(ws):
        sweeper.add(ws, next(names))
        await ws.wait_closed()

    async with aio.serve(register, ping_interval=None) as server:
        clients = [await aio.connect(f"ws://127.0.0.1:{server.port}/", ping_interval=None)
                   for _ in range(3)]  # our client answers every ping at once
        await sweeper.run(SWEEPS)
        for client in clients:
            client.transport.abort()
    return sweeper.sweeps


article, fixed = await asyncio.gather(sweep_healthy_clients(True), sweep_healthy_clients(False))
pictures.table([(n + 1, f"{a.at / ARTICLE_SECOND:.0f} s", ", ".join(a.terminated) or "-",
                 ", ".join(f.terminated) or "-")
                for n, (a, f) in enumerate(zip(article, fixed, strict=True))],
               ["sweep", "at (article's seconds)", "terminated (article's server)",
                "terminated (fixed)"])

# %% [markdown]
# Every client, healthy as it is, is terminated at the **second** sweep: the first marks them
# not alive and pings them; their pongs set `isAlive` on the wrong object; the second finds
# them still "not alive". Written as `function () { this.isAlive = true; }` (where `this` is
# the socket the event fired on) or as `ws.isAlive = true`, nobody is terminated. And a client
# whose network really vanished? The fixed sweep finds it at the second sweep after it went
# quiet: within one to two sweep intervals.
#
# ### The client's heartCheck
#
# The article's page sends "HeartBeat" after 3 s without a message and closes the connection
# when nothing at all arrives within 3 s more. Its server does answer... nothing: it logs
# "HeartBeat" and only pushes a guest every 2 to 7 s. So every gap between guests longer than
# 6 s closes a perfectly healthy connection. `HeartCheck` against the article's server, and
# against one that answers "HeartBeat" at once:

# %%
import random

from wsteach.lessons.heartbeat import HeartCheck, push_guests
from wsteach.lessons.polling import load_guests

guests = load_guests()
rng = random.Random(SEED)
delays = [rng.uniform(PUSH_MIN, PUSH_MAX) for _ in range(HEARTCHECK_PUSHES)]
run_for = sum(delays) + 2 * HEARTCHECK_TIMEOUT


async def heartcheck_against(answer_heartbeats: bool) -> HeartCheck:
    check = HeartCheck(HEARTCHECK_TIMEOUT)
    pushes = iter(range(len(delays)))

    async def serve_guests(ws):
        start = next(pushes, len(delays))  # a reconnected client gets the rest of the pushes
        await push_guests(ws, guests[start:] + guests, delays[start:],
                          answer_heartbeats=answer_heartbeats)

    async with aio.serve(serve_guests, ping_interval=None) as server:
        until = asyncio.get_running_loop().time() + run_for
        while asyncio.get_running_loop().time() < until:  # reconnect after each close
            ws = await aio.connect(f"ws://127.0.0.1:{server.port}/", ping_interval=None)
            await check.watch(ws, until)
            await ws.close()
    return check


as_written, answered = await asyncio.gather(heartcheck_against(False), heartcheck_against(True))
long_gaps = sum(d > 2 * HEARTCHECK_TIMEOUT for d in delays)
pictures.table([("the article's server (logs HeartBeat)", as_written.closes),
                ("a server that answers HeartBeat", answered.closes)],
               ["server", "healthy connections the heartCheck closed"])

# %%
expected = (PUSH_MAX - 2 * HEARTCHECK_TIMEOUT) / (PUSH_MAX - PUSH_MIN)
print(f"{long_gaps} of the {len(delays)} pauses between pushes ({long_gaps / len(delays):.0%}) "
      f"were longer than 2 x timeout = {2 * HEARTCHECK_TIMEOUT / ARTICLE_SECOND:.0f} article "
      f"seconds; with pauses uniform in 2-7 s, {expected:.0%} are expected to be.")

# %% [markdown]
# The heartbeat idea is right; the server must take part in it. And after each close the page
# waits a fixed 4 s (`lockReconnect`) before it reconnects: section 5 shows what a fixed delay
# does when a server restarts under many clients.
#
# ## 3. Keepalive pings: the protocol's own heartbeat
#
# `wsteach.aio`, like the websockets library, pings every `ping_interval` seconds and waits
# `ping_timeout` for the pong (defaults 20 and 20). No pong in time: it closes with 1011
# "keepalive ping timeout" and drops TCP. The stored captures show both cases.

# %%
from wsteach.paths import CAPTURES
from wsteach.wire import capture

rows = capture.packet_rows(capture.read_pcap(CAPTURES / "keepalive.pcap"))
figure = pictures.sequence_diagram([r for r in rows if "WebSocket" in r.what],
                                   "an idle connection, kept alive (keepalive.pcap)")
plt.show()
keepalive_frames = capture.websocket_frames(CAPTURES / "keepalive.pcap")
ping_size = next(len(f.wire) for f in keepalive_frames if f.opcode == 0x9)
pong_size = next(len(f.wire) for f in keepalive_frames if f.opcode == 0xA)
print(f"A ping costs {ping_size} bytes (server: header + payload), its pong {pong_size} "
      "(client: header + mask + payload), plus TCP/IP headers each way.")

# %%
rows = capture.packet_rows(capture.read_pcap(CAPTURES / "keepalive_timeout.pcap"))
after_upgrade = [r for r in rows if "WebSocket" in r.what or r.flags in ("FA", "RA", "R")]
figure = pictures.sequence_diagram(after_upgrade, "the client's network vanished "
                                                  "(keepalive_timeout.pcap)")
plt.show()
last_ping = max(r.time for r in after_upgrade if "ping" in r.what)
close = next(r for r in after_upgrade if "close" in r.what)
print(f"The unanswered ping left at {last_ping:.3f} s, the 1011 close at {close.time:.3f} s: "
      f"{(close.time - last_ping) * 1000:.0f} ms later, the ping_timeout of that capture.")

# %% [markdown]
# How long until a dead peer is noticed? It depends on when, between two pings, the silence
# begins. Let us measure it: for each setting, a few connections through proxies that
# blackhole at a random moment, and our server's keepalive timing the detection.

# %%
from wsteach.connection import ConnectionClosed


async def detection_time(interval: float, timeout: float, rng: random.Random) -> float:
    noticed = asyncio.get_running_loop().create_future()

    async def wait(ws):
        try:
            await ws.recv()
        except ConnectionClosed:
            noticed.set_result(time.monotonic())

    async with (aio.serve(wait, ping_interval=interval, ping_timeout=timeout) as server,
                FaultyProxy(server.port) as proxy):
        client = await aio.connect(f"ws://127.0.0.1:{proxy.port}/", ping_interval=None)
        await asyncio.sleep(interval + rng.uniform(0, interval))  # a random phase
        proxy.blackhole()
        went_silent = time.monotonic()
        took = await noticed - went_silent
        client.transport.abort()
    return took


rng = random.Random(SEED)
measured = await asyncio.gather(*(detection_time(i, t, rng) for i, t in DETECTION_SETTINGS
                                  for _ in range(DETECTION_TRIALS)))
by_setting = [measured[n * DETECTION_TRIALS:(n + 1) * DETECTION_TRIALS]
              for n in range(len(DETECTION_SETTINGS))]

figure, axes = plt.subplots(figsize=(8, 3.2))
for n, ((interval, timeout), times) in enumerate(zip(DETECTION_SETTINGS, by_setting,
                                                     strict=True)):
    axes.vlines(n, timeout, interval + timeout, color="#adb5bd", linewidth=8)
    axes.plot([n] * len(times), times, "o", color="#1c7ed6")
axes.set_xticks(range(len(DETECTION_SETTINGS)),
                [f"{i} / {t}" for i, t in DETECTION_SETTINGS])
axes.set_xlabel("ping_interval / ping_timeout (seconds)")
axes.set_ylabel("seconds to notice")
axes.set_title("measured (dots) within timeout ... interval + timeout (grey)")
figure.tight_layout()
plt.show()
late = max(m - (i + t) for (i, t), times in zip(DETECTION_SETTINGS, by_setting, strict=True)
           for m in times)
early = max(t - m for (i, t), times in zip(DETECTION_SETTINGS, by_setting, strict=True)
            for m in times)
print(f"{len(measured)} blackholes. Latest detection against interval + timeout: "
      f"{late * 1000:+.0f} ms; earliest against timeout: {-early * 1000:+.0f} ms "
      "(asyncio's timers and the scheduling of the tasks).")

# %% [markdown]
# The bar is the prediction: at best the silence begins as a ping leaves, and it is noticed
# one `ping_timeout` later; at worst it begins just after a pong, and the next ping leaves a
# whole `ping_interval` later. Exercise 8.1 asks you to derive it.
#
# Choosing the numbers is a trade: a short interval notices sooner and costs a few bytes per
# connection per interval (the ping and the pong measured above); a short timeout notices sooner but closes connections that are only
# slow (a laptop on a train, a blocked event loop: websockets issues #1620 and #1318 are such
# 1011s). The reference systems choose: websockets 20 s / 20 s, Engine.IO 25 s / 20 s, SignalR
# 15 s keepalive with a 30 s timeout ("twice the keepalive"), Jupyter Server pings every 30 s
# and gives up after 90 s; and NAT boxes and proxies often drop a connection idle for about
# 30-60 s, which is why the interval is rarely longer.
#
# ## 4. Browsers cannot send pings
#
# JavaScript's `WebSocket` has no `ping()`: the WHATWG standard leaves ping and pong out of the
# API ("User agents may send ping... as desired"). Chromium answers a server's ping by itself,
# in its network service, and never sends pings of its own (`tests/test_browser.py` checks that
# our server's ping gets its pong from a real Chromium). So:
#
# - the **server** can notice a dead browser with ordinary keepalive pings;
# - the **page** cannot notice a dead server that way. It needs an application message, as the
#   article's "HeartBeat" is, and the server has to answer it. Notebook 10's chat page does
#   that, and Socket.IO's server-sent pings (notebook 09) are the same idea in the other
#   direction.
#
# ## 5. Reconnecting: backoff, and why jitter
#
# A lost connection is reconnected; a failed attempt is tried again after a pause that grows
# ("exponential backoff") up to a cap. `aio.backoff_delays` is that schedule as a pure function:
# retry n waits up to `min(max_delay, min_delay * factor ** n)`, and with **full jitter** a
# random amount between 0 and that ceiling. RFC 6455 section 7.2.3 asks for exactly this kind
# of spread, even before the first attempt.

# %%
import itertools

schedule_rng = random.Random(SEED)
ceilings = list(itertools.islice(aio.backoff_delays(jitter=False), 8))
jittered = [list(itertools.islice(aio.backoff_delays(rng=schedule_rng), 8)) for _ in range(30)]

figure, axes = plt.subplots(figsize=(7, 3))
axes.plot(range(8), ceilings, "o-", color="#c92a2a", label="no jitter (every client alike)")
for run in jittered:
    axes.plot(range(8), run, ".", color="#1c7ed6", alpha=0.4)
axes.plot([], [], ".", color="#1c7ed6", label="full jitter (30 clients)")
axes.set_xlabel("retry")
axes.set_ylabel("seconds to wait")
axes.set_title("aio.backoff_delays with the default constants (near websockets')")
axes.legend(fontsize=8)
figure.tight_layout()
plt.show()

# %% [markdown]
# Now the storm. `wsteach/lessons/storm.py` connects 200 clients with `async for ws in
# connect(...)`, then restarts the server: every connection closed with 1012 (service restart)
# and, for `STORM_DOWN` seconds, every attempt answered 503 (as a load balancer in front of a restarting
# server answers). It records each attempt. First with the article's reconnect, a fixed delay
# and no jitter; then with exponential backoff and full jitter.

# %%
from wsteach.lessons.storm import storm

fixed_delay = await storm(STORM_CLIENTS, down_for=STORM_DOWN, min_delay=ARTICLE_RECONNECT,
                          factor=1.0, max_delay=ARTICLE_RECONNECT, jitter=False)
full_jitter = await storm(STORM_CLIENTS, down_for=STORM_DOWN, jitter=True, **BACKOFF)

figure, axes = plt.subplots(2, 1, figsize=(9, 4.5), sharex=True)
for ax, result, label in ((axes[0], fixed_delay, "fixed delay, no jitter (the article)"),
                          (axes[1], full_jitter, "exponential backoff, full jitter")):
    counts = result.per_bucket(0.1)
    ax.bar([0.1 * n for n in range(len(counts))], counts, width=0.09, align="edge",
           color="#1c7ed6")
    ax.axvspan(0, STORM_DOWN, color="#ffe3e3", zorder=0)
    ax.set_ylabel("attempts / 100 ms")
    ax.set_title(f"{label}: peak {max(counts)}, {len(result.attempts)} attempts, all back "
                 f"after {result.back_after:.1f} s", fontsize=9)
axes[1].set_xlabel("seconds after the restart (red: the server answers 503)")
figure.tight_layout()
plt.show()

# %% [markdown]
# With a fixed delay every client comes back in the same instant, again and again: all 200
# attempts land in one 100 ms slot, and the server, just restarted, takes the whole herd at
# once (socket.io#2998 describes this in production). With full jitter the same clients are
# spread over the whole time: the peak drops to a fraction, at the price of some clients
# returning later. The `aio` defaults, near the websockets library's, are a first delay up to
# 3.1 s, growing by 1.618 to at most 90 s; socket.io-client uses 1-5 s with ±50 %; SignalR
# retries at 0, 2, 10 and 30 s, then stops.
#
# Not every failure deserves a retry: `connect` raises at once for a bad URI or a 4xx answer
# (a 403 will be a 403 again), and retries network errors and 500, 502, 503, 504
# (`aio.client.is_retryable`; `tests/test_heartbeat.py` checks both).
#
# ## 6. Resuming without loss
#
# A reconnected client has missed whatever was sent while it was away. `wsteach/aio/resume.py`
# holds the small pattern the chat (notebook 10) uses too: the server numbers each message and
# keeps a bounded history; a client reconnects with the last number it saw
# (`/stream?epoch=…&last=41`) and gets what it missed, in order; it drops what it has already
# seen; and when the history no longer reaches back that far it is told how many messages are
# gone, never left with a silent gap. The `epoch` names the history, so a client of a server
# that restarted from scratch does not take the new message 1 for a duplicate of its old 1.
#
# Here a stream of 400 numbered messages, and a proxy that **cuts** the connection (a TCP
# reset, both ends) 20 times while they flow:

# %%
from wsteach.aio.resume import History, Tracker


class Stream:
    """Numbers each message into a History and streams it to every client: first the replay
    of what the client missed, then the live messages, in order."""

    def __init__(self, history_size: int) -> None:
        self.history = History(size=history_size)
        self.published: list[str] = []
        self.changed = asyncio.Event()

    def publish(self, data) -> None:
        self.published.append(self.history.add(data).text())
        self.changed.set()
        self.changed.clear()

    async def handler(self, ws) -> None:
        replay = self.history.replay_for(ws.request.target)
        sent = self.history.last_seq  # taken with the replay, before any await
        for text in replay:
            await ws.send(text)
        while True:
            while sent < len(self.published):
                await ws.send(self.published[sent])
                sent += 1
            await self.changed.wait()


async def resume_through_cuts(messages: int, cuts_wanted: int):
    stream, tracker = Stream(HISTORY_SIZE), Tracker()
    received, duplicates, cuts, connections = [], 0, 0, 0
    async with (aio.serve(stream.handler, ping_interval=None) as server,
                FaultyProxy(server.port) as proxy):
        async def produce():
            for n in range(messages):
                stream.publish(n)
                await asyncio.sleep(0.0005)

        producer = asyncio.create_task(produce())
        base = f"ws://127.0.0.1:{proxy.port}/stream"
        connector = aio.connect(base, ping_interval=None, min_delay=0.01, factor=1.5,
                                max_delay=0.05)
        async for ws in connector:
            connections += 1
            try:
                async for text in ws:
                    delivery = tracker.accept(text)
                    duplicates += delivery.kind == "duplicate"
                    if delivery.kind == "message":
                        received.append(delivery.data)
                        if len(received) % (messages // (cuts_wanted + 1)) == 0 \
                                and cuts < cuts_wanted:
                            cuts += proxy.cut()
                    if len(received) == messages:
                        break
            except ConnectionClosed:
                connector.uri = f"{base}?{tracker.query()}"  # say what we have seen
                continue
            break
        await producer
    lost = messages - len(set(received))
    in_order = received == sorted(received)
    return cuts, connections, len(received), lost, duplicates, in_order, tracker.missed


cuts, connections, got, lost, dropped, in_order, missed = await resume_through_cuts(
    RESUME_MESSAGES, RESUME_CUTS)
pictures.table([("connections cut (TCP reset)", cuts), ("connections made", connections),
                ("messages received", got), ("lost", lost),
                ("duplicates (replayed twice, dropped by the Tracker)", dropped),
                ("in order", in_order), ("reported missing by the server", missed)],
               ["resuming through cuts", ""])

# %% [markdown]
# And when the history is too short for the absence, the client is told:

# %%
history = History(size=5)
tracker = Tracker()
seen = [tracker.accept(t) for t in history.replay_for("/stream")]
tracker.accept(history.add("guest 1").text())
for n in range(2, 21):  # the client is away for 19 messages
    history.add(f"guest {n}")
back = [tracker.accept(t) for t in history.replay_for(f"/stream?{tracker.query()}")]
pictures.table([(d.kind, d.seq or "", d.data or "", d.missed or "") for d in back],
               ["what the reconnected client got", "seq", "data", "missed"])

# %% [markdown]
# What the reference systems promise:
#
# | system | how a client says what it saw | what it gets back | a gap too old |
# |---|---|---|---|
# | SSE (`EventSource`) | the browser sends `Last-Event-ID` by itself | whatever the server chooses to replay | up to the server |
# | Socket.IO connection state recovery (4.6+) | `40{"pid", "offset"}` on reconnect | missed broadcasts without an ack, with `socket.recovered` true; needs the server to have sent one event first; off by default, not in python-socketio | `recovered` false: the application must refetch |
# | Centrifugo | the offset and epoch of each stream | the missed publications and `recovered` true | `recovered` false |
# | `wsteach.aio.resume` | `?epoch=…&last=…` | the missed messages in order, then live ones | a `gap` message saying how many |
#
# Socket.IO's default is *at most once*: the server keeps no buffer for an absent client, so
# what it sent meanwhile is lost (socket.io-client#1358). All of these need the client to
# drop duplicates by number, as `Tracker` does.
#
# ## 7. The article's guest table, live
#
# The article's page re-renders its guest table each time the server pushes. Here the same
# scene in the notebook: a server pushing a guest at the article's random 2-7 s (scaled), a
# background task that reads them, and an `HTML` widget it updates. The task keeps running
# after this cell finishes: the table keeps changing while the notebook is idle.

# %%
import json

from IPython.display import display

from wsteach.show.live_table import LiveTable

if "live_guests" in globals():  # Run All twice: stop the previous demo first
    live_guests.cancel()  # noqa: F821
    live_server.close()  # noqa: F821
    await live_server.wait_closed()  # noqa: F821


async def push_forever(ws):
    rng = random.Random(SEED)
    await push_guests(ws, guests * 100, [rng.uniform(PUSH_MIN, PUSH_MAX) * 5
                                         for _ in range(len(guests) * 100)],
                      answer_heartbeats=True)


async def follow_guests(uri: str, table: LiveTable) -> None:
    arrived = []
    async for ws in aio.connect(uri, ping_interval=5, min_delay=0.2):
        try:
            async for message in ws:
                guest = json.loads(message)
                arrived.insert(0, (guest["surname"] + guest["name"],
                                   "女" if guest["gender"] == "female" else "男",
                                   guest["region"]))
                table.show(arrived[:8], f"{len(arrived)} guests so far, newest first")
        except ConnectionClosed:
            continue


live_server = await aio.serve(push_forever, ping_interval=None)
table = LiveTable(["姓名 name", "性别", "region"], "The guest table, pushed")
live_guests = asyncio.create_task(follow_guests(f"ws://127.0.0.1:{live_server.port}/", table))
display(table.widget)

# %%
await asyncio.sleep(0.5)
print(f"The table was redrawn {table.updates} times so far, by a task, while no "
      "cell of it was running.")

# %% [markdown]
# > **Errata (勘误): the source article's heartbeat.**
# >
# > - *"heartbeat = ()=>{ this.isAlive = true; }"*: an arrow function's `this` is not the
# >   socket; no socket is ever marked alive and every client is terminated at the second
# >   sweep (section 2, reproduced). Use `function heartbeat() { this.isAlive = true; }` as the
# >   `ws` README does, or mark the socket itself.
# > - *"服务端收到消息后立即返回一个消息"* (the server answers the heartbeat at once): the
# >   article's own server does not; it only logs "HeartBeat", so its client's heartCheck
# >   closes healthy connections whenever two pushes are more than 6 s apart (section 2:
# >   measured).
# > - *"一般来说客户端每过一定时间向服务器发送一个数据包"* (usually the client sends the
# >   heartbeat): either side may; WebSocket's own heartbeat is the ping frame, which servers
# >   send (browsers cannot, section 4), and a server needs one to notice dead clients at all.
# > - `lockReconnect` with a fixed 4 s delay: every client of a restarted server returns in the
# >   same instant, again and again (section 5, measured). Use exponential backoff with jitter.
# > - Nothing in the article's client says what it missed while disconnected: guests pushed
# >   meanwhile are lost. Section 6 numbers them and replays what was missed.
#
# ## Summary
#
# - TCP does not notice a peer that vanished: writes succeed, then wait, without an error, for
#   minutes (a real blackhole) or for ever (a peer that stopped reading). TCP keepalive is off
#   by default and waits two hours.
# - A keepalive (ping, then a pong within `ping_timeout`) notices a dead peer within
#   `ping_timeout` to `ping_interval + ping_timeout`, measured here. Browsers answer pings but
#   cannot send them: a page needs an application heartbeat, which the server must answer.
# - Reconnect with exponential backoff and full jitter; never retry what cannot succeed (a
#   4xx, a bad URI). A fixed delay turns a restart into a stampede.
# - Number the messages, keep a bounded history, replay from the client's last number, drop
#   duplicates, and say so when a gap is too old: 20 cuts, nothing lost.
#
# ## Exercises
#
# **Exercise 8.1** (predict, then compare with section 3's plot). A server pings every 25 s and
# waits 20 s for each pong (Engine.IO's defaults). A client's network vanishes at an unknown
# moment. What is the earliest, and the latest, time after that moment at which the server can
# notice? Answer `(earliest, latest)` in seconds.

# %% tags=["solution"]
answer_window = (20, 45)

# %%
from wsteach.exercises import nb08

nb08.check_detection_window(25, 20, answer_window)

# %% [markdown]
# **Exercise 8.2** (write it). Write `backoff(attempt, min_delay, factor, max_delay, rng)`: the
# seconds to wait before retry `attempt` (0, 1, 2, ...), exponential backoff capped at
# `max_delay`, with full jitter drawn from `rng` (a `random.Random`). Do not call
# `aio.backoff_delays`.

# %% tags=["solution"]
def backoff(attempt, min_delay, factor, max_delay, rng):
    ceiling = min(max_delay, min_delay * factor ** attempt)
    return rng.uniform(0, ceiling)


# %%
nb08.check_backoff(backoff)

# %% [markdown]
# **Exercise 8.3** (diagnose). The article's server sweeps every 30 s with the arrow-function
# pong handler. Three healthy clients connect just before a sweep. How many seconds after
# connecting is each terminated (or `"never"`)?

# %% tags=["solution"]
answer_terminated_after = 60

# %%
nb08.check_article_sweep(answer_terminated_after)

# %% [markdown]
# **Exercise 8.4** (predict). A client saw messages up to number 41 and was away for a while.
# When it reconnects, the server's history holds messages 50 to 100. What does it receive?
# Answer `(missed, first, last)`: how many messages the gap notice reports, and the numbers of
# the first and the last message replayed.

# %% tags=["solution"]
answer_replay = (8, 50, 100)

# %%
nb08.check_replay(answer_replay)

# %% [markdown]
# **Exercise 8.5** (open). The chat of notebook 10 keeps its history in the server process. What
# does a client see when that process restarts, and what would it take to lose nothing even
# then? (Think of the `epoch`, and of where the history would have to live.)

# %% [markdown] tags=["solution"]
# *Model answer.* After a restart the history is empty and has a new epoch: the client's
# `hello` carries an epoch it does not know, so the `Tracker` starts afresh at 0 and the
# server, seeing a foreign epoch, reports the gap instead of pretending nothing was lost.
# Nothing sent before the restart can come back, because it lived only in the old process. To
# lose nothing the history must outlive the process: a store such as Redis streams or a
# database, with the epoch kept beside it, which is what Centrifugo's history (with a Redis
# engine) and Socket.IO's recovery with a persistent adapter do.

# %% [markdown] tags=["navigation"]
# [← 07 · Control frames and closing](07_control_frames_and_closing.ipynb) | [Contents](../README.md) | [09 · Socket.IO and events →](09_socketio_and_events.ipynb)
