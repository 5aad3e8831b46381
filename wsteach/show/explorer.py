"""An interactive frame explorer (ipywidgets): type a message, pick the opcode, FIN and MASK,
and watch the bytes and the coloured header of the frame change (RFC 6455 section 5.2)."""

from __future__ import annotations

import ipywidgets as widgets

from wsteach.frames import Frame, Opcode, encode_frame
from wsteach.show import pictures

EXAMPLE_KEY = bytes.fromhex("37fa213d")  # RFC 6455 section 5.7's key, so results are stable


class FrameExplorer:
    """The widgets, and the frame they describe. Display ``explorer.widget`` in a notebook."""

    def __init__(self, text: str = "Hello") -> None:
        self.text = widgets.Textarea(value=text, description="message")
        self.opcode = widgets.Dropdown(options=[(o.name.lower(), o) for o in Opcode],
                                       value=Opcode.TEXT, description="opcode")
        self.fin = widgets.Checkbox(value=True, description="FIN (last fragment)")
        self.mask = widgets.Checkbox(value=False, description="MASK (client to server)")
        self.summary = widgets.HTML()
        self.picture = widgets.HTML()
        for control in (self.text, self.opcode, self.fin, self.mask):
            control.observe(self._update, names="value")
        self.widget = widgets.VBox([
            widgets.HBox([self.opcode, self.fin, self.mask]), self.text, self.summary,
            self.picture,
        ])
        self._update()

    @property
    def wire(self) -> bytes:
        """The frame's bytes for the current settings."""
        frame = Frame(self.opcode.value, self.text.value.encode("utf-8"), self.fin.value)
        return encode_frame(frame, EXAMPLE_KEY if self.mask.value else None)

    def _update(self, change: object = None) -> None:
        wire = self.wire
        payload = len(self.text.value.encode("utf-8"))
        note = ""
        if Opcode(self.opcode.value).is_control and (payload > 125 or not self.fin.value):
            note = (" <b>A peer rejects this frame:</b> control frames carry at most 125 bytes "
                    "and are never fragmented.")
        self.summary.value = (f"{payload} bytes of payload + {len(wire) - payload} bytes of "
                              f"header = <b>{len(wire)} bytes</b> on the wire.{note}")
        self.picture.value = pictures.bit_layout(wire).data + pictures.hex_view(wire).data
