"""A WebSocket connection as a state machine: bytes in, events out (RFC 6455 sections 5-7).

Sans-I/O, in the style of h11 and wsproto: this module never touches a socket or a clock.

```
conn = Connection(Role.SERVER)
conn.receive_data(bytes_from_the_socket)
for event in conn.events():                  # Text, Binary, Ping, Pong, Close; ProtocolError
    ...                                      #   after them if the peer broke a rule
socket.send(conn.data_to_send())             # automatic replies: pongs, the close reply
socket.send(conn.send_text("hello"))         # sending returns the bytes to write
```

``frames.decode_frame`` checks each frame alone; this class checks what needs the role or the
frames before: who must mask (5.1), fragment order (5.4), UTF-8 across fragments (8.1), the
message size, and the closing handshake (7.1).
"""

from __future__ import annotations

import codecs
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum

from wsteach.frames import (
    CloseCode,
    Frame,
    Opcode,
    ProtocolError,
    close_payload,
    decode_frame,
    decode_header,
    encode_frame,
    parse_close_payload,
    random_mask_key,
)
from wsteach.masking import apply_mask

# Enum members looked up once: reading an attribute of an Enum class costs ~100 ns on Python
# 3.11, and the receive loop would pay it several times per frame.
TEXT, BINARY, CONTINUATION = Opcode.TEXT, Opcode.BINARY, Opcode.CONTINUATION
PING, PONG, CLOSE = Opcode.PING, Opcode.PONG, Opcode.CLOSE


class Role(Enum):
    """Clients mask every frame they send; servers never do (section 5.1)."""

    CLIENT = "client"
    SERVER = "server"


class State(Enum):
    """Section 7.1: OPEN, then CLOSING once we sent a close frame, CLOSED once both did."""

    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"


OPEN, CLOSED = State.OPEN, State.CLOSED


@dataclass(slots=True)
class Text:
    """A complete text message."""

    data: str


@dataclass(slots=True)
class Binary:
    """A complete binary message."""

    data: bytes


@dataclass(slots=True)
class Ping:
    """The peer pinged; the pong is already queued in ``data_to_send()``."""

    payload: bytes


@dataclass(slots=True)
class Pong:
    """The peer answered a ping (or sent an unsolicited pong, which section 5.5.3 allows)."""

    payload: bytes


@dataclass(slots=True)
class Close:
    """The connection is closing or closed: the peer's code and reason, or 1006 if TCP ended."""

    code: int
    reason: str


Event = Text | Binary | Ping | Pong | Close


@dataclass(slots=True)
class _PartialFrame:
    """A data frame whose header has arrived and whose payload is still arriving."""

    fin: bool
    remaining: int  # payload bytes still to come
    mask_key: bytes | None
    received: int = 0  # payload bytes so far: where in the masking key the next byte falls


class ConnectionClosed(Exception):
    """Raised when sending on, or receiving from, a connection that has closed.

    ``code`` and ``reason`` are the peer's close frame (1006 if TCP ended without one, or our
    own code when we failed the connection). ``rcvd`` and ``sent`` are the two halves of the
    closing handshake, each a ``Close`` or None, so that "we sent 1011, the peer sent nothing"
    reads as such instead of a bare 1006 (as in the websockets library).
    """

    def __init__(self, code: int, reason: str, *, rcvd: Close | None = None,
                 sent: Close | None = None) -> None:
        self.code = code
        self.reason = reason
        self.rcvd = rcvd
        self.sent = sent
        received = f"received {_describe(rcvd)}" if rcvd else "no close frame received"
        sent_part = f"sent {_describe(sent)}" if sent else "no close frame sent"
        super().__init__(f"connection closed with code {code}: {received}; {sent_part}")

    @property
    def ok(self) -> bool:
        """True for a normal end (1000 normal, 1001 going away, 1005 no status given)."""
        return self.code in (CloseCode.NORMAL, CloseCode.GOING_AWAY, CloseCode.NO_STATUS)


def _describe(close: Close) -> str:
    return f"{close.code} ({close.reason})" if close.reason else str(close.code)


class Connection:
    """One side of a WebSocket after the opening handshake.

    ``max_message_size`` limits a message across all its fragments (1009 when exceeded); a
    single frame that claims more is refused as soon as its header arrives.
    """

    def __init__(self, role: Role, *, max_message_size: int | None = 2**20) -> None:
        self.role = role
        self._expects_masked = role is Role.SERVER  # section 5.1: clients mask, servers do not
        self.max_message_size = max_message_size
        self.state = OPEN
        self.close_code: int | None = None  # what the peer's close frame said (or 1006)
        self.close_reason = ""
        self.close_received: Close | None = None  # the peer's close frame, once it came
        self.close_sent: Close | None = None  # ours, once we sent it
        self._buffer = bytearray()
        self.error: ProtocolError | None = None  # the rule the peer broke, if any
        self._events: deque[Event] = deque()
        self._outgoing = bytearray()
        # The message being reassembled from several frames (section 5.4), or from the parts of
        # one large frame as they arrive, if any. Text is decoded as it comes (fail fast,
        # section 8.1), binary data joined into one buffer: a message is held once, not twice.
        self._message_opcode: Opcode | None = None
        self._text_parts: list[str] = []
        self._binary_parts = bytearray()
        self._message_size = 0
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        # The data frame whose payload is still arriving, if any.
        self._partial: _PartialFrame | None = None

    # ---- receiving -------------------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Feed bytes from the network; ``b""`` means the peer closed TCP.

        Frames are decoded up to the first that breaks a rule; that error is raised by
        ``events()`` after the events of the frames before it (see there). A data frame whose
        payload is still arriving is taken in as it comes, so no frame is buffered whole.
        """
        if not data:
            self._connection_lost()
            return
        if self.state is CLOSED or self.error is not None:
            return  # section 1.4: after the closing handshake, nothing more is read
        if self._partial is not None:
            try:
                data = self._receive_partial(data)
            except ProtocolError as error:
                self.error = error
                return
            if not data:
                return
        self._buffer += data
        self._receive_frames()

    def _receive_frames(self) -> None:
        """Decode the whole frames in the buffer, then start on a data frame cut short."""
        view = memoryview(self._buffer)
        used = 0
        max_size = self.max_message_size
        try:
            while self.state is not CLOSED:
                decoded = decode_frame(view[used:], max_size=max_size)
                if decoded is None:
                    header = decode_header(view[used:], max_size=max_size)
                    if header is not None and not header[0].opcode.is_control:
                        frame, header_size, length = header
                        self._begin_partial(frame, length)
                        rest = bytes(view[used + header_size:])
                        used = len(view)
                        self._receive_partial(rest)
                    break
                frame, size = decoded
                used += size
                self._handle_frame(frame)
        except ProtocolError as error:
            self.error = error.with_traceback(None)  # frees the buffer views it holds
        finally:
            view.release()
            del self._buffer[:len(self._buffer) if self.error else used]

    def events(self) -> Iterator[Event]:
        """The events decoded so far, oldest first; each is returned once.

        If the peer broke a rule, this raises ``ProtocolError`` after yielding the events that
        came before the bad frame, so the application may still answer those messages. The close
        frame that fails the connection (section 7.1.7) is then waiting in ``data_to_send()``.
        """
        while self._events:
            yield self._events.popleft()
        if self.error is not None and self.state is not CLOSED:
            self._fail(self.error)
            raise self.error

    def data_to_send(self) -> bytes:
        """Bytes this side owes the peer: automatic pongs and close replies."""
        data = bytes(self._outgoing)
        self._outgoing.clear()
        return data

    def _handle_frame(self, frame: Frame) -> None:
        self._check_masking(frame)
        opcode = frame.opcode
        if opcode is PING:
            if self.state is OPEN:
                self._outgoing += self.pong(frame.payload)
            self._events.append(Ping(frame.payload))
        elif opcode is PONG:
            self._events.append(Pong(frame.payload))
        elif opcode is CLOSE:
            self._receive_close(frame.payload)
        elif frame.fin and opcode is not CONTINUATION and self._message_opcode is None:
            # The common case: a whole message in one frame.
            if opcode is TEXT:
                self._events.append(Text(self._decode_utf8(None, frame.payload, final=True)))
            else:
                self._events.append(Binary(frame.payload))
        else:
            self._begin_data_frame(frame.opcode, len(frame.payload))
            self._add_to_message(frame.payload, end_of_message=frame.fin)

    def _check_masking(self, frame: Frame) -> None:
        if (frame.mask_key is not None) is not self._expects_masked:
            rule = "masked" if self._expects_masked else "unmasked"
            sender = "a client" if self._expects_masked else "a server"
            raise ProtocolError(1002, f"frames from {sender} must be {rule} (section 5.1)")

    def _begin_data_frame(self, opcode: Opcode, length: int) -> None:
        """Section 5.4: a message is a first frame, continuation frames, and FIN on the last.

        Checked when a frame's header arrives: the order of the frames, and the size of the
        message so far plus this frame's (1009 before the payload is read).
        """
        if opcode is CONTINUATION:
            if self._message_opcode is None:
                raise ProtocolError(1002, "a continuation frame, but no message to continue "
                                          "(section 5.4)")
        elif self._message_opcode is not None:
            raise ProtocolError(1002, f"a new {opcode.name} message began before the "
                                      "fragmented one ended (section 5.4)")
        else:
            self._message_opcode = opcode
        self._message_size += length
        if self.max_message_size is not None and self._message_size > self.max_message_size:
            raise ProtocolError(1009, f"a message over the limit of {self.max_message_size} "
                                      "bytes")

    def _add_to_message(self, data: bytes, *, end_of_message: bool) -> None:
        """Take in part of the message's payload; when it is the last, the message is ready."""
        if self._message_opcode is TEXT:
            self._text_parts.append(self._decode_utf8(self._utf8, data, final=end_of_message))
        else:
            self._binary_parts += data
        if end_of_message:
            if self._message_opcode is TEXT:
                self._events.append(Text("".join(self._text_parts)))
                self._text_parts = []
            else:
                self._events.append(Binary(bytes(self._binary_parts)))
                self._binary_parts = bytearray()
            self._message_opcode, self._message_size = None, 0

    def _begin_partial(self, frame: Frame, length: int) -> None:
        """A data frame's header has arrived but not all its payload: take it in as it comes."""
        self._check_masking(frame)
        self._begin_data_frame(frame.opcode, length)
        self._partial = _PartialFrame(frame.fin, length, frame.mask_key)

    def _receive_partial(self, data: bytes) -> bytes:
        """Unmask and take in the payload bytes of the frame still arriving; return the rest."""
        partial = self._partial
        assert partial is not None
        part, rest = data[:partial.remaining], data[partial.remaining:]
        if partial.mask_key is not None:
            shift = partial.received % 4  # where in the key this part's first byte falls
            part = apply_mask(part, partial.mask_key[shift:] + partial.mask_key[:shift])
        partial.received += len(part)
        partial.remaining -= len(part)
        if partial.remaining == 0:
            self._partial = None
        self._add_to_message(part, end_of_message=partial.remaining == 0 and partial.fin)
        return rest

    @staticmethod
    def _decode_utf8(decoder: codecs.IncrementalDecoder | None, data: bytes | memoryview, *,
                     final: bool) -> str:
        """Decode UTF-8 (section 8.1), with ``decoder`` across fragments, or in one go."""
        try:
            return decoder.decode(data, final) if decoder else str(data, "utf-8")
        except UnicodeDecodeError as exc:
            reason = exc.reason
        # Raised outside the except block, so that the error does not keep the decoding
        # error (and through it the receive buffer) alive.
        raise ProtocolError(1007, f"a text message that is not UTF-8 ({reason}, section 8.1)")

    def _receive_close(self, payload: bytes) -> None:
        """Section 5.5.1: answer a close with a close, then we are closed.

        The reply echoes the peer's code and reason, as websockets and browsers do (5.5.1
        only asks for the code), so a peer that closed with 4000 "done here" reads it back.
        """
        code, reason = parse_close_payload(payload)
        self.close_received = Close(code, reason)
        if self.state is OPEN:
            self._outgoing += self._encode(CLOSE, payload)
            self.close_sent = self.close_received
        self.state = CLOSED
        self.close_code, self.close_reason = code, reason
        self._events.append(Close(code, reason))

    def _connection_lost(self) -> None:
        if self.state is not CLOSED and self.error is None:
            self.state = CLOSED
            self.close_code = CloseCode.ABNORMAL
            self.close_reason = "TCP connection closed without a close frame"
            self._events.append(Close(self.close_code, self.close_reason))

    def _fail(self, error: ProtocolError) -> None:
        """Section 7.1.7, fail the connection: send a close with the error's code, then stop."""
        self._outgoing += self.fail(error.code)
        self.close_reason = error.reason

    def fail(self, code: int, reason: str = "") -> bytes:
        """Fail the connection for a reason of our own (section 7.1.7), such as a keepalive
        that went unanswered: the close frame to send (b"" if one was sent already). The
        connection is closed at once; the caller then drops TCP."""
        data = b""
        if self.state is OPEN:
            data = self._encode(CLOSE, close_payload(code, reason))
            self.close_sent = Close(code, reason)
        self.state = CLOSED
        self.close_code, self.close_reason = code, reason
        return data

    def closed_error(self) -> ConnectionClosed:
        """The ``ConnectionClosed`` that sending or receiving on this connection raises now."""
        code, reason = self.close_code, self.close_reason
        if code is None:  # still closing: we sent a close frame, the peer has not answered
            code, reason = (self.close_sent.code, self.close_sent.reason) if self.close_sent \
                else (CloseCode.ABNORMAL, "")
        return ConnectionClosed(code, reason, rcvd=self.close_received, sent=self.close_sent)

    # ---- sending ---------------------------------------------------------------------------

    def send_text(self, text: str, *, fragment_size: int | None = None) -> bytes:
        """The frame(s) of a text message; ``fragment_size`` splits it into several frames."""
        return self._send_message(TEXT, text.encode("utf-8"), fragment_size)

    def send_binary(self, data: bytes, *, fragment_size: int | None = None) -> bytes:
        """The frame(s) of a binary message; ``fragment_size`` splits it into several frames."""
        return self._send_message(BINARY, bytes(data), fragment_size)

    def ping(self, payload: bytes = b"") -> bytes:
        """A ping frame (section 5.5.2); the peer must answer with a pong of the same payload."""
        if self.state is not OPEN:
            raise self.closed_error()
        return self._encode(PING, payload)

    def pong(self, payload: bytes = b"") -> bytes:
        """A pong frame (section 5.5.3)."""
        return self._encode(PONG, payload)

    def close(self, code: int = CloseCode.NORMAL, reason: str = "") -> bytes:
        """Start the closing handshake (section 7.1.2); b"" if a close was already sent."""
        if self.state is not OPEN:
            return b""
        self.state = State.CLOSING
        self.close_sent = Close(code, reason)
        return self._encode(CLOSE, close_payload(code, reason))

    def _send_message(self, opcode: Opcode, payload: bytes, fragment_size: int | None) -> bytes:
        if self.state is not OPEN:
            raise self.closed_error()
        if not fragment_size or len(payload) <= fragment_size:
            return self._encode(opcode, payload)
        pieces = [payload[i:i + fragment_size] for i in range(0, len(payload), fragment_size)]
        frames = [
            self._encode(opcode if index == 0 else CONTINUATION, piece,
                         fin=index == len(pieces) - 1)
            for index, piece in enumerate(pieces)
        ]
        return b"".join(frames)

    def _encode(self, opcode: Opcode, payload: bytes, *, fin: bool = True) -> bytes:
        if opcode.is_control and len(payload) > 125:
            raise ValueError(f"a {opcode.name} payload carries at most 125 bytes (section 5.5)")
        key = random_mask_key() if self.role is Role.CLIENT else None
        return encode_frame(Frame(opcode, payload, fin), key)
