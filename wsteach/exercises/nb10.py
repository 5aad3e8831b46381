"""Checks for the exercises of notebook 10_live_chat."""

from __future__ import annotations

import html
from collections.abc import Callable
from html.parser import HTMLParser

from wsteach.exercises.checking import NO_FUNCTION, NotYet, passed, require_answer


def _call(function: Callable[..., object], *args: object) -> object:
    """Call a student's function; a stub that raises NotImplementedError or returns None or
    ... counts as no answer yet."""
    try:
        result = function(*args)
    except NotImplementedError:
        result = None
    except Exception as error:
        raise NotYet(f"For {args!r} your code raised {type(error).__name__}: {error}") from None
    require_answer(result)
    return result


# ---- 10.1: a log line, escaped ---------------------------------------------------------------

class _Shown(HTMLParser):
    """What a browser would show for a snippet: its tags, and the text a reader sees."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.bold: list[str] = []
        self.text = ""
        self._in_bold = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append(tag)
        self._in_bold += tag == "b"

    def handle_endtag(self, tag: str) -> None:
        self._in_bold -= tag == "b" and self._in_bold > 0

    def handle_data(self, data: str) -> None:
        self.text += data
        if self._in_bold:
            self.bold.append(data)


def _shown(snippet: str) -> _Shown:
    parser = _Shown()
    parser.feed(snippet)
    parser.close()
    return parser


LINE_CASES = [("Ada", "hello"), ("Bo", '<img src=x onerror="alert(1)">'),
              ("<i>Eve</i>", "hi"), ("Cy", "a &lt; b, and Tom & Jerry"),
              ("Dee", "</b><script>alert(2)</script>")]


def check_render_line(render_line: object) -> None:
    """``render_line(name, text)`` returns the HTML ``<b>NAME</b>: TEXT`` that shows NAME and
    TEXT exactly as typed."""
    require_answer(render_line)
    if not callable(render_line):
        raise NotYet("Pass the function itself: render_line, not render_line(...).")
    for name, text in LINE_CASES:
        result = _call(render_line, name, text)
        if not isinstance(result, str):
            raise NotYet(f"render_line returned {type(result).__name__}; return the HTML as a "
                         "str.")
        shown = _shown(result)
        extra = [tag for tag in shown.tags if tag != "b"]
        if extra:
            piece = "name" if f"<{extra[0]}" in name.lower() else "text"
            raise NotYet(f"For the {piece} {name if piece == 'name' else text!r}, the browser "
                         f"would build a <{extra[0]}> element: the {piece} became markup. "
                         f"Escape it with html.escape before putting it in the HTML"
                         + (" (the name is typed by a user too)." if piece == "name" else "."))
        if shown.text == f"<b>{name}</b>: {text}":
            raise NotYet("The <b> tags themselves were escaped, so they show as text: escape "
                         "the name and the text, then put them between the tags.")
        if shown.text != f"{name}: {text}":
            if html.unescape(shown.text) == f"{name}: {text}":
                raise NotYet(f"The reader would see {shown.text!r}: something was escaped "
                             "twice (&amp;lt;). Escape each piece once, at the end.")
            if "<" in name + text and "<" not in shown.text:
                raise NotYet(f"For ({name!r}, {text!r}) the reader would see {shown.text!r}: "
                             "the markup was removed. A chat shows what people typed, '<' "
                             "included: escape it with html.escape instead of deleting it.")
            if "&" in text and shown.text.replace("<", "&lt;") == f"{name}: {text}":
                raise NotYet(f"The reader would see {shown.text!r}: '&' was not escaped, so "
                             "a message that contains '&lt;' shows as '<'. html.escape "
                             "replaces & first, then < and >.")
            raise NotYet(f"For ({name!r}, {text!r}) the reader would see {shown.text!r}, not "
                         f"{name + ': ' + text!r}. The line is <b>NAME</b>: TEXT.")
        if "".join(shown.bold) != name:
            raise NotYet(f"Only the name goes in bold: <b>{html.escape(name)}</b>: ...")
    passed("Every name and text shows exactly as typed, markup included, and none of it runs. "
           "The chat's widget does the same (widget.render_entry), the page uses textContent.")


# ---- 10.2: the Origin allow-list ----------------------------------------------------------------

ORIGINS = {"http://192.168.1.20:8765", "http://localhost:8765"}


def check_allowed_origins(answer: object) -> None:
    """The Origin values the class's chat must accept: its pages at http://192.168.1.20:8765/
    (students) and http://localhost:8765/ (the teacher), and no others."""
    require_answer(answer)
    if isinstance(answer, str) or not isinstance(answer, set | frozenset | list | tuple):
        raise NotYet("Give a set of strings, one per Origin: {\"http://...\", ...}.")
    given = {str(origin) for origin in answer}
    for origin in sorted(given):
        if "*" in origin:
            raise NotYet(f"{origin!r}: a wildcard lets every site's pages in, which is what the "
                         "allow-list is there to stop.")
        if "://" not in origin:
            raise NotYet(f"{origin!r}: an origin starts with its scheme, scheme://host:port; "
                         "the scheme is part of it.")
        if origin.startswith(("ws://", "wss://")):
            raise NotYet(f"{origin!r}: the Origin names the page that runs the script, an "
                         "http:// origin, not the ws:// address it connects to.")
        if origin.startswith("https://"):
            raise NotYet(f"{origin!r}: these pages are served over http, and the scheme is part "
                         "of the origin: https://... is another origin.")
        if origin.count("/") > 2:
            raise NotYet(f"{origin!r}: an origin is scheme://host:port, with no path, not even "
                         "the final /.")
        if origin.startswith("http://") and ":" not in origin[len("http://"):]:
            raise NotYet(f"{origin!r}: the port is part of the origin: a page on port 80 and "
                         "one on 8765 are different origins.")
    missing, extra = ORIGINS - given, given - ORIGINS
    if any("0.0.0.0" in origin for origin in extra):
        raise NotYet("0.0.0.0 is the address the server listens on (every interface), not one "
                     "a browser opens a page at: the Origin is the page's own address.")
    if extra:
        raise NotYet(f"{sorted(extra)[0]!r} is no page of this chat: accept only what the "
                     "chat's own pages send.")
    if missing:
        raise NotYet(f"One of the chat's pages is refused: {sorted(missing)[0]!r}. Each address "
                     "a page is opened at is an origin of its own.")
    passed("Exactly the two origins of the chat's pages. A page on any other site, or on the "
           "same host at another port, is refused with 403.")


# ---- 10.3: a token bucket ------------------------------------------------------------------------


def _allowed(bucket: object, times: list[float]) -> list[bool]:
    results = [_call(bucket.allow, now) for now in times]  # type: ignore[attr-defined]
    if not all(isinstance(result, bool) for result in results):
        raise NotYet("allow(now) should return True or False.")
    return results


def check_token_bucket(bucket_class: object) -> None:
    """``Bucket(rate, burst)`` with ``allow(now) -> bool``: a burst, then ``rate`` a second."""
    require_answer(bucket_class)
    if not callable(bucket_class):
        raise NotYet("Pass the class itself: Bucket, not Bucket(...).")

    def fresh() -> object:
        try:
            return bucket_class(2, 3)
        except NotImplementedError:  # the student edition's stub of __init__
            raise NotYet(NO_FUNCTION) from None
        except Exception as error:
            raise NotYet(f"Bucket(2, 3) raised {type(error).__name__}: {error}") from None

    burst = _allowed(fresh(), [0.0] * 5)
    if burst != [True] * 3 + [False] * 2:
        why = {0: " It starts full.",
               2: " With exactly one token left a message still passes: tokens >= 1, not > 1."}
        raise NotYet(f"At one instant, Bucket(rate=2, burst=3) allowed {burst.count(True)} of 5 "
                     "messages; a full bucket allows exactly burst = 3." +
                     why.get(burst.count(True), ""))
    refill = _allowed(fresh(), [0.0, 0.0, 0.0, 0.5, 0.5])
    if refill[3:] == [False, False]:
        if _allowed(fresh(), [0.0, 0.0, 0.0, 2.0])[3]:
            raise NotYet("After 0.5 s at 2 tokens a second, one token should be back; yours "
                         "comes back only later: add (now - last) * rate, not divided by rate.")
        raise NotYet("After 0.5 s at 2 tokens a second, one message should pass again: "
                     "tokens come back with time (use the now you are given, not the clock).")
    if refill[3:] == [True, True]:
        raise NotYet("After 0.5 s at 2 tokens a second, one token came back, not two or a "
                     "whole new burst: add (now - last) * rate.")
    refused = _allowed(fresh(), [0.0] * 10 + [0.5])
    if not refused[-1]:
        raise NotYet("After the burst, the client was refused 7 times; 0.5 s later it is "
                     "refused again. A refused message must not take a token, or a client "
                     "that was refused stays refused long after it slowed down.")
    idle = _allowed(fresh(), [0.0, 100.0, 100.0, 100.0, 100.0, 100.0])
    if idle[1:].count(True) > 3:
        raise NotYet(f"After 100 s of quiet the bucket allowed {idle[1:].count(True)} at once: "
                     "it holds at most burst = 3 tokens, however long the client was quiet.")
    steady = _allowed(fresh(), [0.0, 0.0, 0.0] + [0.5 * n for n in range(1, 9)])
    if steady[3:] != [True] * 8:
        raise NotYet("Sending exactly 2 a second after the burst should always pass.")
    halves = _allowed(fresh(), [0.0, 0.0, 0.0] + [0.25 * n for n in range(1, 9)])
    if halves[3:] != [False, True] * 4:
        raise NotYet(f"After the burst, a message every 0.25 s at 2 a second should pass every "
                     f"other time; {halves[3:].count(True)} of 8 passed. Tokens come back in "
                     "fractions: keep them as a float (rounding loses half a token each call).")
    passed("A burst of 3, then 2 a second, never more after a quiet spell, and refused "
           "messages cost nothing: the chat's RateLimit does the same.")


# ---- 10.4: close codes ------------------------------------------------------------------------

SITUATIONS = {
    "a client floods the chat": 1008,
    "a client reads too slowly for its send buffer": 1013,
    "the server restarts and will be back": 1012,
    "the server shuts down for good": 1001,
    "a client sends a 10 MB message": 1009,
}
WRONG = {
    1006: "1006 is never sent: it is what a side reports when TCP ended without a close frame.",
    1002: "1002 means the peer broke the protocol (a bad frame); here every frame was valid.",
    1011: "1011 is the server's own internal error (a bug, a keepalive timeout): nothing the "
          "client did.",
    1000: "1000 is a normal close: it tells the client nothing went wrong, and nothing to do.",
}

TOO_BIG = ("A message too big has a code of its own, 1009 (message too big), which tells the "
           "client what to fix; 1003 is for a kind of data the endpoint cannot take (binary to "
           "a text chat), 1008 for other rules.")
MIXUPS = {  # (the right code, the one given): the hint
    (1009, 1003): TOO_BIG,
    (1009, 1008): TOO_BIG,
    (1012, 1013): "1013 (try again later) is about one client (overload, too slow to read); "
                  "the whole service restarting is 1012 (service restart).",
    (1013, 1001): "1001 says the server is going away; it stays, serving everyone else. This "
                  "one client should come back later: 1013.",
    (1013, 1008): "A slow reader broke no rule, so not 1008 (policy violation). It is a "
                  "temporary state of this client: 1013, try again later, and resume.",
    (1008, 1013): "A flood is not a temporary state to retry in a moment: it broke the chat's "
                  "rule, 1008 (policy violation).",
    (1012, 1001): "1001 says going away; 1012 (service restart) tells the client the server "
                  "will be back, so it reconnects.",
    (1001, 1012): "1012 promises a restart; the server shuts down for good: 1001.",
}


def check_close_codes(answer: object) -> None:
    """A dict from each situation of ``SITUATIONS`` to the close code the server sends."""
    require_answer(answer)
    if not isinstance(answer, dict):
        raise NotYet("Give a dict: {situation: code, ...}, with the situations as keys.")
    for situation, expected in SITUATIONS.items():
        if situation not in answer:
            raise NotYet(f"No code for {situation!r}.")
        code = answer[situation]
        if code is Ellipsis or code is None:
            raise NotYet(f"No answer yet for {situation!r}: replace the ... with a code.")
        if code == expected:
            continue
        if isinstance(code, str):
            raise NotYet(f"{situation}: give the code as a number (1000, not '1000').")
        if code in WRONG:
            raise NotYet(f"{situation}: {WRONG[code]}")
        if (expected, code) in MIXUPS:
            raise NotYet(MIXUPS[expected, code])
        raise NotYet(f"{situation}: not {code}. Look at the close codes of section 5 (and "
                     "notebook 07's table).")
    passed("1008 for a rule broken, 1013 for a client to come back later, 1012 for a restart, "
           "1001 for good, 1009 for a message too big; and never 1006 on the wire.")
