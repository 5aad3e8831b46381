"""The same news feed on real python-socketio, with both transports: the client starts with
HTTP long polling and upgrades to a WebSocket (``2probe``, ``3probe``, ``5``).

python-socketio's ``AsyncServer`` runs on aiohttp, on loopback. It has the same events as
``newsfeed.news_feed`` (see there), the same page at ``/`` and the same guest table, so a test
or a notebook can hold the two servers side by side. ``serve`` is an async context manager that
gives the port::

    async with python_socketio.serve(news_interval=0.1) as port:
        ...   # http://127.0.0.1:{port}/ and ws://127.0.0.1:{port}/socket.io/
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import socketio
from aiohttp import web

from wsteach.socketio.newsfeed import (
    CLIENT_BUNDLE,
    PAGE,
    SAY_ERROR,
    is_say,
    load_guests,
    news_delays,
)


def news_feed(news_interval: float | None = None, **options: Any) -> socketio.AsyncServer:
    """python-socketio's server with the news feed's handlers; ``options`` go to
    ``socketio.AsyncServer`` (``ping_interval``, ``ping_timeout``, ...)."""
    sio = socketio.AsyncServer(async_mode="aiohttp", **options)
    guests = load_guests()
    news_tasks: dict[str, asyncio.Task[None]] = {}

    async def send_news(sid: str) -> None:
        for delay in news_delays(news_interval):
            await sio.emit("news", guests, to=sid)
            await asyncio.sleep(delay)

    @sio.on("connect")
    async def connect(sid: str, environ: dict, auth: Any = None) -> None:
        news_tasks[sid] = asyncio.create_task(send_news(sid))

    @sio.on("disconnect")
    async def disconnect(sid: str, reason: Any = None) -> None:
        if task := news_tasks.pop(sid, None):
            task.cancel()

    @sio.on("echo")
    async def echo(sid: str, *args: Any) -> tuple[Any, ...]:
        return args

    @sio.on("join")
    async def join(sid: str, room: Any = None) -> bool:
        if not isinstance(room, str):
            return False
        await sio.enter_room(sid, room)
        return True

    @sio.on("say")
    async def say(sid: str, message: Any = None) -> int | dict[str, str]:
        if not is_say(message):
            return SAY_ERROR
        others = [other for other, _ in sio.manager.get_participants("/", message["room"])
                  if other != sid]
        await sio.emit("said", {"from": sid, "text": message["text"]}, room=message["room"],
                       skip_sid=sid)
        return len(others)

    return sio


async def _page(request: web.Request) -> web.StreamResponse:
    return web.Response(text=PAGE, content_type="text/html", headers={"Cache-Control": "no-store"})


async def _bundle(request: web.Request) -> web.StreamResponse:
    if not CLIENT_BUNDLE.exists():
        raise web.HTTPNotFound(text="socket.io-client is not installed: run `npm install`")
    return web.FileResponse(CLIENT_BUNDLE)


@contextlib.asynccontextmanager
async def serve(news_interval: float | None = None, host: str = "127.0.0.1", port: int = 0,
                **options: Any) -> AsyncIterator[int]:
    """Run the news feed on aiohttp while the block runs; gives the port it listens on."""
    sio = news_feed(news_interval, **options)
    app = web.Application()
    sio.attach(app)
    app.router.add_get("/", _page)
    app.router.add_get("/socket.io.min.js", _bundle)
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=1)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        yield runner.addresses[0][1]
    finally:
        await sio.shutdown()
        await runner.cleanup()
