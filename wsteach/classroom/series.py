"""The series' table: the notebooks in order, as the README's table lists them.

The README's "The notebooks" table is the one place that says which notebooks exist, in which
order and under which title; navigation links, the book's index and TEACHING.md are generated
from it. A row looks like ``| [03 · The opening handshake](notebooks/03_opening_handshake.ipynb)
| what it builds |``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from wsteach.paths import DATA

ROOT = DATA.parent
README = ROOT / "README.md"
NOTEBOOKS = ROOT / "notebooks"

ROW = re.compile(r"^\| \[(?P<title>\d\d · [^\]]+)\]\((?P<link>notebooks/(?P<name>\d\d_[a-z0-9_]+)"
                 r"\.ipynb)\) \| (?P<builds>.+?) \|\s*$")


@dataclass(frozen=True)
class Entry:
    """One notebook of the series: ``03 · The opening handshake``, ``03_opening_handshake``."""

    title: str  # "03 · The opening handshake", the link text of the README's row
    name: str  # "03_opening_handshake", the file name without .ipynb
    builds: str  # the README's "what it builds" column (markdown)

    @property
    def number(self) -> str:
        return self.name[:2]

    @property
    def filename(self) -> str:
        return f"{self.name}.ipynb"


def read_series(readme: Path = README) -> list[Entry]:
    """The README table's rows, in order; a clear error if the table is missing or unordered."""
    entries = [Entry(m["title"], m["name"], m["builds"])
               for m in map(ROW.match, readme.read_text(encoding="utf-8").splitlines()) if m]
    if not entries:
        raise ValueError(f"{readme} has no notebook table (rows like "
                         "'| [03 · Title](notebooks/03_title.ipynb) | what it builds |')")
    numbers = [entry.number for entry in entries]
    if numbers != sorted(set(numbers)):
        raise ValueError(f"{readme}'s notebook table is out of order or repeats: {numbers}")
    return entries


def check_against_files(entries: list[Entry], folder: Path = NOTEBOOKS) -> list[str]:
    """What differs between the table and the notebooks on disk, one sentence each."""
    listed = {entry.filename for entry in entries}
    present = {path.name for path in folder.glob("[0-9][0-9]_*.ipynb")}
    return ([f"{name} is not in the README's notebook table: add a row" for name in
             sorted(present - listed)] +
            [f"the README's notebook table lists {name}, which does not exist" for name in
             sorted(listed - present)])
