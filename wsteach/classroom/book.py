"""The book: every notebook executed and rendered as a static site that opens offline.

``python -m wsteach.classroom.book --out build/book`` (``make book``) executes each notebook of
the series' table (two at a time, in ``notebooks/`` as ``make test`` does), converts it with
nbconvert's ``lab`` template, and writes ``index.html`` (the series' map, from the README's
table) and one page per notebook. A notebook that fails stops the build with its error.

Nothing is fetched from the internet when a page opens. nbconvert's template loads require.js,
MathJax and Mermaid from cdnjs and the widget manager from unpkg; the book's template
(``TEMPLATE``) drops those blocks. Plots are embedded as ``data:`` images, stylesheets are
inlined, and widgets are drawn as static snapshots (``static_widgets``). The series uses no
LaTeX math: a notebook that did would show its TeX source, since MathJax is not bundled.

A page that the kernel served while the notebook ran (an ``IFrame`` on loopback) cannot open
later: the book shows a note in its place.

Navigation links written for JupyterLab (``04_frame_layout.ipynb``, ``../README.md``) are
rewritten to the book's pages (``04_frame_layout.html``, ``index.html``).
"""

from __future__ import annotations

import argparse
import html
import re
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jinja2
import mistune
import nbformat
from nbclient import NotebookClient
from nbconvert import HTMLExporter

from wsteach.classroom import navigation, series, static_widgets

OUT = series.ROOT / "build" / "book"
TIMEOUT = 120  # seconds per cell, as make test allows
WORKERS = 2

# The lab template without the blocks that load scripts from CDNs.
TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block extra_css -%}<style>{{ resources.book_css }}</style>{%- endblock extra_css -%}
"""
CSS = """
.book-index { max-width: 60em; margin: 0 auto; padding: 1em; }
.wsteach-widget-snapshot { border: 1px dashed #999; padding: 0.5em; margin: 0; }
.wsteach-widget-snapshot figcaption { font-size: 85%; color: #555; margin-top: 0.5em; }
.book-index table { border-collapse: collapse; }
.book-index td, .book-index th { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left;
  vertical-align: top; }
body { font-family: system-ui, sans-serif; }
"""
NOTEBOOK_LINK = re.compile(r"\]\((\d\d_[a-z0-9_]+)\.ipynb(#[^)]*)?\)")
# A page a notebook's kernel served while it ran (notebook 10's chat in an iframe): gone once
# the kernel stopped, so the book shows a note instead of a frame that cannot load.
LIVE_FRAME = re.compile(r'<iframe\b[^>]*\bsrc="(https?://(?:127\.0\.0\.1|localhost|\[::1\])'
                        r'[^"]*)"[^>]*>\s*</iframe>')
LIVE_NOTE = ("<figure class='wsteach-widget-snapshot'>A live page, served by the notebook's "
             "kernel while it ran ({}): run the notebook in JupyterLab to use it.</figure>")


def for_the_book(source: str) -> str:
    """Markdown links to notebooks and to the contents, rewritten to the book's pages."""
    source = NOTEBOOK_LINK.sub(lambda m: f"]({m[1]}.html{m[2] or ''})", source)
    return source.replace(f"]({navigation.CONTENTS})", "](index.html)")


def execute(path: Path):
    """The notebook at ``path``, executed in its folder, widget state kept."""
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=TIMEOUT, kernel_name="python3", store_widget_state=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return notebook


def render(notebook, title: str) -> str:
    """The HTML page of an executed notebook."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            cell.source = for_the_book(cell.source)
    static_widgets.freeze(notebook)
    notebook.metadata["title"] = title
    exporter = HTMLExporter(template_name="lab", template_file="book.html.j2",
                            extra_loaders=[jinja2.DictLoader({"book.html.j2": TEMPLATE})])
    body, _ = exporter.from_notebook_node(notebook, resources={"book_css": CSS})
    return LIVE_FRAME.sub(lambda m: LIVE_NOTE.format(html.escape(m[1])), body)


def index(entries: list[series.Entry]) -> str:
    """The book's first page: the series' map, each notebook linked to its page."""
    rows = "\n".join(f"| [{entry.title}]({entry.name}.html) | {entry.builds} |"
                     for entry in entries)
    intro = series.README.read_text(encoding="utf-8").split("\n\n")[1]  # the README's pitch
    text = (f"# WebSockets from first principles\n\n{intro}\n\n## The notebooks\n\n"
            f"| notebook | what it builds |\n|---|---|\n{rows}\n\n"
            f"Each page was executed on {time.strftime('%Y-%m-%d')} by `make book`; to run "
            "the code yourself, open the notebooks in JupyterLab (`make lab`).\n")
    return ("<!DOCTYPE html>\n<html lang='en'>\n<head><meta charset='utf-8'>\n"
            "<meta name='viewport' content='width=device-width, initial-scale=1.0'>\n"
            f"<title>WebSockets from first principles</title>\n<style>{CSS}</style></head>\n"
            f"<body><div class='book-index'>{mistune.html(text)}</div></body>\n</html>\n")


def build(out: Path, entries: list[series.Entry]) -> list[Path]:
    """Execute and render ``entries`` into ``out`` (emptied first); the pages written."""
    missing = [e.filename for e in entries if not (series.NOTEBOOKS / e.filename).exists()]
    if missing:
        raise SystemExit(f"the README lists notebooks that do not exist: {missing}")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    paths = [series.NOTEBOOKS / entry.filename for entry in entries]
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        executed = list(pool.map(execute, paths))
    pages = [out / "index.html"]
    pages[0].write_text(index(series.read_series()), encoding="utf-8")
    for entry, notebook in zip(entries, executed, strict=True):
        page = out / f"{entry.name}.html"
        page.write_text(render(notebook, html.unescape(entry.title)), encoding="utf-8")
        pages.append(page)
    return pages


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m wsteach.classroom.book", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=OUT, help="folder (default build/book)")
    parser.add_argument("--only", nargs="+", metavar="NN", default=[],
                        help="build only these notebooks, by number (e.g. 00 04)")
    args = parser.parse_args(argv)
    entries = [e for e in series.read_series() if not args.only or e.number in args.only]
    started = time.perf_counter()
    pages = build(args.out, entries)
    size = sum(path.stat().st_size for path in args.out.rglob("*") if path.is_file())
    print(f"{len(pages)} pages in {args.out} ({size / 2**20:.1f} MiB), built in "
          f"{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
