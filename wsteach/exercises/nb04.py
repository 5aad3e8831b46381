"""Checks for the exercises of notebook 04_frame_layout."""

from __future__ import annotations

from wsteach.exercises.checking import NotYet, call_answer, passed, require_answer
from wsteach.frames import CloseCode, Frame, Opcode, encode_frame


def check_first_two_bytes(answer: object) -> None:
    """The first two bytes of an unmasked, final binary frame of 300 bytes."""
    require_answer(answer)
    if isinstance(answer, str):
        raise NotYet("Answer with bytes, not text: bytes([first, second]), or "
                     "bytes.fromhex('...') if you wrote it in hex.")
    if not isinstance(answer, bytes | bytearray) or len(answer) != 2:
        raise NotYet("Answer with exactly two bytes, e.g. bytes([first, second]).")
    first, second = answer
    if first & 0x0F != 0x2:
        raise NotYet(f"The opcode bits of 0x{first:02x} say 0x{first & 0x0F:X}; binary is 0x2.")
    if not first & 0x80:
        raise NotYet("FIN is the top bit of the first byte: set it (1 << 7) for a whole message.")
    if first & 0x70:
        raise NotYet("RSV1-3 must stay 0 without an extension.")
    if second & 0x80:
        raise NotYet("The MASK bit (top bit of byte 2) is 0: the frame is unmasked.")
    if second & 0x7F == 127:
        raise NotYet("127 announces a 64-bit length, for 65536 bytes and more; 300 fits in 16 "
                     "bits, and the shortest form must be used: 126.")
    if second & 0x7F != 126:
        raise NotYet("300 does not fit in 7 bits: byte 2 must say 126, and the length follows "
                     "in the next two bytes.")
    passed(f"{bytes(answer).hex(' ')}: FIN + binary, then 126 announcing a 16-bit length.")


def check_header_reading(header: bytes, answer: object) -> None:
    """Read opcode, payload length and mask bit from two header bytes."""
    require_answer(answer)
    if not isinstance(answer, tuple) or len(answer) != 3:
        raise NotYet("Answer with a tuple (opcode, length, masked).")
    opcode, length, masked = answer
    if isinstance(opcode, bool) or not isinstance(opcode, int):
        raise NotYet("The opcode is a number: Opcode(header[0] & 0x0F).")
    if opcode != header[0] & 0x0F:
        if opcode == header[0]:
            raise NotYet("That is the whole first byte, FIN included: keep only its low 4 bits, "
                         "header[0] & 0x0F.")
        raise NotYet("The opcode is the low 4 bits of the first byte: header[0] & 0x0F.")
    if length != header[1] & 0x7F:
        raise NotYet("The length is the low 7 bits of the second byte: header[1] & 0x7F "
                     "(the top bit is MASK, not part of the length).")
    if not isinstance(masked, bool):
        raise NotYet(f"masked={masked!r}: answer True or False, bool(header[1] & 0x80).")
    if masked != bool(header[1] & 0x80):
        raise NotYet("MASK is the top bit of the second byte: header[1] & 0x80.")
    passed(f"opcode {Opcode(opcode)!r}, {length} bytes of payload, masked={masked}.")


def _frame_length_hint(size: int, masked: bool, got: object) -> str:
    """Name the mistake behind the first wrong frame_length(size, masked)."""
    def total(size: int, masked: bool) -> int:
        return len(encode_frame(Frame(Opcode.BINARY, bytes(size)), b"abcd" if masked else None))

    expected = total(size, masked)
    if masked and got == total(size, False):
        return "A masked frame carries a 4-byte masking key after the length: add 4."
    if got == expected - size:
        return "That is the header alone: the frame on the wire is header + payload."
    if size == 125 and got == expected + 2:
        return "125 bytes still fit in the 7-bit length: the 16-bit form starts at 126."
    if size in (126, 127) and got == expected - 2:
        return ("126 and 127 do not fit in the 7-bit form (they are its signals): from 126 on, "
                "two more bytes hold the length.")
    if size == 65535 and got == expected + 6:
        return "65535 bytes still fit in the 16-bit length: the 64-bit form starts at 65536."
    if size >= 65536 and got == expected - 6:
        return ("65536 does not fit in 16 bits (their largest value is 65535): from 65536 on, "
                "the length takes 8 bytes.")
    if size >= 65536 and got == expected - 4:
        return "The long form has an 8-byte (64-bit) length, not 4 bytes."
    return "Check the form switches at 126 and 65536, and the 4-byte key."


def check_frame_length(frame_length) -> None:
    """A function giving a frame's total size on the wire."""
    require_answer(frame_length)
    for size in (0, 1, 125, 126, 127, 65535, 65536, 70000):
        for masked in (False, True):
            expected = len(encode_frame(Frame(Opcode.BINARY, bytes(size)),
                                        b"abcd" if masked else None))
            got = call_answer(frame_length, size, masked)
            if got != expected:
                raise NotYet(f"frame_length({size}, masked={masked}) gave {got}, the frame takes "
                             f"{expected} bytes. {_frame_length_hint(size, masked, got)}")
    passed("Right for every length form, masked and unmasked.")


# What each close code means, for a student who predicted the wrong one (RFC 6455 7.4.1).
CLOSE_CODE_MEANINGS = {
    CloseCode.NORMAL: "1000 is a normal closure: the purpose of the connection was fulfilled.",
    1003: "1003 is for data of a kind the endpoint will not take (binary sent to a text-only "
          "application): the kind is known, just unwanted. A reserved opcode is no kind at all.",
    1006: "1006 never travels in a close frame: it is what an API reports when a connection "
          "ended without one (RFC 6455 7.4.1).",
    1007: "1007 is for data that does not match its type, like text that is not UTF-8.",
    1008: "1008 is a policy violation, for when no more specific code fits.",
    1011: "1011 is the server's own failure (an unexpected condition), not the client's.",
}


def check_reserved_opcode_prediction(prediction: object, answered: int) -> None:
    """Predict, then run: the close code a server answers to a frame with opcode 0x3.
    ``answered`` is the code the server just sent."""
    require_answer(prediction)
    if isinstance(prediction, bool) or not isinstance(prediction, int):
        raise NotYet("Predict the close code as an int, for instance 1000.")
    if prediction != answered:
        meaning = CLOSE_CODE_MEANINGS.get(prediction, f"{prediction} is not the code it sent.")
        raise NotYet(f"The server answered {answered}. {meaning} An opcode that no one defined "
                     "breaks the framing rules themselves (RFC 6455 5.2: the endpoint must fail "
                     "the connection).")
    passed(f"Predicted and measured: {answered}, protocol error. Opcodes 0x3-0x7 and 0xB-0xF are "
           "reserved for future versions; a peer that receives one must fail the connection.")


# ---- the fragment reassembler ---------------------------------------------------------------

SPLIT_CHARACTER = "你好".encode()  # 6 bytes; cut after 4, the second character is split
REASSEMBLY_CASES = [
    ("one unfragmented text frame", [Frame(Opcode.TEXT, b"Hello")], ["Hello"]),
    ("a text message in two fragments",
     [Frame(Opcode.TEXT, b"Hel", fin=False), Frame(Opcode.CONTINUATION, b"lo")], ["Hello"]),
    ("two fragments with a ping between them",
     [Frame(Opcode.TEXT, b"Hel", fin=False), Frame(Opcode.PING, b"ping?"),
      Frame(Opcode.CONTINUATION, b"lo")], ["Hello"]),
    ("a binary message in three fragments",
     [Frame(Opcode.BINARY, b"\x00\x01", fin=False), Frame(Opcode.CONTINUATION, b"\x02", fin=False),
      Frame(Opcode.CONTINUATION, b"\x03")], [b"\x00\x01\x02\x03"]),
    ("a Chinese text whose second character is cut between two fragments",
     [Frame(Opcode.TEXT, SPLIT_CHARACTER[:4], fin=False),
      Frame(Opcode.CONTINUATION, SPLIT_CHARACTER[4:])], ["你好"]),
    ("two messages, the second fragmented around a pong",
     [Frame(Opcode.BINARY, b"one"), Frame(Opcode.TEXT, b"tw", fin=False),
      Frame(Opcode.PONG, b""), Frame(Opcode.CONTINUATION, b"o")], [b"one", "two"]),
]


def _as_bytes(message: object) -> object:
    return message.encode() if isinstance(message, str) else message


def _reassembly_hint(frames: list[Frame], expected: list, got: object) -> str:
    """Name the mistake behind a wrong result for one case."""
    if got is None:
        return "The function returned None: did it forget to return the list?"
    if not isinstance(got, list):
        return f"Return a list of messages, not {type(got).__name__}."
    controls = [frame.payload for frame in frames if frame.opcode.is_control and frame.payload]
    if any(payload in _as_bytes(message) for payload in controls for message in got
           if isinstance(_as_bytes(message), bytes | bytearray)):
        return ("A control frame's payload ended up in a message. Pings and pongs may sit "
                "between fragments but are no part of the message: skip them.")
    if len(got) > len(expected):
        return ("More messages than were sent: a frame with FIN=0 is only the start of a "
                "message. Join its payload with the continuation frames that follow, up to "
                "the one with FIN=1.")
    if len(got) < len(expected):
        return "Fewer messages than were sent: a frame with FIN=1 ends a message."
    fragmented = any(frame.opcode == Opcode.CONTINUATION for frame in frames)
    for message, right in zip(got, expected, strict=True):
        if type(message) is not type(right) and _as_bytes(message) == _as_bytes(right):
            if isinstance(right, str) and not fragmented:
                return "Text messages are str: decode the joined bytes as UTF-8."
            if isinstance(right, str):
                return ("A continuation frame (opcode 0x0) continues the kind of message its "
                        "first frame started: a text message stays text.")
            return ("A binary message stays bytes: only text messages are decoded, and a "
                    "continuation frame (opcode 0x0) continues the kind its first frame started.")
    return "Join the payloads from a text or binary frame up to FIN=1; skip control frames."


def check_reassembler(reassemble) -> None:
    """A student's reassemble(frames) -> list of messages (str for text, bytes for binary)."""
    require_answer(reassemble)
    for name, frames, expected in REASSEMBLY_CASES:
        try:
            got = call_answer(reassemble, list(frames))
        except NotYet as error:
            if isinstance(error.__cause__, UnicodeDecodeError):
                raise NotYet(f"For {name}: UTF-8 failed. A character may be cut between two "
                             "fragments: join the bytes of the whole message first, then "
                             "decode.") from None
            raise
        if got != expected:
            raise NotYet(f"For {name} the function returned {got!r}, not {expected!r}. "
                         f"{_reassembly_hint(frames, expected, got)}")
    passed("Every case reassembled: fragments joined up to FIN=1, control frames skipped, the "
           "message's kind taken from its first frame, and UTF-8 decoded after joining.")
