# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 05 · Masking: why every client frame is XORed with a random key
#
# Notebook 04 met the MASK bit and the four bytes of masking key that follow the length in
# every frame a client sends. This notebook takes the mask apart: what XOR does, how the RFC's
# example "Hello" is unmasked by hand, what masked bytes look like in a real capture, the attack
# that made masking mandatory (played out on loopback with a toy caching proxy), and how fast
# masking can be computed.
#
# **You will learn** XOR and why applying the same key twice gives the data back; how payload
# byte *i* is masked with key byte *i* mod 4; why a browser must mask what a script sends, told
# through a proxy cache poisoning attack that works when the frame is not masked and fails when
# it is; why masking hides nothing from anyone; why servers do not mask; and how four ways of
# masking in Python compare with the C code of the `websockets` library.
#
# **You need** notebook 04 (frame layout: FIN, opcode, MASK, the length forms). Notebook 06
# shows the same masked frames inside a whole captured session.
# **Time:** about 30 minutes.

# %% [markdown] tags=["navigation"]
# [← 04 · Frame layout](04_frame_layout.ipynb) | [Contents](../README.md) | [06 · Packets on the wire →](06_packets_on_the_wire.ipynb)

# %% [markdown]
# ## Parameters
#
# Everything a demo waits on or measures is set here.

# %%
from wsteach.paths import CAPTURES

SESSION_PCAP = CAPTURES / "websocket_session.pcap"  # the stored capture (notebook 06 makes it)
PROXY_TIMEOUT = 5.0  # seconds: the upper bound for one proxy scenario (it takes milliseconds)
SPEED_SIZES = [16 * 4**k for k in range(9)]  # payload sizes to time: 16 B, 64 B ... 1 MiB
LOOP_MAX_SIZE = 64 * 1024  # the byte-by-byte loop is timed only up to this size
REPEATS = 5  # timing repeats per point; the plot shows their median
SECONDS_PER_REPEAT = 0.004  # each repeat calls the function this long (small sizes: many calls)

# %% [markdown]
# ## 1. XOR, the whole trick
#
# XOR ("exclusive or", 异或) compares two bits: the result is 1 when they differ and 0 when they
# are the same. Python writes it `^`, and applies it to each of the eight bit positions of two
# bytes at once.

# %%
from wsteach.show import pictures

pictures.table([(a, b, a ^ b) for a in (0, 1) for b in (0, 1)], ["bit", "key bit", "bit XOR key bit"])

# %% [markdown]
# A key bit of 1 flips the data bit, a key bit of 0 leaves it alone. Flip the same bits twice
# and they are back where they started: **XOR with the same key is its own inverse**, so one
# function both masks and unmasks. Here is the letter "H" masked with the first byte of the
# RFC's example key, 0x37, and unmasked again (dark cells are 1 bits):

# %%
from html import escape

from IPython.display import HTML


def bits_picture(rows):
    """One row of eight coloured bit cells per (label, byte value, note)."""
    def cells(value):
        bits = [value >> (7 - i) & 1 for i in range(8)]
        return "".join(
            f"<td style='background:{'#1c7ed6' if bit else '#e7f5ff'};"
            f"color:{'white' if bit else 'black'};width:1.6em;text-align:center;"
            f"font-family:monospace'>{bit}</td>" for bit in bits)
    body = "".join(
        f"<tr><th style='text-align:left'>{escape(label)}</th>{cells(value)}"
        f"<td style='font-family:monospace;text-align:left'>0x{value:02x} {escape(note)}</td></tr>"
        for label, value, note in rows)
    return HTML(f"<table>{body}</table>")


letter, key_byte = ord("H"), 0x37
masked_letter = letter ^ key_byte
bits_picture([
    ("data: 'H'", letter, ""),
    ("key byte", key_byte, ""),
    ("data ^ key", masked_letter, "masked: what travels"),
    ("key byte", key_byte, "the same key again"),
    ("(data ^ key) ^ key", masked_letter ^ key_byte, repr(chr(masked_letter ^ key_byte))),
])

# %% [markdown]
# That was one byte and one key byte. Nothing special about them: the inverse holds for every
# one of the 65,536 pairs.

# %%
assert all((data ^ key) ^ key == data for data in range(256) for key in range(256))
print("(data ^ key) ^ key == data for all 256 × 256 pairs of bytes.")

# %% [markdown]
# ## 2. The RFC's masked "Hello", by hand
#
# RFC 6455 section 5.7 gives two frames carrying the text "Hello": one unmasked, as a server
# sends it, and one masked with the key 37 fa 21 3d, as a client sends it. We build both with
# the encoder of notebook 04 rather than copying them from the RFC.

# %%
from wsteach.frames import Frame, Opcode, decode_frame, encode_frame

rfc_key = bytes.fromhex("37fa213d")
hello_unmasked = encode_frame(Frame(Opcode.TEXT, b"Hello"))
hello_masked = encode_frame(Frame(Opcode.TEXT, b"Hello"), rfc_key)
print(f"unmasked, {len(hello_unmasked)} bytes:")
display(pictures.hex_view(hello_unmasked))
print(f"masked, {len(hello_masked)} bytes:")
display(pictures.hex_view(hello_masked))

# %% [markdown]
# The second byte says it all: its top bit is MASK, and the low 7 bits are the length, 5. With
# MASK set, four bytes of key follow before the payload, and the payload is no longer "Hello".
#
# Section 5.3 of the RFC: payload byte *i* is XORed with key byte *j* = *i* mod 4. The key
# takes turns, byte 0 of the key for payload bytes 0, 4, 8, ..., byte 1 for 1, 5, 9, ..., and
# so on. Unmasking by hand, byte by byte:

# %%
fields = dict(pictures.frame_fields(hello_masked))
wire_key, wire_payload = fields["masking key"], fields["payload"]
rows = []
for i, byte in enumerate(wire_payload):
    plain = byte ^ wire_key[i % 4]
    rows.append((i, f"0x{byte:02x}", i % 4, f"0x{wire_key[i % 4]:02x}", f"0x{plain:02x}",
                 repr(chr(plain))))
pictures.table(rows, ["i", "on the wire", "i % 4", "key[i % 4]", "XOR", "character"])

# %%
from websockets.speedups import apply_mask as websockets_apply_mask

from wsteach.masking import apply_mask

by_hand = bytes(byte ^ wire_key[i % 4] for i, byte in enumerate(wire_payload))
assert by_hand == b"Hello"
assert apply_mask(wire_payload, wire_key) == by_hand
assert websockets_apply_mask(wire_payload, wire_key) == by_hand
assert decode_frame(hello_masked)[0].payload == b"Hello"
print("By hand, wsteach.masking.apply_mask, websockets' C apply_mask and decode_frame "
      "all read", by_hand)

# %% [markdown]
# ## 3. Masked bytes in a real capture
#
# The stored capture `websocket_session.pcap` holds a session between the package's client and
# server (notebook 06 records it live). Its first client frame carries "Hello" too, masked with
# a key the client drew at random.

# %%
from wsteach.wire import capture

frames = capture.websocket_frames(SESSION_PCAP)
client_hello = next(f for f in frames if f.direction == "client" and f.payload == b"Hello")
server_hello = next(f for f in frames if f.direction == "server" and f.payload == b"Hello")
print("client → server:")
display(pictures.hex_view(client_hello.wire))
print("server → client (the echo):")
display(pictures.hex_view(server_hello.wire))

# %%
on_wire = dict(pictures.frame_fields(client_hello.wire))["payload"]
pictures.table([(i, f"0x{masked:02x}", f"0x{client_hello.mask_key[i % 4]:02x}", f"0x{plain:02x}",
             repr(chr(plain)))
            for i, (masked, plain) in enumerate(zip(on_wire, client_hello.payload, strict=True))],
           ["i", "masked payload (on the wire)", "key[i % 4]", "unmasked payload", "character"])

# %% [markdown]
# **A fresh key for every frame.** The client draws a new key for each frame (section 5.3 asks
# for "a strong source of entropy"). Several client frames of the session carry nothing but the
# letter "x", yet on the wire their payloads look different, because their keys differ:

# %%
client_frames = [f for f in frames if f.direction == "client"]
key_rows = []
for f in client_frames:
    wire_start = dict(pictures.frame_fields(f.wire))["payload"][:8]
    key_rows.append((f.kind, len(f.payload), f.mask_key.hex(" "), wire_start.hex(" "),
                     repr(f.payload[:8])))
pictures.table(key_rows, ["frame", "payload bytes", "masking key", "first 8 payload bytes on the wire",
                      "unmasked"])

# %%
keys = [f.mask_key for f in client_frames]
assert len(set(keys)) == len(keys)
assert not any(f.masked for f in frames if f.direction == "server")
print(f"{len(keys)} client frames, {len(set(keys))} different keys; "
      "no server frame is masked.")

# %% [markdown]
# > **Errata (勘误): the source article on masking.**
# >
# > - *"掩码算法：按位做循环异或运算，先对该位的索引取模来获得 Masking-key 中对应的值 x"* (XOR in
# >   a cycle, taking the index modulo something to find the key value): vague rather than
# >   wrong. The index is the **byte's** position in the payload, and the modulus is **4**, the
# >   length of the key: `masked[i] = payload[i] ^ key[i % 4]` (RFC 6455 section 5.3).
# > - *"掩码的作用并不是为了防止数据泄密，而是为了防止早期版本的协议中存在的代理缓存污染攻击"*:
# >   right that masking is not about secrecy and is against proxy cache poisoning. But the
# >   attack is not a flaw of an "early version of the protocol" that has since gone away: it
# >   targets proxies that do not understand WebSocket, and it would work today if browsers
# >   stopped masking. Masking, added to the drafts after the attack was demonstrated, is what
# >   stops it (RFC 6455 section 10.3). Section 4 below shows both.
# > - *"数据包的长度是固定的"* ("the frame length is fixed"): no. A frame header takes 2 to 14
# >   bytes (2, plus 2 or 8 for a longer length, plus 4 for the masking key of a client frame),
# >   and the payload any length. Notebook 04 covers the length forms; the masking key is why
# >   the masked "Hello" above is 4 bytes longer than the unmasked one.

# %% [markdown]
# ## 4. Why clients mask: poisoning a proxy's cache
#
# Masking does not hide anything: the key travels in the frame, right before the payload, and
# anyone who holds the frame can XOR it away, as we just did. So why does RFC 6455 insist that
# **every** client frame be masked with a **fresh, unpredictable** key?
#
# Because of an attack demonstrated while the protocol was being designed: Huang, Chen, Barth,
# Rescorla and Jackson, *"Talking to Yourself for Fun and Profit"* (2011); RFC 6455 section 10.3
# tells it briefly. The actors:
#
# | who | what they do |
# |---|---|
# | a **transparent caching proxy** | sits between a network's browsers and the web (a company's, a school's, an ISP's); the browsers do not know it is there. It sends each connection to the address the browser dialled, reads the HTTP requests in the bytes it forwards, and caches responses under the request's Host + path. It does not understand `Upgrade`: after the `101` it keeps reading the connection as HTTP. |
# | the **attacker's page** | a script in a page from `attacker.example`, opened by someone behind the proxy. A script may open a WebSocket to its own site and choose what it sends, never how the bytes go on the wire: the browser writes the frames. |
# | the **attacker's server** | `attacker.example`: completes the WebSocket handshake, then answers any frame with a fake HTTP response. |
# | the **victim site** | `victim.example`, serving a real `/script.js` that many pages include. |
# | a **later visitor** | anyone else behind the same proxy who loads a page using `http://victim.example/script.js`. |
#
# The script sends, as the payload of one WebSocket message, the bytes of an HTTP request for
# the victim's script. If they reach the wire as they are, the proxy sees a request for
# `victim.example/script.js` on a connection that goes to the attacker's server; the attacker's
# server answers with its own script; the proxy files that answer under
# `victim.example/script.js`, and serves it to every later visitor.
#
# `wsteach.lessons.proxy_cache` builds all of it on loopback, every server on 127.0.0.1 with port 0.
# `victim.example` and `attacker.example` are only Host header strings: the proxy's table of
# routes maps them to loopback ports and nothing is ever looked up in DNS. The toy proxy skips
# bytes it does not understand before a request line (here: the two bytes of frame header).
# RFC 6455 section 10.3 explains why the designers did not bet on proxies being stricter:
# nobody can test every deployed proxy, so putting non-HTTP framing in front of the data was
# not considered enough.

# %%
from wsteach import http1
from wsteach.frames import random_mask_key
from wsteach.lessons import proxy_cache

REAL_SCRIPT = b'console.log("the real script of victim.example");'
FAKE_SCRIPT = b'alert("this script came from attacker.example");'
SMUGGLED = http1.build_request("GET", "/script.js", [("Host", "victim.example")])
FAKE_RESPONSE = http1.build_response(
    200, "OK", [("Content-Type", "text/javascript"), ("Cache-Control", "max-age=31536000")],
    FAKE_SCRIPT)
print("What the attacker's script sends as a WebSocket message:")
print(repr(SMUGGLED))

# %% [markdown]
# One attempt: start the three servers, let the attacker's page send its message through the
# proxy, then let a later visitor fetch `victim.example/script.js` through the same proxy.
# Every server closes at the end of the `async with` block, so the cell can run again. (Cells
# use top-level `await`: the kernel already runs an event loop, so `asyncio.run()` would fail
# here.)

# %%
import asyncio


async def attempt(payload, mask_key):
    """The attacker's page sends ``payload`` masked with ``mask_key`` (None: unmasked); then a
    visitor fetches the victim's script through the same proxy."""
    async with proxy_cache.Origin({"/script.js": ("text/javascript", REAL_SCRIPT)}) as origin, \
            proxy_cache.AttackerServer(FAKE_RESPONSE) as attacker:
        routes = {"victim.example": origin.address, "attacker.example": attacker.address}
        async with proxy_cache.CachingProxy(routes) as proxy:
            wire = await proxy_cache.open_and_send(proxy.address, "attacker.example", payload,
                                                   mask_key)
            _, body = await proxy_cache.fetch(proxy.address, "victim.example", "/script.js")
    return {"wire": wire, "visitor got": body, "poisoned": body == FAKE_SCRIPT,
            "proxy log": proxy.log, "attacker received": attacker.received}


def log_table(log):
    """What the proxy saw, in order; the row where it caches the fake script in orange."""
    def shown(data):
        return repr(data[:56]) + ("…" if len(data) > 56 else "")
    return pictures.table([(seen.sender, len(seen.data), shown(seen.data), seen.verdict)
                       for seen in log],
                      ["from", "bytes", "the bytes", "what the proxy made of them"],
                      [pictures.PROBLEM_COLOUR if seen.data.endswith(FAKE_SCRIPT)
                       and "cached" in seen.verdict else "white" for seen in log])


unmasked = await asyncio.wait_for(attempt(SMUGGLED, None), PROXY_TIMEOUT)
print("Unmasked: the frame the client sent, as the proxy saw it after the 101:")
display(pictures.hex_view(unmasked["wire"], max_payload=48))
log_table(unmasked["proxy log"])

# %%
print("The visitor asked for victim.example/script.js and got:", unmasked["visitor got"])

# %% [markdown]
# Read the log from the top. The proxy forwarded the Upgrade request to the attacker's server
# and passed its `101` back without understanding it. Then came the frame: two bytes of frame
# header, skipped, and the script's message, which is a perfectly good HTTP request. The proxy
# forwarded it on the same connection, to the attacker's server, which answered with the fake
# script, and the proxy filed that answer under `victim.example/script.js`. The visitor never
# reached the real server.
#
# Now the same message, sent the way every RFC 6455 browser sends it: masked with a fresh
# random key.

# %%
masked = await asyncio.wait_for(attempt(SMUGGLED, random_mask_key()), PROXY_TIMEOUT)
print("Masked: the frame the client sent, as the proxy saw it after the 101:")
display(pictures.hex_view(masked["wire"], max_payload=48))
log_table(masked["proxy log"])

# %%
print("The visitor asked for victim.example/script.js and got:", masked["visitor got"])
print("The attacker's server received (unmasked):", masked["attacker received"][0])

# %% [markdown]
# The proxy found no request in the masked bytes and passed them on. The attacker's server
# unmasked them without any trouble (the key was in the frame) and sent its fake response all
# the same, but no request was waiting for it, so the proxy cached nothing. The visitor's
# request went to the real server.
#
# **What if the script could predict the key?** Then it would XOR its message with that key
# itself, and the browser's masking would undo it on the wire. That is why the key must be
# unpredictable to the script, fresh for each frame, and chosen only after the script has handed
# over its data (RFC 6455 sections 5.3 and 10.3). Here is the attack with a key the script knew
# in advance (the RFC's example key, as a careless browser might reuse it):

# %%
from wsteach.masking import apply_mask

predictable_key = rfc_key
premasked = apply_mask(SMUGGLED, predictable_key)
predicted = await asyncio.wait_for(attempt(premasked, predictable_key), PROXY_TIMEOUT)
display(pictures.hex_view(predicted["wire"], max_payload=48))
print("The visitor got:", predicted["visitor got"])

# %% [markdown]
# The three attempts side by side, with the bytes the proxy saw right after the `101`:

# %%
attempts = [("unmasked", unmasked), ("masked, fresh random key", masked),
            ("masked, key the script predicted", predicted)]
outcome_rows = []
for name, result in attempts:
    after_101 = dict(pictures.frame_fields(result["wire"]))["payload"]
    outcome_rows.append((name, repr(after_101[:30]) + "…", repr(result["visitor got"][:40]) + "…",
                         "POISONED" if result["poisoned"] else "not poisoned"))
pictures.table(outcome_rows, ["client frame", "payload bytes the proxy saw", "the visitor got",
                          "cache"],
           [pictures.PROBLEM_COLOUR if result["poisoned"] else pictures.OK_COLOUR
            for _, result in attempts])

# %%
assert unmasked["poisoned"] and predicted["poisoned"] and not masked["poisoned"]
assert masked["attacker received"] == [SMUGGLED]  # masking hid nothing from the server

# %% [markdown]
# ### What masking does, and what it does not
#
# - **It hides nothing.** The key is in the frame. The proxy, the attacker's server, Wireshark
#   and you (section 3) can all unmask any frame. For secrecy use `wss://` (TLS).
# - **It takes the choice of bytes away from the script.** A page's script chooses the message,
#   the browser chooses the key afterwards, and the bytes on the wire are the message XORed
#   with that key: the script cannot know them in advance, so it cannot make them look like an
#   HTTP request to anything in between.
# - **Why servers do not mask.** The attack needs bytes chosen by an untrusted script but sent
#   by a trusted browser from inside the victim's network, where the proxy takes them for the
#   browser's own requests. A server is not in that position: its bytes are its own, and a
#   hostile server can write whatever it likes anyway (the attacker's server above sent a raw
#   HTTP response, not even a frame). Masking server frames would stop nothing and cost time,
#   so RFC 6455 section 5.1 says a server **must not** mask, and a client must close the
#   connection if it receives a masked frame.
# - Over `wss://` a proxy sees only ciphertext, so this attack cannot work there; RFC 6455
#   requires masking on `wss://` all the same: the rule does not depend on the transport.

# %% [markdown]
# ## 5. How fast can we mask?
#
# Every byte a client sends is masked and every byte a server receives is unmasked, so the
# speed of `apply_mask` matters for large messages. `wsteach.masking` has four versions:
#
# - `apply_mask_loop`: the RFC's formula, one byte at a time in a Python generator.
# - `apply_mask_int`: the whole payload as one big integer, XORed with the key repeated to the
#   same length: one XOR over all the bytes, done in C inside Python's integers.
# - `apply_mask_numpy`: the payload viewed as 64-bit words, XORed with the key doubled to 8
#   bytes, then the last 0-7 bytes.
# - `apply_mask`: picks `apply_mask_int` below `NUMPY_THRESHOLD` bytes and numpy from there on.
#
# The fifth is `websockets.speedups.apply_mask`, the C extension of the `websockets` library.
# Each point below is the median of `REPEATS` timings; small payloads are masked many times per
# timing so that the clock's resolution does not matter.

# %%
import inspect

from wsteach import masking

print(inspect.getsource(masking.apply_mask_int))

# %%
import os
import statistics
import time

IMPLEMENTATIONS = {
    "loop (apply_mask_loop)": masking.apply_mask_loop,
    "big integer (apply_mask_int)": masking.apply_mask_int,
    "numpy (apply_mask_numpy)": masking.apply_mask_numpy,
    "default (apply_mask)": masking.apply_mask,
    "websockets C (speedups.apply_mask)": websockets_apply_mask,
}


def measure(size):
    """MB/s (10**6 bytes per second) of each implementation on ``size`` random bytes: the median
    of REPEATS rounds, each round timing every implementation in turn, so that a moment when the
    machine is busy slows all of them rather than one."""
    data, key = os.urandom(size), os.urandom(4)
    functions = {name: function for name, function in IMPLEMENTATIONS.items()
                 if size <= LOOP_MAX_SIZE or function is not masking.apply_mask_loop}
    calls = {}
    for name, function in functions.items():
        start = time.perf_counter()
        assert function(data, key) == websockets_apply_mask(data, key)  # right before fast
        once = time.perf_counter() - start
        calls[name] = max(1, int(SECONDS_PER_REPEAT / max(once, 1e-7)))
    timings = {name: [] for name in functions}
    for _ in range(REPEATS):
        for name, function in functions.items():
            start = time.perf_counter()
            for _ in range(calls[name]):
                function(data, key)
            timings[name].append((time.perf_counter() - start) / calls[name])
    return {name: size / statistics.median(times) / 1e6 for name, times in timings.items()}


benchmark_start = time.perf_counter()
speeds = {name: {} for name in IMPLEMENTATIONS}
for size in SPEED_SIZES:
    for name, speed in measure(size).items():
        speeds[name][size] = speed
print(f"Measured in {time.perf_counter() - benchmark_start:.1f} s.")


def size_label(size):
    return f"{size // 2**20} MiB" if size >= 2**20 else f"{size // 2**10} KiB" if size >= 2**10 \
        else f"{size} B"


pictures.table([(size_label(size), *(f"{speeds[name][size]:,.0f}" if size in speeds[name] else "-"
                                 for name in IMPLEMENTATIONS)) for size in SPEED_SIZES],
           ["payload", *(f"{name}, MB/s" for name in IMPLEMENTATIONS)])

# %%
import matplotlib.pyplot as plt

figure, axes = plt.subplots(figsize=(9, 5))
for name, by_size in speeds.items():
    axes.plot(list(by_size), list(by_size.values()), marker="o", label=name)
axes.set_xscale("log")
axes.set_yscale("log")
axes.axvline(masking.NUMPY_THRESHOLD, color="grey", linestyle="--")
axes.text(masking.NUMPY_THRESHOLD, 0.03, f"  NUMPY_THRESHOLD = {masking.NUMPY_THRESHOLD} B",
          transform=axes.get_xaxis_transform(), color="grey", va="bottom")
axes.set_xticks(SPEED_SIZES, [size_label(size) for size in SPEED_SIZES])
axes.minorticks_off()
axes.set_xlabel("payload size")
axes.set_ylabel("MB/s (higher is faster)")
axes.set_title("Masking speed by payload size (median of the repeats)")
axes.grid(True, which="major", alpha=0.3)
axes.legend(fontsize=8)
figure.tight_layout()
plt.show()

# %% [markdown]
# What the plot shows, in numbers measured just now:

# %%
loop = speeds["loop (apply_mask_loop)"]
big_int = speeds["big integer (apply_mask_int)"]
numpy_speeds = speeds["numpy (apply_mask_numpy)"]
default = speeds["default (apply_mask)"]
c_code = speeds["websockets C (speedups.apply_mask)"]
smallest, largest = SPEED_SIZES[0], SPEED_SIZES[-1]

print(f"- The loop runs at {min(loop.values()):,.0f} to {max(loop.values()):,.0f} MB/s at every "
      "size: Python pays the same price for each byte. At that speed 1 MiB would take "
      f"{2**20 / (statistics.median(loop.values()) * 1e6) * 1000:,.0f} ms.")
crossover = next((size for size in SPEED_SIZES if numpy_speeds[size] > big_int[size]), None)
if crossover is not None:
    print(f"- numpy first beats the big integer at {size_label(crossover)} (apply_mask switches "
          f"at NUMPY_THRESHOLD = {size_label(masking.NUMPY_THRESHOLD)}). Below that, numpy's "
          "fixed cost per call (creating arrays) outweighs its speed per byte.")
print(f"- At {size_label(smallest)} the default apply_mask does {default[smallest]:,.0f} MB/s "
      f"and websockets' C code {c_code[smallest]:,.0f} MB/s: for small frames the cost is the "
      "call, not the bytes.")
print(f"- At {size_label(largest)} the default does {default[largest]:,.0f} MB/s, the big "
      f"integer alone {big_int[largest]:,.0f} MB/s, and the C code {c_code[largest]:,.0f} MB/s, "
      f"{c_code[largest] / default[largest]:.1f} times the default.")
peak_size = max(numpy_speeds, key=numpy_speeds.get)
print(f"- numpy peaks at {numpy_speeds[peak_size]:,.0f} MB/s ({size_label(peak_size)}); at "
      f"{size_label(largest)} it does {numpy_speeds[largest]:,.0f} MB/s.")
same_code = [size for size in SPEED_SIZES if size >= masking.NUMPY_THRESHOLD]
gaps = {size: max(numpy_speeds[size], default[size]) / min(numpy_speeds[size], default[size])
        for size in same_code}
widest = max(gaps, key=gaps.get)
print(f"- From NUMPY_THRESHOLD on, numpy and the default run the same code, yet at "
      f"{size_label(widest)} they measured {numpy_speeds[widest]:,.0f} and "
      f"{default[widest]:,.0f} MB/s ({gaps[widest]:.1f}×): that much of a difference comes from "
      "the machine (other programs, memory allocation), not from the code.")

# %% [markdown]
# The lines rise from left to right because each call has a fixed cost (creating objects,
# converting, returning bytes) that a larger payload spreads over more bytes; the loop stays
# flat because its cost is all per byte. The big integer levels off early: every call builds
# several payload-sized objects (the repeated key, two integers, the result). Where numpy's line
# falls back after its peak, the XOR has not become slower: each call allocates two payload-sized
# buffers (the output array, and the bytes that `tobytes` copies it into), and for large buffers
# the memory allocator may fetch fresh pages from the operating system on every call, depending
# on what was allocated before. The C code allocates the result once and XORs straight into it.
# That is why WebSocket libraries ship their masking in C, as `websockets.speedups` does.

# %% [markdown]
# ## Summary
#
# - Masking is XOR: payload byte *i* with key byte *i* mod 4. XOR with the same key twice gives
#   the data back, so one function masks and unmasks.
# - Client frames carry MASK = 1 and a fresh 4-byte key; server frames are never masked. The
#   key adds 4 bytes to every client frame's header.
# - Masking is not secrecy: the key travels in the frame, and anyone can unmask.
# - It exists against proxy cache poisoning: a script that could choose the bytes on the wire
#   could make a transparent proxy cache its server's answer under another site's name. With a
#   random key chosen by the browser, the script cannot predict the bytes; with a predictable
#   key, the attack is back.
# - Speed: a Python loop over bytes is slow at every size; one big-integer XOR or numpy are far
#   faster, and C is faster still. `apply_mask` picks between the Python ones by size.
#
# ## Exercises
#
# **Exercise 5.1.** The proxy could not read the masked frame of section 4. Can you? Unmask
# its payload with its key, using `^` and `% 4` only (no `apply_mask`), and look at what the
# attacker's script sent.

# %%
masked_fields = dict(pictures.frame_fields(masked["wire"]))
puzzle_key, puzzle_payload = masked_fields["masking key"], masked_fields["payload"]
print("key:", puzzle_key.hex(" "), " masked payload:", puzzle_payload[:16].hex(" "), "…")

# %% tags=["solution"]
answer_unmasked = bytes(byte ^ puzzle_key[i % 4] for i, byte in enumerate(puzzle_payload))

# %%
from wsteach.exercises import nb05

nb05.check_unmask_bytes(puzzle_payload, puzzle_key, answer_unmasked)

# %% [markdown]
# **Exercise 5.2.** Payload bytes are numbered from 0. Which key byte (0, 1, 2 or 3) masks
# payload byte 13?

# %% tags=["solution"]
answer_key_index = 13 % 4

# %%
nb05.check_mask_key_index(13, answer_key_index)


# %% [markdown]
# **Exercise 5.3.** Write `my_apply_mask(data, key)` for a payload of any length with
# `int.from_bytes`: turn the payload and the key, repeated to the payload's length, into two
# integers, XOR them, and turn the result back into bytes. Mind payloads whose length is not a
# multiple of 4, and results that start with zero bytes.

# %% tags=["solution"]
def my_apply_mask(data, key):
    length = len(data)
    repeated_key = key * (length // 4) + key[:length % 4]
    masked_int = int.from_bytes(data, "big") ^ int.from_bytes(repeated_key, "big")
    return masked_int.to_bytes(length, "big")


# %%
nb05.check_apply_mask_function(my_apply_mask)

# %% [markdown]
# **Exercise 5.4.** Why was the proxy not poisoned when the frame was masked with a fresh random
# key? Answer with a letter.
#
# - (a) The masking key encrypts the request, so the proxy cannot read it.
# - (b) The proxy saw the MASK bit and refused to cache anything from a WebSocket connection.
# - (c) The browser chose the key after the script chose its message, so the script could not
#   know the bytes the proxy would see, and could not make them look like an HTTP request.
# - (d) The attacker's server could not unmask the frame, so it sent no fake response.

# %% tags=["solution"]
answer_why = "c"

# %%
nb05.check_why_masking_protects(answer_why)

# %% [markdown]
# **Exercise 5.5** (open). A careless browser reuses one key for every frame of a connection.
# The attacker's server sees that key in the first frame. Explain how the attacker could still
# poison the proxy. Then: a server masks its frames "for extra safety". What does that protect
# against, and what does a client conforming to RFC 6455 do with such a frame?

# %% [markdown] tags=["navigation"]
# [← 04 · Frame layout](04_frame_layout.ipynb) | [Contents](../README.md) | [06 · Packets on the wire →](06_packets_on_the_wire.ipynb)
