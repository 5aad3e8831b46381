"""The WebSocket opening handshake (RFC 6455 section 4), as pure functions: no sockets.

The client sends an HTTP/1.1 GET asking to switch to the ``websocket`` protocol, with a random
``Sec-WebSocket-Key``. A server that agrees answers ``101 Switching Protocols`` with
``Sec-WebSocket-Accept = base64(sha1(key + GUID))``, which proves it read this very request;
from then on both sides speak frames on the same TCP connection.

Client: ``generate_key``, ``build_request``, then ``validate_response`` on the answer.
Server: ``validate_request``, then ``build_response`` or, on ``HandshakeError``,
``build_rejection``. Reading the heads from a stream is ``wsteach.http1``'s job.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from http import HTTPStatus

from wsteach import http1

# The fixed GUID every WebSocket server appends to the key (RFC 6455 section 1.3).
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
VERSION = "13"


class HandshakeError(Exception):
    """A handshake that cannot go on.

    ``status`` is the HTTP status a server answers (400, 403, 405, 426); on the client side it is
    the status the server sent, or 0 when the response itself is wrong. ``reason`` is one line a
    student understands; ``headers`` are extra response headers such as
    ``[("Sec-WebSocket-Version", "13"), ("Upgrade", "websocket")]`` for 426.
    """

    def __init__(
        self, status: int, reason: str, headers: Iterable[tuple[str, str]] = ()
    ) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.headers = list(headers)


@dataclass
class Accepted:
    """What a server learns from a valid handshake request."""

    key: str
    path: str
    subprotocol: str | None
    request: http1.Request


def accept_key(key: str) -> str:
    """``base64(sha1(key + GUID))``, the Sec-WebSocket-Accept value (RFC 6455 section 4.2.2).

    Computed with ``hashlib`` and ``base64``; ``wsteach.sha1`` is the same by hand.
    """
    digest = hashlib.sha1((key + GUID).encode("ascii")).digest()
    return base64.b64encode(digest).decode("ascii")


def generate_key() -> str:
    """A fresh Sec-WebSocket-Key: 16 random bytes, base64-encoded (RFC 6455 section 4.1)."""
    return base64.b64encode(secrets.token_bytes(16)).decode("ascii")


def build_request(
    host: str,
    path: str,
    key: str,
    *,
    origin: str | None = None,
    subprotocols: Sequence[str] = (),
    extra_headers: Iterable[tuple[str, str]] = (),
) -> bytes:
    """The client's opening handshake: an Upgrade GET (RFC 6455 section 4.1)."""
    headers = [
        ("Host", host),
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", key),
        ("Sec-WebSocket-Version", VERSION),
    ]
    if origin is not None:
        headers.append(("Origin", origin))
    if subprotocols:
        headers.append(("Sec-WebSocket-Protocol", ", ".join(subprotocols)))
    headers.extend(extra_headers)
    return http1.build_request("GET", path, headers)


def validate_request(
    request: http1.Request,
    *,
    origins: Collection[str] | None = None,
    subprotocols: Sequence[str] = (),
) -> Accepted:
    """Check a client's handshake as a server must (RFC 6455 section 4.2.1).

    Raises ``HandshakeError``: 405 for a method other than GET; 400 for HTTP/1.0 (the handshake
    needs HTTP/1.1), a missing Host, Upgrade or Connection token, or a bad key; 426 for a
    WebSocket version other than 13 (sections 4.2.2 and 4.4: the answer names the version we
    speak, and a 426 names the protocol to upgrade to, RFC 9110 section 15.5.22); 403 for an
    Origin not in ``origins``
    (section 10.2), when ``origins`` is given. The subprotocol is the first of the server's own
    ``subprotocols`` that the client offered, None when there is no overlap.
    """
    headers = request.headers
    if request.method != "GET":
        reason = f"the handshake must be a GET request, not {request.method}"
        raise HandshakeError(405, reason, [("Allow", "GET")])
    if request.version == "HTTP/1.0":
        raise HandshakeError(400, "the handshake needs HTTP/1.1 or later; this is HTTP/1.0")
    if len(headers.get_all("Host")) != 1:
        raise HandshakeError(400, "the request must have exactly one Host header")
    if "websocket" not in headers.tokens("Upgrade"):
        raise HandshakeError(400, "not a WebSocket request: the Upgrade header lacks websocket")
    if "upgrade" not in headers.tokens("Connection"):
        raise HandshakeError(400, "the Connection header must contain the token Upgrade")
    key = _check_key(headers.get_all("Sec-WebSocket-Key"))
    if headers.get("Sec-WebSocket-Version") != VERSION:
        reason = (
            f"Sec-WebSocket-Version must be {VERSION}; this server speaks only version "
            f"{VERSION} (the request says {headers.get('Sec-WebSocket-Version')})"
        )
        raise HandshakeError(426, reason, [("Sec-WebSocket-Version", VERSION),
                                           ("Upgrade", "websocket")])
    if origins is not None:
        _check_origin(headers.get("Origin"), origins)
    offered = _list(headers, "Sec-WebSocket-Protocol")
    chosen = next((name for name in subprotocols if name in offered), None)
    return Accepted(key, request.target, chosen, request)


def build_response(key: str, subprotocol: str | None = None) -> bytes:
    """The server's ``101 Switching Protocols`` answer (RFC 6455 section 4.2.2)."""
    headers = [
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Accept", accept_key(key)),
    ]
    if subprotocol is not None:
        headers.append(("Sec-WebSocket-Protocol", subprotocol))
    return http1.build_response(101, "Switching Protocols", headers)


def build_rejection(error: HandshakeError) -> bytes:
    """An HTTP error response that explains in its body why the handshake failed; the server
    closes the connection after it.

    When the error carries an ``Upgrade`` header (a 426 must, RFC 9110 section 15.5.22),
    ``Connection`` lists ``Upgrade`` too, as every sender of Upgrade must (section 7.8).
    """
    upgrade = any(name.lower() == "upgrade" for name, _ in error.headers)
    headers = [
        *error.headers,
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Connection", "Upgrade, close" if upgrade else "close"),
    ]
    body = (error.reason + "\n").encode("utf-8")
    return http1.build_response(error.status, HTTPStatus(error.status).phrase, headers, body)


def validate_response(
    response: http1.Response, key: str, *, subprotocols: Sequence[str] = ()
) -> str | None:
    """Check the server's answer as a client must (RFC 6455 section 4.1, the checks at its end)
    and return the subprotocol the server chose, or None.

    ``subprotocols`` are the ones this client offered. This client offers no extensions, so a
    server that enables one fails the handshake.
    """
    headers = response.headers
    if response.status != 101:
        answer = f"{response.status} {response.reason}".strip()
        reason = f"the server answered {answer} instead of 101 Switching Protocols"
        raise HandshakeError(response.status, reason)
    if "websocket" not in headers.tokens("Upgrade"):
        raise HandshakeError(0, "the 101 response lacks the header Upgrade: websocket")
    if "upgrade" not in headers.tokens("Connection"):
        raise HandshakeError(0, "the 101 response lacks the header Connection: Upgrade")
    expected = accept_key(key)
    received = headers.get("Sec-WebSocket-Accept")
    if received != expected:
        raise HandshakeError(
            0,
            f"Sec-WebSocket-Accept is {received!r} but should be {expected!r}, "
            "base64(sha1(key + GUID)); did the server hash another key, forget the GUID, "
            "or send the digest in hex?",
        )
    if "Sec-WebSocket-Extensions" in headers:
        extensions = headers.get("Sec-WebSocket-Extensions")
        raise HandshakeError(0, f"the server enabled extensions we did not offer: {extensions}")
    chosen = headers.get("Sec-WebSocket-Protocol")
    if chosen is not None and chosen not in subprotocols:
        raise HandshakeError(0, f"the server chose the subprotocol {chosen!r}; we did not offer it")
    return chosen


def _check_key(values: list[str]) -> str:
    """The one Sec-WebSocket-Key, which must be base64 for 16 bytes (RFC 6455 section 4.2.1)."""
    if len(values) != 1:
        reason = f"the request must have one Sec-WebSocket-Key header, not {len(values)}"
        raise HandshakeError(400, reason)
    key = values[0]
    try:
        decoded = base64.b64decode(key, validate=True)
    except ValueError as error:  # binascii.Error, or a non-ASCII character
        reason = f"Sec-WebSocket-Key {key!r} is not base64 ({error}); a key is 24 characters"
        raise HandshakeError(400, reason) from None
    if len(decoded) != 16:
        reason = f"Sec-WebSocket-Key must encode 16 random bytes; {key!r} encodes {len(decoded)}"
        raise HandshakeError(400, reason)
    return key


def _check_origin(origin: str | None, origins: Collection[str]) -> None:
    """Refuse an Origin this server does not serve: 403 (RFC 6455 section 4.2.2 and 10.2)."""
    if origin is None:
        raise HandshakeError(403, "this server accepts only listed origins; the request has none")
    if origin not in origins:
        raise HandshakeError(403, f"the origin {origin} is not allowed to connect")


def _list(headers: http1.Headers, name: str) -> list[str]:
    """The elements of a list header with their case kept: subprotocol names match
    case-sensitively (RFC 7936), unlike the tokens of Upgrade and Connection."""
    elements = (item.strip() for value in headers.get_all(name) for item in value.split(","))
    return [item for item in elements if item]
