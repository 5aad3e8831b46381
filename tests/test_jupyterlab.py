"""Every notebook in a real JupyterLab, as a student runs it: ``make lab``, then Chromium opens
the notebook, checks it is not marked modified, runs all cells from the Run menu, and reads the
page: no error output, no stderr, every widget rendered, every cell reached.

One JupyterLab and one Chromium serve the module; each notebook gets a fresh page and its kernel
is shut down after it. About 8 s a notebook on two cores (the kernel start is most of it).
"""

from __future__ import annotations

import warnings

import nbformat
import pytest
from chromium import sync_chromium
from conftest import ROOT
from lab_session import make_lab, run_notebook

from wsteach.classroom import language_info

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with make_lab(tmp_path_factory.mktemp("lab")) as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    with sync_chromium() as chromium:
        yield chromium


@pytest.fixture(scope="module")
def committed() -> dict:
    """The notebooks' bytes before JupyterLab opened them."""
    return {path: path.read_bytes() for path in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
@pytest.mark.timeout(180)
def test_notebook_runs_clean_in_jupyterlab(path, lab, browser, committed):
    found = run_notebook(browser, lab, path.relative_to(ROOT).as_posix())
    assert not found.errors, f"error output in {path.name}:\n" + "\n".join(found.errors)
    assert not found.unexecuted, f"Run All did not reach: {found.unexecuted}"
    assert not found.stderr, f"a student sees stderr in {path.name}:\n" + "\n".join(found.stderr)
    assert not found.widget_problems, f"widgets not rendered: {found.widget_problems}"
    if found.modified_on_open:
        stale = language_info.differences(nbformat.read(path, as_version=4), ignore_version=False)
        assert stale == ["version"], (
            f"JupyterLab marks {path.name} modified before any edit (language_info differs in "
            f"{stale}: run `make language-info`)" if stale else
            f"JupyterLab marks {path.name} modified before any edit")
        warnings.warn(f"{path.name} opens modified only because this Python is not the one "
                      "its language_info names", stacklevel=1)


def test_running_saved_nothing(committed, lab):
    """Autosave is off in the test's settings: the committed notebooks are untouched."""
    changed = [path.name for path, data in committed.items() if path.read_bytes() != data]
    assert not changed, f"JupyterLab wrote {changed}"


def test_the_checks_catch_a_broken_notebook(lab, browser):
    """A notebook with stderr, an error and jupytext's bare language_info: all three are seen."""
    folder = ROOT / "build" / "jupyterlab-test"  # build/ is git-ignored; JupyterLab serves ROOT
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "broken.ipynb"
    cells = [nbformat.v4.new_code_cell(source) for source in (
        "import sys\nprint('a warning', file=sys.stderr)", "1 / 0", "print('never reached')")]
    nbformat.write(nbformat.v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)",
                       "language": "python"}, "language_info": {"name": "python"}}), path)
    try:
        found = run_notebook(browser, lab, path.relative_to(ROOT).as_posix())
    finally:
        path.unlink()
    assert found.modified_on_open
    assert len(found.stderr) == 1 and "a warning" in found.stderr[0]
    assert len(found.errors) == 1 and "ZeroDivisionError" in found.errors[0]
    assert found.unexecuted == ["print('never reached')"]
