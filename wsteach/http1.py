"""Just enough HTTP/1.1 (RFC 9112, RFC 9110) for the WebSocket handshake and polling servers.

An HTTP/1.1 message starts with a *head*: a start line, header field lines, and an empty line,
each ending in CRLF (RFC 9112 section 2.1). This module finds where a head ends in a stream of
bytes (``head_end``), parses a head into a ``Request`` or ``Response``, and builds the bytes of
a request or response. It never touches a socket: the caller reads and writes.

Parsing is strict on purpose. Whatever does not follow the grammar raises ``HTTPError`` with
the status a server would answer (400, 431 or 505) and a sentence saying what is wrong.
Bodies are the caller's business: the head tells how long the body is (``Content-Length``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

MAX_HEAD_BYTES = 16384
MAX_HEADER_COUNT = 100

CRLF = "\r\n"
END_OF_HEAD = b"\r\n\r\n"

# token = 1*tchar (RFC 9110 section 5.6.2): method names and header field names.
TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# HTTP-version = "HTTP/" DIGIT "." DIGIT (RFC 9112 section 2.3).
VERSION = re.compile(r"HTTP/([0-9])\.([0-9])")
# status-code = 3DIGIT, from 100 to 599 (RFC 9110 section 15).
STATUS = re.compile(r"[1-5][0-9][0-9]")
# The request target: visible ASCII, no spaces (RFC 9112 section 3.2).
TARGET = re.compile(r"[!-~]+")
# A field value or reason phrase: HTAB, SP, visible ASCII and obs-text (RFC 9110 section 5.5).
TEXT = re.compile(r"[\t -~\x80-\xff]*")


class HTTPError(Exception):
    """A malformed or unacceptable HTTP message: ``status`` is what a server answers (400, 431,
    505) and ``reason`` says in one sentence what is wrong."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class Headers:
    """Header fields in the order they came: names compare case-insensitively (RFC 9110
    section 5.1) and a name may occur more than once."""

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        self._pairs: list[tuple[str, str]] = []
        for name, value in pairs:
            self.add(name, value)

    def add(self, name: str, value: str) -> None:
        """Append a field; an earlier field of the same name stays."""
        self._pairs.append((name, value))

    def get_all(self, name: str) -> list[str]:
        """The values of every field called ``name``, in order."""
        key = name.lower()
        return [value for field, value in self._pairs if field.lower() == key]

    def get(self, name: str, default: str | None = None) -> str | None:
        """The field's value, ``default`` when absent; a repeated field's values are joined
        with ", " as RFC 9110 section 5.3 allows (``Set-Cookie`` is the known exception)."""
        values = self.get_all(name)
        return ", ".join(values) if values else default

    def tokens(self, name: str) -> list[str]:
        """The elements of a comma-separated list field, stripped and lowercased, empty ones
        dropped (RFC 9110 section 5.6.1): ``Connection: keep-alive, Upgrade`` gives
        ``["keep-alive", "upgrade"]``."""
        elements = (item.strip() for value in self.get_all(name) for item in value.split(","))
        return [item.lower() for item in elements if item]

    def items(self) -> list[tuple[str, str]]:
        """All (name, value) pairs in order."""
        return list(self._pairs)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and bool(self.get_all(name))

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.items())

    def __len__(self) -> int:
        return len(self._pairs)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Headers) and self._pairs == other._pairs

    def __repr__(self) -> str:
        return f"Headers({self._pairs!r})"


@dataclass
class Request:
    """A parsed request head (RFC 9112 section 3)."""

    method: str
    target: str
    version: str
    headers: Headers


@dataclass
class Response:
    """A parsed response head (RFC 9112 section 4)."""

    version: str
    status: int
    reason: str
    headers: Headers


def head_end(buffer: bytes | bytearray) -> int | None:
    """The index just past the empty line that ends the head, or None while it is incomplete.

    Raises ``HTTPError(431)`` when the first ``MAX_HEAD_BYTES`` bytes hold no end of head: a
    server must not buffer without limit (RFC 9110 section 5.4, RFC 6585 section 5).
    """
    index = buffer.find(END_OF_HEAD, 0, MAX_HEAD_BYTES)
    if index >= 0:
        return index + len(END_OF_HEAD)
    if len(buffer) >= MAX_HEAD_BYTES:
        raise HTTPError(431, f"the message head is longer than {MAX_HEAD_BYTES} bytes")
    return None


def parse_request(head: bytes) -> Request:
    """Parse a request head: ``METHOD SP target SP HTTP/x.y CRLF``, header lines, CRLF
    (RFC 9112 section 3)."""
    start, headers = _split_head(head)
    parts = start.split(" ")
    if len(parts) != 3:
        reason = f"the request line {start!r} must be METHOD SP target SP HTTP-version"
        raise HTTPError(400, reason)
    method, target, version = parts
    if not TOKEN.fullmatch(method):
        raise HTTPError(400, f"the method {method!r} is not a token")
    if not TARGET.fullmatch(target):
        raise HTTPError(400, f"the request target {target!r} must be visible ASCII characters")
    return Request(method, target, _check_version(version), headers)


def parse_response(head: bytes) -> Response:
    """Parse a response head: ``HTTP/x.y SP 3DIGIT SP reason CRLF``, header lines, CRLF
    (RFC 9112 section 4). A missing space and reason after the code is tolerated."""
    start, headers = _split_head(head)
    version, _, rest = start.partition(" ")
    code, _, reason = rest.partition(" ")
    if not STATUS.fullmatch(code):
        raise HTTPError(400, f"the status line {start!r} needs a status code from 100 to 599")
    if not TEXT.fullmatch(reason):
        raise HTTPError(400, f"the reason phrase {reason!r} contains control characters")
    return Response(_check_version(version), int(code), reason, headers)


def build_request(
    method: str, target: str, headers: Iterable[tuple[str, str]] | Headers, body: bytes = b""
) -> bytes:
    """The bytes of an HTTP/1.1 request (RFC 9112 section 3); adds ``Content-Length`` for a
    non-empty body unless the headers already frame it."""
    return _build(f"{method} {target} HTTP/1.1", headers, body)


def build_response(
    status: int, reason: str, headers: Iterable[tuple[str, str]] | Headers, body: bytes = b""
) -> bytes:
    """The bytes of an HTTP/1.1 response (RFC 9112 section 4); adds ``Content-Length`` for a
    non-empty body unless the headers already frame it.

    An empty body gets no ``Content-Length``: on a kept-alive connection, pass
    ``("Content-Length", "0")`` yourself, or the client reads until the connection closes.
    """
    return _build(f"HTTP/1.1 {status} {reason}", headers, body)


def _build(start: str, headers: Iterable[tuple[str, str]] | Headers, body: bytes) -> bytes:
    """Start line, header lines and the empty line, each ending in CRLF, then the body."""
    fields = Headers(headers)
    if body and "Content-Length" not in fields and "Transfer-Encoding" not in fields:
        fields.add("Content-Length", str(len(body)))
    lines = [start, *(_field_line(name, value) for name, value in fields), "", ""]
    return CRLF.join(lines).encode("latin-1") + body


def _field_line(name: str, value: str) -> str:
    """``name: value``, refusing what would break the message (a CR or LF in a value would let
    a caller smuggle in extra header lines)."""
    if not TOKEN.fullmatch(name):
        raise ValueError(f"the header name {name!r} is not a token")
    if not TEXT.fullmatch(value):
        raise ValueError(f"the value of {name} must be latin-1 text without controls: {value!r}")
    return f"{name}: {value}"


def _split_head(head: bytes) -> tuple[str, Headers]:
    """Check the head's size and ending, and split it into the start line and the headers."""
    if len(head) > MAX_HEAD_BYTES:
        raise HTTPError(431, f"the message head is longer than {MAX_HEAD_BYTES} bytes")
    if not head.endswith(END_OF_HEAD):
        raise HTTPError(400, "the message head must end with an empty line (CRLF CRLF)")
    # Field values may hold obs-text (bytes 0x80-0xFF), which RFC 9110 section 5.5 says to
    # read as opaque octets: latin-1 maps each byte to one character and never fails.
    start, *lines = head[: -len(END_OF_HEAD)].decode("latin-1").split(CRLF)
    if len(lines) > MAX_HEADER_COUNT:
        raise HTTPError(431, f"the message has more than {MAX_HEADER_COUNT} header fields")
    return start, Headers(_parse_field(line) for line in lines)


def _parse_field(line: str) -> tuple[str, str]:
    """Split a field line ``name: value`` (RFC 9112 section 5)."""
    if line[:1] in (" ", "\t"):
        reason = "a header line starts with whitespace: obsolete line folding is not allowed"
        raise HTTPError(400, reason + " (RFC 9112 section 5.2)")
    name, colon, value = line.partition(":")
    if not colon:
        raise HTTPError(400, f"the header line {line!r} has no colon")
    if name != name.rstrip(" \t"):
        reason = f"no whitespace is allowed between the header name {name.strip()!r} and its colon"
        raise HTTPError(400, reason + " (RFC 9112 section 5.1)")
    if not TOKEN.fullmatch(name):
        raise HTTPError(400, f"the header name {name!r} is not a token")
    value = value.strip(" \t")
    if not TEXT.fullmatch(value):
        raise HTTPError(400, f"the value of the {name} header contains control characters")
    return name, value


def _check_version(version: str) -> str:
    """Accept ``HTTP/1.x``; another major version is 505 (RFC 9110 section 15.6.6)."""
    match = VERSION.fullmatch(version)
    if not match:
        raise HTTPError(400, f"{version!r} is not an HTTP version like HTTP/1.1")
    if match[1] != "1":
        raise HTTPError(505, f"{version} is not supported; this parser speaks HTTP/1.x only")
    return version
