"""Send one message to many connections without waiting for any of them.

A loop of ``await ws.send(message)`` over a room waits for each reader in turn: once one
client stops reading, its send buffer fills, ``send()`` waits for it, and every other client
stops receiving too. ``broadcast`` never waits: it writes the message to every open connection
and lets asyncio buffer it. A connection whose unsent bytes pass its ``max_send_buffer`` is
not buffered for without end: it is closed with 1013, "Try Again Later" (a code of the IANA
registry that RFC 6455 section 11.7 set up; section 7.4.1 lists only 1000-1011 and 1015): the
server is fine and so is the message, this client is too slow for now and may come back and
resume. (1008, policy violation, would say the client broke a rule; reading slowly breaks
none.)

A server's frames are never masked (section 5.1), so the frame of a message is the same bytes
for every server-side connection: it is encoded once. A client-side connection masks each
frame with a fresh key, so it gets a frame of its own.

``broadcast`` is synchronous: nothing else runs while it writes. That makes it the right way to
send a newcomer its replay (``resume.History.replay``) before adding it to the room: no message
broadcast meanwhile can overtake the replay.
"""

from __future__ import annotations

from collections.abc import Iterable

from wsteach.aio.connection import WebSocket
from wsteach.connection import Role, State
from wsteach.frames import CloseCode, Frame, Opcode, encode_frame, random_mask_key

OPEN, SERVER = State.OPEN, Role.SERVER  # looked up once: the loop runs per connection


def broadcast(connections: Iterable[WebSocket], message: str | bytes) -> None:
    """Write ``message`` (text if ``str``, binary if ``bytes``) to every open connection.

    Connections that are not open are skipped. One whose unsent bytes then exceed its
    ``limits.max_send_buffer`` is failed with 1013 instead; the others are not affected.
    """
    if isinstance(message, str):
        frame = Frame(Opcode.TEXT, message.encode("utf-8"))
    else:
        frame = Frame(Opcode.BINARY, bytes(message))
    server_frame = encode_frame(frame)  # unmasked: the same bytes for every server connection
    for ws in connections:
        connection, transport = ws.connection, ws.transport
        if connection.state is not OPEN or transport is None or transport.is_closing():
            continue
        if connection.role is SERVER:
            transport.write(server_frame)
        else:  # a client masks each frame with a key of its own
            transport.write(encode_frame(frame, random_mask_key()))
        if transport.get_write_buffer_size() > ws.limits.max_send_buffer:
            ws.fail(CloseCode.TRY_AGAIN_LATER, "too slow to read the broadcast")
