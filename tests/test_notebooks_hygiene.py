"""Every notebook is committed clean: valid nbformat 4, no outputs, kernelspec python3, a title
cell first, each `solution` cell followed by a check cell of the notebook's own exercises
module, its paired percent-format script (jupytext) holding the same cells, and the navigation
links that `make navigation` writes, and the language_info its kernel reports."""

from __future__ import annotations

import re

import jupytext
import nbformat
import pytest
from conftest import ROOT

from wsteach.classroom import language_info, navigation

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


def test_the_readme_lists_every_notebook():
    assert not navigation.series.check_against_files(navigation.series.read_series())


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_the_navigation_links(path):
    """"Previous | Contents | Next" after the title and at the end, as `make navigation` writes."""
    entries = navigation.series.read_series()
    names = [entry.filename for entry in entries]
    assert path.name in names, f"{path.name} is not in the README's notebook table: add a row"
    position = names.index(path.name)
    assert not navigation.problems(path, navigation.links(entries, position))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_holds_the_language_info_its_kernel_reports(path):
    """Otherwise JupyterLab marks it modified as soon as its kernel starts."""
    changed = language_info.differences(nbformat.read(path, as_version=4), ignore_version=True)
    assert not changed, (f"JupyterLab would change language_info {changed} of {path.name} on "
                         "opening: run `make language-info`")
