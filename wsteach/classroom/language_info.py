"""Each notebook's ``language_info`` as the kernel reports it, so JupyterLab opens it unmodified.

When a kernel starts, JupyterLab writes the kernel's ``language_info`` into the notebook's
metadata; if it differs from what the file holds (jupytext writes only ``{"name": "python"}``),
the notebook is marked modified before the student has touched it, and closing it asks to
save. The notebooks therefore carry the full ``language_info`` of ipykernel
(``IPythonKernel.language_info``), the Python version included: on a machine with another
Python version JupyterLab still changes the version, and nothing else.

``python -m wsteach.classroom.language_info --write`` (``make language-info``) writes it into
every notebook that lacks it; without ``--write`` it lists them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
from ipykernel.ipkernel import IPythonKernel

from wsteach.classroom import series


def expected() -> dict:
    """What this environment's kernel reports (its Python version included)."""
    return dict(IPythonKernel.language_info)


def differences(notebook, *, ignore_version: bool) -> list[str]:
    """The keys of ``language_info`` that the kernel would change."""
    have, want = notebook.metadata.get("language_info", {}), expected()
    keys = sorted((set(have) | set(want)) - ({"version"} if ignore_version else set()))
    return [key for key in keys if have.get(key) != want.get(key)]


def write(path: Path) -> bool:
    """Give the notebook at ``path`` the kernel's ``language_info``; True if it changed."""
    notebook = nbformat.read(path, as_version=4)
    if not differences(notebook, ignore_version=False):
        return False
    notebook.metadata["language_info"] = expected()
    nbformat.write(notebook, path)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wsteach.classroom.language_info",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="write it (otherwise only list)")
    args = parser.parse_args(argv)
    stale = []
    for path in sorted(series.NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        if args.write:
            if write(path):
                print(f"wrote the language_info of {path.name}")
        elif differences(nbformat.read(path, as_version=4), ignore_version=False):
            stale.append(path.name)
    if stale:
        print("JupyterLab would mark these modified on opening: " + ", ".join(stale) +
              "; run `make language-info`")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
