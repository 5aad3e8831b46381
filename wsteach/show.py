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
