"""Checks for the exercises of notebook 04_frame_layout."""

from __future__ import annotations

from wsteach.exercises.checking import NotYet, passed, require_answer
from wsteach.frames import Frame, Opcode, encode_frame


def check_first_two_bytes(answer: object) -> None:
    """The first two bytes of an unmasked, final binary frame of 300 bytes."""
    require_answer(answer)
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
    if second & 0x7F == 300 & 0x7F or second & 0x7F != 126:
        raise NotYet("300 does not fit in 7 bits: byte 2 must say 126, and the length follows "
                     "in the next two bytes.")
    passed(f"{bytes(answer).hex(' ')}: FIN + binary, then 126 announcing a 16-bit length.")


def check_header_reading(header: bytes, answer: object) -> None:
    """Read opcode, payload length and mask bit from two header bytes."""
    require_answer(answer)
    if not isinstance(answer, tuple) or len(answer) != 3:
        raise NotYet("Answer with a tuple (opcode, length, masked).")
    opcode, length, masked = answer
    if opcode != header[0] & 0x0F:
        raise NotYet("The opcode is the low 4 bits of the first byte: header[0] & 0x0F.")
    if length != header[1] & 0x7F:
        raise NotYet("The length is the low 7 bits of the second byte: header[1] & 0x7F "
                     "(the top bit is MASK, not part of the length).")
    if bool(masked) != bool(header[1] & 0x80):
        raise NotYet("MASK is the top bit of the second byte: header[1] & 0x80.")
    passed(f"opcode {opcode!r}, {length} bytes of payload, masked={bool(masked)}.")


def check_frame_length(frame_length) -> None:
    """A function giving a frame's total size on the wire."""
    require_answer(frame_length)
    for size in (0, 1, 125, 126, 127, 65535, 65536, 70000):
        for masked in (False, True):
            expected = len(encode_frame(Frame(Opcode.BINARY, bytes(size)),
                                        b"abcd" if masked else None))
            got = frame_length(size, masked)
            if got != expected:
                raise NotYet(f"frame_length({size}, masked={masked}) gave {got}, the frame takes "
                             f"{expected} bytes. Check the form switches at 126 and 65536, and "
                             "the 4-byte key.")
    passed("Right for every length form, masked and unmasked.")

