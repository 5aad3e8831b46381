"""The checks of notebook 04 (frame layout): the right answer passes, and each wrong answer a
student plausibly gives is rejected with the hint that names that mistake."""

from __future__ import annotations

import pytest

from wsteach.exercises import nb04
from wsteach.exercises.checking import NotYet
from wsteach.frames import Frame, Opcode


def rejected(check, *args, hint: str) -> None:
    with pytest.raises(NotYet, match=hint):
        check(*args)


def stub(*args: object) -> object:
    raise NotImplementedError


@pytest.mark.parametrize("answer", [..., None])
def test_a_stub_is_no_answer_yet(answer: object) -> None:
    rejected(nb04.check_first_two_bytes, answer, hint="No answer yet")
    rejected(nb04.check_header_reading, bytes([0x89, 0x84]), answer, hint="No answer yet")
    rejected(nb04.check_frame_length, answer, hint="No answer yet")
    rejected(nb04.check_reserved_opcode_prediction, answer, 1002, hint="No answer yet")
    rejected(nb04.check_reassembler, answer, hint="No answer yet")


def test_a_function_stub_is_no_answer_yet() -> None:
    rejected(nb04.check_frame_length, stub, hint="No answer yet")
    rejected(nb04.check_reassembler, stub, hint="No answer yet")


# ---- 4.1: the first two bytes of a 300-byte binary frame -------------------------------------

def test_first_two_bytes_right(capsys: pytest.CaptureFixture[str]) -> None:
    nb04.check_first_two_bytes(bytes([0x82, 126]))
    assert "82 7e" in capsys.readouterr().out


@pytest.mark.parametrize(("answer", "hint"), [
    (bytes([0x82, 300 & 0x7F]), "300 does not fit in 7 bits"),  # the length cut to 7 bits
    (bytes([0x82, 127]), "shortest form must be used: 126"),
    (bytes([0x81, 126]), "binary is 0x2"),  # text
    (bytes([0x02, 126]), "FIN is the top bit"),
    (bytes([0x82, 0xFE]), "MASK bit"),
    (bytes([0xC2, 126]), "RSV1-3 must stay 0"),
    (bytes([0x82, 0x7E, 0x01, 0x2C]), "exactly two bytes"),  # the whole header
    ("82 7e", "not text"),
    ([0x82, 126], "exactly two bytes"),
])
def test_first_two_bytes_wrong(answer: object, hint: str) -> None:
    rejected(nb04.check_first_two_bytes, answer, hint=hint)


# ---- 4.2: read opcode, length and MASK --------------------------------------------------------

HEADER = bytes([0x89, 0x84])


@pytest.mark.parametrize("answer", [(Opcode.PING, 4, True), (9, 4, True)])
def test_header_reading_right(answer: tuple, capsys: pytest.CaptureFixture[str]) -> None:
    nb04.check_header_reading(HEADER, answer)
    assert "4 bytes of payload, masked=True" in capsys.readouterr().out


@pytest.mark.parametrize(("answer", "hint"), [
    ((Opcode.PING, 132, True), "the top bit is MASK"),  # header[1] whole
    ((Opcode.PING, 4, False), "MASK is the top bit"),
    ((Opcode.PONG, 4, True), "low 4 bits of the first byte"),
    ((0x89, 4, True), "the whole first byte, FIN included"),
    ((Opcode.PING, 4, 128), "answer True or False"),  # header[1] & 0x80, truthy but no bool
    ((True, 4, True), "The opcode is a number"),
    ((Opcode.PING, 4), "a tuple"),
    ([Opcode.PING, 4, True], "a tuple"),
])
def test_header_reading_wrong(answer: object, hint: str) -> None:
    rejected(nb04.check_header_reading, HEADER, answer, hint=hint)


# ---- 4.3: frame_length ------------------------------------------------------------------------

def with_forms(short_limit: int = 125, medium_limit: int = 65535, long_bytes: int = 8,
               key_bytes: int = 4, payload: bool = True):
    """frame_length written with one knob turned: where the forms switch, how long the
    64-bit form is, the key's size, whether the payload counts."""
    def frame_length(size: int, masked: bool) -> int:
        extended = 0 if size <= short_limit else 2 if size <= medium_limit else long_bytes
        return 2 + extended + (key_bytes if masked else 0) + (size if payload else 0)
    return frame_length


def test_frame_length_right(capsys: pytest.CaptureFixture[str]) -> None:
    nb04.check_frame_length(with_forms())
    assert "Right for every length form" in capsys.readouterr().out


@pytest.mark.parametrize(("function", "hint"), [
    (with_forms(short_limit=124), "125 bytes still fit in the 7-bit length"),
    (with_forms(short_limit=126), "126 and 127 do not fit in the 7-bit form"),
    (with_forms(medium_limit=65534), "65535 bytes still fit in the 16-bit length"),
    (with_forms(medium_limit=65536), "65536 does not fit in 16 bits"),
    (with_forms(long_bytes=4), "8-byte .64-bit. length, not 4 bytes"),
    (with_forms(key_bytes=0), "4-byte masking key"),
    (with_forms(payload=False), "the header alone"),
    (lambda size, masked: size + 2, "4-byte masking key"),  # the first input it gets wrong
    (lambda size, masked: 0, "Check the form switches"),
    (lambda size: size, "raised TypeError"),
])
def test_frame_length_wrong(function, hint: str) -> None:
    rejected(nb04.check_frame_length, function, hint=hint)


# ---- 4.4: predict the close code for a reserved opcode ----------------------------------------

def test_reserved_opcode_prediction_right(capsys: pytest.CaptureFixture[str]) -> None:
    nb04.check_reserved_opcode_prediction(1002, 1002)
    assert "Predicted and measured: 1002" in capsys.readouterr().out


@pytest.mark.parametrize(("prediction", "hint"), [
    (1003, "1003 is for data of a kind the endpoint will not take"),
    (1007, "1007 is for data that does not match its type"),
    (1006, "1006 never travels in a close frame"),
    (1000, "1000 is a normal closure"),
    (1011, "the server's own failure"),
    (1001, "1001 is not the code it sent"),
    ("1002", "as an int"),
    (True, "as an int"),
])
def test_reserved_opcode_prediction_wrong(prediction: object, hint: str) -> None:
    rejected(nb04.check_reserved_opcode_prediction, prediction, 1002, hint=hint)


# ---- 4.5: the fragment reassembler ------------------------------------------------------------

def reassembler(*, skip_control: bool = True, join: bool = True, decode_each: bool = False,
                text_as_bytes: bool = False, kind_from_each: bool = False):
    """A reassembler with one mistake switched on (none by default)."""
    def reassemble(frames: list[Frame]) -> list:
        messages, parts, kind = [], [], None
        for frame in frames:
            if frame.opcode.is_control and skip_control:
                continue
            if frame.opcode != Opcode.CONTINUATION:
                kind, parts = frame.opcode, [] if join else parts
            elif kind_from_each:
                kind = frame.opcode  # the continuation's 0x0 taken as the message's kind
            parts.append(frame.payload.decode() if decode_each and kind == Opcode.TEXT
                         else frame.payload)
            if frame.fin or not join:
                if decode_each and kind == Opcode.TEXT:
                    messages.append("".join(parts))
                else:
                    data = b"".join(parts)
                    text = kind == Opcode.TEXT and not text_as_bytes
                    messages.append(data.decode() if text else data)
                parts = []
        return messages
    return reassemble


def test_reassembler_right(capsys: pytest.CaptureFixture[str]) -> None:
    nb04.check_reassembler(reassembler())
    assert "Every case reassembled" in capsys.readouterr().out


@pytest.mark.parametrize(("function", "hint"), [
    (reassembler(skip_control=False), "A control frame's payload ended up in a message"),
    (reassembler(join=False), "a frame with FIN=0 is only the start"),
    (reassembler(decode_each=True), "join the bytes of the whole message first, then decode"),
    (reassembler(text_as_bytes=True), "Text messages are str"),
    (reassembler(kind_from_each=True), "continues the kind of message its first frame started"),
    (lambda frames: [m.decode() if isinstance(m, bytes) else m for m in reassembler()(frames)],
     "A binary message stays bytes"),  # every message decoded
    (lambda frames: reassembler()(frames)[:1], "Fewer messages than were sent"),
    (lambda frames: None, "forget to return"),
    (lambda frames: "Hello", "Return a list of messages, not str"),
])
def test_reassembler_wrong(function, hint: str) -> None:
    rejected(nb04.check_reassembler, function, hint=hint)
