"""The checks of notebook 02: the answers students plausibly give are each rejected with the hint
that names that mistake; the right answer passes; a stub gives the "no answer yet" hint."""

from __future__ import annotations

import asyncio

import pytest

from wsteach import http1
from wsteach.exercises import nb02
from wsteach.exercises.checking import NO_ANSWER, NO_FUNCTION, NotYet


def rejected(check, *args) -> str:
    with pytest.raises(NotYet) as info:
        check(*args)
    return str(info.value)


# ---- 2.1: the long-poll answer ----------------------------------------------------------------

def news_body(messages) -> bytes:
    return b"[" + b",".join(message.body for message in messages) + b"]"


async def right(source, after, hold):
    messages = await source.wait_after(after, hold)
    if not messages:
        return http1.build_response(204, "No Content", [])
    return http1.build_response(200, "OK", [("Content-Type", "application/json")],
                                news_body(messages))


async def short_polling(source, after, hold):
    messages = source.after(after)  # answers at once
    if not messages:
        return http1.build_response(204, "No Content", [])
    return http1.build_response(200, "OK", [("Content-Type", "application/json")],
                                news_body(messages))


async def length_on_204(source, after, hold):
    if not await source.wait_after(after, hold):
        return http1.build_response(204, "No Content", [("Content-Length", "0")])
    return await right(source, after, hold)


async def sleep_then_look(source, after, hold):
    await asyncio.sleep(hold)
    return await short_polling(source, after, hold)


async def empty_list(source, after, hold):
    messages = await source.wait_after(after, hold)
    return http1.build_response(200, "OK", [("Content-Type", "application/json")],
                                news_body(messages))


async def as_text(source, after, hold):
    return (await right(source, after, hold)).decode()


async def lf_only(source, after, hold):
    return (await right(source, after, hold)).replace(b"\r\n", b"\n")


async def text_plain(source, after, hold):
    messages = await source.wait_after(after, hold)
    if not messages:
        return http1.build_response(204, "No Content", [])
    return http1.build_response(200, "OK", [("Content-Type", "text/plain")], b"news!")


async def no_content_length(source, after, hold):
    messages = await source.wait_after(after, hold)
    if not messages:
        return http1.build_response(204, "No Content", [])
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n"
    return head + news_body(messages)


async def wrong_length(source, after, hold):
    data = await right(source, after, hold)
    return data + b" " if b" 200 " in data[:13] else data


async def not_json(source, after, hold):
    messages = await source.wait_after(after, hold)
    if not messages:
        return http1.build_response(204, "No Content", [])
    return http1.build_response(200, "OK", [("Content-Type", "application/json")],
                                news_body(messages)[:-1])  # the closing ] forgotten


async def one_object(source, after, hold):
    messages = await source.wait_after(after, hold)
    if not messages:
        return http1.build_response(204, "No Content", [])
    return http1.build_response(200, "OK", [("Content-Type", "application/json")],
                                messages[-1].body)


async def ignores_after(source, after, hold):
    return await right(source, 0, hold)


async def sends_everything(source, after, hold):
    if not await source.wait_after(after, hold):
        return http1.build_response(204, "No Content", [])
    return http1.build_response(200, "OK", [("Content-Type", "application/json")],
                                news_body(source.messages))


def not_async(source, after, hold):
    return http1.build_response(204, "No Content", [])


def sync_stub(source, after, hold):
    raise NotImplementedError


async def async_stub(source, after, hold):
    raise NotImplementedError


def test_long_poll_answer_passes_the_right_server(capsys):
    asyncio.run(nb02.check_long_poll_answer(right))
    assert "204 after the hold" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("function", "hint"),
    [
        (short_polling, "that is short polling"),
        (length_on_204, "A 204 has no body and no Content-Length"),
        (sleep_then_look, "only after"),
        (empty_list, "200 with an empty list"),
        (as_text, "Return the bytes"),
        (lf_only, "CRLF (\\r\\n), not just \\n"),
        (text_plain, "Content-Type: application/json (yours: text/plain)"),
        (no_content_length, "Your 200 has no Content-Length"),
        (wrong_length, "Content-Length says"),
        (not_json, "The body is not JSON"),
        (one_object, "even when there is only one"),
        (ignores_after, "Pass `after` on to wait_after"),
        (sends_everything, "You sent every message"),
        (not_async, "async def"),
    ],
)
def test_long_poll_answer_names_the_mistake(function, hint):
    assert hint in rejected(lambda: asyncio.run(nb02.check_long_poll_answer(function)))


@pytest.mark.parametrize(("stub", "message"), [(..., NO_ANSWER), (None, NO_ANSWER),
                                               (sync_stub, NO_FUNCTION), (async_stub, NO_FUNCTION)])
def test_long_poll_answer_stub(stub, message):
    assert rejected(lambda: asyncio.run(nb02.check_long_poll_answer(stub))) == message


# ---- 2.2: the event-stream parser -------------------------------------------------------------

def parser(*, keep_empty=False, join_data=True, carry_id=True, first_id="", comments=False,
           strip=False, finish=False, crlf=True):
    """A right parser, or one with one rule broken as a student's parser might break it."""
    def sse_events(text: str) -> list[tuple[str, str]]:
        if crlf:
            text = text.replace("\r\n", "\n")
        *lines, unfinished = text.split("\n")
        if finish:  # dispatches what is left at the end
            lines += [unfinished, ""]
        events, data, last_id = [], [], first_id
        for line in lines:
            if line == "":
                if data:
                    events.append((last_id, "\n".join(data) if join_data else data[-1]))
                data = []
                if not carry_id:
                    last_id = first_id
                continue
            if line.startswith(":") and not comments:
                continue
            name, _, value = line.partition(":")
            value = value.strip() if strip else value.removeprefix(" ")
            if name == "id":
                last_id = value
            elif name == "data" or (comments and name == ""):
                data.append(value)
            elif keep_empty and not data:
                data.append("")  # every block is an event
        return events

    return sse_events


def by_blocks(text: str) -> list[tuple[str, str]]:
    """Right for section 5's stream, and a KeyError for an event without an id."""
    events = []
    for block in text.split("\n\n")[:-1]:
        fields = dict(line.split(": ", 1) for line in block.split("\n"))
        if "data" in fields:
            events.append((fields["id"], fields["data"]))
    return events


def test_event_stream_parser_passes_a_right_parser(capsys):
    nb02.check_event_stream_parser(parser())
    assert "all 8 streams" in capsys.readouterr().out


def test_the_reference_follows_the_html_standard_examples():
    """Adapted from the examples of HTML Living Standard section 9.2.6."""
    assert nb02.reference_events("data: YHOO\ndata: +2\ndata: 10\n\n") == [("", "YHOO\n+2\n10")]
    assert nb02.reference_events(": test stream\n\ndata: first event\nid: 1\n\n"
                                 "data:second event\nid\n\ndata:  third event\n") == [
        ("1", "first event"), ("", "second event")]
    assert nb02.reference_events("data\n\ndata\ndata\n\ndata:") == [("", ""), ("", "\n")]


@pytest.mark.parametrize(
    ("function", "hint"),
    [
        (parser(keep_empty=True), "An event with no data field is not dispatched"),
        (parser(join_data=False), "joined with a line feed"),
        (parser(carry_id=False), "The id carries over"),
        (parser(first_id=None), "not None"),
        (parser(comments=True), "is a comment"),
        (parser(strip=True), "exactly one space is dropped"),
        (parser(finish=True), "dispatched only at the blank line"),
        (parser(crlf=False), "CRLF"),
        (lambda text: {"events": []}, "a list of (id, data) pairs"),
        (lambda text: [{"id": "1", "data": "x"}], "a pair (id, data)"),
        (by_blocks, "raised KeyError: 'id'"),
    ],
)
def test_event_stream_parser_names_the_mistake(function, hint):
    assert hint in rejected(nb02.check_event_stream_parser, function)


def test_event_stream_parser_stub():
    def stub(text):
        raise NotImplementedError

    assert rejected(nb02.check_event_stream_parser, ...) == NO_ANSWER
    assert rejected(nb02.check_event_stream_parser, stub) == NO_FUNCTION


# ---- 2.3: rarer news ---------------------------------------------------------------------------

RACE = {"short polling": (46, 8), "long polling": (15, 8), "streaming": (1, 8), "SSE": (1, 8),
        "WebSocket": (1, 8)}


@pytest.mark.parametrize("answer", [{"short polling", "long polling"},
                                    ["long polling", "short polling"]])
def test_rarer_news_passes(answer, capsys):
    nb02.check_rarer_news(answer, RACE)
    assert "46 requests for 8 messages" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        ({"short polling"}, "Long polling too (15 requests for 8 messages)"),
        ({"long polling"}, "Short polling asks every interval"),
        (set(RACE), "Not SSE, WebSocket, streaming"),
        ({"short polling", "long polling", "SSE"}, "one request per connection"),
        ("short polling", "a set of technique names"),
        ({"polling"}, "not a technique of the table"),
        ({"Short polling", "long polling"}, "'Short polling': not a technique"),
        (set(), "Short polling asks every interval"),
    ],
)
def test_rarer_news_names_the_mistake(answer, hint):
    assert hint in rejected(nb02.check_rarer_news, answer, RACE)


def test_rarer_news_stub():
    assert rejected(nb02.check_rarer_news, ..., RACE) == NO_ANSWER


# ---- 2.4: short polling's latency ---------------------------------------------------------------

def test_latency_prediction_passes(capsys):
    nb02.check_latency_prediction(50, 0.1, 0.025, 52.1)
    assert "measured a mean of 52.1 ms" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("prediction", "hint"),
    [
        (12.5, "about what it was"),
        (15, "about what it was"),
        (3.125, "not shorter"),
        (100, "the whole interval"),
        (20, "Too short"),
        (0.05, "Too short"),
        (200, "Too long"),
        ("50", "a number of milliseconds"),
        (True, "a number of milliseconds"),
    ],
)
def test_latency_prediction_names_the_mistake(prediction, hint):
    assert hint in rejected(nb02.check_latency_prediction, prediction, 0.1, 0.025, 52.1)


def test_latency_prediction_stub():
    assert rejected(nb02.check_latency_prediction, None, 0.1, 0.025, 52.1) == NO_ANSWER
