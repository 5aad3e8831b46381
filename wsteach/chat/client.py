"""A chat participant in Python: join, say, reconnect with backoff, resume without loss.

```
ada = ChatClient(room.ws_url, "Ada")
ada.start()                                   # a task: connects, and reconnects when lost
await ada.wait_for(lambda c: c.state == "open")
await ada.say("hello")
await ada.wait_for(lambda c: "hello" in c.texts())
await ada.close()
```

It speaks what the page speaks (``protocol.py``): the same query, the same JSON, the same
resume pattern (``wsteach.aio.resume.Tracker`` drops what it has seen and reports gaps). Its
keepalive is the protocol's own ping frames, which Python can send and JavaScript cannot.

After a lost connection it waits a random delay (full jitter) before trying again, also the
first time: a thousand clients of a restarted server must not all come back in the same
millisecond. The loop is ``wsteach.aio.connect``'s own ``async for`` written out, with the same
``backoff_delays`` and ``is_retryable``, for two things that one does not do: each attempt
gets a fresh URI (its query says the last message seen), and each wait is told to the user
("trying again in 1.2 s"), which ``async for`` only logs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from wsteach import aio
from wsteach.aio.client import is_retryable
from wsteach.aio.resume import Tracker
from wsteach.chat import protocol
from wsteach.connection import ConnectionClosed


@dataclass(frozen=True)
class Entry:
    """One line of the chat log: a message (``name`` said ``text``) or a notice (name None)."""

    text: str
    name: str | None = None
    time: float | None = None
    seq: int | None = None


def gap_notice(missed: int | None) -> str:
    """What to tell the user about a gap: ``missed`` messages, or an unknown number (None: the
    server started a new history, so nobody can know what the old one sent)."""
    if missed is None:
        return "the server restarted: messages sent while you were away may be lost"
    return f"{missed} messages missed: the server no longer has them"


class ChatClient:
    """Join the chat at ``ws_url`` (``ws://HOST:PORT/ws``) as ``name``.

    - ``code``: the join code (class mode); ``origin``: the Origin to send (default: the
      chat's own page, ``http://HOST:PORT``).
    - ``min_delay``, ``factor``, ``max_delay``, ``jitter``: the backoff between attempts
      (``wsteach.aio.backoff_delays``); ``ping_interval``, ``ping_timeout``: the keepalive.

    ``state`` is "connecting", "open" or "closed" (for good: refused, or closed by us);
    ``log`` the entries in order, each message once; ``presence`` who is here.
    ``on_change(client)`` is called after every change (the widget redraws there).
    """

    def __init__(self, ws_url: str, name: str, *, code: str | None = None,
                 origin: str | None = None, min_delay: float = 0.5, factor: float = 2.0,
                 max_delay: float = 10.0, jitter: bool = True, ping_interval: float | None = 20,
                 ping_timeout: float | None = 20,
                 on_change: Callable[[ChatClient], None] | None = None) -> None:
        parts = urlsplit(ws_url)
        self.ws_url = ws_url
        self.name = name
        self.code = code
        # What a page served by that server would send, so the Origin allow-list admits us.
        self.origin = origin or f"http://{parts.netloc}"
        self.backoff = {"min_delay": min_delay, "factor": factor, "max_delay": max_delay,
                        "jitter": jitter}
        self.ws_options = {"ping_interval": ping_interval, "ping_timeout": ping_timeout}
        self.on_change = on_change
        self.state = "connecting"
        self.log: list[Entry] = []
        self.presence: list[str] = []
        self.key = ""
        self.tracker = Tracker()
        self.connections = 0  # successful connections so far: 1 + reconnects
        self.ws: aio.WebSocket | None = None
        self._task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    # ---- what a user does ---------------------------------------------------------------

    def start(self) -> asyncio.Task[None]:
        """Connect in a task of its own (once; calling again returns the same task)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
        return self._task

    async def say(self, text: str) -> None:
        """Send a chat message; ``RuntimeError`` while not connected."""
        if self.ws is None or self.state != "open":
            raise RuntimeError(f"not connected ({self.state}): try again in a moment")
        await self.ws.send(protocol.say(text))

    async def close(self) -> None:
        """Leave the chat for good."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._set_state("closed")

    async def wait_for(self, condition: Callable[[ChatClient], bool],
                       timeout: float = 5) -> None:
        """Wait until ``condition(self)`` holds (``TimeoutError`` after ``timeout`` s)."""
        async with asyncio.timeout(timeout):
            while not condition(self):
                await self._changed.wait()

    def texts(self) -> list[str]:
        """The text of every message received, in order."""
        return [entry.text for entry in self.log if entry.name is not None]

    # ---- inside -------------------------------------------------------------------------

    def uri(self) -> str:
        """The WebSocket URI for the next attempt: name, key, join code, where to resume."""
        fields = {"name": self.name, "key": self.key, "code": self.code}
        query = "&".join(filter(None, [urlencode({k: v for k, v in fields.items() if v}),
                                       self.tracker.query()]))
        return f"{self.ws_url}?{query}"

    async def _run(self) -> None:
        delays: Iterator[float] | None = None
        while True:
            try:
                ws = await aio.connect(self.uri(), origin=self.origin, **self.ws_options)
            except Exception as error:
                if not is_retryable(error):  # a 403 (origin, join code) would fail again
                    self._notice(f"cannot join: {error}")
                    self._set_state("closed")
                    return
                delays = delays or aio.backoff_delays(**self.backoff)
                delay = next(delays)
                why = ("nothing listens there" if isinstance(error, ConnectionRefusedError)
                       else str(error))
                self._notice(f"cannot connect ({why}); trying again in {delay:.1f} s")
                await asyncio.sleep(delay)
                continue
            await self._session(ws)
            if self.state == "closed":
                return
            delays = aio.backoff_delays(**self.backoff)  # after a loss: a jittered wait too
            delay = next(delays)
            self._notice(f"reconnecting in {delay:.1f} s")
            await asyncio.sleep(delay)

    async def _session(self, ws: aio.WebSocket) -> None:
        """One connection, from open to close."""
        self.ws = ws
        self.connections += 1
        self._set_state("open")
        try:
            async for text in ws:
                self._receive(text)
        except ConnectionClosed:
            pass
        finally:
            self.ws = None
            self.presence = []  # nobody is known to be here until the next presence list
            await ws.close()  # at once if it has closed already
        code, reason = ws.close_code, ws.close_reason
        self._notice(f"connection closed: {code} {reason}".strip())
        self._set_state("closed" if code in protocol.FATAL else "connecting")

    def _receive(self, text: str | bytes) -> None:
        message = protocol.read(text)
        kind = message.get("type")
        if kind == "welcome":
            self.name, self.key = message["name"], message["key"]
        elif kind == "presence":
            self.presence = list(message["names"])
        elif kind == "joined":
            self.presence = sorted({*self.presence, message["name"]}, key=str.casefold)
        elif kind == "left":
            self.presence = [name for name in self.presence if name != message["name"]]
        elif kind == "error":
            self._notice(f"refused: {message['reason']}")
            return
        elif kind in ("hello", "gap", "message"):
            delivery = self.tracker.accept(text)
            if delivery.kind == "gap":
                self._notice(gap_notice(delivery.missed))
                return
            if delivery.kind == "message":
                data = delivery.data
                self.log.append(Entry(data["text"], data["name"], data["time"], delivery.seq))
        self._changed_now()

    def _notice(self, text: str) -> None:
        self.log.append(Entry(text))
        self._changed_now()

    def _set_state(self, state: str) -> None:
        self.state = state
        self._changed_now()

    def _changed_now(self) -> None:
        if self.on_change is not None:
            self.on_change(self)
        self._changed.set()
        self._changed = asyncio.Event()

