"""Checks for the exercises of notebook 06_packets_on_the_wire."""

from __future__ import annotations

from wsteach.exercises.checking import NotYet, passed, require_answer


def check_16bit_length_frame(frames: list, answer: object) -> None:
    """The index of the first frame whose length uses the 16-bit form."""
    require_answer(answer)
    if not isinstance(answer, int) or not 0 <= answer < len(frames):
        raise NotYet(f"Give an index into the frames list (0 to {len(frames) - 1}).")
    expected = next(i for i, frame in enumerate(frames) if frame.wire[1] & 0x7F == 126)
    length = len(frames[answer].payload)
    if answer != expected:
        form = "7-bit (0-125)" if length <= 125 else "64-bit (65536 and up)" if length > 65535 \
            else "16-bit, but it is not the first one"
        raise NotYet(f"Frame {answer} carries {length} bytes: its length uses the {form} form. "
                     "Look at the low 7 bits of the second byte: 126 announces a 16-bit length.")
    passed(f"Frame {answer}: byte 2 says 126, so the next 2 bytes hold the length {length}.")


def check_unmasked(frame, answer: object) -> None:
    """Unmask a client frame's payload by hand."""
    require_answer(answer)
    if not isinstance(answer, bytes | bytearray):
        raise NotYet("The answer should be bytes: build it with bytes(...) from a list of ints.")
    if bytes(answer) == frame.wire[-len(frame.payload):]:
        raise NotYet("These are still the masked bytes: XOR each byte with key[i % 4].")
    if bytes(answer) != frame.payload:
        raise NotYet("Not the payload yet. Byte i of the payload is masked[i] ^ key[i % 4], with "
                     "the 4-byte key that comes right before the payload.")
    passed(f"Unmasked: {bytes(answer)!r}. XOR twice with the same key gives the bytes back.")

