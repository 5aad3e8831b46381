"""Notebook 04's frame explorer, driven through its widgets' Python model."""

from __future__ import annotations

from wsteach.frames import Frame, Opcode, decode_frame, encode_frame
from wsteach.show.explorer import EXAMPLE_KEY, FrameExplorer


def test_changing_the_text_changes_the_bytes_and_the_picture():
    explorer = FrameExplorer("Hello")
    before, picture = explorer.wire, explorer.picture.value
    explorer.text.value = "你好" * 50  # 300 bytes: the 16-bit length form
    assert explorer.wire == encode_frame(Frame(Opcode.TEXT, ("你好" * 50).encode()))
    assert explorer.wire != before and explorer.picture.value != picture
    assert "300 bytes of payload + 4 bytes of header" in explorer.summary.value


def test_opcode_fin_and_mask_controls_reach_the_frame():
    explorer = FrameExplorer("ping!")
    explorer.opcode.value = Opcode.PING
    explorer.mask.value = True
    explorer.fin.value = False
    assert explorer.wire[0] == 0x09 and explorer.wire[1] & 0x80
    assert explorer.wire[2:6] == EXAMPLE_KEY
    assert "A peer rejects this frame" in explorer.summary.value  # a fragmented control frame
    explorer.fin.value = True
    assert decode_frame(explorer.wire) == (Frame(Opcode.PING, b"ping!", mask_key=EXAMPLE_KEY),
                                           len(explorer.wire))
    assert "rejects" not in explorer.summary.value
