# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 00 · Start here: WebSockets from first principles
#
# This series follows a WebSocket from the first HTTP request of the 1990s to a live chat
# served from this kernel. Every claim about bytes is shown on a real packet, every number is
# measured while you watch, and everything built by hand is checked against real software:
# in the notebooks against `hashlib`, `base64` and the `websockets` library (a server and a
# client no one here wrote); in the series' tests also against Wireshark's dissector (`tshark`
# reads every stored capture) and a real browser (Chromium talks to our server).
#
# **You will learn** what each notebook builds, whether this machine is ready (versions,
# ports, packet capture), how the exercises and their checks work, and the words of the trade
# in English and Chinese (the series grew from a Chinese-language article).
#
# **You need** nothing but this notebook. **Time:** about 15 minutes.

# %% [markdown] tags=["navigation"]
# [Contents](../README.md) | [01 · HTTP before WebSocket →](01_http_before_websocket.ipynb)

# %% [markdown]
# ## The map of the series
#
# | notebook | builds | shows on the wire |
# |---|---|---|
# | 00 start here | this map, the environment check, the glossary | - |
# | 01 HTTP before WebSocket | HTTP/1.0 one request per connection, 1.1 keep-alive and pipelining, head-of-line blocking, what HTTP/2 changed | TCP handshakes counted per request |
# | 02 polling, long polling, streaming | short polling, long polling, the "forever frame", Server-Sent Events, measured | latency and header bytes per message |
# | 03 the opening handshake | the Upgrade request typed by hand, SHA-1 and base64 from scratch, `Sec-WebSocket-Accept` | a real GET / 101 exchange |
# | 04 frame layout | FIN, RSV, opcode, MASK, the three length forms, fragmentation; an encoder and a decoder | frames dissected from a capture |
# | 05 masking | XOR masking, why clients mask (proxy cache poisoning), fast masking | masked bytes in a capture |
# | 06 packets on the wire | a whole session captured with scapy | TCP handshake, Upgrade, frames, close, FIN |
# | 07 control frames and closing | ping/pong, close codes, the closing handshake, UTF-8 rules | control frames |
# | 08 heartbeat and reconnect | dead-peer detection, reconnect with backoff | heartbeats; faults injected by a proxy |
# | 09 Socket.IO and events | events, broadcast, rooms, acknowledgements | Socket.IO packets |
# | 10 live chat | a multi-user chat with ipywidgets, served from the kernel | chat traffic |
#
# Notebooks are added as the series grows; the README lists the ones that exist today.
# What the notebooks build by hand is collected in the small package `wsteach`, which you can
# open and read: start with `wsteach/frames.py` once you reach notebook 04.

# %%
import wsteach
from wsteach.exercises import nb00
from wsteach.exercises.checking import NotYet
from wsteach.show import envcheck, pictures

print("wsteach", wsteach.__version__)

# %% [markdown]
# ## Is this machine ready?
#
# The table checks the Python version, the packages the series uses, whether a server can bind
# a port on loopback (`127.0.0.1`, the only address the series ever uses), whether live packet
# capture is permitted, and whether Wireshark's command-line dissector `tshark` is installed.
# Orange rows are not fatal: without live capture the notebooks read the stored captures in
# `data/captures/`, and `tshark` is only needed by the tests.

# %%
checks = envcheck.environment_checks()
pictures.checks_table(checks)

# %% [markdown]
# How do we know a port can be bound? We asked the operating system for port **0**, which
# means "any free port", and it answered with the port it chose. Every server in the series
# binds port 0 the same way, so two notebooks (or two students on one machine) never clash.

# %%
capture_ok = next(c for c in checks if c.name == "live packet capture").ok
if capture_ok:
    print("Live capture is permitted: notebook 06 will capture a fresh session.")
else:
    print("Live capture is not permitted here; the notebooks will read data/captures/.")
    print(envcheck.HOW_TO_ENABLE_CAPTURE)

# %% [markdown]
# ## Top-level `await`: why `asyncio.run()` fails here
#
# A Jupyter kernel already runs an asyncio event loop, so a cell may simply `await` a
# coroutine. `asyncio.run()` starts a *second* loop and Python refuses. The cell below shows
# both: the `await` works, and `asyncio.run()` raises the error you would meet.

# %%
import asyncio
import time

ANSWER_DELAY = 0.01  # seconds answer_later() sleeps: the only timing of this notebook


async def answer_later() -> int:
    await asyncio.sleep(ANSWER_DELAY)
    return 42


print("await gives", await answer_later())
coroutine = answer_later()
try:
    asyncio.run(coroutine)
except RuntimeError as exc:
    print("asyncio.run() says:", exc)
finally:
    coroutine.close()

# %% [markdown]
# ## How exercises work
#
# Each exercise has three cells: a prompt (markdown), a cell with the answer (in the teacher's
# edition it holds a solution; in the student edition it holds `answer = ...` for you to
# replace), and a **check** cell that calls this notebook's module of `wsteach.exercises` (here `nb00`). A check prints ✔ when you are
# right; when you are not, it raises `NotYet` with a hint about the likely mistake.
#
# **Exercise 0.1.** WebSocket length fields count bytes, not characters. How many bytes does
# the greeting `"你好, WebSocket"` take in UTF-8? Compute it with Python.

# %% tags=["solution"]
greeting = "你好, WebSocket"
answer = len(greeting.encode("utf-8"))

# %%
nb00.check_utf8_length("你好, WebSocket", answer)

# %% [markdown]
# Try a wrong answer to see a hint: the check explains the mistake instead of just saying no.

# %%
try:
    nb00.check_utf8_length("你好, WebSocket", len("你好, WebSocket"))
except NotYet as hint:
    print("NotYet:", hint)

# %% [markdown]
# ## Glossary / 术语表
#
# The source article is written in Chinese; these are its terms and ours.
#
# | English | 中文 | meaning |
# |---|---|---|
# | handshake (opening handshake) | 握手 | the HTTP `GET ... Upgrade: websocket` request and the `101 Switching Protocols` answer that turn a TCP connection into a WebSocket |
# | TCP three-way handshake | 三次握手 | SYN, SYN-ACK, ACK: how any TCP connection opens, before a single HTTP byte |
# | frame | 帧 | the unit a WebSocket sends: a 2 to 14 byte header and a payload |
# | data frame / control frame | 数据帧 / 控制帧 | text or binary payloads / close, ping and pong |
# | mask, masking key | 掩码 | four random bytes every client XORs over its payload |
# | opcode | 操作码 | the 4-bit frame type (text, binary, close, ping, pong, continuation) |
# | payload | 负载 / 有效载荷 | the bytes a frame carries |
# | heartbeat | 心跳 | periodic ping/pong (or app messages) that prove a peer is still alive |
# | reconnect | 重连 | opening a new connection after the old one died |
# | short polling | 短轮询 | the client asks "anything new?" at fixed intervals |
# | long polling | 长轮询 | the server holds the request until there is news |
# | streaming (forever frame) | 流 (iframe 流) | one HTTP response that never ends |
# | Server-Sent Events | 服务器推送事件 | `text/event-stream`: a one-way push over HTTP |
# | full duplex | 全双工 | both sides can send at the same time |
# | persistent connection (keep-alive) | 长连接 / 持久连接 | one TCP connection reused for many requests |
# | short connection | 短连接 | one TCP connection per request |
# | multiplexing | 多路复用 | several independent streams on one connection (HTTP/2 has it; WebSocket does not) |
# | proxy cache poisoning | 代理缓存污染 | the attack that masking prevents |
# | close code | 关闭码 / 状态码 | the 2-byte status code that opens a close frame's payload, such as 1000 (normal) or 1002 (protocol error) |
# | close reason | 关闭原因 | the optional UTF-8 text after the close code, such as `'bye'`; never needed to act on the code |
# | Comet | Comet (服务器推送) | the article's name for long polling and streaming together: the server pushes over HTTP |
# | RTT (round-trip time) | 往返时延 | the time for a packet to go and its answer to come back |
# | HPACK | HPACK (头部压缩) | HTTP/2's header compression: a static table, a dynamic table of recent headers, Huffman coding |
# | pseudo-header | 伪首部 / 伪头部 | an HTTP/2 header starting with a colon (`:method`, `:path`, `:scheme`, `:authority`, `:status`) that carries what HTTP/1.1's request line and status line said |
# | sans-I/O | 无 I/O (协议与 I/O 分离) | a protocol library that never touches a socket or a clock: bytes in, events out (our `Connection`, wsproto, h11) |
# | keepalive (ping/pong) | 保活 | pings sent on a schedule; a pong that does not come in time means the peer is gone |
# | backoff (exponential backoff) | 退避 (指数退避) | waiting longer after each failed reconnect (1 s, 2 s, 4 s ...) up to a limit |
# | jitter | 抖动 (随机抖动) | a random part of each wait, so that many clients do not reconnect at the same instant |
# | room | 房间 | a named group of connections that a server broadcasts to (Socket.IO) |
# | ack (acknowledgement) | 确认 (ack) | a reply that says a message arrived: TCP's ACK flag, or a Socket.IO event's callback |

# %% [markdown]
# ## Summary
#
# - The series builds WebSocket from HTTP upwards, one notebook per layer, and checks every
#   hand-made piece against real software.
# - Servers bind port 0 on `127.0.0.1`; nothing leaves this machine.
# - Live capture needs root or `cap_net_raw`; without it, the stored captures are used.
# - In a notebook, `await` directly; `asyncio.run()` fails because a loop is already running.
#
# ## Exercises
#
# **Exercise 0.2** (predict, then run). Later notebooks run a server and its clients in this
# one kernel at the same time, with `asyncio.gather(a, b, c)`: it runs the coroutines
# together and waits until all have finished. `answer_later()` sleeps `ANSWER_DELAY` (10 ms)
# and returns 42. Before you run anything, predict what
# `await asyncio.gather(answer_later(), answer_later(), answer_later())` gives, and whether it
# takes about 10 ms or about 30 ms. Write the prediction as `(result, milliseconds)`; the check
# cell then runs it and compares.

# %% tags=["solution"]
prediction = ([42, 42, 42], 10)

# %%
started = time.perf_counter()
result = await asyncio.gather(answer_later(), answer_later(), answer_later())
elapsed_ms = (time.perf_counter() - started) * 1000
nb00.check_gather_prediction(prediction, result, elapsed_ms, ANSWER_DELAY * 1000, 3)

# %% [markdown]
# **Exercise 0.3** (open). Which rows of the environment table depend on *who* runs Python?
# Run the same check as another user in a terminal, from the folder of the series. As root,
# try an unprivileged user:
# `sudo -u nobody .venv/bin/python -c "from wsteach.show import envcheck; print(*envcheck.environment_checks(), sep='\n')"`;
# as an ordinary user, the same command with `sudo` alone runs it as root. Which rows change,
# and why only those?

# %% [markdown] tags=["solution"]
# *Model answer.* Only **live packet capture** changes: a sniffer opens a raw `AF_PACKET`
# socket, which Linux allows only to root or to a program holding `cap_net_raw`. Binding port
# 0 on loopback asks for an unprivileged port (above 1023), which any user may do; the
# versions and `tshark` are the same files for every user. (If `nobody` cannot read the
# folder, the command fails before the check: copy the folder somewhere readable, or compare
# root with your own user instead.)

# %% [markdown]
# **Exercise 0.4** (open). Pick three glossary terms and find where RFC 6455 defines them
# (section 1.2 for the handshake, section 5.2 for the frame, section 5.3 for the mask).
# Does the RFC use the same word as the glossary?

# %% [markdown] tags=["solution"]
# *Model answer* (one possible choice). **Opening handshake**: section 1.3 ("Opening
# Handshake") and section 4, the same word. **Frame**: section 5.2 ("Base Framing Protocol"),
# with the opcode, the mask bit and the payload length as fields of the same names. **Masking
# key**: section 5.3 ("Client-to-Server Masking"), "a 32-bit value chosen at random". The RFC
# says "control frames" (section 5.5) and "data frames" (section 5.6) as the glossary does; it
# never says "heartbeat": that is the applications' word for ping and pong (section 5.5.2).

# %% [markdown] tags=["navigation"]
# [Contents](../README.md) | [01 · HTTP before WebSocket →](01_http_before_websocket.ipynb)
