"""The chat's HTTP side: the page at ``/``, its script and style, and the join code.

The page is plain files in ``static/`` (no framework, no CDN), read on each request, so a
student who edits ``chat.js`` sees the change on reload. ``respond`` is the server's
``process_request``: it answers every HTTP request itself, except the Upgrade at ``/ws``, which
it hands on to the WebSocket handshake (it returns None).

The headers say what the page may do: ``Content-Security-Policy`` lets it run only its own
script and connect only to its own origin (a second wall behind ``textContent``: even markup
that slipped into the page could not run an inline script), ``nosniff`` stops a browser from
guessing a script out of a text file, ``no-referrer`` keeps the join code in the URL from
leaking to another site.
"""

from __future__ import annotations

import hmac
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from wsteach import http1

STATIC = Path(__file__).with_name("static")
FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/chat.js": ("chat.js", "text/javascript; charset=utf-8"),
    "/chat.css": ("chat.css", "text/css; charset=utf-8"),
}
WEBSOCKET_PATH = "/ws"
HEADERS = [
    ("Content-Security-Policy",
     "default-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-store"),
    ("Connection", "close"),
]
NEEDS_CODE = "This chat needs a join code: open the address your teacher gave, with ?code=...\n"


def has_code(target: str, join_code: str | None) -> bool:
    """Whether a request target carries the join code (always true when there is none)."""
    if join_code is None:
        return True
    given = parse_qs(urlsplit(target).query).get("code", [""])[0]
    return hmac.compare_digest(given.encode(), join_code.encode())  # no timing hint


def respond(request: http1.Request, join_code: str | None = None) -> bytes | None:
    """The HTTP answer to ``request``, or None to go on with the WebSocket handshake."""
    path = urlsplit(request.target).path
    needs_code = path in ("/", WEBSOCKET_PATH)  # the script and style are no secret
    if needs_code and not has_code(request.target, join_code):
        return _answer(403, "Forbidden", "text/plain; charset=utf-8", NEEDS_CODE.encode())
    if path == WEBSOCKET_PATH:
        return None
    if request.method != "GET":
        return _answer(405, "Method Not Allowed", "text/plain; charset=utf-8",
                       b"only GET is served here\n", [("Allow", "GET")])
    if path == "/favicon.ico":  # browsers ask for it; there is none
        return _answer(204, "No Content", "image/x-icon", b"")
    if path not in FILES:
        return _answer(404, "Not Found", "text/plain; charset=utf-8",
                       f"nothing at {path}; the chat is at /\n".encode())
    name, content_type = FILES[path]
    return _answer(200, "OK", content_type, (STATIC / name).read_bytes())


def _answer(status: int, reason: str, content_type: str, body: bytes,
            extra: list[tuple[str, str]] | None = None) -> bytes:
    headers = [("Content-Type", content_type), *HEADERS, *(extra or [])]
    return http1.build_response(status, reason, headers, body)
