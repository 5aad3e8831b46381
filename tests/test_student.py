"""The student edition: stubs that match what each solution defines, and every student notebook
executing with errors only where an exercise is unanswered, each saying "No answer yet".

The student notebooks are built by ``make student`` (into a temporary folder) and executed with
nbclient, two at a time (the machine has two cores); all of them take about 15 s.
"""

from __future__ import annotations

import ast
import subprocess
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import nbformat
import pytest
from conftest import ROOT
from nbclient import NotebookClient

from wsteach.classroom import student
from wsteach.exercises import checking

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
NO_ANSWER = "No answer yet"

# What the student edition shows today where the teacher's notebook or its check is not ready
# for a stub (found by this test, owned by the exercise fixes): notebook, a piece of the
# cell's source, what the cell prints. An entry that no longer happens gives a warning: delete it.
KNOWN_GAPS: dict[tuple[str, str], str] = {}  # (notebook, a piece of the cell): what it printed


def test_each_assigned_name_becomes_an_ellipsis_in_order_once():
    source = ("import hashlib\nkey = 'k'\nfirst, (second, *rest) = 1, (2, 3)\nkey += 'x'\n"
              "for i in range(2):\n    total = i\nprint([j for j in range(3)], (w := 4))\n"
              "d['x'] = 1\n")
    assert student.stub_source(source) == (
        "import hashlib\n# your answer here\nkey = ...\nfirst = ...\nsecond = ...\nrest = ...\n"
        "i = ...\ntotal = ...\nw = ...")


def test_functions_keep_their_signature_and_docstring_and_raise_not_implemented():
    source = ('@decorator\nasync def answer(source: str, *, hold: float = 0.5) -> bytes:\n'
              '    """Answer a long poll."""\n    return b"204"\n\n\nvalue = answer\n')
    stub = student.stub_source(source)
    assert stub == ('@decorator\nasync def answer(source: str, *, hold: float=0.5) -> bytes:\n'
                    '    """Answer a long poll."""\n    # your answer here\n'
                    '    raise NotImplementedError\n\n\nvalue = ...')
    ast.parse(stub)


def test_a_class_keeps_its_methods_as_stubs():
    stub = student.stub_source("class Echo(Base):\n    x = 1\n    def on(self, m):\n"
                               "        return m\n")
    assert stub == ("class Echo(Base):\n    def on(self, m):\n        # your answer here\n"
                    "        raise NotImplementedError")


def test_ipython_syntax_is_understood():
    assert student.stub_source("%time result = 2\nvalue = await compute()") == (
        "# your answer here\nvalue = ...")


def test_the_notebook_loses_answers_and_outputs_but_keeps_its_checks():
    solution = nbformat.v4.new_code_cell("answer = 42", metadata={"tags": ["solution"]},
                                         execution_count=3,
                                         outputs=[nbformat.v4.new_output("stream", text="42")])
    check = nbformat.v4.new_code_cell("nb00.check(answer)")
    model = nbformat.v4.new_markdown_cell("Because 42.", metadata={"tags": ["solution"]})
    notebook = nbformat.v4.new_notebook(cells=[solution, check, model],
                                        metadata={"widgets": {"state": {}}})
    edition = student.student_notebook(notebook)
    assert [cell.source for cell in edition.cells] == [
        "# your answer here\nanswer = ...", "nb00.check(answer)", student.MODEL_ANSWER]
    assert edition.cells[0].outputs == [] and edition.cells[0].execution_count is None
    assert "widgets" not in edition.metadata
    assert notebook.cells[0].source == "answer = 42", "the teacher's notebook is left alone"


def test_stubs_give_the_no_answer_hint():
    with pytest.raises(checking.NotYet, match=NO_ANSWER):
        checking.require_answer(...)

    def stub():
        raise NotImplementedError

    with pytest.raises(checking.NotYet, match=NO_ANSWER):
        checking.call_answer(stub)


@dataclass
class Problem:
    notebook: str
    cell: str  # the cell's source
    output: str  # "NotYet: No answer yet ..." or "(no error)"


def run(path) -> list[Problem]:
    """Execute a student notebook; what differs from "each check cell says No answer yet"."""
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=120, allow_errors=True, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    found = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        errors = [f"{o.ename}: {o.evalue}" for o in cell.outputs if o.output_type == "error"]
        after_stub = index > 0 and student.SOLUTION in notebook.cells[index - 1].metadata.get(
            "tags", [])
        if after_stub and not (errors and errors[0].startswith(f"NotYet: {NO_ANSWER}")):
            found.append(Problem(path.stem, cell.source, errors[0] if errors else "(no error)"))
        elif not after_stub and errors:
            found.append(Problem(path.stem, cell.source, errors[0]))
    return found


@pytest.fixture(scope="module")
def problems(tmp_path_factory) -> dict[str, list[Problem]]:
    out = tmp_path_factory.mktemp("student")
    subprocess.run(["make", "-s", "student", f"STUDENT_OUT={out}"], cwd=ROOT, check=True,
                   capture_output=True)
    built = sorted(out.glob("*.ipynb"))
    assert [p.name for p in built] == [p.name for p in NOTEBOOKS]
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip([p.stem for p in built], pool.map(run, built), strict=True))


def known(problem: Problem) -> bool:
    return any(problem.notebook == notebook and piece in problem.cell
               for notebook, piece in KNOWN_GAPS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_student_notebook_fails_only_in_unanswered_checks(path, problems):
    found = problems[path.stem]
    unknown = [f"cell {p.cell.splitlines()[0]!r}: {p.output}" for p in found if not known(p)]
    assert not unknown, f"the student edition of {path.name} does not say '{NO_ANSWER}':\n" + (
        "\n".join(unknown))
    for notebook, piece in KNOWN_GAPS:
        if notebook == path.stem and not any(piece in p.cell for p in found):
            warnings.warn(f"{notebook}: the known gap at {piece!r} is fixed; delete it from "
                          "KNOWN_GAPS in tests/test_student.py", stacklevel=1)
