"""asyncio server and client on the sans-I/O core, with the API of the ``websockets`` library."""

from wsteach.aio.client import connect
from wsteach.aio.connection import Limits, WebSocket
from wsteach.aio.server import Server, serve
from wsteach.connection import ConnectionClosed

__all__ = ["ConnectionClosed", "Limits", "Server", "WebSocket", "connect", "serve"]
