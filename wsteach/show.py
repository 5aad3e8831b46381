"""Seeing it: small HTML pictures for notebooks (tables, coloured bytes).

Beside the protocol stack: nothing in the stack imports this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

from IPython.display import HTML

OK_COLOUR = "#d8f5d0"
PROBLEM_COLOUR = "#fde2c8"


def table(rows: Iterable[Sequence[object]], header: Sequence[str],
          row_colours: Iterable[str] | None = None) -> HTML:
    """An HTML table; each row may get a background colour (for instance green for 'fine')."""
    colours = list(row_colours) if row_colours is not None else None
    head = "".join(f"<th style='text-align:left'>{escape(str(h))}</th>" for h in header)
    body = []
    for index, row in enumerate(rows):
        style = f" style='background:{colours[index]}'" if colours else ""
        cells = "".join(f"<td style='text-align:left'>{escape(str(cell))}</td>" for cell in row)
        body.append(f"<tr{style}>{cells}</tr>")
    return HTML(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")


def checks_table(checks) -> HTML:
    """The environment table of the start notebook: one green or orange row per check."""
    return table(
        [(c.name, "yes" if c.ok else "no", c.detail) for c in checks],
        ["check", "fine?", "details"],
        [OK_COLOUR if c.ok else PROBLEM_COLOUR for c in checks],
    )


# ---- frames, byte by byte (RFC 6455 section 5.2) ----------------------------------------------

FIELD_COLOURS = {
    "FIN RSV opcode": "#ffd8a8",
    "MASK length": "#c5e3ff",
    "extended length": "#d0bfff",
    "masking key": "#ffc9c9",
    "payload": "#d3f9d8",
}


def frame_fields(wire: bytes) -> list[tuple[str, bytes]]:
    """Cut a frame's bytes into the fields of the section 5.2 diagram, in order."""
    extended = {126: 2, 127: 8}.get(wire[1] & 0x7F, 0)
    key = 4 if wire[1] & 0x80 else 0
    cuts = [("FIN RSV opcode", 1), ("MASK length", 1), ("extended length", extended),
            ("masking key", key)]
    fields, offset = [], 0
    for name, size in cuts:
        if size:
            fields.append((name, wire[offset:offset + size]))
            offset += size
    fields.append(("payload", wire[offset:]))
    return fields


def hex_view(wire: bytes, max_payload: int = 32) -> HTML:
    """A frame's bytes in hex, each field in its colour, with a legend (long payloads cut)."""
    cells = []
    for name, data in frame_fields(wire):
        shown = data[:max_payload] if name == "payload" else data
        more = f" … (+{len(data) - len(shown)} bytes)" if len(shown) < len(data) else ""
        cells.append(f"<span title='{name}' style='background:{FIELD_COLOURS[name]};"
                     f"padding:2px 4px;font-family:monospace'>{shown.hex(' ')}{more}</span>")
    legend = " ".join(f"<span style='background:{colour};padding:1px 6px'>{name}</span>"
                      for name, colour in FIELD_COLOURS.items())
    return HTML(f"<div style='line-height:2'>{' '.join(cells)}</div>"
                f"<div style='font-size:smaller'>{legend}</div>")


def packet_table(rows) -> HTML:
    """The packet table of a capture (rows from ``wsteach.capture.packet_rows``)."""
    colours = {"client → server": "#eef6ff", "server → client": "#f4fbee"}
    return table(
        [(r.index, f"{r.time * 1000:.2f} ms", r.direction, r.flags, r.size, r.what) for r in rows],
        ["#", "time", "direction", "TCP flags", "payload bytes", "what it is"],
        [colours[r.direction] for r in rows],
    )


def sequence_diagram(rows, title: str = "who sent what"):
    """A matplotlib sequence diagram: client on the left, server on the right, one arrow per
    packet, labelled with what it is (rows from ``wsteach.capture.packet_rows``)."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(9, 0.3 * len(rows) + 1))
    axes.axvline(0, color="#1c7ed6")
    axes.axvline(1, color="#2f9e44")
    for step, row in enumerate(rows):
        y = -step
        start, end = (0, 1) if row.direction.startswith("client") else (1, 0)
        colour = "#1c7ed6" if start == 0 else "#2f9e44"
        axes.annotate("", xy=(end, y - 0.6), xytext=(start, y),
                      arrowprops={"arrowstyle": "->", "color": colour})
        axes.text(0.5, y - 0.25, row.what[:60], ha="center", va="bottom", fontsize=7,
                  backgroundcolor="white")
    axes.set_xlim(-0.15, 1.15)
    axes.set_ylim(-len(rows), 0.5)
    axes.set_xticks([0, 1], ["client", "server"])
    axes.xaxis.tick_top()
    axes.set_yticks([])
    axes.set_title(title)
    for side in ("left", "right", "top", "bottom"):
        axes.spines[side].set_visible(False)
    figure.tight_layout()
    return figure
