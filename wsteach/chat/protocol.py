"""What the chat says on its WebSocket: JSON text, one object per message, with a ``type``.

The connection: ``ws://HOST:PORT/ws?name=Ada``, plus ``&key=...`` to take the name back after a
reconnect, ``&epoch=...&last=41`` to resume (``wsteach.aio.resume``), and ``&code=...`` in
class mode. The page (``static/chat.js``) and the Python client (``client.py``) speak the same.

From a client::

    {"type": "say", "text": "hello"}          a chat message, 1 to 500 characters
    {"type": "ping", "id": 7}                 the page's heartbeat: JavaScript cannot send a
                                              ping frame, so it sends a message and waits
                                              for the pong message

From the server::

    {"type": "welcome", "name": "Ada", "key": "..."}      first: your name, and the key that
                                                          reclaims it after a reconnect
    {"type": "hello", "epoch": "3f9c1a2b", "last": 41}    } the resume pattern, see
    {"type": "gap", "missed": 12}                         } wsteach.aio.resume
    {"type": "message", "seq": 42, "data": {"name": "Ada", "text": "hello", "time": 1.7e9}}
    {"type": "presence", "names": ["Ada", "Bo"]}           who is here, to a newcomer
    {"type": "joined", "name": "Cy"}                       } then each change, to the others
    {"type": "left", "name": "Bo"}                         } (not the whole list again: in a
                                                           } room of n that costs n² a join)
    {"type": "pong", "id": 7}
    {"type": "error", "reason": "..."}                     a message of yours was refused

Text is always text: a client renders ``name`` and ``text`` as characters, never as HTML.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from wsteach.chat.names import MAX_NAME

MAX_TEXT = 500  # characters in one chat message

# Close codes of the chat. 4000-4999 are for applications (RFC 6455 section 7.4.2).
REPLACED = 4000  # the same name connected again with its key: this connection is a ghost
NAME_REFUSED = 4001  # the name is taken, empty, too long or holds control characters
FLOODING = 1008  # policy violation: far more messages than the rate limit
# The others come from the protocol: 1001 server going away, 1009 message too big,
# 1011 keepalive ping timeout, 1012 server restarting, 1013 too slow to read.
FATAL = frozenset({REPLACED, NAME_REFUSED, FLOODING})  # reconnecting would not help


@dataclass(frozen=True)
class Say:
    text: str


@dataclass(frozen=True)
class Ping:
    id: object


def parse(message: str | bytes, max_text: int = MAX_TEXT) -> Say | Ping:
    """A client's message, or ``ValueError`` with the reason to send back."""
    if isinstance(message, bytes):
        raise ValueError("this chat speaks JSON text, not binary messages")
    try:
        command = json.loads(message)
    except json.JSONDecodeError:
        raise ValueError("not JSON: send {\"type\": \"say\", \"text\": \"...\"}") from None
    kind = command.get("type") if isinstance(command, dict) else None
    if kind == "ping":
        return Ping(command.get("id"))
    if kind != "say":
        raise ValueError(f"unknown message type {kind!r}: use \"say\" or \"ping\"")
    text = command.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("a message needs some text")
    if len(text) > max_text:
        raise ValueError(f"a message holds at most {max_text} characters, not {len(text)}")
    return Say(text)


def most_bytes(max_text: int = MAX_TEXT) -> int:
    """The most bytes a numbered chat message can take on the wire: 6 per character of the
    text and the name (a control character becomes ``\u0001`` in JSON), plus the envelope."""
    return 6 * (max_text + MAX_NAME) + 120


def read(text: str | bytes) -> dict:
    """A server's message as a dict (an empty one if it is not a JSON object)."""
    message = json.loads(text)
    return message if isinstance(message, dict) else {}


def _text(kind: str, **fields: object) -> str:
    return json.dumps({"type": kind, **fields}, ensure_ascii=False)


def say(text: str) -> str:
    return _text("say", text=text)


def ping(id_: int) -> str:
    return _text("ping", id=id_)


def welcome(name: str, key: str) -> str:
    return _text("welcome", name=name, key=key)


def presence(names: list[str]) -> str:
    return _text("presence", names=names)


def joined(name: str) -> str:
    return _text("joined", name=name)


def left(name: str) -> str:
    return _text("left", name=name)


def pong(id_: object) -> str:
    return _text("pong", id=id_)


def error(reason: str) -> str:
    return _text("error", reason=reason)
