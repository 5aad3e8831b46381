"""Checks for the exercises of notebook 01_http_before_websocket."""

from __future__ import annotations

from wsteach import http1
from wsteach.exercises.checking import (
    NO_ANSWER,
    NO_FUNCTION,
    NotYet,
    call_answer,
    passed,
    require_answer,
)


def _whole(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise NotYet(f"The number of {what} should be an int, not {type(value).__name__}.")
    return value


def check_late_capture(packets, answer: object) -> None:
    """``(handshakes, requests)`` in a capture that started late (RFC 9293 section 3.5: a
    handshake starts with a segment whose only flag is SYN)."""
    require_answer(answer)
    if not (isinstance(answer, tuple) and len(answer) == 2):
        raise NotYet("Answer with a pair: (handshakes, requests).")
    handshakes, requests = (_whole(answer[0], "handshakes"), _whole(answer[1], "requests"))
    segments = [packet.getlayer("TCP") for packet in packets if packet.haslayer("TCP")]
    syn = sum(1 for tcp in segments if tcp.flags.S and not tcp.flags.A)
    with_syn_flag = sum(1 for tcp in segments if tcp.flags.S)
    fins = sum(1 for tcp in segments if tcp.flags.F)
    gets = sum(1 for tcp in segments if bytes(tcp.payload).startswith(b"GET "))
    with_data = sum(1 for tcp in segments if len(tcp.payload))
    connections = len({frozenset((tcp.sport, tcp.dport)) for tcp in segments})
    handshake_hints = {
        with_syn_flag: "That counts the SYN-ACKs too: each handshake has one SYN (flags S) and "
                       "one SYN-ACK (flags SA). Count only the packets with S set and A not set.",
        fins: "That counts FIN packets: they close a connection (one from each side), they do "
              "not open one. A handshake starts with a SYN.",
        connections: f"{connections} connections appear in the capture, but one of them began "
                     "before the capture did: its SYN and SYN-ACK are not in it. Count the SYNs.",
        gets: f"{gets} is the number of requests: a keep-alive connection carries several "
              "requests after one handshake. Count the SYN packets.",
    }
    if handshakes != syn:
        hint = handshake_hints.get(handshakes, "A handshake starts with a packet whose TCP flags "
                                   "are exactly SYN: packet[TCP].flags.S and not .A.")
        raise NotYet(f"{handshakes} handshakes? {hint}")
    request_hints = {
        connections: "One request per connection is HTTP/1.0; the keep-alive connection "
                     "carried several. Count the packets whose TCP payload starts with b'GET '.",
        syn: "That is one request per handshake; the keep-alive connection carried several, and "
             "the connection that began before the capture still sent its request in it.",
        with_data: "That counts every packet carrying data: the responses too. Count only the "
                   "requests (payload starting with b'GET ').",
    }
    if requests != gets:
        hint = request_hints.get(requests, "Count the packets whose TCP payload starts with "
                                 "b'GET ': each is one request.")
        raise NotYet(f"{requests} requests? {hint}")
    passed(f"{syn} handshakes for {gets} requests in {connections} connections: the first "
           "connection in the capture has no handshake, because it was opened before the "
           "capture started. A capture that starts late shows connections without their SYN.")


def check_pipeline_prediction(prediction: object, targets: list[str],
                              finished: list[float]) -> None:
    """A prediction, "fast" or "slow" for each pipelined answer, against when each answer was
    complete (``finished``, seconds). RFC 9112 section 9.3.2: a server answers pipelined
    requests in the order they came."""
    require_answer(prediction)
    slow_ms = max(_delay_ms(target) for target in targets)
    if not slow_ms:
        raise ValueError("one of the targets should ask for a delay (delay_ms=...)")
    measured = ["slow" if seconds * 1000 >= 0.9 * slow_ms else "fast" for seconds in finished]
    if not (isinstance(prediction, list | tuple) and len(prediction) == len(targets)
            and all(item in ("fast", "slow") for item in prediction)):
        raise NotYet(f'Predict with a list of {len(targets)} words, "fast" or "slow", one per '
                     'answer, in the order of the requests.')
    slow = next(i for i, target in enumerate(targets) if _delay_ms(target) == slow_ms)
    times = ", ".join(f"{seconds * 1000:.1f}" for seconds in finished)
    for index, (guess, happened) in enumerate(zip(prediction, measured, strict=True)):
        if guess == happened:
            continue
        if index == slow:
            reason = (f"it is the slow one: the server takes {slow_ms} ms to answer it, "
                      "whatever else happens")
        elif happened == "slow":
            reason = (f"its answer was ready at once, but a pipelined server answers in the "
                      f"order of the requests: it waits behind the slow answer {slow + 1} "
                      "(head-of-line blocking)")
        else:
            reason = (f"it comes before the slow answer {slow + 1} in the pipeline, so nothing "
                      "held it up: only the answers behind a slow one wait")
        raise NotYet(f"Answer {index + 1} was {happened}, not {guess}: {reason}. "
                     f"(Complete after, in ms: {times}.)")
    passed(f"Complete after {times} ms: the answers before the slow one are not delayed, every "
           "answer behind it is.")


def _delay_ms(target: str) -> int:
    _, _, query = target.partition("delay_ms=")
    return int(query.split("&")[0]) if query else 0


def _response(status: int, body: bytes, *, content_length: str = "Content-Length") -> bytes:
    reason = {200: "OK", 204: "No Content"}[status]
    headers = [("Content-Type", "application/json")] if status != 204 else []
    if status != 204:
        headers.append((content_length, str(len(body))))
    return http1.build_response(status, reason, headers, body)


# Streams a keep-alive client may receive, each with the mistake it catches.
SPLIT_CASES = [
    ([(200, b'{"note":"a body may hold\r\n\r\nan empty line"}'), (200, b"[]")],
     "Content-Length", "You cut where an empty line (CRLF CRLF) appears, but a body may "
     "contain one. Only the first empty line ends a head; then read exactly Content-Length "
     "bytes of body."),
    ([(200, b'"HTTP/1.1 200 OK"'), (200, b"{}")],
     "Content-Length", "You cut where a status line appears, but a body may contain that text. "
     "Read exactly Content-Length bytes of body."),
    ([(200, b"[1]"), (204, b""), (200, b"[2]")],
     "Content-Length", "A 204 No Content has no body and no Content-Length (RFC 9110 section "
     "15.3.5): its body is empty, and the next response starts right after its head."),
    ([(200, b"[3]"), (200, b"[45]")],
     "content-length", "Header names are case-insensitive (RFC 9110 section 5.1): "
     "content-length is Content-Length. http1.parse_response's headers compare names that way."),
]


def check_split_responses(split_responses, stream: bytes) -> None:
    """``split_responses(stream)`` returns ``(status, body)`` for every response in a keep-alive
    stream, framed by Content-Length (RFC 9112 section 6.3)."""
    cases = [(stream, _split(stream), "")]
    for answers, content_length, hint in SPLIT_CASES:
        data = b"".join(_response(status, body, content_length=content_length)
                        for status, body in answers)
        cases.append((data, answers, hint))
    for data, expected, hint in cases:
        try:
            got = call_answer(split_responses, data)
        except NotYet as error:
            if not hint or str(error) in (NO_ANSWER, NO_FUNCTION):
                raise
            raise NotYet(f"{error} {hint}") from error.__cause__
        mistake = _split_mistake(got)
        if mistake or got != expected:
            raise NotYet(mistake or
                         f"{hint or 'Not the responses of the stream of section 4.'} "
                         f"You returned {got!r:.200} for {data!r:.200}")
    passed(f"{len(cases[0][1])} responses found in {len(stream)} bytes: on a kept-alive "
           "connection, Content-Length is what tells one answer from the next.")


def _split_mistake(got: object) -> str | None:
    """A hint for a wrong shape of answer, whatever the stream."""
    if not isinstance(got, list):
        return f"Return a list of (status, body) pairs, not {type(got).__name__}."
    if any(not (isinstance(item, tuple) and len(item) == 2) for item in got):
        return "Each item of the list should be a pair (status, body)."
    if any(isinstance(status, str) for status, _ in got):
        return "Return each status as an int (200), not as text ('200')."
    if any(isinstance(status, bool) or not isinstance(status, int) for status, _ in got):
        return "Return each status as an int, such as 200."
    if any(isinstance(body, str) for _, body in got):
        return "Return each body as bytes, as it came: a Content-Length counts bytes."
    if any(not isinstance(body, bytes) for _, body in got):
        return "Return each body as bytes (a bytes slice of the stream)."
    if any(isinstance(body, bytes) and body.startswith(b"\r\n") for _, body in got):
        return ("Your bodies start with the CRLF of the empty line: the head ends after CRLF "
                "CRLF (http1.head_end gives the index just after it), and the body starts there.")
    return None


def _split(stream: bytes) -> list[tuple[int, bytes]]:
    """The teacher's answer, to compare with."""
    answers = []
    while stream:
        end = http1.head_end(stream)
        if end is None:
            raise ValueError(f"no whole response head in {stream[:80]!r}")
        head = http1.parse_response(stream[:end])
        length = int(head.headers.get("Content-Length", "0"))
        answers.append((head.status, stream[end:end + length]))
        stream = stream[end + length:]
    return answers
