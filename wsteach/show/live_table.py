"""A table that a background task keeps up to date: the article's guest list, pushed live.

An ``HTML`` widget whose value is replaced on each update. Updating a widget's value from an
asyncio task works while the kernel is idle; capturing into an ``Output`` widget from a task
does not (the output goes to whichever cell is running), so this never uses one.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import ipywidgets as widgets


class LiveTable:
    """``table.widget`` to display; ``table.show(rows, note)`` from any task to update it."""

    def __init__(self, columns: Sequence[str], title: str = "") -> None:
        self.columns = list(columns)
        self.title = title
        self.widget = widgets.HTML()
        self.updates = 0  # calls of show(): redraws after the empty table
        self._render([], "waiting for the first message…")

    def show(self, rows: Sequence[Sequence[object]], note: str = "") -> None:
        self._render(rows, note)
        self.updates += 1

    def _render(self, rows: Sequence[Sequence[object]], note: str) -> None:
        head = "".join(f"<th style='text-align:left'>{escape(c)}</th>" for c in self.columns)
        body = "".join("<tr>" + "".join(f"<td style='text-align:left'>{escape(str(cell))}</td>"
                                        for cell in row) + "</tr>" for row in rows)
        caption = f"<b>{escape(self.title)}</b> " if self.title else ""
        self.widget.value = (f"<div>{caption}<small>{escape(note)}</small></div>"
                             f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody>"
                             "</table>")
