"""The "Previous | Contents | Next" links of every notebook, generated from the series' table.

Each notebook gets the same markdown cell twice, tagged ``navigation``: right after its title
cell and as its last cell. Links are relative (``04_frame_layout.ipynb``, ``../README.md``), so
they work in JupyterLab; the book rewrites them to ``.html`` pages (``book.py``).

``python -m wsteach.classroom.navigation --write`` (``make navigation``) regenerates the cells
of every notebook listed in the README and its paired script, idempotently: a notebook whose
cells are already right is not written. Without ``--write`` it only reports what is wrong.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jupytext
import nbformat

from wsteach.classroom import series

TAG = "navigation"
CONTENTS = "../README.md"  # the series' table; the book's index.html stands in for it
IDS = ("navigation-top", "navigation-bottom")


def links(entries: list[series.Entry], position: int) -> str:
    """The markdown line for the notebook at ``position`` in the series."""
    parts = []
    if position > 0:
        previous = entries[position - 1]
        parts.append(f"[← {previous.title}]({previous.filename})")
    parts.append(f"[Contents]({CONTENTS})")
    if position + 1 < len(entries):
        following = entries[position + 1]
        parts.append(f"[{following.title} →]({following.filename})")
    return " | ".join(parts)


def is_navigation(cell) -> bool:
    return TAG in cell.get("metadata", {}).get("tags", [])


def with_navigation(notebook, source: str):
    """A copy of ``notebook`` whose only navigation cells are ``source`` after the title and at
    the end (cell ids fixed, so that regenerating changes nothing)."""
    notebook = nbformat.from_dict(notebook)
    cells = [cell for cell in notebook.cells if not is_navigation(cell)]
    top, bottom = (nbformat.v4.new_markdown_cell(source, id=cell_id,
                                                 metadata={"tags": [TAG]}) for cell_id in IDS)
    notebook.cells = cells[:1] + [top] + cells[1:] + [bottom]
    return notebook


def problems(path: Path, source: str) -> list[str]:
    """What is wrong with ``path``'s navigation cells, one sentence each."""
    notebook = nbformat.read(path, as_version=4)
    found = [cell.source for cell in notebook.cells if is_navigation(cell)]
    if not found:
        return [f"{path.name} has no navigation links: run `make navigation`"]
    if (len(notebook.cells) < 3 or not is_navigation(notebook.cells[1])
            or not is_navigation(notebook.cells[-1]) or len(found) != 2):
        return [f"{path.name}'s navigation must be the second and the last cell, once each: "
                "run `make navigation`"]
    return [f"{path.name}'s navigation links are out of date ({text!r}, expected {source!r}): "
            "run `make navigation`" for text in found if text != source]


def cell_texts(notebook) -> list[tuple[str, str, list[str]]]:
    """What a notebook and its paired script must agree on (as the hygiene test compares)."""
    return [(cell.cell_type, cell.source.strip(), sorted(cell.metadata.get("tags", [])))
            for cell in notebook.cells]


def write(path: Path, source: str) -> bool:
    """Give ``path`` (and its paired script) the navigation ``source``; True if it changed."""
    script = path.with_suffix(".py")
    if script.exists() and cell_texts(jupytext.read(script)) != cell_texts(jupytext.read(path)):
        raise SystemExit(f"{path.name} and {script.name} differ: run `make notebooks` first")
    text = nbformat.writes(with_navigation(nbformat.read(path, as_version=4), source)) + "\n"
    if text == path.read_text(encoding="utf-8"):
        return False
    path.write_text(text, encoding="utf-8")
    script.write_text(jupytext.writes(jupytext.read(path), fmt="py:percent"), encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wsteach.classroom.navigation",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true",
                        help="regenerate the navigation cells (otherwise only check them)")
    args = parser.parse_args(argv)
    entries = series.read_series()
    found = series.check_against_files(entries)
    for position, entry in enumerate(entries):
        path, source = series.NOTEBOOKS / entry.filename, links(entries, position)
        if not path.exists():
            continue
        if args.write:
            if write(path, source):
                print(f"wrote the navigation of {path.name}")
        else:
            found += problems(path, source)
    print("\n".join(found) if found else "every notebook's navigation is up to date")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
