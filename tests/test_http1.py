"""The minimal HTTP/1.1 parser and builder: round trips, limits, strictness, real peers."""

from __future__ import annotations

import asyncio
import http.server
import socket
import threading
import urllib.request

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wsteach import http1
from wsteach.http1 import Headers, HTTPError

FIREFOX_LIKE = (
    b"GET /chat?room=1 HTTP/1.1\r\n"
    b"Host: 127.0.0.1:8765\r\n"
    b"Connection: keep-alive, Upgrade\r\n"
    b"Accept-Encoding: gzip\r\n"
    b"accept-encoding:   br \t\r\n"
    b"\r\n"
)


def test_parse_request_reads_the_request_line_and_the_fields_in_order():
    request = http1.parse_request(FIREFOX_LIKE)
    assert (request.method, request.target, request.version) == (
        "GET", "/chat?room=1", "HTTP/1.1",
    )
    assert list(request.headers) == [
        ("Host", "127.0.0.1:8765"),
        ("Connection", "keep-alive, Upgrade"),
        ("Accept-Encoding", "gzip"),
        ("accept-encoding", "br"),
    ]
    assert len(request.headers) == 4


def test_header_lookups_ignore_case_and_join_repeated_fields():
    headers = http1.parse_request(FIREFOX_LIKE).headers
    assert headers.get("HOST") == "127.0.0.1:8765"
    assert headers.get("Accept-Encoding") == "gzip, br"
    assert headers.get_all("ACCEPT-encoding") == ["gzip", "br"]
    assert headers.get("Missing") is None
    assert headers.get("Missing", "x") == "x"
    assert headers.get_all("Missing") == []
    assert "connection" in headers
    assert "Upgrade" not in headers
    assert 42 not in headers


def test_tokens_split_lists_lowercase_and_drop_empty_elements():
    headers = Headers([("Connection", "keep-alive, Upgrade"), ("connection", " , CLOSE,,")])
    assert headers.tokens("Connection") == ["keep-alive", "upgrade", "close"]
    assert headers.tokens("Upgrade") == []


def test_headers_keep_order_and_copy_from_headers():
    headers = Headers([("B", "1")])
    headers.add("a", "2")
    headers.add("B", "3")
    assert headers.items() == [("B", "1"), ("a", "2"), ("B", "3")]
    assert Headers(headers) == headers
    assert Headers(headers) is not headers
    assert repr(Headers([("X", "y")])) == "Headers([('X', 'y')])"


def test_build_request_is_plain_crlf_text_and_round_trips():
    data = http1.build_request("POST", "/send", [("Host", "localhost")], b"hello")
    assert data == (
        b"POST /send HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello"
    )
    end = http1.head_end(data)
    request = http1.parse_request(data[:end])
    assert (request.method, request.target, request.version) == ("POST", "/send", "HTTP/1.1")
    assert request.headers.get("content-length") == "5"
    assert data[end:] == b"hello"


def test_build_response_round_trips():
    headers = Headers([("Content-Type", "text/plain"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b")])
    data = http1.build_response(200, "OK", headers, b"hi")
    assert data.startswith(b"HTTP/1.1 200 OK\r\n")
    end = http1.head_end(data)
    response = http1.parse_response(data[:end])
    assert (response.version, response.status, response.reason) == ("HTTP/1.1", 200, "OK")
    assert response.headers.get_all("set-cookie") == ["a=1", "b"]
    assert response.headers.get("Content-Length") == "2"
    assert data[end:] == b"hi"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([], None),  # empty body: no Content-Length added
        ([("content-length", "2")], "2"),  # given: kept, not doubled
        ([("Transfer-Encoding", "chunked")], None),  # chunked framing: never both
    ],
)
def test_content_length_is_added_only_when_needed(headers, expected):
    body = b"" if not headers else b"ab"
    data = http1.build_response(200, "OK", headers, body)
    parsed = http1.parse_response(data[: http1.head_end(data)])
    assert parsed.headers.get_all("Content-Length") == ([] if expected is None else [expected])


@pytest.mark.parametrize(
    ("name", "value"),
    [("X-Evil", "a\r\nSet-Cookie: stolen=1"), ("Bad Name", "v"), ("X", "null\x00"), ("X", "€")],
)
def test_building_refuses_fields_that_would_break_the_message(name, value):
    with pytest.raises(ValueError):
        http1.build_request("GET", "/", [(name, value)])


@pytest.mark.parametrize(
    "buffer", [b"", b"GET / HTTP/1.1\r\n", b"GET / HTTP/1.1\r\nHost: x\r\n\r", bytearray(b"G")]
)
def test_head_end_is_none_while_the_head_is_incomplete(buffer):
    assert http1.head_end(buffer) is None


def test_head_end_points_just_past_the_empty_line():
    data = bytearray(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nBODY")
    assert data[http1.head_end(data) :] == b"BODY"


def test_head_end_allows_a_head_of_exactly_the_limit():
    head = b"GET / HTTP/1.1\r\nX: " + b"a" * (http1.MAX_HEAD_BYTES - 23) + b"\r\n\r\n"
    assert len(head) == http1.MAX_HEAD_BYTES
    assert http1.head_end(head + b"more") == http1.MAX_HEAD_BYTES
    assert http1.parse_request(head).headers.get("X") == "a" * (http1.MAX_HEAD_BYTES - 23)


@pytest.mark.parametrize("extra", [0, 1, 1000])
def test_head_end_gives_431_when_no_end_within_the_limit(extra):
    data = b"GET / HTTP/1.1\r\nX: " + b"a" * (http1.MAX_HEAD_BYTES + extra)
    with pytest.raises(HTTPError) as info:
        http1.head_end(data + b"\r\n\r\n")
    assert info.value.status == 431


def test_parse_gives_431_for_an_oversized_head():
    head = b"GET / HTTP/1.1\r\nX: " + b"a" * http1.MAX_HEAD_BYTES + b"\r\n\r\n"
    with pytest.raises(HTTPError) as info:
        http1.parse_request(head)
    assert info.value.status == 431


def test_header_count_limit_is_431():
    def head(count: int) -> bytes:
        return b"GET / HTTP/1.1\r\n" + b"X: 1\r\n" * count + b"\r\n"

    assert len(http1.parse_request(head(http1.MAX_HEADER_COUNT)).headers) == 100
    with pytest.raises(HTTPError) as info:
        http1.parse_request(head(http1.MAX_HEADER_COUNT + 1))
    assert info.value.status == 431
    assert str(info.value) == info.value.reason
    assert "more than 100" in info.value.reason


@pytest.mark.parametrize(
    ("head", "fragment"),
    [
        (b"GET / HTTP/1.1\r\n", "must end with an empty line"),
        (b"\r\n\r\n", "request line"),
        (b"GET  / HTTP/1.1\r\n\r\n", "request line"),
        (b"GET /\r\n\r\n", "request line"),
        (b"GET / HTTP/1.1 extra\r\n\r\n", "request line"),
        (b"G(T / HTTP/1.1\r\n\r\n", "method"),
        (b"GET /\x01 HTTP/1.1\r\n\r\n", "target"),
        (b"GET /\xe9 HTTP/1.1\r\n\r\n", "target"),
        (b"GET / HTTP/1.1\n\r\n\r\n", "HTTP version"),
        (b"GET / HTTP/11\r\n\r\n", "HTTP version"),
        (b"GET / http/1.1\r\n\r\n", "HTTP version"),
        (b"GET / HTTP/1.1\r\nHost : x\r\n\r\n", "no whitespace is allowed"),
        (b"GET / HTTP/1.1\r\nHost\t: x\r\n\r\n", "no whitespace is allowed"),
        (b"GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", "obsolete line folding"),
        (b"GET / HTTP/1.1\r\n\tX: a\r\n\r\n", "obsolete line folding"),
        (b"GET / HTTP/1.1\r\nNoColon\r\n\r\n", "no colon"),
        (b"GET / HTTP/1.1\r\n: empty name\r\n\r\n", "not a token"),
        (b"GET / HTTP/1.1\r\nX(y): 1\r\n\r\n", "not a token"),
        (b"GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n", "control characters"),
        (b"GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", "control characters"),
        (b"GET / HTTP/1.1\r\nX: a\nY: b\r\n\r\n", "control characters"),
        (b"GET / HTTP/1.1\r\nX: 1\r\n\r\nY: 2\r\n\r\n", "no colon"),
    ],
)
def test_malformed_requests_are_400_with_a_reason(head, fragment):
    with pytest.raises(HTTPError) as info:
        http1.parse_request(head)
    assert info.value.status == 400
    assert fragment in info.value.reason


def test_another_major_version_is_505():
    with pytest.raises(HTTPError) as info:
        http1.parse_request(b"PRI * HTTP/2.0\r\n\r\n")
    assert info.value.status == 505


def test_obs_text_in_values_is_kept_as_latin_1():
    request = http1.parse_request(b"GET / HTTP/1.0\r\nX-Name: Andr\xe9\r\n\r\n")
    assert request.version == "HTTP/1.0"
    assert request.headers.get("x-name") == "André"


@pytest.mark.parametrize(
    ("head", "status", "reason"),
    [
        (b"HTTP/1.1 101 Switching Protocols\r\n\r\n", 101, "Switching Protocols"),
        (b"HTTP/1.0 404 Not Found\r\n\r\n", 404, "Not Found"),
        (b"HTTP/1.1 200 \r\n\r\n", 200, ""),
        (b"HTTP/1.1 200\r\n\r\n", 200, ""),
    ],
)
def test_parse_response_status_lines(head, status, reason):
    response = http1.parse_response(head)
    assert (response.status, response.reason) == (status, reason)


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 2000 OK\r\n\r\n",
        b"HTTP/1.1 099 Low\r\n\r\n",
        b"HTTP/1.1 600 High\r\n\r\n",
        b"HTTP/1.1 OK 200\r\n\r\n",
        b"HTTP/1.1\r\n\r\n",
        b"ICY 200 OK\r\n\r\n",
        b"HTTP/1.1 200 O\x00K\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX : y\r\n\r\n",
    ],
)
def test_malformed_responses_are_400(head):
    with pytest.raises(HTTPError) as info:
        http1.parse_response(head)
    assert info.value.status == 400


@given(st.binary(max_size=300))
def test_arbitrary_bytes_only_raise_http_error(data):
    for head in (data, data + b"\r\n\r\n"):
        for parse in (http1.parse_request, http1.parse_response):
            try:
                parse(head)
            except HTTPError as error:
                assert error.status in (400, 431, 505)
        try:
            http1.head_end(data)
        except HTTPError as error:
            assert error.status == 431


@given(st.integers(0, len(FIREFOX_LIKE)), st.binary(min_size=1, max_size=8))
def test_a_corrupted_real_head_only_raises_http_error(position, junk):
    head = FIREFOX_LIKE[:position] + junk + FIREFOX_LIKE[position:]
    try:
        http1.parse_request(head)
    except HTTPError as error:
        assert error.status in (400, 505)


names = st.from_regex(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+", fullmatch=True)
values = st.from_regex(r"([!-~\x80-\xff]([\t -~\x80-\xff]*[!-~\x80-\xff])?)?", fullmatch=True)


@given(st.lists(st.tuples(names, values), max_size=20), st.binary(max_size=50))
def test_built_requests_parse_back_to_the_same_fields(fields, body):
    data = http1.build_request("PUT", "/x?y=1", fields, body)
    end = http1.head_end(data)
    request = http1.parse_request(data[:end])
    expected = Headers(fields)
    if body and "Content-Length" not in expected and "Transfer-Encoding" not in expected:
        expected.add("Content-Length", str(len(body)))
    assert request.headers == expected
    assert data[end:] == body


# ---- real peers: urllib as a client, http.server as a server ----


async def read_head(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """Read until the head is complete; return the head and whatever came after it."""
    buffer = bytearray()
    while (end := http1.head_end(buffer)) is None:
        chunk = await reader.read(4096)
        if not chunk:
            raise EOFError("the peer closed before the head was complete")
        buffer += chunk
    return bytes(buffer[:end]), bytes(buffer[end:])


def test_urllib_requests_parse_and_our_responses_read_back():
    seen: list[tuple[http1.Request, bytes]] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head, rest = await read_head(reader)
        request = http1.parse_request(head)
        length = int(request.headers.get("Content-Length", "0"))
        body = rest + await reader.readexactly(length - len(rest))
        seen.append((request, body))
        answer = f"{request.method} {request.target} got {body!r}".encode()
        writer.write(http1.build_response(200, "OK", [("Content-Type", "text/plain")], answer))
        await writer.drain()
        writer.close()

    async def main() -> list[str]:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        url = f"http://127.0.0.1:{port}/poll?since=3"

        def fetch(data: bytes | None) -> str:
            request = urllib.request.Request(url, data=data, headers={"X-Student": "Ada"})
            with urllib.request.urlopen(request, timeout=5) as response:
                assert response.status == 200
                assert response.headers["Content-Type"] == "text/plain"
                return response.read().decode()

        async with server:
            return [await asyncio.to_thread(fetch, None), await asyncio.to_thread(fetch, b"m=1")]

    answers = asyncio.run(main())
    assert answers == ["GET /poll?since=3 got b''", "POST /poll?since=3 got b'm=1'"]
    (get, _), (post, body) = seen
    assert get.version == "HTTP/1.1"
    assert get.headers.get("host").startswith("127.0.0.1:")
    assert get.headers.get("x-student") == "Ada"
    assert get.headers.tokens("Connection") == ["close"]
    assert post.headers.get("Content-Type") == "application/x-www-form-urlencoded"
    assert body == b"m=1"


class Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = f"hello {self.path}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output quiet."""


def test_http_server_answers_our_request_and_we_parse_its_response():
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hello) as server:
        serve = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        serve.start()
        try:
            port = server.server_address[1]
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                sock.sendall(http1.build_request("GET", "/x", [("Host", f"127.0.0.1:{port}")]))
                data = b""
                while chunk := sock.recv(4096):
                    data += chunk
        finally:
            server.shutdown()
    end = http1.head_end(data)
    response = http1.parse_response(data[:end])
    assert (response.version, response.status, response.reason) == ("HTTP/1.0", 200, "OK")
    assert response.headers.get("Server").startswith("BaseHTTP/")
    assert data[end:] == b"hello /x"
