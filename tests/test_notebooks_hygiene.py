"""Every notebook is committed clean: valid nbformat 4, no outputs, kernelspec python3, the
kernel's full language_info, a title cell first, each `solution` cell followed by a check cell
of the notebook's own exercises module, and its paired percent-format script (jupytext) holding
the same cells."""

from __future__ import annotations

import re

import jupytext
import nbformat
import pytest
from conftest import ROOT
from ipykernel.ipkernel import IPythonKernel

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
            own_module = f"nb{path.name[:2]}."
            assert own_module in following.source, (
                f"the cell after solution cell {index} must call wsteach.exercises.{own_module}"
            )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_stores_the_language_info_the_kernel_reports(path):
    """JupyterLab writes the kernel's language_info into the notebook when the kernel starts; a
    notebook that stores less shows as modified the moment it opens. The Python version is
    whichever made the notebook: only its presence is required, so another Python still passes
    (and marks the notebook modified, which nothing can avoid)."""
    stored = dict(nbformat.read(path, as_version=4).metadata.get("language_info", {}))
    expected = dict(IPythonKernel.language_info)
    assert re.fullmatch(r"\d+\.\d+\.\d+", str(stored.pop("version", ""))), (
        "language_info lacks the Python version (x.y.z)")
    expected.pop("version")
    assert stored == expected, (
        f"{path.name}: store the kernel's whole language_info, {IPythonKernel.language_info}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_imports_only_its_own_exercises(path):
    own = f"nb{path.name[:2]}"
    code = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells
                     if c.cell_type == "code")
    others = set(re.findall(r"wsteach\.exercises import (nb\d\d)", code)) - {own}
    assert not others, f"{path.name} imports the checks of other notebooks: {sorted(others)}"


def _cells(notebook) -> list[tuple[str, str, list[str]]]:
    return [(c.cell_type, c.source.strip(), sorted(c.metadata.get("tags", [])))
            for c in notebook.cells]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_and_its_script_hold_the_same_cells(path):
    script = path.with_suffix(".py")
    assert script.exists(), (f"{script.name} is missing: pair the notebook with "
                             f"`jupytext --set-formats ipynb,py:percent {path.name}`")
    in_notebook = _cells(nbformat.read(path, as_version=4))
    in_script = _cells(jupytext.read(script))
    assert in_script == in_notebook, (
        f"{path.name} and {script.name} differ: run `make notebooks` (jupytext --sync)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_follows_the_structure(path):
    text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells
                     if c.cell_type == "markdown")
    for heading in ("You will learn", "You need", "Summary", "Exercises"):
        assert heading in text, f"{path.name} lacks the '{heading}' part (see DESIGN.md)"
