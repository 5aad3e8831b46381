"""The package's folders show its layers, and the layers hold (DESIGN.md, "The package").

Each module's imports are read with ``ast`` (nothing is imported to check them), so a failure
names the file, the line and the import that breaks the rule.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

PACKAGE = ROOT / "wsteach"
CORE = {"sha1", "masking", "http1", "handshake", "frames", "connection"}
UPPER = {"aio", "wire", "show", "lessons", "socketio", "chat", "exercises", "classroom"}
DRAWING = {"scapy", "matplotlib", "ipywidgets"}
# Applications that draw may import a drawing library at module level: the chat's widget UI.
DRAWING_APPLICATIONS = {"chat/widget.py"}


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def name_of(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix() if path.is_relative_to(PACKAGE) else path.name


def imports(path: Path, *, module_level_only: bool = False) -> list[tuple[int, str]]:
    """``(line, dotted name)`` of every import in ``path``; ``from x import y`` gives x.y."""
    tree = ast.parse(path.read_text(), filename=str(path))
    nodes = tree.body if module_level_only else list(ast.walk(tree))
    found = []
    for node in nodes:
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def wsteach_part(dotted: str) -> str | None:
    """The top-level module or folder of wsteach that an import reaches, if any."""
    parts = dotted.split(".")
    return parts[1] if parts[0] == "wsteach" and len(parts) > 1 else None


def offences(paths: list[Path], allowed: set[str]) -> list[str]:
    found = []
    for path in paths:
        for line, dotted in imports(path):
            part = wsteach_part(dotted)
            if part is not None and part not in allowed:
                found.append(f"wsteach/{name_of(path)}:{line} imports {dotted}")
    return found


def test_the_core_is_six_flat_files():
    flat = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__", "__main__", "paths"}
    assert flat == CORE, f"top-level modules beside the core: {sorted(flat - CORE)}"
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders <= UPPER, f"unexpected folders: {sorted(folders - UPPER)}"


def test_the_core_imports_nothing_built_on_it():
    core = [PACKAGE / f"{name}.py" for name in sorted(CORE)]
    assert not offences(core, CORE)


def test_aio_imports_only_the_core():
    assert not offences(sorted((PACKAGE / "aio").glob("*.py")), CORE | {"aio"})


# What each application folder may import: the layers below it, never wire/ or show/.
BELOW = {
    "lessons": CORE | {"aio", "lessons", "paths"},
    "socketio": CORE | {"aio", "socketio", "paths"},
    "chat": CORE | {"aio", "chat", "paths"},
}


@pytest.mark.parametrize("folder", sorted(BELOW))
def test_applications_import_only_the_layers_below(folder):
    assert not offences(sorted((PACKAGE / folder).glob("*.py")), BELOW[folder])


def test_nothing_imports_the_classroom():
    """classroom/ (student edition, navigation, book) sits beside the stack, on top of it."""
    others = [path for path in modules() if not name_of(path).startswith("classroom/")]
    everything_but_classroom = {p.stem for p in PACKAGE.glob("*.py")} | UPPER - {"classroom"}
    assert not offences(others, everything_but_classroom)


def test_drawing_libraries_stay_in_wire_and_show():
    found = []
    for path in modules():
        name = name_of(path)
        if name.startswith(("wire/", "show/")) or name in DRAWING_APPLICATIONS:
            continue
        for line, dotted in imports(path, module_level_only=True):
            if dotted.split(".")[0] in DRAWING:
                found.append(f"wsteach/{name}:{line} imports {dotted} at module level")
    assert not found


def test_importing_wsteach_aio_pulls_in_no_drawing_library():
    code = ("import sys, wsteach.aio; print(','.join(m for m in "
            f"{sorted(DRAWING)!r} if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "", f"import wsteach.aio pulled in {result.stdout.strip()}"


def test_the_rules_catch_an_offending_import(tmp_path):
    """The checks above can fail: a core module importing aio is named, with its line."""
    bad = tmp_path / "frames.py"
    bad.write_text("import os\nfrom wsteach.aio import serve\n")
    assert offences([bad], CORE) == ["wsteach/frames.py:2 imports wsteach.aio.serve"]
