"""asyncio server and client on the sans-I/O core, with the API of the websockets library.

- ``connection.py``: ``WebSocket``, an open connection (send, recv, ping, close, keepalive).
- ``server.py``: ``serve`` and ``Server``, the opening handshake on accept.
- ``client.py``: ``connect``, and reconnecting with backoff.
- ``broadcast.py``: ``broadcast``, one message to many connections without waiting.
- ``opening.py``: reading the HTTP head of the opening handshake, on either side.
"""

from wsteach.aio.broadcast import broadcast
from wsteach.aio.client import backoff_delays, connect
from wsteach.aio.connection import Limits, WebSocket
from wsteach.aio.server import Server, serve
from wsteach.connection import ConnectionClosed

__all__ = ["ConnectionClosed", "Limits", "Server", "WebSocket", "backoff_delays", "broadcast",
           "connect", "serve"]
