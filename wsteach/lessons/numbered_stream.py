"""A server of numbered messages that a client can resume (``wsteach.aio.resume``), for the
lessons of notebook 08: each client first gets the replay of what it missed, then every message
published after it, in order."""

from __future__ import annotations

import asyncio

from wsteach import aio
from wsteach.aio.resume import History


class NumberedStream:
    """``publish(data)`` numbers a message into the history; ``handler`` serves one client."""

    def __init__(self, history_size: int) -> None:
        self.history = History(size=history_size)
        self.published: list[str] = []  # the text of message n is published[n - 1]
        self._changed = asyncio.Event()

    def publish(self, data: object) -> None:
        self.published.append(self.history.add(data).text())
        self._changed.set()
        self._changed.clear()

    async def handler(self, ws: aio.WebSocket) -> None:
        replay = self.history.replay_for(ws.request.target)
        sent = self.history.last_seq  # taken with the replay, before any await
        for text in replay:
            await ws.send(text)
        while True:
            while sent < len(self.published):
                await ws.send(self.published[sent])
                sent += 1
            await self._changed.wait()
