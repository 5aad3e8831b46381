"""Resuming without loss: number every message, keep the last ones, replay what a client missed.

A WebSocket that drops loses whatever was sent while the client was away. The pattern here is
the one of SSE's ``Last-Event-ID`` and Centrifugo's offsets: the server numbers each message
and keeps a bounded history; a client that reconnects says the last number it saw and gets
what it missed, in order; it drops any message it has already seen. When the history no longer
reaches back that far, the client is told how many messages it missed: never a silent gap. An
``epoch``, drawn when the history is made, tells a client that it meets a different history
(the server restarted), whose numbers mean nothing to it.

The messages are JSON text, one per WebSocket message::

    {"type": "hello", "epoch": "3f9c1a2b", "last": 41}    first, on each connection
    {"type": "gap", "missed": 12}                          messages the history lost
    {"type": "gap", "missed": null}                        ... an unknown number: the client
                                                           saw another history (a restart)
    {"type": "message", "seq": 42, "data": ...}            the application's message

The client reconnects to ``uri?epoch=3f9c1a2b&last=41`` (``Tracker.query()``). Nothing here
touches a socket: the chat and notebook 08 send and receive the texts.
"""

from __future__ import annotations

import json
import secrets
from collections import deque
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Numbered:
    """One message of the history and its number (1, 2, 3, ...)."""

    seq: int
    data: object

    def text(self) -> str:
        return json.dumps({"type": "message", "seq": self.seq, "data": self.data},
                          ensure_ascii=False)


class History:
    """The server's side: the last ``size`` messages, numbered, and what a client missed."""

    def __init__(self, size: int = 1000, epoch: str | None = None) -> None:
        if size < 1:
            raise ValueError("a history keeps at least one message")
        self.epoch = epoch or secrets.token_hex(4)
        self.last_seq = 0
        self._kept: deque[Numbered] = deque(maxlen=size)

    def add(self, data: object) -> Numbered:
        """Number ``data`` and keep it; send ``.text()`` of the result to every client."""
        self.last_seq += 1
        numbered = Numbered(self.last_seq, data)
        self._kept.append(numbered)
        return numbered

    def hello(self) -> str:
        return json.dumps({"type": "hello", "epoch": self.epoch, "last": self.last_seq})

    def replay(self, epoch: str | None, last_seen: int) -> list[str]:
        """The texts to send a client that saw up to ``last_seen`` of history ``epoch``: the
        hello, a gap notice if the history no longer reaches back, then the missed messages."""
        texts = [self.hello()]
        if epoch is not None and epoch != self.epoch:
            # The client saw another history: this server restarted from scratch. What the
            # old one sent while the client was away is gone, and nobody knows how much.
            texts.append(json.dumps({"type": "gap", "missed": None}))
        if epoch != self.epoch:
            last_seen = 0  # another history (or a first visit): all of ours is new to it
        last_seen = min(last_seen, self.last_seq)
        oldest = self._kept[0].seq if self._kept else self.last_seq + 1
        if oldest > last_seen + 1 and epoch == self.epoch:
            texts.append(json.dumps({"type": "gap", "missed": oldest - last_seen - 1}))
        texts += [item.text() for item in self._kept if item.seq > last_seen]
        return texts

    def replay_for(self, target: str) -> list[str]:
        """``replay`` for a request target such as ``/ws?epoch=3f9c1a2b&last=41``."""
        query = parse_qs(urlsplit(target).query)
        epoch = query.get("epoch", [None])[0]
        try:
            last_seen = max(0, int(query.get("last", ["0"])[0]))
        except ValueError:
            last_seen = 0
        return self.replay(epoch, last_seen)


@dataclass
class Delivery:
    """What ``Tracker.accept`` makes of one text: a new message, a gap, or nothing new."""

    kind: str  # "message", "gap", "duplicate" or "hello"
    seq: int = 0
    data: object = None
    missed: int | None = 0  # for a gap: how many, or None when nobody can know


class Tracker:
    """The client's side: the last number seen, duplicates dropped, gaps reported."""

    def __init__(self) -> None:
        self.epoch: str | None = None
        self.last_seq = 0
        self.missed = 0  # messages the server said were lost, in total
        self.restarts = 0  # gaps of unknown size: the server's history started again

    def query(self) -> str:
        """The query string to reconnect with: ``epoch=...&last=...`` (empty the first time)."""
        return "" if self.epoch is None else f"epoch={self.epoch}&last={self.last_seq}"

    def accept(self, text: str) -> Delivery:
        envelope = json.loads(text)
        kind = envelope.get("type")
        if kind == "hello":
            if envelope["epoch"] != self.epoch:  # a history we have not seen: start afresh
                self.epoch, self.last_seq = envelope["epoch"], 0
            return Delivery("hello")
        if kind == "gap":
            if envelope["missed"] is None:
                self.restarts += 1
            else:
                self.missed += envelope["missed"]
            return Delivery("gap", missed=envelope["missed"])
        if kind != "message":
            raise ValueError(f"not a message of the resume pattern: {text[:80]!r}")
        seq = envelope["seq"]
        if seq <= self.last_seq:
            return Delivery("duplicate", seq)
        self.last_seq = seq
        return Delivery("message", seq, envelope["data"])
