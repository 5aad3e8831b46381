"""The checks of notebook 06 (packets on the wire), on the stored session capture: the right
answer passes, and each wrong answer a student plausibly gives is rejected with the hint that
names that mistake."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from conftest import ROOT, require

from wsteach.exercises import nb06
from wsteach.exercises.checking import NotYet
from wsteach.frames import Opcode, decode_frame
from wsteach.wire import capture

PACKETS = capture.read_pcap(ROOT / "data" / "captures" / "websocket_session.pcap")
ROWS = capture.packet_rows(PACKETS)
FRAMES = capture.websocket_sessions(PACKETS)[0].frames
FIRST_FRAME_PACKET = next(row.index for row in ROWS if row.phase == capture.FRAMES)
LATE = PACKETS[FIRST_FRAME_PACKET:]
CLIENT = [frame for frame in FRAMES if frame.direction == "client"]


def rejected(check, *args, hint: str) -> None:
    with pytest.raises(NotYet, match=hint):
        check(*args)


@pytest.mark.parametrize("stub", [..., None])
def test_a_stub_is_no_answer_yet(stub: object) -> None:
    rejected(nb06.check_16bit_length_frame, FRAMES, stub, hint="No answer yet")
    rejected(nb06.check_late_capture, LATE, FRAMES, stub, hint="No answer yet")
    rejected(nb06.check_packets_before_first_frame, ROWS, stub, hint="No answer yet")


# ---- 6.1: the first frame with a 16-bit length ------------------------------------------------

FIRST_16BIT = next(i for i, frame in enumerate(FRAMES) if frame.wire[1] & 0x7F == 126)


def test_16bit_length_frame_right(capsys: pytest.CaptureFixture[str]) -> None:
    nb06.check_16bit_length_frame(FRAMES, FIRST_16BIT)
    assert "byte 2 says 126" in capsys.readouterr().out


@pytest.mark.parametrize(("answer", "hint"), [
    (FIRST_16BIT + 1, "the server's echo of frame"),  # the 126-byte echo
    (FIRST_16BIT + 2, "does use the 16-bit form, but an earlier frame does too"),  # 65535 B
    (FIRST_16BIT - 1, "uses the 7-bit .0-125. form"),  # the 125-byte echo
    (next(i for i, f in enumerate(FRAMES) if len(f.payload) == 65536),
     "uses the 64-bit .65536 and up. form"),
    (len(FRAMES), "Give an index into the frames list"),
    (-1, "Give an index into the frames list"),
    (str(FIRST_16BIT), "Give an index into the frames list"),
    (True, "Give an index into the frames list"),
])
def test_16bit_length_frame_wrong(answer: object, hint: str) -> None:
    rejected(nb06.check_16bit_length_frame, FRAMES, answer, hint=hint)


# ---- 6.2: the client's frames from a capture that started late -------------------------------

def frames_by_hand(data: bytes) -> list[tuple[int, int]]:
    found, offset = [], 0
    while (decoded := decode_frame(data[offset:])) is not None:
        frame, used = decoded
        found.append((frame.opcode, len(frame.payload)))
        offset += used
    return found


CLIENT_BYTES = capture.tcp_streams(LATE)[0].from_client.data
SERVER_BYTES = capture.tcp_streams(LATE)[0].from_server.data


def test_late_capture_right(capsys: pytest.CaptureFixture[str]) -> None:
    assert capture.websocket_sessions(LATE) == []  # the premise: no tool finds the frames
    nb06.check_late_capture(LATE, FRAMES, frames_by_hand(CLIENT_BYTES))
    # Plain ints for the opcodes are as right as Opcode members.
    nb06.check_late_capture(LATE, FRAMES, [(int(op), n) for op, n in frames_by_hand(CLIENT_BYTES)])
    assert capsys.readouterr().out.startswith(f"✔ {len(CLIENT)} client frames")


SEGMENTS = [len(bytes(p["TCP"].payload)) for p in LATE
            if p["TCP"].sport == capture.tcp_streams(LATE)[0].client[1]
            and len(bytes(p["TCP"].payload))]


@pytest.mark.parametrize(("answer", "hint"), [
    ([(f.opcode, len(f.wire)) for f in CLIENT], "sizes on the wire, header included"),
    ([(Opcode.TEXT, size) for size in SEGMENTS], "TCP segments, not frames"),
    (frames_by_hand(SERVER_BYTES), "the server's frames"),
    ([(f.opcode, len(f.payload)) for f in FRAMES], "are the server's frames mixed in"),
    (frames_by_hand(CLIENT_BYTES)[:1], "The first 1 frames are right"),  # offset not advanced
    (frames_by_hand(CLIENT_BYTES)[:-1], "then the list stops"),  # the close frame left out
    ([("text", 5)], "opcode as a number"),
    ([len(f.payload) for f in CLIENT], "list of .opcode, payload length. tuples"),
    ((Opcode.TEXT, 5), "list of .opcode, payload length. tuples"),
    ([(Opcode.TEXT, 5), (Opcode.TEXT, 8)], "Frame 1 is"),  # binary taken for text
])
def test_late_capture_wrong(answer: object, hint: str) -> None:
    rejected(nb06.check_late_capture, LATE, FRAMES, answer, hint=hint)


# ---- 6.3: packets before the first frame ------------------------------------------------------

BEFORE = next(position for position, row in enumerate(ROWS) if row.phase == capture.FRAMES)


def test_packets_before_first_frame_right(capsys: pytest.CaptureFixture[str]) -> None:
    assert BEFORE == 7  # SYN, SYN-ACK, ACK, GET, ACK, 101, ACK in the stored capture
    nb06.check_packets_before_first_frame(ROWS, BEFORE)
    assert "7 packets: 3 to open TCP" in capsys.readouterr().out


@pytest.mark.parametrize(("answer", "hint"), [
    (3, "the TCP handshake alone"),
    (4, "leaves out the bare ACKs"),  # SYN, SYN-ACK, GET, 101
    (8, "counts the packet of the first frame itself"),
    (6, "the number of the last packet before the first frame"),
    (2, "count the rows above it"),
    ("7", "whole number"),
    (7.0, "whole number"),
])
def test_packets_before_first_frame_wrong(answer: object, hint: str) -> None:
    rejected(nb06.check_packets_before_first_frame, ROWS, answer, hint=hint)


def test_tshark_finds_no_frame_in_the_late_capture_either(tmp_path) -> None:
    """What exercise 6.2 tells the student: without the Upgrade, Wireshark sees no WebSocket."""
    require(shutil.which("tshark") is not None, "tshark (Wireshark's dissector)",
            "apt-get install tshark")
    pcap = tmp_path / "late.pcap"
    capture.write_pcap(LATE, pcap)
    found = subprocess.run(["tshark", "-n", "-r", str(pcap), "-Y", "websocket"],
                           capture_output=True, text=True, timeout=60, check=True)
    assert found.stdout == ""
