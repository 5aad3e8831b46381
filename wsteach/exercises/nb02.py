"""Checks for the exercises of notebook 02_polling_long_polling_streaming."""

from __future__ import annotations

import asyncio
import json
import re
import time

from wsteach import http1
from wsteach.exercises.checking import (
    NO_ANSWER,
    NO_FUNCTION,
    NotYet,
    await_answer,
    call_answer,
    passed,
    require_answer,
)
from wsteach.lessons import polling

# ---- 2.1: the heart of a long-poll server ------------------------------------------------------

QUIET_HOLD = 0.1  # seconds: the hold of the asks that get no news (answered 204)
NEWS_DELAY = 0.05  # seconds: when news arrives during a hold
NEWS_HOLD = 1.0  # seconds: the hold of the asks that get news, far longer than NEWS_DELAY


def _read_answer(data: object) -> tuple[http1.Response, bytes]:
    """The response a client reads from ``data``, or a hint on why it cannot."""
    if not isinstance(data, bytes | bytearray):
        raise NotYet("Return the bytes of the response (http1.build_response gives them).")
    data = bytes(data)
    end = http1.head_end(data)
    if end is None:
        if b"\n\n" in data:
            raise NotYet("Every line of an HTTP head ends in CRLF (\\r\\n), not just \\n "
                         "(RFC 9112 section 2.1): the client is still waiting for the CRLF CRLF "
                         "that ends the head. http1.build_response writes them for you.")
        raise NotYet("That is not a whole response head: it must end with an empty line "
                     "(CRLF CRLF).")
    try:
        response = http1.parse_response(data[:end])
    except http1.HTTPError as error:
        raise NotYet(f"A client cannot parse the response: {error.reason}.") from None
    body = data[end:]
    if response.status == 204:
        if body or "Content-Length" in response.headers:
            raise NotYet("A 204 has no body and no Content-Length header (RFC 9110 section "
                         "15.3.5 and 8.6).")
        return response, body
    if "Content-Length" not in response.headers:
        raise NotYet("Your 200 has no Content-Length. On a kept-alive connection that is the "
                     "only way the client can tell where the body ends (RFC 9112 section 6.3): "
                     "without it, it reads until the connection closes, which never happens.")
    if response.headers.get("Content-Length") != str(len(body)):
        raise NotYet(f"Content-Length says {response.headers.get('Content-Length')} but the "
                     f"body has {len(body)} bytes.")
    return response, body


def _check_news(response: http1.Response, body: bytes, source: polling.EventSource,
                after: int, waited: float, hold: float) -> None:
    expected = source.after(after)
    news = ", ".join(str(message.id) for message in expected)
    if response.status != 200:
        raise NotYet(f"News (message {news}) was there to send, but you answered "
                     f"{response.status}: answer 200 with the messages.")
    if waited > hold / 2:
        raise NotYet(f"You answered only after {waited:.2f} s, when the hold ran out: answer as "
                     "soon as wait_after returns messages.")
    content_type = response.headers.get("Content-Type", "")
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise NotYet(f"The body is JSON, so say so: Content-Type: application/json (yours: "
                     f"{content_type or 'none'}). A client decides how to read a body from it.")
    try:
        value = json.loads(body)
    except ValueError:
        raise NotYet(f"The body is not JSON: {body[:80]!r}. Join the message bodies into a "
                     "JSON list: b'[' + b','.join(...) + b']'.") from None
    wanted = [json.loads(message.body) for message in expected]
    if len(wanted) == 1 and value == wanted[0]:
        raise NotYet("Send a JSON list of the messages, even when there is only one: the client "
                     "expects a list.")
    if value == [json.loads(message.body) for message in source.messages] != wanted:
        raise NotYet(f"You sent every message; the client asked for those after {after}, which "
                     "it has not seen yet: pass `after` on to wait_after.")
    if value != wanted:
        raise NotYet(f"The client expected the messages {news} (newer than {after}) in a JSON "
                     f"list; your body is {body[:120]!r}.")


async def check_long_poll_answer(answer_function) -> None:
    """``answer_function(source, after, hold)`` returns the bytes of a long poll's answer:
    200 with a JSON list of the messages newer than ``after``, or 204 when ``hold`` seconds
    pass without news (RFC 9110 section 15.3.5)."""
    require_answer(answer_function)

    async def ask(source: polling.EventSource, after: int,
                  hold: float) -> tuple[http1.Response, bytes, float]:
        started = time.perf_counter()
        async with asyncio.timeout(hold + 3):
            data = await await_answer(answer_function, source, after, hold)
        return (*_read_answer(data), time.perf_counter() - started)

    source = polling.EventSource([{"name": "Ada"}, {"name": "Grace"}, {"name": "Edsger"}])
    response, body, waited = await ask(source, 0, QUIET_HOLD)
    if response.status == 200 and body.strip() == b"[]":
        raise NotYet("With no news during the hold you answered 200 with an empty list: answer "
                     "204 No Content, which says the same without a body.")
    if response.status != 204:
        raise NotYet(f"With no news during the hold you answered {response.status}: answer "
                     "204 No Content.")
    if waited < 0.9 * QUIET_HOLD:
        raise NotYet("You answered at once: that is short polling. Wait for news for up to "
                     "`hold` seconds: await source.wait_after(after, hold).")
    asyncio.get_running_loop().call_later(NEWS_DELAY, source.publish, source.guests[0])
    response, body, waited = await ask(source, 0, NEWS_HOLD)
    _check_news(response, body, source, 0, waited, NEWS_HOLD)
    first_wait = waited
    response, body, waited = await ask(source, 1, QUIET_HOLD)
    if response.status != 204:
        raise NotYet(f"The client asked for news after message 1, which it already has, and "
                     f"you answered {response.status}. Pass `after` on to wait_after: only "
                     "newer messages count.")
    source.publish(source.guests[1])
    source.publish(source.guests[2])
    response, body, waited = await ask(source, 1, NEWS_HOLD)
    _check_news(response, body, source, 1, waited, NEWS_HOLD)
    passed(f"204 after the hold when nothing happens; 200 {first_wait * 1000:.0f} ms after the "
           "request when a guest arrives during it; only the news after `after`, and all of it.")


# ---- 2.2: reading an event stream ----------------------------------------------------------------


def reference_events(text: str) -> list[tuple[str, str]]:
    """What a browser's EventSource dispatches for ``text``: (lastEventId, data) per event
    (HTML Living Standard, section 9.2.6, without the ``event`` type)."""
    events, data, last_id = [], [], ""
    for line in re.split(r"\r\n|\r|\n", text)[:-1]:  # the last piece has no line end yet
        if not line:
            if data:
                events.append((last_id, "\n".join(data)))
            data = []
            continue
        if line.startswith(":"):
            continue
        name, colon, value = line.partition(":")
        value = value.removeprefix(" ") if colon else ""
        if name == "data":
            data.append(value)
        elif name == "id" and "\0" not in value:
            last_id = value
    return events


# Streams, each with the rule it tests and the hint for a parser that breaks it.
EVENT_STREAMS = [
    ("retry: 50\n\nid: 1\ndata: {\"guest\":\"王秀英\"}\n\nid: 2\ndata: {\"guest\":\"李伟\"}\n\n",
     "An event with no data field is not dispatched: the first block only sets retry."),
    ("data: first line\ndata: second line\n\n",
     "Several data lines in one event are one message, joined with a line feed (\\n)."),
    ("id: 7\ndata: a\n\ndata: b\n\n",
     "The id carries over: an event without an id: line has the last id seen, as the "
     "browser's lastEventId does (it is what a reconnecting browser sends as Last-Event-ID)."),
    ("data: no id yet\n\n",
     "Before any id: line the id is the empty string ''."),
    (": keep-alive\n\n:comment\ndata: x\n\n",
     "A line that starts with a colon is a comment: skip it."),
    ("data:x\n\ndata:  two spaces\n\n",
     "After the colon exactly one space is dropped, if there is one: 'data:x' is 'x', and "
     "'data:  two spaces' keeps one space."),
    ("data: done\n\ndata: not finished\n",
     "An event is dispatched only at the blank line that ends it: the last one has not ended "
     "yet (the rest may still be on its way)."),
    ("id: 3\r\ndata: over CRLF\r\n\r\n",
     "Lines may end in CRLF (\\r\\n) as well as LF (\\n)."),
]


def check_event_stream_parser(sse_events) -> None:
    """``sse_events(text)`` returns (last event id, data) for every event a browser's
    EventSource dispatches (HTML Living Standard, section 9.2.6)."""
    require_answer(sse_events)
    for text, rule in EVENT_STREAMS:
        expected = reference_events(text)
        try:
            got = call_answer(sse_events, text)
        except NotYet as error:
            if str(error) in (NO_ANSWER, NO_FUNCTION):
                raise
            raise NotYet(f"{error} The rule this stream tests: {rule}") from error.__cause__
        if got == expected:
            continue
        if not isinstance(got, list):
            raise NotYet(f"Return a list of (id, data) pairs, not {type(got).__name__}.")
        if any(not (isinstance(item, tuple) and len(item) == 2) for item in got):
            raise NotYet("Each event should be a pair (id, data), both str.")
        if any(item[0] is None for item in got):
            raise NotYet("Before any id: line the id is the empty string '', not None (the "
                         "browser's lastEventId starts as '').")
        raise NotYet(f"{rule}\nFor {text!r} you returned {got!r}; a browser dispatches "
                     f"{expected!r}.")
    passed(f"Your parser dispatches what a browser would for all {len(EVENT_STREAMS)} streams.")


# ---- 2.3: reading the race table ---------------------------------------------------------------

WHY_NOT_PER_MESSAGE = {
    "streaming": "streaming sends one request for all the messages",
    "SSE": "SSE sends one request per connection (and one more after each drop), not per message",
    "WebSocket": "a WebSocket sends one handshake, then frames",
}


def check_rarer_news(answer: object, requests: dict[str, tuple[int, int]]) -> None:
    """Which techniques' requests per message rise when news comes less often? ``requests``
    maps each technique of the race to (HTTP requests, messages delivered)."""
    require_answer(answer)
    if isinstance(answer, str) or not isinstance(answer, set | list | tuple):
        raise NotYet("Answer with a set of technique names, such as {'short polling'}.")
    names = set(answer)
    unknown = names - set(requests)
    if unknown:
        raise NotYet(f"{', '.join(map(repr, sorted(unknown)))}: not a technique of the table; "
                     f"its names are {', '.join(map(repr, requests))}.")
    short, long = requests["short polling"], requests["long polling"]
    if "short polling" not in names:
        raise NotYet(f"Short polling asks every interval whatever happens ({short[0]} requests "
                     f"for {short[1]} messages in the race): rarer news, more questions per "
                     "message, most of them answered 204.")
    if "long polling" not in names:
        raise NotYet(f"Long polling too ({long[0]} requests for {long[1]} messages): a held "
                     "request ends with 204 when the hold runs out, and the client asks again. "
                     "The longer the wait for news compared with the hold, the more of those.")
    wrong = sorted(names - {"short polling", "long polling"})
    if wrong:
        reasons = "; ".join(WHY_NOT_PER_MESSAGE[name] for name in wrong)
        raise NotYet(f"Not {', '.join(wrong)}: {reasons}. Their cost per message does not "
                     "depend on how often news comes.")
    passed(f"Short polling ({short[0]} requests for {short[1]} messages) and long polling "
           f"({long[0]} for {long[1]}) pay per question, and rarer news means more questions per "
           "message; the push techniques pay per message.")


# ---- 2.4: predicting short polling's latency -----------------------------------------------------


def check_latency_prediction(prediction_ms: object, interval: float, old_interval: float,
                             measured_ms: float) -> None:
    """A prediction of short polling's mean latency, in milliseconds, when polling every
    ``interval`` seconds instead of ``old_interval``: the news waits, on average, half an
    interval for the next question."""
    require_answer(prediction_ms)
    if isinstance(prediction_ms, bool) or not isinstance(prediction_ms, int | float):
        raise NotYet("Give the prediction as a number of milliseconds.")
    model = interval / 2 * 1000
    old = old_interval / 2 * 1000
    factor = interval / old_interval
    if abs(prediction_ms - old) < 0.25 * old:
        raise NotYet(f"{prediction_ms:g} ms is about what it was. The latency follows the "
                     f"interval: the news waits for the next question, which now comes "
                     f"{factor:g} times less often.")
    if abs(prediction_ms - old / factor) < 0.25 * old / factor:
        raise NotYet("Polling less often makes the news wait longer, not shorter.")
    if abs(prediction_ms - 2 * model) < 0.25 * model:
        raise NotYet(f"{prediction_ms:g} ms is the whole interval, the worst case. News arrives "
                     "at a random moment between two questions: on average it waits half an "
                     "interval.")
    if prediction_ms < 0.5 * model:
        raise NotYet(f"Too short: the news waits for the next question, on average half an "
                     f"interval of {interval * 1000:g} ms.")
    if prediction_ms > 1.6 * model:
        raise NotYet(f"Too long: on average the news waits half an interval of "
                     f"{interval * 1000:g} ms for the next question.")
    passed(f"You predicted {prediction_ms:g} ms; half the interval is {model:g} ms, and this run "
           f"measured a mean of {measured_ms:.1f} ms.")
