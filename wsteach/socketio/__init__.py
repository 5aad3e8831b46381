"""Socket.IO from the wire up: its packets, and a small server the official clients accept.

- ``engineio.py``: Engine.IO v4 packets (open, ping, pong, message, upgrade...), the transport.
- ``packets.py``: Socket.IO v5 packets (CONNECT, EVENT, ACK, binary attachments...) inside them.
- ``server.py``: a small Socket.IO server on ``wsteach.aio``, WebSocket transport only.
- ``newsfeed.py``: the article's news feed on that server (``python -m wsteach socketio``).
- ``python_socketio.py``: the same news feed on real python-socketio, both transports.
"""
