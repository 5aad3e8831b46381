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
# **You will learn**
# - why TCP alone does not notice a dead peer (measured: `send()` goes on accepting, then
#   waits, without an error);
# - the article's server sweep and client heartCheck, their bugs reproduced and fixed;
# - how a keepalive (ping, then a pong within a timeout) notices a dead peer, and how long
#   that takes for given settings;
# - why a browser page needs an application heartbeat;
# - how the many clients of a restarted server should come back: backoff and jitter;
# - how a client that reconnects gets exactly what it missed, and is told when it cannot.
#
# **You need** notebook 07 (control frames: ping, pong, close codes), and asyncio's
# `create_task`, `gather` and `async with` (notebook 00 shows `gather`; TEACHING.md's
# prerequisites show all three).
# **Time:** about 50 minutes to read and run, 80 with the exercises.

# %% [markdown] tags=["navigation"]
# [← 07 · Control frames and closing](07_control_frames_and_closing.ipynb) | [Contents](../README.md) | [09 · Socket.IO and events →](09_socketio_and_events.ipynb)

# %% [markdown]
# ## Parameters
#
# Every timing a demo waits on. The article's seconds are scaled down so the whole notebook
# runs in a few seconds; the ratios between them are the article's.

# %%
PUSH_BYTES = 64 * 1024  # bytes per message the server pushes in the blackhole demo
PUSH_EVERY = 0.002  # seconds between those messages
BLACKHOLE_AFTER = 0.15  # seconds of healthy traffic before the client's network vanishes
STALLED_FOR = 0.2  # we stop watching once send() has accepted nothing for this long...
WATCH_AT_MOST = 3.0  # ...or after this many seconds in all

ARTICLE_SECOND = 0.008  # one second of the article, in this notebook's seconds
SWEEP_EVERY = 30 * ARTICLE_SECOND  # the article's server sweeps every 30 s
SWEEPS = 3
VANISH_AT = 36 * ARTICLE_SECOND  # when one client's network vanishes, just after sweep 1
PUSH_MIN, PUSH_MAX = 2 * ARTICLE_SECOND, 7 * ARTICLE_SECOND  # its guest pushes: every 2-7 s
HEARTCHECK_TIMEOUT = 3 * ARTICLE_SECOND  # its client's heartCheck.timeout: 3 s
HEARTCHECK_PUSHES = 25  # guests pushed while we count the heartCheck's verdicts

DETECTION_SETTINGS = [(0.1, 0.1), (0.2, 0.1), (0.1, 0.2), (0.2, 0.2), (0.3, 0.2), (0.2, 0.3)]
DETECTION_TRIALS = 4  # blackholes per setting, each at a random moment

STORM_CLIENTS = 200
STORM_DOWN = 0.2  # seconds the restarted server answers 503 to everyone
STORM_CAPACITY = 40  # then: handshakes it completes per 100 ms (503 to the rest)
ARTICLE_RECONNECT = 0.2  # the article's lockReconnect delay (4 s), scaled to the storm
BACKOFF = {"min_delay": 0.3, "factor": 2.0, "max_delay": 0.6}  # exponential, full jitter

RESUME_MESSAGES = 400
RESUME_CUTS = 20
HISTORY_SIZE = 1000
LIVE_PUSHES = 2000  # guests the live table of section 7 receives (about four minutes)
SEED = 2019

# %% [markdown]
# ## 1. Why TCP does not notice a dead peer
#
# A server pushes a 64 KiB message every 2 ms to a client. The client sits behind
# `FaultyProxy`, a TCP proxy on loopback (`wsteach/lessons/faulty_proxy.py`) that forwards both
# ways until told otherwise. After 0.15 s it **blackholes** the connection: it keeps both TCP
# connections open but moves nothing more, like a laptop whose lid was closed or a Wi-Fi that
# went away. The server is never told. We watch what its `send()` does, until it has accepted
# nothing for 0.2 s.

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
    sent, last_accepted, errors = 0, 0.0, []
    opened = asyncio.get_running_loop().create_future()

    async def pusher(ws):
        nonlocal sent, last_accepted
        opened.set_result(ws)
        try:
            while True:
                await ws.send(b"x" * PUSH_BYTES)  # waits while too much is unsent
                sent, last_accepted = sent + 1, time.monotonic()
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
        ws, start = await opened, time.monotonic()
        while (now := time.monotonic() - start) < WATCH_AT_MOST:
            if now >= BLACKHOLE_AFTER and not proxy.blackholed:
                proxy.blackhole()
            if time.monotonic() - max(last_accepted, start + BLACKHOLE_AFTER) > STALLED_FOR:
                break
            timeline.append((now, sent, ws.unsent, kernel_unsent(ws)))
            await asyncio.sleep(0.02)
        state = ws.state.name
        reading.cancel()
        client.transport.abort()
    return timeline, errors, state, time.monotonic() - last_accepted


timeline, errors, state, waiting = await push_into_the_void()
print(f"{timeline[-1][0] - BLACKHOLE_AFTER:.1f} s into the blackhole the server's connection "
      f"is {state}; errors raised: {len(errors)}; its send() has been waiting for "
      f"{waiting:.1f} s.")

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
at_blackhole = next(row[1] for row in timeline if row[0] >= BLACKHOLE_AFTER)
print(f"send() accepted {at_blackhole} messages before the blackhole and "
      f"{timeline[-1][1] - at_blackhole} more after it ("
      f"{(timeline[-1][1] - at_blackhole) * PUSH_BYTES / 1e6:.1f} MB that will never arrive); "
      f"then it stopped returning, with {max(row[3] for row in timeline) / 1e6:.1f} MB in the "
      f"kernel's send queue and {max(row[2] for row in timeline) / 1e3:.0f} kB in asyncio's.")

# %% [markdown]
# Nothing failed. After the blackhole, `send()` kept returning until the buffers on the way
# filled: first the proxy's receive buffer (its kernel still acknowledges what arrives, so the
# server's send queue stays empty for a moment), then the server's own send queue. Then it
# simply **waited**: a write back-pressure that never ends, with no error, because TCP has no
# way to tell "slow" from "gone". Everything it accepted after the blackhole is lost, as the
# article says (服务端会继续给客户端发送数据，这些数据会丢失: the server goes on sending, and
# the data is lost).
#
# A real blackhole (packets dropped instead of held) differs only in how long it takes: the
# kernel retransmits with growing pauses and gives up after `tcp_retries2` retransmissions.
# TCP also has its own keepalive, but it is off unless a program turns it on
# (`SO_KEEPALIVE`). Both from this machine's kernel settings:

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
# An arrow function has no `this` of its own: it uses the `this` of the code around it, which
# at the top of a Node module is `module.exports`, not the socket that got the pong.
# `wsteach/lessons/heartbeat.py` reproduces both versions: `Sweeper` with
# `as_in_the_article=True` sets the attribute on itself, as the arrow function does on the
# module. Four clients, each answering every ping at once (as browsers do): Ada, Bo and Cai
# stay healthy; Dee sits behind a `FaultyProxy` that blackholes her connection at 36 (article)
# seconds, just after the first sweep.

# %%
from wsteach.lessons.heartbeat import Sweeper
from wsteach.show import pictures


async def sweep_four_clients(as_in_the_article: bool):
    sweeper = Sweeper(SWEEP_EVERY, as_in_the_article=as_in_the_article)

    async def register(ws):
        sweeper.add(ws, ws.request.target.strip("/"))  # each client connects to /its-name
        await ws.wait_closed()

    async with (aio.serve(register, ping_interval=None) as server,
                FaultyProxy(server.port) as proxy):
        clients = [await aio.connect(f"ws://127.0.0.1:{port}/{name}", ping_interval=None)
                   for name, port in [("Ada", server.port), ("Bo", server.port),
                                      ("Cai", server.port), ("Dee", proxy.port)]]
        asyncio.get_running_loop().call_later(VANISH_AT, proxy.blackhole)
        await sweeper.run(SWEEPS)
        for client in clients:
            client.transport.abort()
    return sweeper.sweeps


article, fixed = await asyncio.gather(sweep_four_clients(True), sweep_four_clients(False))
pictures.table([(n + 1, f"{a.at / ARTICLE_SECOND:.0f} s", ", ".join(a.terminated) or "-",
                 ", ".join(f.terminated) or "-")
                for n, (a, f) in enumerate(zip(article, fixed, strict=True))],
               ["sweep", "at (article's seconds)", "terminated (article's server)",
                "terminated (fixed)"])

# %%
dee_found = next(sweep.at for sweep in fixed if "Dee" in sweep.terminated)
print(f"The fixed sweep terminated Dee {(dee_found - VANISH_AT) / ARTICLE_SECOND:.0f} article "
      f"seconds after her network vanished: {(dee_found - VANISH_AT) / SWEEP_EVERY:.1f} sweep "
      "intervals.")

# %% [markdown]
# Every client, healthy or not, is terminated at the **second** sweep: the first marks them
# not alive and pings them; their pongs set `isAlive` on the wrong object; the second finds
# them still "not alive". Written as `function () { this.isAlive = true; }` (where `this` is
# the socket the event fired on) or as `ws.isAlive = true`, the healthy clients stay, and
# only Dee goes. Whenever a client vanishes, the first sweep after that moment pings it in
# vain and the second terminates it: the fixed sweep notices a dead peer within one to two
# sweep intervals (Dee vanished just after a sweep, so she took about two).
#
# ### The client's heartCheck
#
# The article's page sends "HeartBeat" after 3 s without a message and closes the connection
# when nothing at all arrives within 3 s more; any message resets both timers. Its server
# never answers "HeartBeat" (it only logs it) and pushes a guest every 2 to 7 s. So every
# pause between guests longer than 6 s closes a perfectly healthy connection.
# `heartcheck_against` (in `wsteach/lessons/heartbeat.py`) plays the page's `HeartCheck`
# against the article's server (`push_guests`), and against one that answers "HeartBeat" at
# once, on real connections. After each close the page reconnects at once (the article waits
# 4 s first: section 5), and gets the pushes that remain.

# %%
import itertools
import random

from wsteach.lessons.heartbeat import heartcheck_against, push_guests
from wsteach.lessons.polling import load_guests

guests = load_guests()
rng = random.Random(SEED)
delays = [rng.uniform(PUSH_MIN, PUSH_MAX) for _ in range(HEARTCHECK_PUSHES)]

as_written, answered = await asyncio.gather(
    heartcheck_against(delays, guests, HEARTCHECK_TIMEOUT, answer_heartbeats=False),
    heartcheck_against(delays, guests, HEARTCHECK_TIMEOUT, answer_heartbeats=True))
pictures.table([("the article's server (logs HeartBeat)", as_written.closes, as_written.messages),
                ("a server that answers HeartBeat", answered.closes, answered.messages)],
               ["server", "healthy connections the heartCheck closed",
                f"guests received (of {len(delays)} pushed)"])

# %%
limit = 2 * HEARTCHECK_TIMEOUT
long_gaps = sum(d > limit for d in delays)
close_calls = sum(abs(d - limit) < 0.25 * ARTICLE_SECOND for d in delays)
expected = (PUSH_MAX - limit) / (PUSH_MAX - PUSH_MIN)
print(f"{long_gaps} of the {len(delays)} pauses between pushes ({long_gaps / len(delays):.0%}) "
      f"were longer than 2 x timeout = {limit / ARTICLE_SECOND:.0f} article seconds (with "
      f"pauses uniform in 2-7 s, {expected:.0%} are expected to be). The heartCheck closed "
      f"{as_written.closes} healthy connections, about one for each such pause: {close_calls} "
      "pauses are within a quarter of an article second of 6 s, where the push and the "
      "heartCheck's timer race, and a busy machine can tip them either way.")

# %% [markdown]
# Each close also lost a guest or two (the "received" column): what the server pushed into
# the connection the page had just given up on. The heartbeat idea is right; the server must
# take part in it. And after each close the article's page waits a fixed 4 s
# (`lockReconnect`) before it reconnects: section 5 shows what a fixed delay does when a
# server restarts under many clients.
#
# ## 3. Keepalive pings: the protocol's own heartbeat
#
# `wsteach.aio`, like the websockets library, pings every `ping_interval` seconds and waits
# `ping_timeout` for the pong (defaults 20 and 20). No pong in time: it closes with 1011
# "keepalive ping timeout" and drops TCP. Two stored captures, made by the scenarios
# `keepalive` and `keepalive_timeout` of `wsteach/wire/scenarios.py`, show both cases, with
# these settings:

# %%
from wsteach.frames import Opcode
from wsteach.paths import CAPTURES
from wsteach.wire import capture, scenarios

print(f"ping_interval = {scenarios.KEEPALIVE_INTERVAL} s, "
      f"ping_timeout = {scenarios.KEEPALIVE_TIMEOUT} s")

# %% [markdown]
# First an idle connection whose client answers every ping, until it closes:

# %%
rows = capture.packet_rows(capture.read_pcap(CAPTURES / "keepalive.pcap"))
figure = pictures.sequence_diagram([r for r in rows if "WebSocket" in r.what],
                                   "an idle connection, kept alive (keepalive.pcap)")
plt.show()
keepalive_frames = capture.websocket_frames(CAPTURES / "keepalive.pcap")
ping_size = next(len(f.wire) for f in keepalive_frames if f.opcode == Opcode.PING)
pong_size = next(len(f.wire) for f in keepalive_frames if f.opcode == Opcode.PONG)
print(f"A ping costs {ping_size} bytes (server: header + payload), its pong {pong_size} "
      "(client: header + mask + payload), plus TCP/IP headers each way.")

# %% [markdown]
# Then the same server with a `FaultyProxy` in front of the client, which blackholes the
# connection after two pings. The capture was taken on the server's port, so the "client" in
# it is the proxy: what the server sent after the blackhole reached the proxy and went no
# further. The RST at the end is the proxy being shut down when the scenario ended.

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
pairs = [(m, i, t) for (i, t), times in zip(DETECTION_SETTINGS, by_setting, strict=True)
         for m in times]
inside = sum(t <= m <= i + t + 0.01 for m, i, t in pairs)
latest = max(m - (i + t) for m, i, t in pairs)
print(f"{len(measured)} blackholes; {inside} detected within the grey bar (allowing 10 ms for "
      f"asyncio's timers and the scheduling of tasks). The latest came "
      f"{abs(latest) * 1000:.0f} ms {'before' if latest <= 0 else 'after'} interval + timeout.")

# %% [markdown]
# The bar is the prediction: at best the silence begins as a ping leaves, and it is noticed
# one `ping_timeout` later; at worst it begins just after a pong, and the next ping leaves a
# whole `ping_interval` later. Exercise 8.1 asks you to derive it.
#
# Choosing the numbers is a trade: a short interval notices sooner and costs a few bytes per
# connection per interval (the ping and the pong measured above); a short timeout notices
# sooner but closes connections that are only slow (a laptop on a train, a blocked event
# loop: websockets issues #1620 and #1318 are such 1011s). The reference systems choose:
# websockets 20 s / 20 s, Engine.IO 25 s / 20 s, SignalR 15 s keepalive with a 30 s timeout
# ("twice the keepalive"), Jupyter Server pings every 30 s and gives up after 90 s. And
# proxies often cut a connection that has been idle for about 30 s (the websockets FAQ), which
# is why the interval is rarely longer: the pings also keep the connection from looking idle.
#
# ## 4. Browsers cannot send pings
#
# JavaScript's `WebSocket` has no `ping()`: the WHATWG standard leaves ping and pong out of the
# API ("User agents may send ping... as desired"). Chromium answers a server's ping by itself,
# in its network service, and sends no pings of its own (we found none initiated in its
# WebSocket code, `net/websockets/websocket_channel.cc`). `tests/test_browser.py` checks that
# our server's ping gets its pong from a real Chromium and that the page never sees it. So:
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
# connect(...)`, then restarts the server: every connection is closed with 1012 (service
# restart); for 0.2 s every attempt is answered 503 (as a load balancer in front of a
# restarting server answers); after that the server completes at most 40 opening handshakes
# per 100 ms and answers 503 to the rest. A server that has just started has cold caches and
# every client's session to restore, so it cannot take everyone at once; it sheds what it
# cannot take. The storm records each attempt: first with the article's reconnect, a fixed
# delay and no jitter, then with exponential backoff and full jitter.

# %%
from wsteach.lessons.storm import storm

fixed_delay = await storm(STORM_CLIENTS, down_for=STORM_DOWN, capacity=STORM_CAPACITY,
                          min_delay=ARTICLE_RECONNECT, factor=1.0, max_delay=ARTICLE_RECONNECT,
                          jitter=False)
full_jitter = await storm(STORM_CLIENTS, down_for=STORM_DOWN, capacity=STORM_CAPACITY,
                          jitter=True, **BACKOFF)
storms = {"fixed delay, no jitter (the article)": fixed_delay,
          "exponential backoff, full jitter": full_jitter}

# %%
figure, axes = plt.subplots(2, 1, figsize=(9, 4.5), sharex=True, sharey=True)
for ax, (label, result) in zip(axes, storms.items(), strict=True):
    counts = result.per_bucket(0.1)
    ax.bar([0.1 * n for n in range(len(counts))], counts, width=0.09, align="edge",
           color="#1c7ed6")
    ax.axvspan(0, STORM_DOWN, color="#ffe3e3", zorder=0)
    ax.axhline(STORM_CAPACITY, color="#2b8a3e", linestyle="--", linewidth=1)
    ax.set_ylabel("attempts / 100 ms")
    ax.set_title(label, fontsize=9)
axes[1].set_xlabel("seconds after the restart (red: the server answers 503 to everyone; "
                   "green: what it can take afterwards)")
figure.tight_layout()
plt.show()
pictures.table([(label, max(r.per_bucket(0.1)), len(r.attempts), r.refused,
                 f"{r.back_after:.2f} s") for label, r in storms.items()],
               ["reconnect", "peak attempts / 100 ms", "attempts in all", "answered 503",
                "all 200 back after"])

# %% [markdown]
# With a fixed delay every client comes back in the same instant, again and again: the whole
# herd lands in one or two 100 ms slots, far above what the server can take, so most of it is
# refused and comes back together 0.2 s later, to be refused again (socket.io#2998 describes
# this in production). With full jitter the same clients are spread out: the peak is a
# fraction of the herd, far fewer attempts are refused, and the last client is back about as
# soon (the table).
# The less a server can take at once, the more jitter matters; a server that could take
# everyone at once (no `capacity`) would favour the fixed delay, but no real server is that.
#
# The `aio` defaults, near the websockets library's, are a first delay up to 3.1 s, growing
# by 1.618 to at most 90 s; socket.io-client uses 1-5 s with ±50 %; SignalR retries at 0, 2,
# 10 and 30 s, then stops.
#
# Not every failure deserves a retry: `connect` raises at once for a bad URI or a 4xx answer
# (a 403 will be a 403 again), and retries network errors and 500, 502, 503, 504
# (`aio.client.is_retryable`; `tests/test_heartbeat.py` checks both).
#
# ## 6. Resuming without loss
#
# A reconnected client has missed whatever was sent while it was away. `wsteach/aio/resume.py`
# holds the small pattern the chat (notebook 10) uses too:
#
# - the server numbers each message (`seq` 1, 2, 3, ...) and keeps the last ones, a bounded
#   `History`;
# - each connection starts with a `hello` from the server, naming its history (the `epoch`, a
#   random word drawn when the history was made) and its last number;
# - a client reconnects with the last number it saw (`/stream?epoch=…&last=41`) and gets what
#   it missed, in order, then the live messages; its `Tracker` drops what it has already seen;
# - when the history no longer reaches back that far, the server sends a `gap` notice saying
#   how many messages are gone, instead of leaving a silent hole.
#
# A server that restarted from scratch has a new epoch, so its client does not take the new
# message 1 for a duplicate of its old 1, and it is told that an unknown number of messages
# may be gone (exercise 8.5 asks what such a client has lost).
#
# Here a stream of 400 numbered messages, and a proxy that **cuts** the connection (a TCP
# reset, both ends) 20 times while they flow. First the server's side: every client gets the
# replay its reconnect asks for, then every message published after it.

# %%
import inspect

from wsteach.aio.resume import History, Tracker
from wsteach.lessons.numbered_stream import NumberedStream

print(inspect.getsource(NumberedStream))

# %% [markdown]
# Then the client's side, reconnecting with `async for ws in aio.connect(...)` and saying what
# it has seen each time, while a producer publishes and the proxy cuts:

# %%
async def resume_through_cuts(messages: int, cuts_wanted: int):
    stream, tracker = NumberedStream(HISTORY_SIZE), Tracker()
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
# And when the history is too short for the absence, the client is told. A history of 5
# messages; a client that saw guest 1, then was away while guests 2 to 20 were published:

# %%
history = History(size=5)
tracker = Tracker()
for text in history.replay_for("/stream"):  # the first visit: just the hello
    tracker.accept(text)
tracker.accept(history.add("guest 1").text())
for n in range(2, 21):  # the client is away for 19 messages
    history.add(f"guest {n}")
back = [tracker.accept(t) for t in history.replay_for(f"/stream?{tracker.query()}")]
pictures.table([(d.kind, d.seq or "", d.data or "", d.missed or "") for d in back],
               ["what the reconnected client got", "seq", "data", "missed"])

# %% [markdown]
# The hello, then the gap notice (guests 2 to 15 are gone: 14 messages), then the five the
# history still holds. What the client does about a gap is the application's choice (fetch
# the current state, show "some messages are missing"); what matters is that it knows.
#
# What the reference systems promise:
#
# | system | how a client says what it saw | what it gets back | a gap too old |
# |---|---|---|---|
# | SSE (`EventSource`) | the browser sends `Last-Event-ID` by itself | whatever the server chooses to replay | up to the server |
# | Socket.IO connection state recovery (4.6+) | `40{"pid", "offset"}` on reconnect | missed broadcasts without an ack, with `socket.recovered` true; needs the server to have sent one event first; off by default, not in python-socketio | `recovered` false: the application must refetch |
# | Centrifugo | the offset and epoch of each stream | the missed publications and `recovered` true | `recovered` false |
# | `wsteach.aio.resume` | `?epoch=…&last=…` | the missed messages in order, then live ones | a `gap` message saying how many (`null`: unknown, the server restarted) |
#
# Socket.IO's default is *at most once*: the server keeps no buffer for an absent client, so
# what it sent meanwhile is lost (socket.io-client#1358). All of these need the client to
# drop duplicates by number, as `Tracker` does.
#
# ## 7. The article's guest table, live
#
# The article's page re-renders its guest table each time the server pushes. Here the same
# scene in the notebook: a server pushing a guest at the article's random 2-7 s (scaled to
# 0.05-0.17 s), a background task (`asyncio.create_task`) that reads them, and an `HTML`
# widget it updates. The task keeps running after this cell finishes: the table keeps
# changing while the notebook is idle, for the 2000 guests the server pushes (about four
# minutes). Run this cell again to start afresh: the previous demo is stopped first.

# %%
import json

from IPython.display import display

from wsteach.show.live_table import LiveTable

if "live_guests" in globals():  # Run All twice: stop the previous demo first
    live_guests.cancel()  # noqa: F821
    live_server.close()  # noqa: F821
    await live_server.wait_closed()  # noqa: F821


async def push_live_guests(ws):
    rng = random.Random(SEED)
    schedule = ((rng.uniform(PUSH_MIN, PUSH_MAX) * 3, guest)
                for guest in itertools.islice(itertools.cycle(guests), LIVE_PUSHES))
    await push_guests(ws, schedule, answer_heartbeats=True)


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
            continue  # the connection was lost: reconnect
        table.show(arrived[:8], f"all {len(arrived)} guests pushed; the server closed")
        return


live_server = await aio.serve(push_live_guests, ping_interval=None)
table = LiveTable(["姓名 name", "性别 gender", "国家 region"], "The guest table, pushed")
live_guests = asyncio.create_task(follow_guests(f"ws://127.0.0.1:{live_server.port}/", table))
display(table.widget)

# %% [markdown]
# This cell only waits 0.3 s; the task above redraws the table meanwhile, and goes on doing
# so after the cell has finished (scroll up in JupyterLab and watch it).

# %%
before = table.updates
await asyncio.sleep(0.3)
print(f"The background task redrew the table {table.updates - before} times during these 0.3 s "
      f"({table.updates} times in all so far).")

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
# > - *"一般来说客户端每过一定时间向服务器发送一个数据包"* (usually the client sends a packet
# >   at intervals, telling the server it is alive): either side may, and each learns only
# >   from what it receives. A client's "HeartBeat" tells the server something only if the
# >   server watches for it, which the article's does not. WebSocket's own heartbeat is the
# >   ping frame, which a server sends and a browser answers by itself (browsers cannot send
# >   pings, section 4).
# > - `lockReconnect` with a fixed 4 s delay: every client of a restarted server returns in the
# >   same instant, again and again (section 5, measured). Use exponential backoff with jitter.
# > - Nothing in the article's client says what it missed while disconnected: guests pushed
# >   meanwhile are lost (section 2 counted them). Section 6 numbers them and replays what was
# >   missed.
# > - A slip outside the protocol: the table renders `${text}${record.surname}`, the given name
# >   before the surname (伟李 for 李伟). Chinese names put the surname first, as section 7's
# >   table does.
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
#   duplicates, and say so when a gap is too old: 20 cuts, nothing lost. The history must
#   outlive whatever may restart (exercise 8.5).
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
# pong handler. Three healthy clients connect just **after** a sweep, so the next sweep comes
# 30 s later. How many seconds after connecting is each terminated (or `"never"`)?

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
# *Model answer.* The restarted process has an empty history with a new epoch. The client
# reconnects with `?epoch=<old>&last=N`; the server does not know that epoch, so it replays
# its whole new history from 1, and the `Tracker`, seeing a new epoch in the `hello`, starts
# afresh at 0: no new message is taken for a duplicate. But what the old process sent while
# the client was away, and anything it never got to send, is gone, and the new server cannot
# know how much: it sends a `gap` with `"missed": null`, a gap of unknown size, and the
# `Tracker` counts it in `restarts`. The client should then refetch the state, or show "you
# may have missed messages". To lose nothing, the history must outlive the process: kept in
# a store such as Redis streams or a database, with the epoch beside it, and the numbering
# continued by the new process. Centrifugo's history with its Redis engine works this way, and
# reports `recovered: false` when it cannot; Socket.IO's connection state recovery needs an adapter
# that keeps the packets (the Redis adapter cannot).

# %% [markdown] tags=["navigation"]
# [← 07 · Control frames and closing](07_control_frames_and_closing.ipynb) | [Contents](../README.md) | [09 · Socket.IO and events →](09_socketio_and_events.ipynb)
