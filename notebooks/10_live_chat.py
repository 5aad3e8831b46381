# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 10 · The live chat: a class on one WebSocket server
#
# Everything the series built, working together in something a class can use in the room: a
# chat served from this notebook's kernel, joined by widgets in notebooks and by browser pages.
# The handshake (03), frames and masking (04, 05), close codes (07), heartbeat, reconnecting and
# resuming (08), all on one port.
#
# **You will learn** how one port serves a page and a WebSocket; what a chat says on the wire;
# how to draw a chat in widgets from a background task; the browser's WebSocket API in full
# view (`readyState`, `bufferedAmount`, the four events, `CloseEvent`); how to harden a server
# against markup in messages, pages on other sites, floods and readers too slow to keep up; how
# to survive a server restart with nothing lost; which two WebSockets a message typed in a
# JupyterLab widget crosses; and what changes when one process is not enough.
#
# **You need** notebooks 03 (handshake) and 07 (close codes); 08 (heartbeat, reconnect,
# resume) helps most, 09 (Socket.IO) for the last section. **Time:** about 60 minutes, 100 with
# the exercises.

# %% [markdown] tags=["navigation"]
# [← 09 · Socket.IO and events](09_socketio_and_events.ipynb) | [Contents](../README.md)

# %% [markdown]
# ## Parameters
#
# Every number the demos use. The chat's limits are small so that the demos cross them fast.

# %%
from wsteach.paths import CAPTURES

HOST = "127.0.0.1"  # loopback: every server here binds port 0 on it (class mode: section 3.3)
HISTORY = 100  # messages the chat keeps for newcomers and for resuming
RATE, BURST, FLOOD_AFTER = 5, 10, 20  # per client: 5 a second, bursts of 10; 20 over: closed
MAX_SIZE = 4096  # bytes in one WebSocket message: a bigger one closes the connection (1009)
CLASS = ["You", "Bo", "Cy"]  # the widgets of section 3: a class of three in one kernel
RECONNECT_FAST, RECONNECT_LATE = 0.02, 0.4  # s: first reconnect delays of two demo clients
FLOOD = 60  # messages the flooder of section 5.3 sends at once
READERS, SLOW_BUFFER = 5, 2**16  # section 5.4: readers, and bytes a client may fall behind
STREAM, STREAM_SIZE = 2500, 4096  # section 5.4: 2500 messages of 4 kB, 10 MB for each reader
STALL_TIMEOUT = 0.5  # s without progress before we call a send loop stalled
SETTLE = 0.2  # s: time for what is in flight on loopback to arrive, before we count
PAGE_HEIGHT = 900  # pixels: the page of section 4, chat and API, without scrolling
FANOUT_CLIENTS, FANOUT_MESSAGES, FANOUT_SIZE = 200, 50, 100  # section 7's measurement
SECONDS_BETWEEN_MESSAGES = 10  # section 7: each person in a busy room says something every 10 s
STORED_LAB = CAPTURES / "jupyterlab_chat.pcap"  # section 6: JupyterLab's kernel WebSocket

# %% [markdown]
# ## 1. The server: one port, a page and a WebSocket
#
# `wsteach.chat.server` runs on `wsteach.aio`, the asyncio server of notebooks 03-08. One port
# answers both: `serve(..., process_request=...)` sees every HTTP request before the handshake
# and may answer it itself (`GET /` gets the page, `/chat.js` its script), or return None to let
# the Upgrade at `/ws` go on to `101 Switching Protocols`. The server runs in this kernel's
# event loop, so it keeps running between cells; `await` starts it (top-level `await` works in
# a notebook; `asyncio.run()` would fail, since the kernel's loop is already running).
#
# Run All twice works: a room from an earlier run is closed first (its clients get 1001, going
# away), and each run gets a free port.

# %%
from wsteach.chat import server

earlier = globals().get("room")
if earlier is not None:  # Run All again: close the earlier room and its widgets first
    for ui in globals().get("class_widgets", []):
        await ui.leave()
    await earlier.close()
room = await server.serve_chat(HOST, 0, history=HISTORY, rate=RATE, burst=BURST,
                               flood_after=FLOOD_AFTER, max_size=MAX_SIZE)
print(f"the page:      {room.url}")
print(f"the WebSocket: {room.ws_url}")

# %% [markdown]
# The same port answers plain HTTP. Its headers say what the page may do: run only its own
# script and connect only to its own origin (`Content-Security-Policy`), never have a script
# guessed out of another file type (`nosniff`), never tell another site where it came from
# (`Referrer-Policy`: in class mode the URL holds the join code), and never keep a stale copy
# (`Cache-Control`: a student who edits `chat.js` sees the change on reload).

# %%
import asyncio
import urllib.error
import urllib.request

from wsteach.show import pictures


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


answers = {path: await asyncio.to_thread(fetch, f"http://{HOST}:{room.port}{path}")
           for path in ["/", "/chat.js", "/chat.css", "/nothing"]}
pictures.table([(path, status, headers.get("Content-Type"), len(body))
                for path, (status, headers, body) in answers.items()],
               ["GET", "status", "Content-Type", "bytes"])

# %%
_, page_headers, _ = answers["/"]
pictures.table([(name, page_headers[name]) for name in
                ["Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy",
                 "Cache-Control"]], ["header of the page", "value"])

# %% [markdown]
# ## 2. One client by hand: what the chat says on the wire
#
# Before any library of ours, the chat's own words. Connect with the package's plain
# `aio.connect` (the client of notebooks 03-08), with a name in the query, and read what
# comes: JSON text, one object per message, each with a `type`. The `Origin` header is the one
# a page of this chat would send (section 5.2 explains why the server insists).

# %%
import json

from wsteach import aio

origin = f"http://{HOST}:{room.port}"
ada = await aio.connect(f"{room.ws_url}?name=Ada", origin=origin, ping_interval=None)
for _ in range(3):
    print("server →", await ada.recv())

# %% [markdown]
# The welcome gives Ada her name and a key (section 4 says what for); `hello` opens the resume
# pattern of notebook 08 (an `epoch` for this history, and the number of the last message);
# `presence` says who is here. Now Ada says something: the server numbers the message, keeps it
# in its history and broadcasts it to everyone, Ada included.

# %%
await ada.send(json.dumps({"type": "say", "text": "hello, room"}))
print("server →", await ada.recv())
await ada.close()

# %% [markdown]
# The whole vocabulary (`wsteach/chat/protocol.py` has it in one place, and the page's
# `chat.js` speaks the same):
#
# | from | message | when |
# |---|---|---|
# | client | `{"type": "say", "text": ...}` | a chat message, 1 to 500 characters |
# | client | `{"type": "ping", "id": 7}` | the page's heartbeat (section 4) |
# | server | `{"type": "welcome", "name": ..., "key": ...}` | first, on each connection |
# | server | `{"type": "hello", "epoch": ..., "last": 41}` | then the replay: what you missed |
# | server | `{"type": "gap", "missed": 12}` | if the history no longer reaches back (`null`: the server started a new history, and nobody knows how much was lost) |
# | server | `{"type": "message", "seq": 42, "data": {"name", "text", "time"}}` | every message, numbered |
# | server | `{"type": "presence", "names": [...]}`, `joined`, `left` | who is here, and changes |
# | server | `{"type": "pong", "id": 7}`, `{"type": "error", "reason": ...}` | answers |
#
# The server sends a newcomer the whole presence list, and everyone else only `joined` or
# `left`: in a room of n, sending the whole list to everyone at each join would cost n names
# to each of n people, n × n per join; `joined` costs one name to each, n per join.

# %% [markdown]
# ## 3. Several clients, and the widget
#
# `ChatClient` (`wsteach/chat/client.py`) is a participant in Python: it connects in a task of
# its own, reconnects with backoff and jitter when the connection is lost, and resumes with the
# resume pattern, so its `log` holds every message once, in order. `ChatWidget` draws one with
# ipywidgets: a connection light, the log, who is here, a Message box and Send (Enter sends).
#
# Three widgets in one kernel simulate a class. Type in any of them.

# %%
import ipywidgets as widgets

from wsteach.chat import widget

class_widgets = [widget.ChatWidget.join(room.url, name, height="10em") for name in CLASS]
widgets.HBox(class_widgets)

# %% [markdown]
# The widgets are drawn from a background task: when a message arrives, each client's reader
# task asks its widget to redraw, which replaces the `value` of an `HTML` widget (at most once
# per turn of the event loop: a replay of a hundred messages is one redraw, not a hundred).
# ipywidgets sends that change to the page as a *comm message*: the kind of Jupyter message that
# carries a widget's state between the kernel and the page (section 6 catches one on the wire).
# Two things would not work: capturing output into an `Output` widget from a task (its capture
# only applies while a cell runs; the output would land in whatever cell runs then), and
# blocking the event loop (no task runs while a cell computes). ipykernel's open report #1510
# (tasks stalling between cells on ipykernel 7) did not reproduce here:
# `tests/test_chat_jupyterlab.py` runs this notebook in a real JupyterLab and chats through the
# first widget.
#
# Bo and Cy say something, from code this time, and everyone's log shows it:

# %%
you, bo, cy = (ui.client for ui in class_widgets)
await you.wait_for(lambda c: c.state == "open" and len(c.presence) == len(CLASS))
await bo.say("Hi, I'm Bo")
await cy.say("Cy here. What does <b>this</b> do?")
await you.wait_for(lambda c: len(c.texts()) >= 3)
pictures.table([(entry.seq, entry.name, entry.text) for entry in you.log if entry.name],
               ["seq", "name", "text (in You's log)"])

# %% [markdown]
# ### 3.1 Joining another notebook's chat, and class mode
#
# A student's notebook joins a teacher's chat by its page address, join code included:
#
# ```python
# widget.ChatWidget.join("http://192.168.1.20:8765/?code=k3pw9x", "Ana")
# ```
#
# The teacher starts it on the command line. By default the chat listens on loopback only,
# like every server in this series; `--class` listens on all interfaces, makes a join code
# that the page and the WebSocket require (403 without it), and prints the addresses students
# type:
#
# ```
# python -m wsteach chat --port 8765 --class
# Class mode: join code k3pw9x. Students open one of:
#     http://127.0.0.1:8765/?code=k3pw9x
#     http://localhost:8765/?code=k3pw9x
#     http://192.168.1.20:8765/?code=k3pw9x
# Anyone on this network who has the code can join. Ctrl+C stops it.
# ```
#
# Only run it on a network you trust: the code keeps out people who do not have it, nothing
# more, and the traffic is plain `ws://` that anyone on the network can read (notebook 06).

# %% [markdown]
# ### 3.2 A synchronous caller: `nest_asyncio`, and why it is the last resort
#
# A widget callback (`Button.on_click`) is a plain function: it cannot `await`, and
# `loop.run_until_complete()` refuses to run inside the loop that is running it. The Send
# button does not need a result: it starts a task (`asyncio.ensure_future(client.say(text))`)
# and returns; the task's result comes back through the log. That is the way to prefer.
#
# When a callback truly needs a result before it returns, `blocking.run_now` runs the awaitable
# to completion inside the running loop, with nest_asyncio. What `apply()` patches, for the
# whole kernel and for good: the loop's class (`run_forever`, `run_until_complete`, `_run_once`
# become re-entrant), `asyncio.Task` and `asyncio.Future` (replaced by their slower pure-Python
# versions), `asyncio.run` and the event loop policy. While `run_now` waits, every other task
# runs in the middle of your callback, and may change what it was about to use.
#
# And the package is no longer maintained: its author died in March 2024 and the repository is
# archived (ipykernel#1381). `run_now` uses the fork that ipykernel 7 itself depends on,
# `nest-asyncio2`. With the original, this very notebook broke in JupyterLab: ipykernel 7 runs
# every cell in one shared `contextvars.Context`, a nested run tries to enter it again, and the
# kernel's tasks die with "cannot enter context: ... is already entered" (the fork defers what
# would re-enter it; `tests/test_chat_jupyterlab.py` found it). Top-level `await` in cells and
# tasks in callbacks need none of this.
#
# Here two buttons that show the round-trip time of a ping (notebook 07, section 1), one in
# each way:

# %%
from wsteach.chat import blocking


async def round_trip(client) -> float:
    pong = await client.ws.ping()
    return await pong


shown_rtt = widgets.HTML()


def rtt_now(_button) -> None:  # needs the result now: nest_asyncio2
    shown_rtt.value = f"now: {blocking.run_now(round_trip(you)) * 1000:.2f} ms"


def rtt_later(_button) -> None:  # the preferred way: start a task, show the result when done
    task = asyncio.ensure_future(round_trip(you))
    task.add_done_callback(lambda t: setattr(shown_rtt, "value",
                                             f"later: {t.result() * 1000:.2f} ms"))


# %% [markdown]
# What a callback meets without nest_asyncio2, then a click on each button (called here, so
# that the cell shows a result), and what the first click did to the whole kernel:

# %%
coroutine = round_trip(you)
try:
    asyncio.get_event_loop().run_until_complete(coroutine)
    print("run_until_complete worked: nest_asyncio2 has patched this kernel (an earlier run)")
except RuntimeError as refused:
    coroutine.close()
    print("without nest_asyncio2:", refused)
print("before run_now, asyncio.Task comes from", asyncio.Task.__module__)
rtt_now(None)
print(shown_rtt.value)
print("after run_now,  asyncio.Task comes from", asyncio.Task.__module__)
buttons = [widgets.Button(description=label) for label in ("RTT now", "RTT later")]
buttons[0].on_click(rtt_now)
buttons[1].on_click(rtt_later)
widgets.HBox([*buttons, shown_rtt])

# %% [markdown]
# `_asyncio` is the C implementation; `asyncio.tasks` the pure-Python one, which every task
# of this kernel uses from now on (section 7 measures with it: a figure to quote comes from
# `benchmarks/fanout.py`, in a process of its own).

# %% [markdown]
# ## 4. The page: the browser's WebSocket API in full view
#
# The page at `/` is plain HTML, CSS and JavaScript in `wsteach/chat/static/` (no framework, no
# CDN). Open it in a browser tab, next to the widgets; in JupyterLab it also shows below, in
# an iframe, joined as "Browser" (it appears in the widgets' "Here now"). Its lower half is the
# API, live:
#
# - `ws.readyState`, redrawn ten times a second: 0 CONNECTING, 1 OPEN, 2 CLOSING, 3 CLOSED;
#   `ws.bufferedAmount`: bytes `send()` has queued that the browser has not yet written;
#   `ws.binaryType`: `"blob"` or `"arraybuffer"`, how binary messages arrive (this chat sends
#   text only);
# - the four events, in order, as they fire: `open`, `message`, `error` (which, on purpose,
#   says nothing about the cause), `close`; and the last `CloseEvent`: `code`, `reason`,
#   `wasClean` (false when TCP ended without a closing handshake: code 1006);
# - the heartbeat: JavaScript cannot send a ping frame (the API has none; Chromium answers the
#   server's pings by itself and never shows them to the page), so the page sends
#   `{"type": "ping"}` every 10 s and waits 5 s for the pong message;
# - reconnecting: a random delay between 0 and a ceiling that doubles after each failure (full
#   jitter, as in notebook 08), and resume: the page sends the epoch and the last number it
#   showed (`/ws?name=...&epoch=...&last=41`) and drops any number it has shown already.

# %%
from IPython.display import IFrame

print(f"Open {room.url}?name=YourName in a browser tab, or use the one below.")
IFrame(f"{room.url}?name=Browser", width="100%", height=PAGE_HEIGHT)

# %% [markdown]
# The heartbeat is the article's `heartCheck` (notebook 08) done right: one timer per
# connection, cleared on close. And when no pong comes, the page does not wait for the close
# event, which may take a minute on a dead connection (the closing handshake has to time out
# first): it removes its handlers from that socket, calls `close()` without waiting, and
# connects again at once (no `CloseEvent` is ever shown for the abandoned socket). The server
# may still hold the silent connection, with the page's name; the key from the welcome lets
# the new connection take the name back (the old one is closed with 4000).

# %%
from IPython.display import Markdown

from wsteach.chat import page

script = (page.STATIC / "chat.js").read_text()
start = script.index("function startHeartbeat")
end = script.index("function lost")
Markdown(f"From `chat.js`:\n\n```js\n{script[start:end].strip()}\n```")

# %% [markdown]
# > **Errata** (article section 四.3, "WebSocket API 的实践"). The article opens its socket with
# > `new WebSocket('ws//localhost:8080')`: the colon after `ws` is missing. That does not throw.
# > Browsers now resolve the argument like a link, relative to the page (the WHATWG URL rules: a
# > path without a scheme replaces the last segment of the page's path), and turn `http:` into
# > `ws:`; so the page connects to a path on its *own* server. The cell below does the same
# > resolution; `tests/test_chat_browser.py` checks that Chromium agrees. The article's list of
# > four listeners and of `readyState` values is right; it leaves out that `onerror` tells you
# > nothing and that `onclose` carries the code and reason.

# %%
directory = room.url[:room.url.rindex("/") + 1]  # the page's URL up to its last "/"
resolved = (directory + "ws//localhost:8080").replace("http:", "ws:", 1)
print(f"on a page at {room.url}, new WebSocket('ws//localhost:8080') connects to\n  {resolved}")

# %% [markdown]
# ## 5. Hardening
#
# A chat takes text from strangers and shows it to everyone; it listens on a port any page in
# the browser can reach; and it writes to every client as fast as anyone sends. Each of these
# is an attack, or an accident, waiting. One demo each.
#
# ### 5.1 A message that tries to be HTML
#
# Bo sends an image tag whose `onerror` runs a script. If a client put the text into its page
# as HTML, the script would run in every reader's page (cross-site scripting). In JupyterLab
# that would be worse than in a chat page: an `HTML` widget renders its value in JupyterLab's
# own page, where a script can use the Jupyter API, and so run code in your kernel.

# %%
import html

payload = '<img src=x onerror="alert(\'pwned\')">'
await bo.say(payload)
await you.wait_for(lambda c: payload in c.texts())
line = widget.render_entry(you.log[-1])
print("the text, as sent: ", payload)
print("the widget's HTML: ", line)
assert "<img" not in line and html.escape(payload) in line

# %% [markdown]
# The widget escapes every piece of text with `html.escape` (`<` becomes `&lt;`); the page puts
# text into the document with `textContent`, never `innerHTML`, so the browser never parses it:

# %%
print("\n".join(line for line in script.splitlines() if "textContent" in line)[:600])

# %% [markdown]
# And behind that, a second wall: the page's `Content-Security-Policy` (section 1) allows no
# inline script, so even markup that slipped in could not run one. `tests/test_chat_browser.py`
# sends this payload, a `<script>` and a `javascript:` link to a real Chromium page, and checks
# that they show as text and that nothing ran.
#
# ### 5.2 A page on another site: cross-site WebSocket hijacking
#
# Any page a student visits may run `new WebSocket("ws://127.0.0.1:8765/ws?name=...")`: the
# browser lets scripts open WebSockets to any address, with no same-origin check (WebSockets
# have no CORS; that is what makes the attack a classic). What the browser always adds is
# `Origin`: where the page came from, which the script cannot change. So the server keeps an
# allow-list, by default only its own page's origins, and answers 403 to any other (RFC 6455
# section 10.2). A `websockets` client shows both sides (outside a browser, `Origin` is whatever
# a program says: this check protects browsers' users, it authenticates nobody).

# %%
from websockets.asyncio.client import connect as websockets_connect
from websockets.exceptions import ConnectionClosedError, InvalidStatus

print("allowed:", sorted(room.origins))
for trying in ["http://evil.example", f"http://{HOST}:{room.port + 1}", origin]:
    try:
        async with websockets_connect(f"{room.ws_url}?name=Probe", origin=trying) as probe:
            print(f"Origin {trying:<28} → 101, then: {json.loads(await probe.recv())['type']}")
    except InvalidStatus as refused:
        print(f"Origin {trying:<28} → {refused.response.status_code} "
              f"{refused.response.body.decode().strip()}")

# %% [markdown]
# Why not simply compare `Origin` with the request's `Host` header? Because of DNS rebinding:
# a site can make its own name resolve to 127.0.0.1; its page then sends `Host: evil.example`
# and `Origin: http://evil.example` and both agree. The allow-list names hosts the server knows
# it is reached by (loopback, and in class mode this machine's addresses).
#
# ### 5.3 A flood, cut off
#
# Each client has a *token bucket*: a store of at most 10 tokens that refills at 5 tokens a
# second; each message spends one, and a message that finds none is refused (exercise 10.3
# builds one). So a client may send a burst of 10, then 5 messages a second. Messages over
# the limit are dropped and counted; the first one gets an `error` message back; if the
# client goes on, past 20 over the limit, the server closes it with **1008** (policy
# violation). Here a client sends 60 messages at once, while Cy is talking.

# %%
from wsteach.chat import protocol

flooder = await websockets_connect(f"{room.ws_url}?name=Flo", origin=origin)
for n in range(FLOOD):
    await flooder.send(protocol.say(f"spam {n}"))
await cy.say("Am I still heard?")
told = []
try:
    async for text in flooder:
        if json.loads(text)["type"] == "error":
            told.append(json.loads(text)["reason"])
except ConnectionClosedError:  # the 1008
    pass
await you.wait_for(lambda c: "Am I still heard?" in c.texts())
spam = [text for text in you.texts() if text.startswith("spam")]
print(f"the flooder sent {FLOOD}; the room got {len(spam)} (its burst); it was told "
      f"{len(told)} time(s): {told[0]!r}")
print(f"then closed: {flooder.close_code} {flooder.close_reason!r}; "
      f"Cy was still heard: {'Am I still heard?' in you.texts()}")

# %% [markdown]
# Size is limited twice. A chat message holds at most 500 characters: a longer one gets an
# `error` back, and the connection stays. A WebSocket message holds at most `MAX_SIZE` bytes:
# the server reads the length in the frame's header (notebook 04) and closes with **1009**
# (message too big) before it reads any of the payload, so nobody can make it buffer 10 MB.

# %%
big = await websockets_connect(f"{room.ws_url}?name=Max", origin=origin)
await big.send(protocol.say("x" * 501))
while (answer := json.loads(await big.recv()))["type"] != "error":
    pass
print("501 characters:", answer["reason"])
await big.send(protocol.say("x" * (MAX_SIZE + 1)))
try:
    async for _ in big:
        pass
except ConnectionClosedError:
    pass
print(f"{MAX_SIZE + 1} characters, over {MAX_SIZE} bytes: closed with {big.close_code} "
      f"{big.close_reason!r}")

# %% [markdown]
# ### 5.4 A reader that never reads: the stall, and 1013
#
# A server that sends each message with `await ws.send(message)`, client after client, waits
# whenever a client's send buffer is full. A client that stops reading (a laptop lid closed, a
# phone in a tunnel, a bug) fills its buffer, and then the loop waits on it for ever: every
# other client stops receiving too. Here are five readers and one client that never reads, on
# a bare `aio` server, 4 kB messages.

# %%
from wsteach.lessons import fanout


async def hold(ws) -> None:
    await ws.wait_closed()


async def count_messages(ws, counts: list[int], index: int) -> None:
    try:
        async for _ in ws:
            counts[index] += 1
    except aio.ConnectionClosed:
        pass


async def stream_to(send_all) -> tuple[list[int], list]:
    """Stream to READERS readers and one client that never reads, with send_all(connections,
    message); how many messages each reader got, and the close frames the server sent."""
    async with aio.serve(hold, HOST, 0, max_send_buffer=SLOW_BUFFER) as demo:
        uri = f"ws://{HOST}:{demo.port}/"
        readers = [await aio.connect(uri, ping_interval=None) for _ in range(READERS)]
        sleeper = await aio.connect(uri, ping_interval=None)  # never reads
        while len(demo.connections) < READERS + 1:
            await asyncio.sleep(0.001)
        counts = [0] * READERS
        tasks = [asyncio.create_task(count_messages(ws, counts, n))
                 for n, ws in enumerate(readers)]
        connections = list(demo.connections)
        await send_all(connections, "x" * STREAM_SIZE)
        await asyncio.sleep(SETTLE)  # the last messages reach the readers
        closed = [ws.connection.close_sent for ws in connections]
        for task in tasks:
            task.cancel()
        sleeper.transport.abort()
        return counts, closed


# %% [markdown]
# First the naive way: `await ws.send()` for each client in turn, given `STALL_TIMEOUT` to
# finish.

# %%


async def send_loop(connections, message) -> None:
    async def loop():
        for _ in range(STREAM):
            for ws in connections:
                await ws.send(message)

    try:
        await asyncio.wait_for(loop(), timeout=STALL_TIMEOUT)
    except TimeoutError:
        print(f"the loop stalled: still not done after {STALL_TIMEOUT} s")


naive_counts, _ = await stream_to(send_loop)
print(f"await ws.send() in a loop: the readers got {naive_counts} of {STREAM}, "
      f"{naive_counts[0] * STREAM_SIZE / 1e6:.1f} MB each")

# %% [markdown]
# Stuck: the loop got as far as the operating system's socket buffers on both sides could
# hold for the sleeper, and then waited on it, and every reader with it: they all stopped at
# the same message. Now the same stream with `aio.broadcast(connections, message)`: it never
# waits. It writes to every open connection at once and lets asyncio buffer; a connection
# whose unsent bytes pass its `max_send_buffer` (here 64 KiB) is closed on the spot with
# **1013**. Every other reader keeps receiving.

# %%


async def broadcast_loop(connections, message) -> None:
    await fanout.broadcast_many(lambda: aio.broadcast(connections, message), STREAM)


broadcast_counts, closed = await stream_to(broadcast_loop)
print(f"aio.broadcast: the readers got {broadcast_counts} of {STREAM}")
print("close frames the server sent:", [f"{c.code} {c.reason}" for c in closed if c])

# %%
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(8, 3))
labels = [f"reader {n + 1}" for n in range(READERS)]
x = range(READERS)
ax.bar([i - 0.2 for i in x], naive_counts, width=0.4, label="await ws.send() loop",
       color="#c0392b")
ax.bar([i + 0.2 for i in x], broadcast_counts, width=0.4, label="aio.broadcast",
       color="#1a8f3c")
ax.axhline(STREAM, color="#555", linestyle=":", label=f"all {STREAM} messages")
ax.set_xticks(list(x), labels)
ax.set_ylim(0, STREAM * 1.3)
ax.set_ylabel("messages received")
ax.set_title("One client that never reads, five that do")
ax.legend(loc="upper center", ncol=3, fontsize=8)
plt.show()

# %% [markdown]
# Why 1013 and not 1008? **1008** (policy violation) says the client broke a rule: the flooder
# did. Reading slowly breaks no rule; it is a temporary condition of that client. **1013** ("Try
# Again Later", from the IANA registry of close codes) says exactly that: come back and resume.
# The chat's page and `ChatClient` reconnect after 1013 and get what they missed from the
# history; after 1008 they do not retry. The limit is per connection: the history's replay must
# fit in it, since it is written at once (the chat refuses a `max_send_buffer` smaller than its
# whole history could take).
#
# ### 5.5 A server restart, survived with nothing lost
#
# The server restarts: it closes every connection with **1012** (service restart), with the
# closing handshake so that a page reads `wasClean` true (for good, `room.close()`, the code
# is 1001, going away), listens again on the same port, and keeps its history (a real
# deployment would keep it in a database or Redis). The clients reconnect with backoff and
# resume. Ada comes back in 20 ms, Dee takes 0.4 s; meanwhile Ada says something. It reaches
# Dee when she is back, once.

# %%
from wsteach.chat.client import ChatClient

ada = ChatClient(room.ws_url, "Ada", min_delay=RECONNECT_FAST, jitter=False)
dee = ChatClient(room.ws_url, "Dee", min_delay=RECONNECT_LATE, jitter=False)
for client in (ada, dee):
    client.start()
    await client.wait_for(lambda c: c.state == "open")
before = len(dee.texts())
await room.restart()
await ada.wait_for(lambda c: c.connections >= 2 and c.state == "open")
print(f"Ada is back; Dee has reconnected {dee.connections - 1} times so far")
await ada.say("Dee, are you back?")
await dee.wait_for(lambda c: "Dee, are you back?" in c.texts())
print(f"Dee is back after {dee.connections - 1} reconnect, and got: {dee.texts()[before:]}")
numbers = [entry.seq for entry in dee.log if entry.name is not None]
print("Dee's log, in order, each message once:", numbers == sorted(set(numbers)))
await ada.close()
await dee.close()
pictures.table([(entry.text,) for entry in dee.log if entry.name is None][-3:],
               ["Dee's last notices"])

# %% [markdown]
# `tests/test_chat_browser.py` does the same to a real page: the server cuts its connection ten
# times while 200 messages flow, and the page shows each of them once, in order.
#
# ## 6. The two WebSockets a chat message crosses in JupyterLab
#
# When you type in a widget and press Send, the message crosses two WebSockets:
#
# 1. **The browser to the kernel**: JupyterLab's page keeps one WebSocket to the Jupyter
#    server, `/api/kernels/<id>/channels`, subprotocol `v1.kernel.websocket.jupyter.org`. The
#    widget's new value and the click travel on it as comm messages. (The Jupyter server then
#    hands them to the kernel over ZeroMQ, not WebSocket.)
# 2. **The kernel to the chat server**: this notebook's `ChatClient`, a WebSocket client of ours
#    in the kernel, sends `{"type": "say"}` to the chat server (also in the kernel, here).
#
# Then back: the chat server broadcasts the numbered message, the kernel redraws the log
# widget, and the new HTML goes to the browser over the first WebSocket again.
# `data/captures/jupyterlab_chat.pcap` holds both, captured while a real JupyterLab in Chromium
# did exactly this (`python -m wsteach.wire.jupyterlab` makes it again).

# %%
from wsteach.wire import capture

sessions = capture.websocket_sessions(capture.read_pcap(STORED_LAB))
kernel_ws = next(s for s in sessions if b"/api/kernels/" in s.request)
chat_ws = next(s for s in sessions if b"GET /ws?" in s.request)
print(kernel_ws.request.decode().splitlines()[0])
print(next(line for line in kernel_ws.response.decode().splitlines()
           if line.lower().startswith("sec-websocket-protocol")))
print(f"{len(kernel_ws.frames)} frames on the kernel's WebSocket, "
      f"{len(chat_ws.frames)} on the chat's")

# %% [markdown]
# Every frame on the kernel's WebSocket is binary (opcode 2). The v1 protocol packs one Jupyter
# message per frame: a count n (8 bytes, little-endian), n offsets (8 bytes each), then the
# parts they delimit: the channel name, then the message's header, parent header, metadata
# and content (JSON each), then any binary buffers. Decoded by hand:

# %%


def decode_v1(payload: bytes) -> tuple[str, list[bytes]]:
    """One message of v1.kernel.websocket.jupyter.org: its channel and its parts."""
    count = int.from_bytes(payload[:8], "little")
    offsets = [int.from_bytes(payload[8 * (i + 1):8 * (i + 2)], "little") for i in range(count)]
    channel = payload[offsets[0]:offsets[1]].decode()
    parts = [payload[offsets[i]:offsets[i + 1]] for i in range(1, count - 1)]
    return channel, parts


def describe(frame) -> tuple[str, str, dict]:
    channel, parts = decode_v1(frame.payload)
    header, content = json.loads(parts[0]), json.loads(parts[3])
    return channel, header["msg_type"], content


typed = next(f for f in kernel_ws.frames if f.direction == "client"
             and describe(f)[1] == "comm_msg" and "value" in describe(f)[2]["data"].get("state", {}))
channel, parts = decode_v1(typed.payload)
print(f"masked: {typed.masked}, mask key {typed.mask_key.hex()}, payload {len(typed.payload)} B")
print(f"count of offsets: {int.from_bytes(typed.payload[:8], 'little')}, channel: {channel!r}")
print("header: ", json.loads(parts[0])["msg_type"], json.loads(parts[0])["session"][:8], "...")
print("content:", json.loads(parts[3]))

# %% [markdown]
# The text the student typed, inside a comm message (`method: update`, the new `value` of the
# Text widget's model), inside a Jupyter message on the shell channel, inside a masked binary
# frame. On the wire it is masked, as every browser frame is (notebook 05):

# %%
pictures.hex_view(typed.wire, max_payload=48)

# %% [markdown]
# Checked against the Jupyter server's own decoder, which reads these frames in production:

# %%
from jupyter_server.services.kernels.connection.base import deserialize_msg_from_ws_v1

theirs = deserialize_msg_from_ws_v1(typed.payload)
assert theirs == (channel, parts)
print("jupyter_server agrees:", theirs[0], [len(part) for part in theirs[1]])

# %% [markdown]
# The whole exchange, from the moment the typed value reaches the kernel: both WebSockets in
# one table, in the order the capture saw them.

# %%
t0 = typed.time
both = [(frame, "kernel") for frame in kernel_ws.frames] + [(f, "chat") for f in chat_ws.frames]
rows = []
for frame, which in sorted(both, key=lambda pair: pair[0].time):
    if frame.time < t0 or frame.opcode not in (1, 2):
        continue
    if which == "kernel":
        _, kind, content = describe(frame)
        if kind != "comm_msg":
            continue
        data = content["data"]
        what = data.get("method") + " " + json.dumps(data.get("state", data.get("content")))[:60]
        hop = "browser → kernel" if frame.direction == "client" else "kernel → browser"
    else:
        what = frame.payload.decode()[:70]
        hop = "kernel → chat server" if frame.direction == "client" else "chat server → kernel"
    rows.append((f"{(frame.time - t0) * 1000:.1f}", hop, "masked" if frame.masked else "",
                 what))
pictures.table(rows, ["ms", "WebSocket", "", "what"])

# %% [markdown]
# Read it top to bottom: the Text widget's value (sent as you type; the test that made the
# capture filled the box in one go), the kernel's `echo_update` of it (ipywidgets 8 sends
# every change back, so that all the views of a widget agree), the click on Send (a `custom`
# comm message), the kernel's masked `say` to the chat server, the server's numbered broadcast
# back, and the kernel's updates to the widgets: the Message box emptied, the log redrawn with
# the new HTML (escaped, section 5.1). Two masked hops, two unmasked ones: each client masks,
# each server does not.
#
# ## 7. Beyond one process
#
# One server process does all of the above for everyone in the room. How many is everyone?
# Broadcasting is the work: in a room of n people where each says something every 10 s, the
# server makes n / 10 × n deliveries a second. Measure how many deliveries a second one process
# makes here, clients included (`wsteach.lessons.fanout`: clients that only count bytes), with
# `aio.broadcast` and with the `websockets` library's `broadcast` in the same run:

# %%
from websockets import broadcast as websockets_broadcast
from websockets.asyncio.server import serve as websockets_serve

message = "x" * FANOUT_SIZE
rates = {}
async with aio.serve(hold, HOST, 0, ping_interval=None) as ours:
    clients = await fanout.open_clients(ours.port, FANOUT_CLIENTS)
    rates["wsteach.aio.broadcast"] = await fanout.deliveries_per_second(
        lambda: aio.broadcast(ours.connections, message), clients, FANOUT_MESSAGES, FANOUT_SIZE)
    fanout.close_clients(clients)
async with websockets_serve(hold, HOST, 0, ping_interval=None, compression=None) as theirs:
    clients = await fanout.open_clients(theirs.sockets[0].getsockname()[1], FANOUT_CLIENTS)
    rates["websockets.broadcast"] = await fanout.deliveries_per_second(
        lambda: websockets_broadcast(theirs.connections, message), clients, FANOUT_MESSAGES,
        FANOUT_SIZE)
    fanout.close_clients(clients)
pictures.table([(name, f"{rate:,.0f}") for name, rate in rates.items()],
               [f"{FANOUT_CLIENTS} clients × {FANOUT_MESSAGES} messages", "deliveries / s"])

# %%
import math

rate = rates["wsteach.aio.broadcast"]
largest_room = math.isqrt(int(rate * SECONDS_BETWEEN_MESSAGES))
print(f"{rate:,.0f} deliveries a second: n² / {SECONDS_BETWEEN_MESSAGES} = {rate:,.0f} "
      f"gives n = {largest_room:,} people in one busy room, on one core shared with the clients")

# %% [markdown]
# (`benchmarks/fanout.py` measures the same with 1000 clients and the server in a process of its
# own.) Past that, or for a server that must not be a single point of failure, you run several
# server processes. Then a message said on one must reach the people connected to the others,
# and one server cannot see another's connections:

# %%
room2 = await server.serve_chat(HOST, 0)
on_first = ChatClient(room.ws_url, "Eve")
on_second = ChatClient(room2.ws_url, "Fay")
for client in (on_first, on_second):
    client.start()
    await client.wait_for(lambda c: c.state == "open")
await on_first.say("Can anyone on the other server hear me?")
await asyncio.sleep(SETTLE)
print(f"Fay, on the second server, received: {on_second.texts()}")
await asyncio.gather(on_first.close(), on_second.close())
await room2.close()

# %% [markdown]
# On paper, how it is done: every server also connects to a message broker and publishes each
# message there; every server subscribes and broadcasts what comes to its own clients. With
# Redis as the broker: the Redis adapter of Socket.IO (notebook 09) publishes each `emit` to a
# Redis channel that every Socket.IO server subscribes to; Django Channels' channel layer does
# the same for groups. The fan-out is split in two: the broker sends each message once per
# *server*, and each server once per connection, so k servers share the n × n / 10 deliveries.
#
# What changes for the rest of this notebook:
#
# - **Numbering.** Each server numbers its own messages now; with several, the numbers must come
#   from one place, or resume breaks: Redis's `INCR`, or the ids of a Redis stream (`XADD`).
#   Socket.IO's connection state recovery, for one, does not work with its Redis adapter (its
#   documentation says so).
# - **History and presence.** The history and the presence list move to the broker too, or a
#   client that reconnects to another server finds nothing to resume from and sees a room with
#   only that server's people.
# - **Rate limits and names** per client stay local to the server the client is on; uniqueness
#   of names needs the shared store.
# - **A slow reader** still costs only its own server's buffer, and is closed with 1013 there.
#
# ## Summary
#
# - One port serves a page and a WebSocket: `process_request` answers HTTP, the Upgrade at
#   `/ws` goes on to the handshake. The chat speaks JSON text, numbered with the resume pattern.
# - Widgets are drawn from background tasks by replacing an `HTML` widget's value. Widget
#   callbacks start tasks; `nest_asyncio` (its maintained fork) is the last resort, with its
#   costs.
# - The browser's API: `readyState`, `bufferedAmount`, `binaryType`, four events, `CloseEvent`.
#   JavaScript cannot ping, so the page's heartbeat is a message; it abandons a silent
#   connection at once and reconnects with full jitter.
# - Hardening: escape every text (`html.escape`, `textContent`) and forbid inline scripts;
#   allow only your own pages' `Origin`; rate-limit each client and close a flood with 1008;
#   cap the size of a message (1009, decided from the frame's header);
#   broadcast without waiting and close a reader past its buffer with 1013; restart with 1012
#   and keep the history.
# - In JupyterLab a widget's message crosses two WebSockets: the browser's to the Jupyter
#   server (binary v1 frames, comm messages inside) and the kernel's to the chat server.
# - Beyond one process, a broker (Redis) carries messages between servers, and numbering,
#   history and presence must move there too.
#
# ## Exercises
#
# **Exercise 10.1.** Write `render_line(name, text)` returning the HTML `<b>NAME</b>: TEXT`, in
# which the reader sees NAME and TEXT exactly as typed, whatever they contain, and nothing in
# them runs.

# %% tags=["solution"]


def render_line(name: str, text: str) -> str:
    return f"<b>{html.escape(name)}</b>: {html.escape(text)}"


# %%
from wsteach.exercises import nb10

nb10.check_render_line(render_line)

# %% [markdown]
# **Exercise 10.2.** A teacher runs the chat in class mode on port 8765. The students open its
# page at `http://192.168.1.20:8765/`, the teacher at `http://localhost:8765/`, and nobody opens
# it anywhere else. Which `Origin` values must the server accept, and no others? Give a set.

# %% tags=["solution"]
answer_origins = {"http://192.168.1.20:8765", "http://localhost:8765"}

# %%
nb10.check_allowed_origins(answer_origins)

# %% [markdown]
# **Exercise 10.3.** Write a token bucket: `Bucket(rate, burst)` starts full with `burst`
# tokens and gains `rate` tokens a second, never more than `burst`; `allow(now)` (the time in
# seconds, given to you) takes a token and returns True, or returns False if there is none.

# %% tags=["solution"]


class Bucket:
    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.last = float(burst), None

    def allow(self, now: float) -> bool:
        if self.last is not None:
            self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


# %%
nb10.check_token_bucket(Bucket)

# %% [markdown]
# **Exercise 10.4.** Which close code does the server send in each situation? Fill in the dict
# (`nb10.SITUATIONS` lists the situations).

# %% tags=["solution"]
answer_codes = {
    "a client floods the chat": 1008,
    "a client reads too slowly for its send buffer": 1013,
    "the server restarts and will be back": 1012,
    "the server shuts down for good": 1001,
    "a client sends a 10 MB message": 1009,
}

# %%
nb10.check_close_codes(answer_codes)

# %% [markdown]
# **Exercise 10.5** (open). Open the chat's page in two browser tabs with the same `?name=`.
# What does the second tab show, and why? Then, with one tab open, block the kernel (the chat
# server runs in it) with a cell `time.sleep(30)`. Watch the tab's light, `readyState`, events
# and last `CloseEvent` during the 30 s and after: what happens, in which order, and why does
# the page not wait for a close event?

# %% [markdown]
# **Exercise 10.6** (open). Measure, 20 times each, the round-trip time of a chat message
# (from `await you.say(...)` until the text is in `you.texts()`) and of a ping (section 3.2's
# `round_trip(you)`); wait 0.25 s between messages, or the rate limit of section 5.3 drops
# them. Which is longer, by how much, and where does the difference go? What does a message
# typed in a widget cross on top of that (section 6's table)? In class, do it again on the
# teacher's chat (`python -m wsteach chat --class`; then `ui = widget.ChatWidget.join(url,
# name)` with the URL the teacher gives, and `ui.client` in place of `you`): what changes?

# %% [markdown] tags=["navigation"]
# [← 09 · Socket.IO and events](09_socketio_and_events.ipynb) | [Contents](../README.md)
