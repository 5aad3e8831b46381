"""The student edition: every notebook with its solutions replaced by stubs.

A code cell tagged ``solution`` becomes a stub that defines the same names, so that the check
cell below it runs and says "No answer yet" instead of failing with a ``NameError``:

- ``name = ...`` for each name the cell assigns (``wsteach.exercises.checking.require_answer``
  turns the ``...`` into the hint);
- ``def f(args): raise NotImplementedError`` for each function (``async def`` too), with its
  signature and docstring kept (``checking.call_answer`` turns the error into the hint);
- imports kept as they are, since later cells may use them; anything else dropped.

A markdown cell tagged ``solution`` (a model answer to an open question) is replaced by a note
that the teacher's edition holds it. Outputs and execution counts are stripped; the checks stay.
This is what ThinkStats' and nbgrader's student copies do.

``python -m wsteach.classroom.student notebooks/03_opening_handshake.ipynb --out student/``
builds one notebook; ``make student`` builds them all.
"""

from __future__ import annotations

import argparse
import ast
import copy
import sys
from pathlib import Path

import nbformat
from IPython.core.inputtransformer2 import TransformerManager

SOLUTION = "solution"
YOUR_ANSWER = "# your answer here"
MODEL_ANSWER = "*(model answer in the teacher's edition)*"
STUB_BODY = f"{YOUR_ANSWER}\nraise NotImplementedError"


def assigned_names(node: ast.stmt) -> list[str]:
    """Names a top-level statement binds (``a, b = ...``, ``for i in``, ``with ... as f``,
    ``x += 1``, ``(y := ...)``), in order, without looking inside nested scopes."""
    names: list[str] = []

    def visit(child: ast.AST) -> None:
        if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
            names.append(child.id)
        if not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef |
                          ast.Lambda | ast.comprehension | ast.ListComp | ast.SetComp |
                          ast.DictComp | ast.GeneratorExp):
            for grandchild in ast.iter_child_nodes(child):
                visit(grandchild)

    for child in ast.iter_child_nodes(node):
        visit(child)
    return names


Definition = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef


def docstring(node: Definition) -> list[ast.stmt]:
    """The definition's docstring statement, if it has one (it is part of the prompt)."""
    first = node.body[0] if node.body else None
    if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)):
        return [first]
    return []


def with_body(node: Definition, body: list[ast.stmt]) -> tuple[str, str]:
    """The definition unparsed with ``body``: all but its last line, and its last line."""
    shell = copy.copy(node)
    shell.body = docstring(node) + body
    return ast.unparse(shell).rsplit("\n", 1)


def stub_definition(node: Definition) -> str:
    """The definition with its signature (and docstring) kept and its body left to write: a
    function raises ``NotImplementedError``; a class keeps its methods, each one stubbed."""
    if not isinstance(node, ast.ClassDef):
        head, last = with_body(node, [ast.Raise(exc=ast.Name("NotImplementedError"))])
        pad = last[:len(last) - len(last.lstrip())]
        return f"{head}\n{pad}{YOUR_ANSWER}\n{last}"
    head, last = with_body(node, [ast.Pass()])
    pad = last[:len(last) - len(last.lstrip())]
    methods = [child for child in node.body if isinstance(child, Definition)]
    if not methods:
        return f"{head}\n{pad}{YOUR_ANSWER}\n{last}"
    return head + "\n" + "\n\n".join(
        "\n".join(pad + line for line in stub_definition(m).splitlines()) for m in methods)


def stub_source(source: str) -> str:
    """The stub for a solution cell's code: what it defines, with the answers taken out."""
    tree = ast.parse(TransformerManager().transform_cell(source))
    imports = [ast.unparse(node) for node in tree.body if isinstance(node, ast.Import |
                                                                      ast.ImportFrom)]
    definitions = [stub_definition(node) for node in tree.body if isinstance(node, Definition)]
    names: list[str] = []
    for node in tree.body:
        if not isinstance(node, ast.Import | ast.ImportFrom | Definition):
            names += [name for name in assigned_names(node) if name not in names]
    assignments = [f"{name} = ..." for name in names]
    if not definitions:
        assignments.insert(0, YOUR_ANSWER)
    blocks = ["\n".join(imports), *definitions, "\n".join(assignments)]
    return ("\n\n\n" if definitions else "\n").join(block for block in blocks if block)


def student_notebook(notebook):
    """A copy of ``notebook`` as a student receives it."""
    notebook = nbformat.from_dict(notebook)
    notebook.metadata.pop("widgets", None)
    for cell in notebook.cells:
        solution = SOLUTION in cell.metadata.get("tags", [])
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            if solution:
                cell.source = stub_source(cell.source)
        elif solution:
            cell.source = MODEL_ANSWER
    return notebook


def build(path: Path, out: Path) -> Path:
    """Write the student edition of ``path`` into the folder ``out``; returns the new file."""
    if path.suffix != ".ipynb":
        raise SystemExit(f"{path} is not a notebook (.ipynb)")
    out.mkdir(parents=True, exist_ok=True)
    target = out / path.name
    nbformat.write(student_notebook(nbformat.read(path, as_version=4)), target)
    return target


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m wsteach.classroom.student",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="+", type=Path, help="the teacher's notebooks")
    parser.add_argument("--out", type=Path, default=Path("student"),
                        help="folder for the student edition (default student/)")
    args = parser.parse_args(argv)
    for path in args.notebooks:
        notebook = nbformat.read(path, as_version=4)
        stubs = sum(SOLUTION in cell.metadata.get("tags", []) for cell in notebook.cells)
        print(f"{build(path, args.out)}: {stubs} solution cells replaced by stubs")


if __name__ == "__main__":
    main(sys.argv[1:])
