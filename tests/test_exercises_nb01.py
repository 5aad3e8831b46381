"""The checks of notebook 01: the answers students plausibly give are each rejected with the hint
that names that mistake; the right answer passes; a stub gives the "no answer yet" hint."""

from __future__ import annotations

import asyncio

import pytest

from wsteach import http1
from wsteach.exercises import nb01
from wsteach.exercises.checking import NO_ANSWER, NO_FUNCTION, NotYet
from wsteach.lessons import polling, polling_clients
from wsteach.paths import CAPTURES

capture = pytest.importorskip("wsteach.wire.capture")  # needs scapy
from scapy.layers.inet import TCP  # noqa: E402


def rejected(check, *args) -> str:
    with pytest.raises(NotYet) as info:
        check(*args)
    return str(info.value)


# ---- 1.1: a capture that started late --------------------------------------------------------

@pytest.fixture(scope="module")
def late():
    """Exercise 1.1's capture: the stored one from the second connection's request on."""
    packets = capture.read_pcap(CAPTURES / "http10_vs_keepalive.pcap")
    second = capture.tcp_streams(packets)[1]
    cut = next(i for i in second.packet_indexes
               if bytes(packets[i][TCP].payload).startswith(b"GET "))
    return packets[cut:]


def count(packets, predicate) -> int:
    return sum(1 for packet in packets if predicate(packet[TCP]))


def test_late_capture_passes_the_count_from_the_flags(late, capsys):
    syn = count(late, lambda tcp: tcp.flags.S and not tcp.flags.A)
    gets = count(late, lambda tcp: bytes(tcp.payload).startswith(b"GET "))
    assert (syn, gets) == (4, 9)  # what the stored capture holds: 5 HTTP/1.0 + 5 kept alive
    nb01.check_late_capture(late, (syn, gets))
    assert "opened before the capture started" in capsys.readouterr().out


def test_late_capture_counts_the_mistakes_differ(late):
    """Each wrong count below has its own hint only because the numbers differ."""
    counts = [count(late, lambda tcp: tcp.flags.S),  # SYN and SYN-ACK
              count(late, lambda tcp: tcp.flags.F),
              len(capture.tcp_streams(late)),
              count(late, lambda tcp: bytes(tcp.payload).startswith(b"GET ")),
              count(late, lambda tcp: len(tcp.payload) > 0)]
    assert counts == [8, 10, 5, 9, 18]
    assert len(set(counts)) == len(counts)


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        ((8, 9), "counts the SYN-ACKs too"),
        ((10, 9), "counts FIN packets"),
        ((5, 9), "began before the capture did"),
        ((9, 9), "is the number of requests"),
        ((3, 9), "exactly SYN"),
        ((4, 5), "One request per connection is HTTP/1.0"),
        ((4, 4), "one request per handshake"),
        ((4, 18), "the responses too"),
        ((4, 10), "payload starts with b'GET '"),
        ((4.0, 9), "should be an int"),
        (("4", "9"), "should be an int"),
        ([4, 9], "a pair"),
        (4, "a pair"),
    ],
)
def test_late_capture_names_the_mistake(late, answer, hint):
    assert hint in rejected(nb01.check_late_capture, late, answer)


def test_late_capture_stub(late):
    assert rejected(nb01.check_late_capture, late, ...) == NO_ANSWER


# ---- 1.2: predicting head-of-line blocking ----------------------------------------------------

SLOW_SECOND = ["/guests/1", "/guests/2?delay_ms=200", "/guests/3"]
MEASURED = [0.0005, 0.2013, 0.2014]  # what a run gives: the third waits behind the second


def test_pipeline_prediction_passes_against_a_real_run(capsys):
    async def run() -> list[float]:
        async with polling.serve(polling.EventSource(polling.load_guests())) as server:
            fetch = await polling_clients.fetch_keep_alive(server.port, SLOW_SECOND,
                                                           pipeline=True)
        return fetch.finished

    nb01.check_pipeline_prediction(["fast", "slow", "slow"], SLOW_SECOND, asyncio.run(run()))
    assert "every answer behind it is" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("prediction", "hint"),
    [
        (["fast", "slow", "fast"], "Answer 3 was slow, not fast: its answer was ready at once, "
                                   "but a pipelined server answers in the order"),
        (["slow", "slow", "slow"], "Answer 1 was fast, not slow: it comes before the slow"),
        (["fast", "fast", "fast"], "Answer 2 was slow, not fast: it is the slow one"),
        (["fast", "fast", "slow"], "Answer 2 was slow, not fast: it is the slow one"),
        (("fast", "slow"), "a list of 3 words"),
        ([True, False, False], "a list of 3 words"),
        ("fast slow slow", "a list of 3 words"),
    ],
)
def test_pipeline_prediction_names_the_mistake(prediction, hint):
    assert hint in rejected(nb01.check_pipeline_prediction, prediction, SLOW_SECOND, MEASURED)


def test_pipeline_prediction_follows_the_measurement_not_a_model():
    """Slow first, as in the notebook's demo: every answer is slow."""
    targets = ["/guests/1?delay_ms=200", "/guests/2", "/guests/3"]
    nb01.check_pipeline_prediction(["slow"] * 3, targets, [0.201, 0.201, 0.201])
    hint = rejected(nb01.check_pipeline_prediction, ["slow", "fast", "fast"], targets,
                    [0.201, 0.201, 0.201])
    assert "Answer 2 was slow, not fast: its answer was ready at once" in hint


def test_pipeline_prediction_stub():
    assert rejected(nb01.check_pipeline_prediction, ..., SLOW_SECOND, MEASURED) == NO_ANSWER


# ---- 1.3: splitting a keep-alive stream --------------------------------------------------------

def two_answers() -> bytes:
    return b"".join(polling.response(200, polling.encode_json(guest))
                    for guest in polling.load_guests()[:2])


def right(stream: bytes) -> list[tuple[int, bytes]]:
    """A right answer written another way than the notebook's: by hand, without http1."""
    answers = []
    while stream:
        head, _, rest = stream.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        fields = {name.strip().lower(): value.strip()
                  for name, _, value in (line.partition(":") for line in lines)}
        length = int(fields.get("content-length", "0"))
        answers.append((int(status_line.split(" ")[1]), rest[:length]))
        stream = rest[length:]
    return answers


def on_blank_lines(stream: bytes) -> list[tuple[int, bytes]]:
    """A head runs to the next empty line, a body to the next status line."""
    answers = []
    head, *pieces = stream.split(b"\r\n\r\n")
    for piece in pieces:
        body, found, rest = piece.partition(b"HTTP/1.1 ")
        answers.append((int(head.split(b" ")[1]), body))
        head = found + rest
    return answers


def on_status_lines(stream: bytes) -> list[tuple[int, bytes]]:
    pieces = [b"HTTP/1.1 " + piece for piece in stream.split(b"HTTP/1.1 ") if piece]
    return [(int(piece.split(b" ")[1]), piece.split(b"\r\n\r\n", 1)[1]) for piece in pieces]


def needs_content_length(stream: bytes) -> list[tuple[int, bytes]]:
    answers = []
    while stream:
        end = http1.head_end(stream)
        head = http1.parse_response(stream[:end])
        length = int(head.headers.get("Content-Length"))  # None for a 204
        answers.append((head.status, stream[end:end + length]))
        stream = stream[end + length:]
    return answers


def case_sensitive(stream: bytes) -> list[tuple[int, bytes]]:
    answers = []
    while stream:
        end = http1.head_end(stream)
        lines = stream[:end].decode("latin-1").split("\r\n")
        fields = dict(line.split(": ", 1) for line in lines[1:] if line)
        length = int(fields.get("Content-Length", "0"))
        answers.append((int(lines[0].split(" ")[1]), stream[end:end + length]))
        stream = stream[end + length:]
    return answers


def status_as_text(stream: bytes) -> list[tuple[str, bytes]]:
    return [(str(status), body) for status, body in right(stream)]


def body_as_text(stream: bytes) -> list[tuple[int, str]]:
    return [(status, body.decode()) for status, body in right(stream)]


def off_by_the_crlf(stream: bytes) -> list[tuple[int, bytes]]:
    answers = []
    while stream:
        end = stream.index(b"\r\n\r\n") + 2  # forgot the second CRLF
        head = http1.parse_response(stream[:end + 2])
        length = int(head.headers.get("Content-Length", "0"))
        answers.append((head.status, stream[end:end + length]))
        stream = stream[end + length + 2:]
    return answers


def stub(stream: bytes):
    raise NotImplementedError


def test_split_responses_passes_the_right_parser(capsys):
    nb01.check_split_responses(right, two_answers())
    assert "2 responses found" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("function", "hint"),
    [
        (on_blank_lines, "You cut where an empty line (CRLF CRLF) appears"),
        (on_status_lines, "You cut where a status line appears"),
        (needs_content_length, "raised TypeError"),
        (needs_content_length, "A 204 No Content has no body and no Content-Length"),
        (case_sensitive, "Header names are case-insensitive"),
        (status_as_text, "as an int (200), not as text"),
        (lambda stream: [(float(status), body) for status, body in right(stream)],
         "as an int, such as 200"),
        (lambda stream: [(status, bytearray(body)) for status, body in right(stream)],
         "a bytes slice"),
        (body_as_text, "as bytes"),
        (off_by_the_crlf, "start with the CRLF of the empty line"),
        (lambda stream: right(stream)[0], "a list of (status, body) pairs"),
        (lambda stream: [status for status, _ in right(stream)], "should be a pair"),
        ("split_responses", "the function itself"),
    ],
)
def test_split_responses_names_the_mistake(function, hint):
    assert hint in rejected(nb01.check_split_responses, function, two_answers())


@pytest.mark.parametrize("missing", [..., None])
def test_split_responses_stub(missing):
    assert rejected(nb01.check_split_responses, missing, two_answers()) == NO_ANSWER
    assert rejected(nb01.check_split_responses, stub, two_answers()) == NO_FUNCTION


def test_the_wrong_parsers_really_do_pass_the_notebooks_own_stream():
    """The hidden cases matter: these wrong parsers split the notebook's own stream right."""
    stream = two_answers()
    for wrong in (on_blank_lines, on_status_lines, needs_content_length, case_sensitive):
        assert wrong(stream) == right(stream), wrong.__name__
