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
# **Time:** about 40 minutes with the exercises.

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
SPEED_SIZES = [16 * 2**k for k in range(17)]  # payload sizes to time: 16 B, 32 B ... 1 MiB
LOOP_MAX_SIZE = 64 * 1024  # the byte-by-byte loop is timed only up to this size
REPEATS = 21  # timing repeats per point; the table and the plot show their median
SECONDS_PER_REPEAT = 0.001  # each repeat calls a function at least this long (many calls)

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
letter, key_byte = ord("H"), 0x37
masked_letter = letter ^ key_byte
pictures.byte_bits([
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
# **Masking hides nothing, even without the key.** Look again at the first payload bytes of an
# "x" frame in the table: four bytes, then the same four again. A payload that repeats itself
# stays repetitive after masking, with a period of 4, because every fourth byte meets the same
# key byte. Anyone watching learns the shape of the message without unmasking a thing: two
# masked bytes four apart are equal exactly when the plain bytes are
# (`masked[i] ^ masked[i + 4] == plain[i] ^ plain[i + 4]`: the key cancels out).

# %%
x_frame = next(f for f in client_frames if f.payload == b"x" * 125)
x_masked = dict(pictures.frame_fields(x_frame.wire))["payload"]
print("first 12 masked bytes:", " | ".join(x_masked[i:i + 4].hex(" ") for i in (0, 4, 8)))
print("masked[i] ^ masked[i + 4], first 8:",
      bytes(x_masked[i] ^ x_masked[i + 4] for i in range(8)).hex(" "),
      "(all zero: plain[i] == plain[i + 4])")
hello_masked_wire = dict(pictures.frame_fields(client_hello.wire))["payload"]
print("the same for 'Hello':", bytes([hello_masked_wire[0] ^ hello_masked_wire[4]]).hex(),
      "=", hex(ord("H") ^ ord("o")), "= 'H' ^ 'o'")

# %% [markdown]
# > **Errata (勘误): the source article on masking.**
# >
# > - *"掩码算法：按位做循环异或运算，先对该位的索引取模来获得 Masking-key 中对应的值 x"* (XOR in
# >   a cycle, taking the index modulo something to find the key value): vague rather than
# >   wrong. The index is the **byte's** position in the payload, and the modulus is **4**, the
# >   length of the key: `masked[i] = payload[i] ^ key[i % 4]` (RFC 6455 section 5.3).
# >
# > **Right, and worth reading closely:**
# > *"掩码的作用并不是为了防止数据泄密，而是为了防止早期版本的协议中存在的代理缓存污染攻击"*
# > (masking is not there to keep data secret, but against the proxy cache poisoning attacks
# > that existed with early versions of the protocol). That is what
# > happened: the attack worked against the drafts, which did not mask, and masking was added
# > to stop it (RFC 6455 section 10.3). One thing a reader might take from "early versions"
# > is not so: the attack did not go away with the drafts. It targets proxies that do not
# > understand WebSocket, and it would work today if browsers stopped masking. Section 4 below
# > shows both.

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
# routes maps them to loopback ports and nothing is ever looked up in DNS.
#
# > **The toy proxy's one assumption, and why it is fair.** Our proxy skips bytes it does not
# > understand until it finds a request line; here that is the two bytes of frame header in
# > front of the script's message. Does a real proxy do that? Some may, some may not, and that
# > is the point. RFC 6455 section 10.3 weighed exactly this defence and turned it down: "it is
# > not sufficient to prefix application-supplied data with framing that is not compliant with
# > HTTP, as it is not possible to exhaustively discover and test that each nonconformant
# > intermediary does not skip such non-HTTP framing and act incorrectly on the frame payload."
# > Masking does not depend on what a proxy skips: whatever it reads, the bytes are ones the
# > script could not choose.

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
#   bytes, then the last 0-7 bytes (printed below).
# - `apply_mask`: picks `apply_mask_int` below `NUMPY_THRESHOLD` bytes and numpy from there on.
#
# The fifth is `websockets.speedups.apply_mask`, the C extension of the `websockets` library.

# %%
import inspect

from wsteach import masking

print(inspect.getsource(masking.apply_mask_numpy))

# %% [markdown]
# **A fair race.** Timing code is easy to get wrong, so here is how every number below is made:
#
# 1. Every implementation masks the same random payload and must give the C code's answer
#    before anything is timed.
# 2. Warm-up: each is called once, then twice, four times and so on until one run of calls
#    lasts `SECONDS_PER_REPEAT`. That number of calls is used from then on, so a 16-byte
#    payload is masked thousands of times per timing and the clock's resolution does not
#    matter.
# 3. The implementations take turns within each of the `REPEATS` repeats, and who goes first
#    changes from repeat to repeat: a moment when the machine is busy slows all of them, not
#    one.
# 4. The table shows the median of the repeats.
#
# One more thing decides results for large payloads: memory. A masking call returns a new
# payload-sized buffer. On Linux, glibc's `malloc` hands out blocks from 128 KiB on as fresh
# pages from the operating system, and touching fresh pages costs more than the XOR, until
# the program frees such a block: then `malloc` raises that threshold and reuses memory
# (`M_MMAP_THRESHOLD` in `man mallopt`). Whether that has happened depends on what the
# program did before, so the same code could measure many times slower or faster from one
# run to the next. One throw-away 8 MiB buffer first puts every implementation in the same,
# steady state.

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


def seconds_per_call(function, data, key, calls):
    start = time.perf_counter()
    for _ in range(calls):
        function(data, key)
    return (time.perf_counter() - start) / calls


def calls_per_repeat(function, data, key):
    """Warm up: double the calls until one run lasts SECONDS_PER_REPEAT (as timeit does)."""
    calls = 1
    while seconds_per_call(function, data, key, calls) * calls < SECONDS_PER_REPEAT:
        calls *= 2
    return calls


def measure(size):
    """MB/s (10**6 bytes per second) of each implementation on ``size`` random bytes."""
    data, key = os.urandom(size), os.urandom(4)
    functions = {name: function for name, function in IMPLEMENTATIONS.items()
                 if size <= LOOP_MAX_SIZE or function is not masking.apply_mask_loop}
    for name, function in functions.items():
        assert function(data, key) == websockets_apply_mask(data, key), name
    calls = {name: calls_per_repeat(function, data, key) for name, function in functions.items()}
    names = list(functions)
    timings = {name: [] for name in names}
    for repeat in range(REPEATS):
        first = repeat % len(names)
        for name in names[first:] + names[:first]:
            timings[name].append(seconds_per_call(functions[name], data, key, calls[name]))
    return {name: size / statistics.median(times) / 1e6 for name, times in timings.items()}


# %%
bytes(8 * 2**20)  # allocated and freed at once: malloc now reuses memory (see above)
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
ticks = SPEED_SIZES[::2]
axes.set_xticks(ticks, [size_label(size) for size in ticks])
axes.minorticks_off()
axes.set_xlabel("payload size")
axes.set_ylabel("MB/s (higher is faster)")
axes.set_title("Masking speed by payload size (median of the repeats)")
axes.grid(True, which="major", alpha=0.3)
axes.legend(fontsize=8)
figure.tight_layout()
plt.show()

# %% [markdown]
# **The same code measures the same.** From `NUMPY_THRESHOLD` on, `apply_mask` calls
# `apply_mask_numpy`, so those two columns time the same work; `apply_mask` adds a check of
# the key's length and one more call, so it may trail by a few percent, and anything beyond
# that is the noise of this measurement. Below the threshold, `apply_mask` runs the big
# integer's code.

# %%
numpy_speeds = speeds["numpy (apply_mask_numpy)"]
big_int = speeds["big integer (apply_mask_int)"]
default = speeds["default (apply_mask)"]
same_code = [size for size in SPEED_SIZES if size >= masking.NUMPY_THRESHOLD]
gaps = [abs(default[size] / numpy_speeds[size] - 1) for size in same_code]
print(f"default vs numpy from {size_label(same_code[0])} on: at most {max(gaps):.0%} apart, "
      f"{statistics.median(gaps):.0%} in the median.")
small = [size for size in SPEED_SIZES if size < masking.NUMPY_THRESHOLD]
small_gaps = [abs(default[size] / big_int[size] - 1) for size in small]
print(f"default vs big integer below it: at most {max(small_gaps):.0%} apart "
      "(apply_mask runs the big integer's three lines inline, after checking the key).")

# %% [markdown]
# What the measurements say, computed from the table:

# %%
loop = speeds["loop (apply_mask_loop)"]
c_code = speeds["websockets C (speedups.apply_mask)"]
smallest, largest = SPEED_SIZES[0], SPEED_SIZES[-1]
crossover = next((size for size in SPEED_SIZES if numpy_speeds[size] > big_int[size]), None)
threshold_verdict = (
    "numpy never beat the big integer in this run" if crossover is None else
    f"numpy first beats the big integer at {size_label(crossover)} "
    f"({numpy_speeds[crossover]:,.0f} vs {big_int[crossover]:,.0f} MB/s); the package switches "
    f"at NUMPY_THRESHOLD = {size_label(masking.NUMPY_THRESHOLD)}"
    + (", the same size" if crossover == masking.NUMPY_THRESHOLD else
       ": on this machine, in this run, another size"))
print(f"- The loop: {min(loop.values()):,.0f} to {max(loop.values()):,.0f} MB/s at every size, "
      "the same price for each byte.")
print(f"- {threshold_verdict}.")
print(f"- At {size_label(smallest)}: default {default[smallest]:,.0f} MB/s, C "
      f"{c_code[smallest]:,.0f} MB/s; for small frames the cost is the call, not the bytes.")
print(f"- At {size_label(largest)}: default {default[largest]:,.0f} MB/s, big integer "
      f"{big_int[largest]:,.0f} MB/s, C {c_code[largest]:,.0f} MB/s "
      f"({c_code[largest] / default[largest]:.1f} times the default).")

# %% [markdown]
# The lines rise from left to right because each call has a fixed cost (creating objects,
# converting, returning bytes) that a larger payload spreads over more bytes; the loop stays
# flat because its cost is all per byte. Below the crossover printed above, numpy's fixed cost
# per call (making arrays, converting back) is larger than the big integer's, which is why
# `apply_mask` keeps the big integer for small frames. The big integer levels off early:
# every call builds several payload-sized objects (the repeated key, two integers, the
# result). The C code allocates the result once and XORs straight into it; that is why
# WebSocket libraries ship their masking in C, as `websockets.speedups` does.

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
# **Exercise 5.1.** Masking hides nothing, and here is the proof that needs no key. An
# eavesdropper saw the masked payload below (the key bytes were not recorded), and knows the
# client sent 126 letters "x". Recover the 4-byte masking key.

# %%
secret_frame = next(f for f in client_frames if len(f.payload) == 126)
known_plaintext = b"x" * 126
seen_masked = dict(pictures.frame_fields(secret_frame.wire))["payload"]
print("masked payload, first 16 bytes:", seen_masked[:16].hex(" "), "…")

# %% tags=["solution"]
recovered_key = bytes(seen_masked[j] ^ known_plaintext[j] for j in range(4))

# %%
from wsteach.exercises import nb05

nb05.check_recovered_key(seen_masked, known_plaintext, secret_frame.mask_key, recovered_key)

# %% [markdown]
# **Exercise 5.2** (predict, then run). A browser with a broken random number generator masks
# every frame with the key `00 00 00 00`. The attacker's script sends `SMUGGLED` unchanged, as
# in section 4. Will the proxy's cache be poisoned? Write `True` or `False` **before** you run
# the cell after it: that cell runs the attack and compares.

# %% tags=["solution"]
prediction_zero_key = True

# %%
zero_key = await asyncio.wait_for(attempt(SMUGGLED, bytes(4)), PROXY_TIMEOUT)
display(log_table(zero_key["proxy log"]))
nb05.check_zero_key_prediction(prediction_zero_key, zero_key["poisoned"])


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
# **Exercise 5.5** (read the measured table). A chat sends messages of about a hundred bytes.
# In the table of section 5, which of the four Python versions (not the C code) was fastest
# at 128 B, and how many 128-byte frames per second would it unmask, at that speed, on this
# machine? MB/s means 10⁶ bytes per second. Answer with the implementation's name as the
# table writes it, and a number.

# %%
python_versions = [name for name in IMPLEMENTATIONS if not name.startswith("websockets")]
print("the four Python versions:", python_versions)

# %% tags=["solution"]
answer_fastest = max(python_versions, key=lambda name: speeds[name][128])
answer_frames_per_second = speeds[answer_fastest][128] * 1e6 / 128

# %%
nb05.check_small_frames(speeds, 128, python_versions, answer_fastest, answer_frames_per_second)

# %% [markdown]
# **Exercise 5.6** (open). A careless browser reuses one key for every frame of a connection.
# The attacker's server sees that key in the first frame. Explain how the attacker could still
# poison the proxy. Then: a server masks its frames "for extra safety". What does that protect
# against, and what does a client conforming to RFC 6455 do with such a frame?

# %% [markdown] tags=["solution"]
# *Model answer.* The first frame's key reaches the attacker's server in the clear, and the
# server can send it back to its script in a message. From then on the script knows the key
# of every later frame: it XORs `SMUGGLED` with that key itself and sends the result; the
# browser XORs it again with the same key, the two XORs cancel, and the plain request is on
# the wire, as with the predicted key of section 4. That is why section 5.3 asks for a fresh,
# unpredictable key for every frame.
#
# A masked server frame protects nothing: the attack needs bytes chosen by an untrusted script
# but sent by a trusted browser from inside the network; a server's bytes are its own, and a
# hostile server can write anything it likes. RFC 6455 section 5.1 says a server must not mask,
# and "a client MUST close a connection if it detects a masked frame", with close code 1002
# (protocol error) if it sends one.

# %% [markdown] tags=["navigation"]
# [← 04 · Frame layout](04_frame_layout.ipynb) | [Contents](../README.md) | [06 · Packets on the wire →](06_packets_on_the_wire.ipynb)
