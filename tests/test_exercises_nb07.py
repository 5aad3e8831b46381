"""The checks of notebook 07's exercises: the right answer passes, a stub says "No answer
yet", and each wrong answer a student would plausibly give is refused with the hint that names
that mistake."""

from __future__ import annotations

import zlib

import pytest

from wsteach.exercises import nb07
from wsteach.exercises.checking import NotYet
from wsteach.frames import Frame, Opcode, close_payload, encode_frame
from wsteach.paths import CAPTURES
from wsteach.wire import capture

NO_ANSWER = "No answer yet"


def refused(check, *args) -> str:
    """The hint a wrong answer gets (the test fails if the answer is accepted)."""
    with pytest.raises(NotYet) as caught:
        check(*args)
    return str(caught.value)


# ---- 7.1: who sends the first FIN -------------------------------------------------------------

CLOSINGS = ("close_by_client", "close_by_server", "close_with_reason", "peer_vanished")
RIGHT_FIN = {"close_by_client": "server", "close_by_server": "server",
             "close_with_reason": "server", "peer_vanished": "nobody"}


@pytest.fixture(scope="module")
def rows_by_capture() -> dict:
    return {name: capture.packet_rows(capture.read_pcap(CAPTURES / f"{name}.pcap"))
            for name in CLOSINGS}


def test_first_fin_right_answer(rows_by_capture, capsys) -> None:
    nb07.check_first_fin(rows_by_capture, dict(RIGHT_FIN))
    assert "✔" in capsys.readouterr().out


@pytest.mark.parametrize("stub", [..., None, dict.fromkeys(CLOSINGS, ...)])
def test_first_fin_stub(rows_by_capture, stub) -> None:
    assert NO_ANSWER in refused(nb07.check_first_fin, rows_by_capture, stub)


@pytest.mark.parametrize(("name", "guess", "hint"), [
    ("close_by_client", "client", "the side that starts the closing handshake is not"),
    ("close_with_reason", "client", "the side that starts the closing handshake is not"),
    ("close_by_server", "client", "7.1.1"),
    ("peer_vanished", "client", "RST"),
    ("peer_vanished", "server", "RST"),
    ("close_by_client", "Server", "say 'client', 'server' or 'nobody'"),
    ("close_by_server", "nobody", "someone does send FIN there"),
])
def test_first_fin_wrong(rows_by_capture, name, guess, hint) -> None:
    assert hint in refused(nb07.check_first_fin, rows_by_capture, {**RIGHT_FIN, name: guess})


def test_first_fin_missing_key(rows_by_capture) -> None:
    answer = {key: value for key, value in RIGHT_FIN.items() if key != "peer_vanished"}
    assert "exactly these keys" in refused(nb07.check_first_fin, rows_by_capture, answer)


# ---- 7.2: the browser's CloseEvent ------------------------------------------------------------

PAGE_CLOSE = "the page calls close() with no code"
RESET = "a server resets TCP (RST)"
BAD_CLOSE = "a server's close frame carries 1005 (never allowed on the wire)"
RIGHT_EVENTS = {PAGE_CLOSE: (1005, True), RESET: (1006, False), BAD_CLOSE: (1006, False)}


def test_close_events_right_answer(capsys) -> None:
    nb07.check_browser_close_events(list(RIGHT_EVENTS), dict(RIGHT_EVENTS))
    assert "✔" in capsys.readouterr().out


def test_close_events_are_the_stored_measurement() -> None:
    measured = nb07.browser_close_events()
    assert {ending: measured[ending] for ending in RIGHT_EVENTS} == RIGHT_EVENTS


@pytest.mark.parametrize("stub", [..., None, {**RIGHT_EVENTS, RESET: ...}])
def test_close_events_stub(stub) -> None:
    assert NO_ANSWER in refused(nb07.check_browser_close_events, list(RIGHT_EVENTS), stub)


@pytest.mark.parametrize(("ending", "guess", "hint"), [
    (PAGE_CLOSE, (1000, True), "no code was sent, and 1000 is a code"),
    (RESET, (1006, True), "wasClean is true only when the closing handshake completed"),
    (BAD_CLOSE, (1002, False), "its page learns only that the connection failed"),
    (BAD_CLOSE, (1005, False), "1005 means a close frame came without a code"),
    (RESET, (1001, False), "the code is not 1001"),
    (RESET, [1006, False], "tuple (code, wasClean)"),
])
def test_close_events_wrong(ending, guess, hint) -> None:
    answer = {**RIGHT_EVENTS, ending: guess}
    assert hint in refused(nb07.check_browser_close_events, list(RIGHT_EVENTS), answer)


def test_close_events_missing_key() -> None:
    answer = {PAGE_CLOSE: (1005, True)}
    assert "keys are exactly" in refused(nb07.check_browser_close_events, list(RIGHT_EVENTS),
                                         answer)


# ---- 7.3: a close payload decoded by hand -----------------------------------------------------

CODE, REASON = 4001, "下课了, class is over"
KEY = bytes.fromhex("a8f695ab")
WIRE = encode_frame(Frame(Opcode.CLOSE, close_payload(CODE, REASON)), KEY)
PAYLOAD = close_payload(CODE, REASON)
MASKED = WIRE[6:]


def test_close_payload_right_answer(capsys) -> None:
    nb07.check_close_payload(WIRE, (CODE, REASON))
    assert "✔" in capsys.readouterr().out


@pytest.mark.parametrize("stub", [..., None])
def test_close_payload_stub(stub) -> None:
    assert NO_ANSWER in refused(nb07.check_close_payload, WIRE, stub)


@pytest.mark.parametrize(("answer", "hint"), [
    ((int.from_bytes(MASKED[:2], "big"), REASON), "masked bytes"),
    ((int.from_bytes(PAYLOAD[:2], "little"), REASON), "big-endian"),
    ((CODE, PAYLOAD[2:].decode("latin-1")), "not Latin-1"),
    ((CODE, PAYLOAD.decode("utf-8", "replace")), "skip the first 2 bytes"),
    ((CODE, PAYLOAD.decode("latin-1")[:2] + REASON), "skip the first 2 bytes"),
    ((CODE, PAYLOAD[2:]), "a str"),
    ([CODE, REASON], "tuple (code, reason)"),
    ((1000, REASON), "1000 is not the code"),
    ((CODE, "class is over"), "is not the reason"),
])
def test_close_payload_wrong(answer, hint) -> None:
    assert hint in refused(nb07.check_close_payload, WIRE, answer)


# ---- 7.4: inflating permessage-deflate ---------------------------------------------------------

TAIL = b"\x00\x00\xff\xff"


@pytest.fixture(scope="module")
def compressed() -> tuple[list[bytes], list[str]]:
    frames = [frame for frame in capture.websocket_frames(CAPTURES / "compressed_session.pcap")
              if frame.direction == "client" and frame.inflated is not None]
    return [frame.payload for frame in frames], [frame.inflated for frame in frames]


def right_inflate(payloads):
    inflater = zlib.decompressobj(-15)
    return [inflater.decompress(p + TAIL).decode() for p in payloads]


def test_inflate_right_answer(compressed, capsys) -> None:
    nb07.check_inflate_messages(right_inflate, *compressed)
    assert "✔" in capsys.readouterr().out


@pytest.mark.parametrize("stub", [..., None])
def test_inflate_stub(compressed, stub) -> None:
    assert NO_ANSWER in refused(nb07.check_inflate_messages, stub, *compressed)


WRONG_INFLATERS = {
    "a fresh context per message": (
        lambda ps: [zlib.decompressobj(-15).decompress(p + TAIL).decode() for p in ps],
        "keep one decompressobj"),
    "the zlib header expected": (
        lambda ps: [zlib.decompressobj(15).decompress(p + TAIL).decode() for p in ps],
        "without the 2-byte zlib header"),
    "the 00 00 ff ff tail forgotten": (
        lambda ps: (lambda d: [d.decompress(p).decode() for p in ps])(zlib.decompressobj(-15)),
        "Append b'\\x00\\x00\\xff\\xff'"),
    "zlib.decompress on each message": (
        lambda ps: [zlib.decompress(p + TAIL, -15).decode() for p in ps],
        "Use a decompressobj"),
    "bytes, not str": (
        lambda ps: (lambda d: [d.decompress(p + TAIL) for p in ps])(zlib.decompressobj(-15)),
        "decode the text messages"),
    "only the first message": (lambda ps: right_inflate(ps[:1]), "one str per message"),
}


@pytest.mark.parametrize("mistake", sorted(WRONG_INFLATERS))
def test_inflate_wrong(compressed, mistake) -> None:
    function, hint = WRONG_INFLATERS[mistake]
    assert hint in refused(nb07.check_inflate_messages, function, *compressed)


# ---- 7.5: where UTF-8 fails --------------------------------------------------------------------

BAD = b"caf\xc3(au lait"


def test_utf8_right_answer(capsys) -> None:
    nb07.check_utf8_failure(BAD, 4)
    assert "✔" in capsys.readouterr().out


@pytest.mark.parametrize("stub", [..., None])
def test_utf8_stub(stub) -> None:
    assert NO_ANSWER in refused(nb07.check_utf8_failure, BAD, stub)


@pytest.mark.parametrize(("answer", "hint"), [
    (3, "valid first byte of a multi-byte character"),
    (len(BAD) - 1, "a fail-fast decoder does not wait for the whole frame"),
    (len(BAD), "between 0 and"),
    (-1, "between 0 and"),
    (5, "indexes start at 0"),  # counted from 1
    (6, "is not where it goes wrong"),
    (0, "is not where it goes wrong"),
    ("4", "an int"),
    (True, "an int"),
])
def test_utf8_wrong(answer, hint) -> None:
    assert hint in refused(nb07.check_utf8_failure, BAD, answer)
