"""Checks for the notebooks' exercises: each says what is wrong, not just that it is wrong.

An exercise is a markdown prompt, a code cell tagged ``solution`` (replaced by a stub in the
student edition) and a check cell calling one function here. A check raises ``NotYet`` with a
hint when the answer is wrong, so a notebook run in CI fails if a teacher's solution breaks.
"""

from __future__ import annotations


class NotYet(AssertionError):
    """The answer is not right yet; the message says what to look at."""


def _passed(message: str) -> None:
    print(f"✔ {message}")


def _require_answer(answer: object) -> None:
    if answer is Ellipsis or answer is None:
        raise NotYet("No answer yet: replace the ... in the cell above with your code and run it.")


def check_utf8_length(text: str, answer: object) -> None:
    """00_start_here: how many bytes does ``text`` take in UTF-8?"""
    _require_answer(answer)
    expected = len(text.encode("utf-8"))
    if answer == len(text):
        raise NotYet(f"{answer} counts characters, not bytes. A Chinese character takes 3 bytes "
                     "in UTF-8: encode the text first.")
    if answer != expected:
        raise NotYet(f"{answer} is not the number of UTF-8 bytes. Try len(text.encode('utf-8')).")
    _passed(f"{text!r} is {len(text)} characters but {expected} bytes in UTF-8: a WebSocket "
            "length field counts bytes.")


def check_16bit_length_frame(frames: list, answer: object) -> None:
    """06_packets_on_the_wire: the index of the first frame whose length uses the 16-bit form."""
    _require_answer(answer)
    if not isinstance(answer, int) or not 0 <= answer < len(frames):
        raise NotYet(f"Give an index into the frames list (0 to {len(frames) - 1}).")
    expected = next(i for i, frame in enumerate(frames) if frame.wire[1] & 0x7F == 126)
    length = len(frames[answer].payload)
    if answer != expected:
        form = "7-bit (0-125)" if length <= 125 else "64-bit (65536 and up)" if length > 65535 \
            else "16-bit, but it is not the first one"
        raise NotYet(f"Frame {answer} carries {length} bytes: its length uses the {form} form. "
                     "Look at the low 7 bits of the second byte: 126 announces a 16-bit length.")
    _passed(f"Frame {answer}: byte 2 says 126, so the next 2 bytes hold the length {length}.")


def check_unmasked(frame, answer: object) -> None:
    """06_packets_on_the_wire: unmask a client frame's payload by hand."""
    _require_answer(answer)
    if not isinstance(answer, bytes | bytearray):
        raise NotYet("The answer should be bytes: build it with bytes(...) from a list of ints.")
    if bytes(answer) == frame.wire[-len(frame.payload):]:
        raise NotYet("These are still the masked bytes: XOR each byte with key[i % 4].")
    if bytes(answer) != frame.payload:
        raise NotYet("Not the payload yet. Byte i of the payload is masked[i] ^ key[i % 4], with "
                     "the 4-byte key that comes right before the payload.")
    _passed(f"Unmasked: {bytes(answer)!r}. XOR twice with the same key gives the bytes back.")
