"""Short polling, long polling, streaming and SSE: every answer is valid HTTP/1.1 (for our
parser and for Python's own clients), long polls time out with 204, SSE resumes after
Last-Event-ID without losing an event, and each client reports what it saw and spent."""

from __future__ import annotations

import asyncio
import http.client
import json
import time
import urllib.request
from collections.abc import Coroutine
from typing import Any

import pytest

from wsteach import http1
from wsteach.lessons import polling, polling_clients

FAST = {"min_interval": 0.02, "max_interval": 0.06}


def run(coro: Coroutine[Any, Any, Any], seconds: float = 10) -> Any:
    """Run a test's coroutine, bounded in time."""

    async def bounded() -> Any:
        async with asyncio.timeout(seconds):
            return await coro

    return asyncio.run(bounded())


def source(**options: Any) -> polling.EventSource:
    return polling.EventSource(polling.load_guests(), **{**FAST, "seed": 1, **options})


async def exchange(port: int, request: bytes) -> tuple[http1.Response, bytes]:
    """Send raw request bytes; read one response framed by Content-Length (or by a 204)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        response = http1.parse_response(await reader.readuntil(b"\r\n\r\n"))
        body = await reader.readexactly(int(response.headers.get("Content-Length", "0")))
        return response, body
    finally:
        writer.close()


def get(target: str, *headers: str) -> bytes:
    lines = [f"GET {target} HTTP/1.1", "Host: 127.0.0.1", *headers, "", ""]
    return "\r\n".join(lines).encode()


# ---- the data and the event source -----------------------------------------------------------

def test_the_guest_list_is_the_article_s_table():
    guests = polling.load_guests()
    assert len(guests) == 25
    assert all(set(guest) == {"name", "surname", "gender", "region"} for guest in guests)
    assert {guest["gender"] for guest in guests} == {"female", "male"}


def test_the_source_produces_numbered_messages_at_random_intervals_within_bounds():
    events = source(min_interval=0.03, max_interval=0.05)
    start = time.time()
    run(events.produce(4))
    ids = [message.id for message in events.messages]
    produced = [start] + [message.produced for message in events.messages]
    gaps = [later - earlier for earlier, later in zip(produced, produced[1:], strict=False)]
    assert ids == [1, 2, 3, 4]
    assert all(0.029 <= gap < 0.2 for gap in gaps), gaps
    body = json.loads(events.messages[0].body)
    assert body["id"] == 1 and body["guest"] == polling.load_guests()[0]
    assert events.after(2) == events.messages[2:] and events.after(-5) == events.messages


def test_wait_after_returns_nothing_after_the_timeout_and_news_as_soon_as_it_comes():
    async def scenario() -> tuple[list, float, list, float]:
        events = source()
        started = time.perf_counter()
        nothing = await events.wait_after(0, timeout=0.1)
        waited = time.perf_counter() - started
        asyncio.get_running_loop().call_later(0.05, events.publish, {"name": "Ada"})
        started = time.perf_counter()
        news = await events.wait_after(0, timeout=5)
        return nothing, waited, news, time.perf_counter() - started

    nothing, waited, news, answered = run(scenario())
    assert nothing == [] and waited >= 0.1
    assert [message.id for message in news] == [1] and answered < 1


def test_waiting_counts_the_callers_held_until_news():
    async def scenario() -> list[int]:
        events = source()
        counts = [events.waiting]
        held = [asyncio.create_task(events.wait_after(0, timeout=5)) for _ in range(3)]
        await asyncio.sleep(0.01)
        counts.append(events.waiting)
        events.publish({"name": "Ada"})
        await asyncio.gather(*held)
        counts.append(events.waiting)
        await events.wait_after(1, timeout=0.01)  # a timeout counts down too
        return [*counts, events.waiting]

    assert run(scenario()) == [0, 3, 0, 0]


# ---- the bytes the server writes -------------------------------------------------------------

def test_small_building_blocks():
    assert polling.chunk(b"hello") == b"5\r\nhello\r\n"
    assert polling.chunk(b"x" * 26).startswith(b"1A\r\n")
    assert polling.number("12") == 12
    assert polling.number(None) == polling.number("-3") == polling.number("x") == 0
    message = polling.Message(7, 0.0, b'{"a":1}')
    assert polling.sse_event(message) == b'id: 7\ndata: {"a":1}\n\n'
    assert polling.script_tag(message) == b'<script>parent.push({"a":1})</script>\n'
    assert polling_clients.parse_sse_fields(b": a comment\nid: 7\ndata: {}\nretry:10") == {
        "id": "7", "data": "{}", "retry": "10"}


def test_every_whole_response_is_valid_http_1_1():
    async def scenario() -> dict[str, tuple[http1.Response, bytes]]:
        events = source()
        async with polling.serve(events, hold=0.05) as server:
            answers = {"empty poll": await exchange(server.port, get("/poll?after=0"))}
            events.publish({"name": "Ada"})
            events.publish({"name": "Grace"})
            answers["poll"] = await exchange(server.port, get("/poll?after=0"))
            answers["long poll"] = await exchange(server.port, get("/long-poll?after=1"))
            answers["guest"] = await exchange(server.port, get("/guests/2"))
            answers["missing"] = await exchange(server.port, get("/nothing"))
            answers["bad"] = await exchange(server.port, b"GET /poll HTTP/1.1\r\n x\r\n\r\n")
            return answers

    answers = run(scenario())
    empty, _ = answers["empty poll"]
    assert (empty.version, empty.status, empty.reason) == ("HTTP/1.1", 204, "No Content")
    assert "Content-Length" not in empty.headers  # RFC 9110 section 8.6
    poll, body = answers["poll"]
    assert poll.status == 200 and poll.headers.get("Content-Type") == "application/json"
    assert [item["guest"]["name"] for item in json.loads(body)] == ["Ada", "Grace"]
    long_poll, body = answers["long poll"]
    assert long_poll.status == 200 and [item["id"] for item in json.loads(body)] == [2]
    guest, body = answers["guest"]
    assert json.loads(body) == polling.load_guests()[1]
    assert int(guest.headers.get("Content-Length")) == len(body)
    assert answers["missing"][0].status == 404
    assert answers["bad"][0].status == 400


def test_http_1_0_gets_connection_close_and_the_server_closes():
    async def scenario() -> tuple[http1.Response, bytes]:
        async with polling.serve(source()) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(b"GET /guests/1 HTTP/1.0\r\n\r\n")
            everything = await reader.read()  # until the server closes
            writer.close()
            end = http1.head_end(everything)
            return http1.parse_response(everything[:end]), everything[end:]

    response, body = run(scenario())
    assert response.status == 200 and response.headers.tokens("Connection") == ["close"]
    assert int(response.headers.get("Content-Length")) == len(body)


@pytest.mark.parametrize(("target", "content_type", "preamble"), [
    ("/stream", "text/html; charset=utf-8", b"<!doctype html>"),
    ("/events", "text/event-stream", b"retry: 250\n\n"),
])
def test_streams_are_one_chunked_response_with_a_chunk_per_message(target, content_type,
                                                                    preamble):
    async def scenario() -> tuple[http1.Response, list[bytes]]:
        events = source()
        async with polling.serve(events, retry_ms=250) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(get(target))
            response = http1.parse_response(await reader.readuntil(b"\r\n\r\n"))
            chunks = []
            for _ in range(3):
                if len(chunks) == 1:
                    events.publish({"name": "Ada"})
                size = int(await reader.readuntil(b"\r\n"), 16)
                chunks.append((await reader.readexactly(size + 2))[:-2])
                if len(chunks) == 2:
                    events.publish({"name": "Grace"})
            writer.close()
            return response, chunks

    response, chunks = run(scenario())
    assert response.status == 200 and response.headers.get("Content-Type") == content_type
    assert response.headers.get("Transfer-Encoding") == "chunked"
    assert "Content-Length" not in response.headers
    assert chunks[0].startswith(preamble)
    assert b'"name":"Ada"' in chunks[1] and b'"name":"Grace"' in chunks[2]


# ---- Python's own HTTP clients accept the answers --------------------------------------------

STREAM_STARTS = {"/stream": b"<!doctype html><title>guests</title>\n<script>parent.push(",
                 "/events": b"retry: 1000\n\nid: 1\ndata: "}


def test_urllib_and_http_client_accept_every_answer_and_keep_the_connection():
    def with_http_client(port: int) -> dict[str, Any]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        results: dict[str, Any] = {}
        for name, target in [("empty", "/poll?after=2"), ("poll", "/poll?after=0"),
                             ("long", "/long-poll?after=2"), ("guest", "/guests/3")]:
            conn.request("GET", target)
            answer = conn.getresponse()
            results[name] = (answer.status, answer.read())
            results.setdefault("sockets", set()).add(id(conn.sock))
        for target, start in STREAM_STARTS.items():
            conn.request("GET", target)
            answer = conn.getresponse()
            results[target] = (answer.status, answer.chunked, answer.read(len(start)))
            conn.close()
        return results

    async def scenario() -> tuple[dict[str, Any], bytes]:
        events = source()
        events.publish({"name": "Ada"})
        events.publish({"name": "Grace"})
        async with polling.serve(events, hold=0.05) as server:
            url = f"http://127.0.0.1:{server.port}/guests/1"
            with_urllib = await asyncio.to_thread(lambda: urllib.request.urlopen(url).read())
            return await asyncio.to_thread(with_http_client, server.port), with_urllib

    results, with_urllib = run(scenario())
    assert json.loads(with_urllib) == polling.load_guests()[0]
    assert results["empty"] == (204, b"") and results["long"] == (204, b"")
    assert [item["id"] for item in json.loads(results["poll"][1])] == [1, 2]
    assert results["guest"][0] == 200
    assert len(results["sockets"]) == 1  # four requests, one kept-alive connection
    for target, start in STREAM_STARTS.items():
        assert results[target] == (200, True, start)


# ---- long polling ----------------------------------------------------------------------------

def test_a_long_poll_is_held_then_answered_204_after_the_timeout():
    async def scenario() -> tuple[http1.Response, float]:
        async with polling.serve(source(), hold=0.2) as server:
            started = time.perf_counter()
            response, _ = await exchange(server.port, get("/long-poll?after=0"))
            return response, time.perf_counter() - started

    response, seconds = run(scenario())
    assert response.status == 204
    assert 0.2 <= seconds < 1.5


def test_a_long_poll_is_answered_as_soon_as_news_arrives():
    async def scenario() -> tuple[http1.Response, bytes, float]:
        events = source()
        async with polling.serve(events, hold=5) as server:
            asyncio.get_running_loop().call_later(0.1, events.publish, {"name": "Ada"})
            started = time.perf_counter()
            response, body = await exchange(server.port, get("/long-poll?after=0"))
            return response, body, time.perf_counter() - started

    response, body, seconds = run(scenario())
    assert response.status == 200 and json.loads(body)[0]["guest"] == {"name": "Ada"}
    assert 0.1 <= seconds < 1


# ---- Server-Sent Events: reconnection --------------------------------------------------------

def test_sse_starts_after_last_event_id():
    async def scenario() -> bytes:
        events = source()
        for name in ("Ada", "Grace", "Edsger"):
            events.publish({"name": name})
        async with polling.serve(events) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(get("/events", "Last-Event-ID: 1"))
            await reader.readuntil(b"\r\n\r\n")
            for _ in range(2):  # the retry chunk, then the backlog
                size = int(await reader.readuntil(b"\r\n"), 16)
                data = await reader.readexactly(size + 2)
            writer.close()
            return data

    backlog = run(scenario())
    assert backlog.startswith(b"id: 2\ndata: ") and b"id: 3\n" in backlog
    assert b"Ada" not in backlog


def test_sse_reconnects_with_last_event_id_and_loses_no_event():
    async def scenario() -> tuple[polling_clients.Report, list[bytes]]:
        events = source()
        requests: list[bytes] = []
        third_seen = asyncio.Event()

        def trace(side: str, data: bytes) -> None:
            if side == "client":
                requests.append(data)
            elif b"id: 3\n" in data:
                third_seen.set()

        async with polling.serve(events, retry_ms=30) as server:
            client = asyncio.create_task(polling_clients.sse_client(server.port, 6, trace=trace))
            await events.produce(3)
            await third_seen.wait()
            server.drop_connections()  # the network fails; message 4 comes while it is down
            events.publish(events.guests[3])
            await events.produce(2)
            return await client, requests

    report, requests = run(scenario())
    assert [d.message_id for d in report.deliveries] == [1, 2, 3, 4, 5, 6]
    assert report.tally.connections == 2
    assert b"Last-Event-ID" not in requests[0]
    assert b"\r\nLast-Event-ID: 3\r\n" in requests[1]


# ---- the clients -----------------------------------------------------------------------------

def test_every_technique_delivers_the_same_messages_and_accounts_for_its_bytes():
    async def scenario() -> list[polling_clients.Report]:
        events = source()
        count = 4
        async with (polling.serve(events, hold=0.05) as server,
                    polling.serve_websocket(events) as ws_server):
            reports = await asyncio.gather(
                polling_clients.short_polling_client(server.port, count, 0.02),
                polling_clients.long_polling_client(server.port, count),
                polling_clients.streaming_client(server.port, count),
                polling_clients.sse_client(server.port, count),
                polling_clients.websocket_client(ws_server.port, count),
                events.produce(count),
            )
        return reports[:-1]

    reports = run(scenario())
    for report in reports:
        assert [d.message_id for d in report.deliveries] == [1, 2, 3, 4], report.technique
        assert all(0 <= d.latency < 1 for d in report.deliveries)
        assert all(d.wire_bytes > d.payload_bytes > 50 for d in report.deliveries)
        assert report.counted <= report.tally.sent + report.tally.received
        assert report.tally.connections == 1
    by_name = {report.technique: report for report in reports}
    assert by_name["short polling"].tally.requests >= 4
    assert by_name["streaming"].tally.requests == by_name["SSE"].tally.requests == 1
    assert by_name["WebSocket"].tally.requests == 1  # the handshake


def test_trace_shows_exactly_the_bytes_counted():
    async def scenario() -> tuple[polling_clients.Report, list[tuple[str, bytes]]]:
        events = source()
        seen: list[tuple[str, bytes]] = []
        async with polling.serve(events, hold=0.05) as server:
            client = polling_clients.short_polling_client(server.port, 2, 0.02,
                                                  trace=lambda *pair: seen.append(pair))
            report, _ = await asyncio.gather(client, events.produce(2))
        return report, seen

    report, seen = run(scenario())
    assert sum(len(data) for side, data in seen if side == "client") == report.tally.sent
    assert sum(len(data) for side, data in seen if side == "server") == report.tally.received
    assert seen[0][1].startswith(b"GET /poll?after=0 HTTP/1.1\r\nHost: 127.0.0.1:")


def test_http_1_0_opens_a_connection_per_request_and_keep_alive_one():
    async def scenario() -> tuple[polling_clients.Fetch, polling_clients.Fetch]:
        async with polling.serve(source()) as server:
            targets = [f"/guests/{n}" for n in range(1, 6)]
            return (await polling_clients.fetch_http10(server.port, targets),
                    await polling_clients.fetch_keep_alive(server.port, targets))

    old, kept = run(scenario())
    assert (old.tally.connections, old.tally.requests) == (5, 5)
    assert (kept.tally.connections, kept.tally.requests) == (1, 5)
    assert old.tally.received == kept.tally.received + 5 * len("Connection: close\r\n")
    assert len(old.finished) == len(kept.finished) == 5


def test_pipelined_answers_wait_behind_a_slow_one():
    async def scenario() -> polling_clients.Fetch:
        async with polling.serve(source()) as server:
            targets = ["/guests/1?delay_ms=200", "/guests/2", "/guests/3"]
            return await polling_clients.fetch_keep_alive(server.port, targets, pipeline=True)

    fetch = run(scenario())
    assert fetch.tally.connections == 1
    assert all(seconds >= 0.2 for seconds in fetch.finished)  # head-of-line blocking
    assert fetch.seconds == fetch.finished[-1]


def test_the_capture_scenarios_run_quickly_without_capturing():
    from wsteach.show.envcheck import free_loopback_port
    from wsteach.wire import scenarios

    names = ["http10_vs_keepalive", "short_polling", "long_polling", "streaming", "sse",
             "websocket_events"]

    async def all_at_once() -> float:
        started = time.perf_counter()
        await asyncio.gather(*(scenarios.SCENARIOS[name](free_loopback_port())
                               for name in names))
        return time.perf_counter() - started

    assert run(all_at_once()) < 3  # each scenario alone takes well under 2 s
