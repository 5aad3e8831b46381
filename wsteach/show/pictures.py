"""Seeing it: small HTML pictures for notebooks (tables, coloured bytes).

Beside the protocol stack: nothing in the stack imports this module.
"""

from __future__ import annotations

import textwrap
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
    """The packet table of a capture (rows from ``wsteach.wire.capture.packet_rows``)."""
    colours = {"client → server": "#eef6ff", "server → client": "#f4fbee"}
    return table(
        [(r.index, f"{r.time * 1000:.2f} ms", r.direction, r.flags, r.size, r.what) for r in rows],
        ["#", "time", "direction", "TCP flags", "payload bytes", "what it is"],
        [colours[r.direction] for r in rows],
    )


LABEL_WIDTH = 80  # characters of a packet's description on its arrow (cut at a word)
PHASE_COLOURS = ("#f1f3f5", "white")


def sequence_diagram(rows, title: str = "who sent what"):
    """A matplotlib sequence diagram: client on the left, server on the right, one arrow per
    packet, labelled with its number and what it is; the phases of the connection (TCP
    handshake, HTTP, frames, closing) in grey and white bands, named on the right. Rows from
    ``wsteach.wire.capture.packet_rows``, or anything with ``index``, ``direction``, ``what``
    and ``phase`` ("" draws no band)."""
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
        label = textwrap.shorten(f"{row.index}: {row.what}", LABEL_WIDTH, placeholder=" …")
        axes.text(0.5, y - 0.25, label, ha="center", va="bottom", fontsize=7,
                  backgroundcolor="white")
    for band, (first, last) in enumerate(_phase_runs(rows)):
        axes.axhspan(-last - 0.8, -first + 0.2, color=PHASE_COLOURS[band % 2], zorder=0)
        packets = f"\n(packets {rows[first].index}-{rows[last].index})" if last > first else ""
        axes.text(1.05, -(first + last) / 2 - 0.3, rows[first].phase + packets, va="center",
                  fontsize=8, color="#495057")
    axes.set_xlim(-0.15, 1.45)
    axes.set_ylim(-len(rows), 0.5)
    axes.set_xticks([0, 1], ["client", "server"])
    axes.xaxis.tick_top()
    axes.set_yticks([])
    axes.set_title(title)
    for side in ("left", "right", "top", "bottom"):
        axes.spines[side].set_visible(False)
    figure.tight_layout()
    return figure


def _phase_runs(rows) -> list[tuple[int, int]]:
    """(first, last) position of each run of rows in the same phase (rows without one: none)."""
    runs: list[tuple[int, int]] = []
    for step, row in enumerate(rows):
        if not row.phase:
            continue
        if runs and runs[-1][1] == step - 1 and rows[step - 1].phase == row.phase:
            runs[-1] = (runs[-1][0], step)
        else:
            runs.append((step, step))
    return runs


BIT_COLOURS = {
    "FIN": "#ffa94d",
    "RSV1-3": "#ced4da",
    "opcode": "#ffd8a8",
    "MASK": "#74c0fc",
    "payload len": "#c5e3ff",
    "extended length": "#d0bfff",
    "masking key": "#ffc9c9",
    "payload": "#d3f9d8",
}


def labelled_bits(wire: bytes, payload_bytes: int = 4) -> list[tuple[str, int]]:
    """Each bit of a frame's header (and of its first payload bytes) with its field's name,
    in the order of the section 5.2 diagram."""
    names = ["FIN", "RSV1-3", "RSV1-3", "RSV1-3"] + ["opcode"] * 4 + ["MASK"] + ["payload len"] * 7
    for name, data in frame_fields(wire)[2:]:
        names += [name] * 8 * (min(len(data), payload_bytes) if name == "payload" else len(data))
    bits = [(byte >> (7 - i)) & 1 for byte in wire for i in range(8)]
    return list(zip(names, bits, strict=False))


def bit_layout(wire: bytes, payload_bytes: int = 4) -> HTML:
    """The frame drawn like RFC 6455's diagram: 32 bits a row, each field in its colour."""
    cells = labelled_bits(wire, payload_bytes)
    ruler = "".join(f"<th style='font-weight:normal;font-size:8px;padding:0 2px'>{i}</th>"
                    for i in range(32))
    rows = []
    for start in range(0, len(cells), 32):
        row = "".join(
            f"<td title='{name}' style='background:{BIT_COLOURS[name]};text-align:center;"
            f"font-family:monospace;padding:1px 3px;border:1px solid white'>{bit}</td>"
            for name, bit in cells[start:start + 32])
        rows.append(f"<tr>{row}</tr>")
    legend = " ".join(f"<span style='background:{colour};padding:1px 6px'>{name}</span>"
                      for name, colour in BIT_COLOURS.items())
    return HTML(f"<table style='border-collapse:collapse'><tr>{ruler}</tr>{''.join(rows)}"
                f"</table><div style='font-size:smaller;margin-top:4px'>{legend}</div>")


def byte_bits(rows: Iterable[tuple[str, int, str]]) -> HTML:
    """One row of eight bit cells per (label, byte value, note), 1 bits dark: for XOR by hand
    (notebook 05)."""
    def cells(value: int) -> str:
        return "".join(
            f"<td style='background:{'#1c7ed6' if bit else '#e7f5ff'};"
            f"color:{'white' if bit else 'black'};width:1.6em;text-align:center;"
            f"font-family:monospace'>{bit}</td>"
            for bit in (value >> (7 - i) & 1 for i in range(8)))
    body = "".join(
        f"<tr><th style='text-align:left'>{escape(label)}</th>{cells(value)}"
        f"<td style='font-family:monospace;text-align:left'>0x{value:02x} {escape(note)}</td></tr>"
        for label, value, note in rows)
    return HTML(f"<table>{body}</table>")


# ---- bytes and words of SHA-1 (notebook 03) ---------------------------------------------------

PART_COLOURS = ("#c5e3ff", "#ffa94d", "#e9ecef", "#d0bfff", "#d3f9d8", "#ffc9c9")


def coloured_bytes(parts: Sequence[tuple[str, bytes]], per_row: int = 16) -> HTML:
    """Bytes in hex, ``per_row`` to a line, each named part in its own colour, with a legend
    (for instance a SHA-1 message, its 0x80, the zeros and the length)."""
    cells = [(index, byte) for index, (_, data) in enumerate(parts) for byte in data]
    rows = []
    for start in range(0, len(cells), per_row):
        row = "".join(
            f"<td title='{escape(parts[index][0])}' style='background:"
            f"{PART_COLOURS[index % len(PART_COLOURS)]};font-family:monospace;padding:1px 4px;"
            f"border:1px solid white'>{byte:02x}</td>"
            for index, byte in cells[start:start + per_row])
        rows.append(f"<tr><td style='font-family:monospace;color:gray;padding-right:6px'>"
                    f"{start:3d}</td>{row}</tr>")
    legend = " ".join(
        f"<span style='background:{PART_COLOURS[index % len(PART_COLOURS)]};padding:1px 6px'>"
        f"{escape(name)} ({len(data)} bytes)</span>" for index, (name, data) in enumerate(parts))
    return HTML(f"<table style='border-collapse:collapse'>{''.join(rows)}</table>"
                f"<div style='font-size:smaller;margin-top:4px'>{legend}</div>")


def word_bits(axes, rows: Sequence[Sequence[int]], labels: Sequence[str], title: str = "",
              first_row: int = 0) -> None:
    """Draw 32-bit words as a black-and-white heatmap on matplotlib ``axes``: one row per step
    (a round, a schedule index), 32 columns per word, words labelled below and split by lines.
    Row ``i`` is labelled ``first_row + i``."""
    import numpy as np

    bits = np.array([[(word >> (31 - i)) & 1 for word in row for i in range(32)]
                     for row in rows], dtype=np.uint8)
    axes.imshow(bits, cmap="Greys", aspect="auto", interpolation="nearest",
                extent=(0, bits.shape[1], first_row + len(rows) - 0.5, first_row - 0.5))
    for index in range(1, len(labels)):
        axes.axvline(32 * index, color="#e03131", linewidth=1)
    axes.set_xticks([32 * i + 16 for i in range(len(labels))], labels)
    axes.set_title(title)


# ---- HTTP requests and responses as text (notebooks 01 and 02) --------------------------------

SIDE_COLOURS = {"client": "#eef6ff", "server": "#f4fbee"}


def readable(data: bytes, max_bytes: int = 300) -> str:
    """Bytes as text with their line ends visible (␍␊ for CRLF, ␊ for a lone LF); long data cut."""
    text = data[:max_bytes].decode("utf-8", "replace")
    text = "␍␊\n".join(piece.replace("\n", "␊\n") for piece in text.split("\r\n"))
    return text + (f"… (+{len(data) - max_bytes} bytes)" if len(data) > max_bytes else "")


def transcript(log: Iterable[tuple[str, bytes]], max_bytes: int = 300) -> HTML:
    """What each side sent, in order, as text: one row per write or read, client rows blue and
    server rows green (``log`` holds ("client" or "server", bytes) pairs, as ``polling`` traces)."""
    rows = []
    for side, data in log:
        rows.append(f"<tr style='background:{SIDE_COLOURS[side]}'>"
                    f"<td style='text-align:left;vertical-align:top'>{side}</td>"
                    f"<td style='text-align:right;vertical-align:top'>{len(data)} B</td>"
                    f"<td style='text-align:left'><pre style='margin:0;background:none'>"
                    f"{escape(readable(data, max_bytes))}</pre></td></tr>")
    head = "<tr><th>who sent it</th><th>bytes</th><th style='text-align:left'>the bytes</th></tr>"
    return HTML(f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>")
