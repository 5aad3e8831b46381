"""Checks for the exercises of notebook 06_packets_on_the_wire."""

from __future__ import annotations

from wsteach.exercises.checking import NotYet, passed, require_answer
from wsteach.wire.capture import FRAMES, TCP_HANDSHAKE, tcp_streams


def _length_form(size: int) -> str:
    if size <= 125:
        return "7-bit (0-125)"
    return "16-bit" if size <= 65535 else "64-bit (65536 and up)"


def check_16bit_length_frame(frames: list, answer: object) -> None:
    """The index of the first frame whose length uses the 16-bit form."""
    require_answer(answer)
    if isinstance(answer, bool) or not isinstance(answer, int) or not 0 <= answer < len(frames):
        raise NotYet(f"Give an index into the frames list (0 to {len(frames) - 1}).")
    expected = next(i for i, frame in enumerate(frames) if frame.wire[1] & 0x7F == 126)
    length = len(frames[answer].payload)
    if answer == expected:
        passed(f"Frame {answer}: byte 2 says 126, so the next 2 bytes hold the length {length}.")
        return
    if answer == expected + 1 and len(frames[expected].payload) == length:
        raise NotYet(f"Frame {answer} is the server's echo of frame {expected}: same length, "
                     "same 16-bit form, but not the first.")
    if _length_form(length) == "16-bit":
        raise NotYet(f"Frame {answer} ({length} bytes) does use the 16-bit form, but an earlier "
                     "frame does too: look for the first.")
    raise NotYet(f"Frame {answer} carries {length} bytes: its length uses the "
                 f"{_length_form(length)} form. The low 7 bits of the second byte say 126 for a "
                 "16-bit length.")


def check_late_capture(late: list, frames: list, answer: object) -> None:
    """The client's frames, as (opcode, payload length), cut by hand from a capture that began
    after the Upgrade. ``frames`` are the frames of the whole capture."""
    require_answer(answer)
    expected = [(frame.opcode, len(frame.payload)) for frame in frames
                if frame.direction == "client"]
    if not isinstance(answer, list) or not all(
            isinstance(item, tuple) and len(item) == 2 for item in answer):
        raise NotYet("Answer with a list of (opcode, payload length) tuples, one per frame.")
    if any(isinstance(opcode, bool) or not isinstance(opcode, int) for opcode, _ in answer):
        raise NotYet("Give each opcode as a number (frame.opcode), for instance Opcode.TEXT.")
    answer = [(int(opcode), length) for opcode, length in answer]
    if answer == [(int(opcode), length) for opcode, length in expected]:
        passed(f"{len(answer)} client frames, cut from the stream without the Upgrade: a frame "
               "says its own length, so once you know where one starts you can walk them all.")
        return
    client_frames = [frame for frame in frames if frame.direction == "client"]
    if [length for _, length in answer] == [len(frame.wire) for frame in client_frames]:
        raise NotYet("Those are the frames' sizes on the wire, header included: give the payload "
                     "length, len(frame.payload).")
    connection = tcp_streams(late)[0]
    stream = connection.from_client
    pieces = [end - start for start, end in zip([0, *stream.ends], stream.ends, strict=False)]
    packet_sizes = [len(packet["TCP"].payload) for packet in late
                    if packet["TCP"].sport == connection.client[1] and len(packet["TCP"].payload)]
    lengths = [length for _, length in answer]
    if answer and lengths in (pieces[:len(answer)], packet_sizes[:len(answer)]):
        raise NotYet("Those are TCP segments, not frames: one segment may hold part of a frame or "
                     "several frames. Decode the reassembled stream.")
    server = [(int(frame.opcode), len(frame.payload)) for frame in frames
              if frame.direction == "server"]
    if answer == server:
        raise NotYet("Those are the server's frames (from_server): the question asks for what "
                     "the client sent.")
    if len(answer) > len(expected):
        raise NotYet(f"{len(answer)} frames, but the client sent {len(expected)}: are the "
                     "server's frames mixed in? Use only the client's stream, from_client.")
    if answer == [(int(opcode), length) for opcode, length in expected[:len(answer)]]:
        raise NotYet(f"The first {len(answer)} frames are right, then the list stops. Keep "
                     "going: decode_frame returns (frame, used); the next frame starts `used` "
                     "bytes later, until decode_frame returns None.")
    wrong = next(i for i, (got, right) in enumerate(zip(answer, expected, strict=False))
                 if got != (int(right[0]), right[1]))
    raise NotYet(f"Frame {wrong} is {answer[wrong]}, but the client's frame {wrong} has opcode "
                 f"{int(expected[wrong][0])} and {expected[wrong][1]} bytes of payload.")


def check_packets_before_first_frame(rows: list, answer: object) -> None:
    """How many packets pass before the first WebSocket frame?"""
    require_answer(answer)
    if isinstance(answer, bool) or not isinstance(answer, int):
        raise NotYet("Answer with a whole number of packets.")
    expected = next(position for position, row in enumerate(rows) if row.phase == FRAMES)
    before = rows[:expected]
    if answer == expected:
        passed(f"{expected} packets: {sum(row.phase == TCP_HANDSHAKE for row in before)} to open "
               f"TCP, then the Upgrade and the 101 with their ACKs. All of them once per "
               "connection.")
        return
    handshake = sum(row.phase == TCP_HANDSHAKE for row in before)
    if answer == handshake:
        raise NotYet(f"{answer} is the TCP handshake alone; the HTTP Upgrade, the 101 and their "
                     "ACKs come before the first frame too.")
    if answer == sum(1 for row in before if row.size or "S" in row.flags):
        raise NotYet(f"{answer} leaves out the bare ACKs: they are packets too (look at the "
                     "'TCP flags' column).")
    if answer == expected + 1:
        raise NotYet(f"{answer} counts the packet of the first frame itself: how many come "
                     "before it?")
    if answer == expected - 1:
        raise NotYet(f"{answer} is the number of the last packet before the first frame; "
                     "packets are numbered from 0, so count them.")
    raise NotYet("Find the first row of the packet table that says 'WebSocket', and count the "
                 "rows above it.")
