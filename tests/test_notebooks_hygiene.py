"""Every notebook is committed clean: valid nbformat 4, no outputs, kernelspec python3, a title
cell first, and each `solution` cell followed by a check cell."""

from __future__ import annotations

import re

import nbformat
import pytest
from conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/ holds no .ipynb files"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_clean(path):
    assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", path.name), "name must be NN_snake_title.ipynb"
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    assert nb.nbformat == 4
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# "), "first cell: a title"
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        assert not cell.outputs, f"cell {index} has outputs: clear them before committing"
        assert cell.execution_count is None, f"cell {index} has an execution count"
        if "solution" in cell.metadata.get("tags", []):
            following = nb.cells[index + 1] if index + 1 < len(nb.cells) else None
            assert following is not None and following.cell_type == "code", (
                f"solution cell {index} must be followed by a check cell"
            )
            assert "exercises." in following.source, (
                f"the cell after solution cell {index} must call wsteach.exercises"
            )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_follows_the_structure(path):
    text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells
                     if c.cell_type == "markdown")
    for heading in ("You will learn", "You need", "Summary", "Exercises"):
        assert heading in text, f"{path.name} lacks the '{heading}' part (see DESIGN.md)"
