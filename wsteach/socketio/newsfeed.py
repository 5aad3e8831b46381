"""The article's Socket.IO news feed, done right, on our small server (``python -m wsteach
socketio --port P [--news-interval S]``).

Its behaviour is fixed, so that any Socket.IO client can check it:

- after connecting, each client receives the event ``news`` with the guest table
  (``data/guests.json``), at once and then every ``news_interval`` seconds, or at the article's
  random 2 to 7 s (``setTimeout(send, (Math.random() * 5 + 2) * 1000)``) when it is None;
- ``echo`` with any arguments is acknowledged with the same arguments;
- ``join`` with a room name puts the client in that room, acknowledged with ``true``;
- ``say`` with ``{"room": ..., "text": ...}`` sends ``said`` with ``{"from": <the sender's
  Socket.IO id>, "text": ...}`` to every other client in that room, acknowledged with the
  number of clients it reached;
- ``GET /`` serves a page that connects with the official browser client (npm's
  ``socket.io-client``, served from ``node_modules`` at ``/socket.io.min.js``) and shows the
  news table as it arrives.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from wsteach import http1
from wsteach.paths import DATA, NODE_MODULES
from wsteach.socketio.server import Client, Server, text

GUESTS_FILE = DATA / "guests.json"
CLIENT_BUNDLE = NODE_MODULES / "socket.io-client" / "dist" / "socket.io.min.js"
ARTICLE_DELAYS = (2.0, 7.0)  # seconds between two news, drawn uniformly, as the article did

# The page: the official client, websocket transport (our server has no polling; the page
# at /?transports=polling,websocket starts with long polling, for python-socketio's server).
PAGE = """<!doctype html>
<meta charset="utf-8">
<title>wsteach · Socket.IO news feed</title>
<style>body{font-family:sans-serif;margin:2em} td,th{padding:2px 10px;text-align:left}</style>
<h1>News feed</h1>
<p id="status">connecting…</p>
<p id="count">no news yet</p>
<table><thead><tr><th>姓名 name</th><th>性别 gender</th><th>国家 region</th></tr></thead>
<tbody id="news"></tbody></table>
<script src="/socket.io.min.js"></script>
<script>
const status = text => { document.getElementById("status").textContent = text; };
if (typeof io === "undefined") {
  status("socket.io-client is missing: run `npm install` at the repository's root");
} else {
  const transports = (new URLSearchParams(location.search).get("transports")
                      || "websocket").split(",");
  const socket = window.socket = io({transports});
  window.newsCount = 0;
  const connected = () => status(`connected as ${socket.id} over `
                                 + socket.io.engine.transport.name);
  socket.on("connect", () => { connected(); socket.io.engine.once("upgrade", connected); });
  socket.on("connect_error", error => status(`cannot connect: ${error.message}`));
  socket.on("disconnect", reason => status(`disconnected: ${reason}`));
  socket.on("news", guests => {
    window.newsCount += 1;
    document.getElementById("count").textContent = `news received: ${window.newsCount}`;
    const rows = guests.map(guest => {
      const row = document.createElement("tr");
      for (const value of [guest.surname + guest.name,
                           guest.gender === "female" ? "女" : "男", guest.region]) {
        const cell = document.createElement("td");
        cell.textContent = value;  // text, never HTML: a guest's name cannot inject a script
        row.append(cell);
      }
      return row;
    });
    document.getElementById("news").replaceChildren(...rows);
  });
}
</script>
"""


def load_guests() -> list[dict[str, str]]:
    """The guest table that the polling notebooks push too."""
    return json.loads(GUESTS_FILE.read_text(encoding="utf-8"))


SAY_ERROR = {"error": 'say takes {"room": <a room name>, "text": <a string>}'}


def is_say(message: Any) -> bool:
    """Whether ``say``'s argument has the fixed shape ``{"room": str, "text": str}``."""
    return (isinstance(message, dict) and isinstance(message.get("room"), str)
            and isinstance(message.get("text"), str))


def news_delays(news_interval: float | None, rng: random.Random | None = None
                ) -> Iterator[float]:
    """Seconds before each next news: ``news_interval`` each time, or 2 to 7 s at random."""
    draw = rng or random.Random()
    while True:
        yield news_interval if news_interval is not None else draw.uniform(*ARTICLE_DELAYS)


def page(request: http1.Request) -> bytes | None:
    """The page at ``/`` and the client bundle beside it (None: not found)."""
    path = urlsplit(request.target).path
    if path == "/":
        return http1.build_response(200, "OK", [("Content-Type", "text/html; charset=utf-8"),
                                                ("Cache-Control", "no-store"),
                                                ("Connection", "close")], PAGE.encode())
    if path == "/socket.io.min.js":
        if not CLIENT_BUNDLE.exists():
            return text(404, "Not Found", "socket.io-client is not installed: run `npm "
                        "install` at the repository's root (it needs Node.js)\n")
        return http1.build_response(200, "OK", [
            ("Content-Type", "text/javascript; charset=utf-8"), ("Connection", "close")],
            CLIENT_BUNDLE.read_bytes())
    return None


def news_feed(news_interval: float | None = None, **options: Any) -> Server:
    """Our server with the news feed's handlers; ``options`` go to ``Server``."""
    server = Server(page=page, **options)
    guests = load_guests()

    @server.on("connect")
    async def send_news(client: Client) -> None:  # cancelled when the client goes
        for delay in news_delays(news_interval):
            await server.emit("news", guests, to=client.sid)
            await asyncio.sleep(delay)

    @server.on("echo")
    async def echo(client: Client, *args: Any) -> tuple[Any, ...]:
        return args

    @server.on("join")
    async def join(client: Client, room: Any = None) -> bool:
        if not isinstance(room, str):
            return False
        server.enter_room(client, room)
        return True

    @server.on("say")
    async def say(client: Client, message: Any = None) -> int | dict[str, str]:
        if not is_say(message):
            return SAY_ERROR
        return await server.emit("said", {"from": client.sid, "text": message["text"]},
                                 to=message["room"], skip=client.sid)

    return server
