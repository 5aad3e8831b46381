"""The book opens offline: ``make book`` built in full, then every page loaded in Chromium with
every request that is not ``file:`` or ``data:`` blocked.

Asserted per page: no blocked and no failed request, every picture decoded, the plots of the
notebooks that draw with matplotlib present, every widget drawn as a snapshot, and every link
between pages pointing at a page of the book. The full build executes every notebook (about
15 s for 00-06 on two cores), so the test covers all of them rather than a subset.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import pytest
from chromium import sync_chromium
from conftest import ROOT

from wsteach.classroom import book, series, static_widgets

ENTRIES = series.read_series()


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("book")
    result = subprocess.run(["make", "-s", "book", f"BOOK_OUT={out}"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return out


@pytest.fixture(scope="module")
def browser():
    with sync_chromium() as chromium:
        yield chromium


def test_links_are_rewritten_for_the_book():
    assert book.for_the_book("[← 03 · X](03_x.ipynb) | [Contents](../README.md) | "
                             "[05 →](05_y.ipynb#Exercises)") == (
        "[← 03 · X](03_x.html) | [Contents](index.html) | [05 →](05_y.html#Exercises)")


def test_the_site_has_an_index_and_a_page_per_notebook(site):
    assert sorted(p.name for p in site.glob("*.html")) == sorted(
        ["index.html"] + [f"{entry.name}.html" for entry in ENTRIES])
    index = (site / "index.html").read_text(encoding="utf-8")
    for entry in ENTRIES:
        assert f'href="{entry.name}.html"' in index


def draws_with_matplotlib(entry: series.Entry) -> bool:
    return "plt." in (series.NOTEBOOKS / f"{entry.name}.py").read_text(encoding="utf-8")


@dataclass
class Loaded:
    blocked: list[str]  # requests for anything but file: and data:, refused
    failed: list[str]
    pictures: list[bool]  # one per <img>: did it decode?
    text: str
    hrefs: list[str]


def load(browser, path: Path) -> Loaded:
    """Open ``path`` in a fresh context where only ``file:`` and ``data:`` requests go through."""
    loaded = Loaded([], [], [], "", [])
    context = browser.new_context()
    try:
        def route(request_route):
            if urlparse(request_route.request.url).scheme in ("file", "data"):
                request_route.continue_()
            else:
                loaded.blocked.append(request_route.request.url)
                request_route.abort()

        context.route("**/*", route)
        page = context.new_page()
        page.on("requestfailed", lambda request: loaded.failed.append(request.url))
        page.goto(path.as_uri(), wait_until="load")
        loaded.pictures = page.eval_on_selector_all(
            "img", "images => images.map(i => i.complete && i.naturalWidth > 0)")
        loaded.text = page.inner_text("body")
        loaded.hrefs = page.eval_on_selector_all(
            "a[href]", "links => links.map(a => a.getAttribute('href'))")
    finally:
        context.close()
    return loaded


def test_a_page_that_asks_the_internet_is_caught(browser, tmp_path):
    page = tmp_path / "remote.html"
    page.write_text("<script src='https://cdnjs.cloudflare.com/ajax/libs/require.js/2.1.10/"
                    "require.min.js'></script><img src='http://example.com/plot.png'>")
    loaded = load(browser, page)
    assert len(loaded.blocked) == 2 and loaded.pictures == [False]


@pytest.mark.parametrize("name", ["index"] + [entry.name for entry in ENTRIES])
def test_page_opens_offline_with_its_pictures(site, browser, name):
    page_path = site / f"{name}.html"
    loaded = load(browser, page_path)
    assert not loaded.blocked, f"{name}.html asks the internet for {loaded.blocked}"
    assert not [url for url in loaded.failed if url not in loaded.blocked], loaded.failed
    pictures = loaded.pictures
    assert all(pictures), f"{pictures.count(False)} of {len(pictures)} pictures did not decode"
    entry = next((e for e in ENTRIES if e.name == name), None)
    if entry is not None and draws_with_matplotlib(entry):
        assert pictures, f"{name} draws with matplotlib but its page has no picture"
    assert "Error displaying widget" not in loaded.text
    assert "widget-view+json" not in page_path.read_text(encoding="utf-8")
    local = [href for href in loaded.hrefs if not re.match(r"[a-z]+:|#", href)]
    missing = [href for href in local if not (site / href.split("#")[0]).exists()]
    assert not missing, f"{name}.html links to pages the book does not have: {missing}"
    if entry is not None:
        assert "index.html" in local, f"{name}.html has no link back to the contents"


def test_a_widget_becomes_a_snapshot_of_its_state():
    """Real ipywidgets' state, as a run stores it, drawn without a kernel or a widget manager."""
    import ipywidgets as widgets

    message = widgets.Textarea(value="<Hello>", description="message")
    box = widgets.VBox([widgets.HBox([
        widgets.Dropdown(options=["text", "binary"], value="binary", description="opcode"),
        widgets.Checkbox(value=True, description="FIN")]), message,
        widgets.HTML("<b>7 bytes</b>"), widgets.Button(description="Send")])
    models = {w.model_id: {"model_name": w._model_name, "state": w.get_state()}
              for w in [box, *box.children, *box.children[0].children]}
    drawn = static_widgets.draw(box.model_id, models)
    assert "flex-direction:column" in drawn and "flex-direction:row" in drawn
    assert "<option>binary</option>" in drawn and "checked> FIN" in drawn
    assert "&lt;Hello&gt;</textarea>" in drawn, "text is escaped, HTML widgets are not"
    assert "<b>7 bytes</b>" in drawn and "<button disabled>Send</button>" in drawn
    assert static_widgets.draw("gone", models).startswith("<em>")


def test_a_page_served_by_the_kernel_becomes_a_note():
    """An IFrame on loopback (notebook 10's chat page) cannot load once the kernel is gone."""
    from wsteach.classroom import book

    frame = ('<iframe\n  width="100%"\n  height="520"\n  src="http://127.0.0.1:4321/?name=Ada"\n'
             '  frameborder="0"\n  allowfullscreen\n></iframe>')
    page = book.LIVE_FRAME.sub(lambda m: book.LIVE_NOTE.format(m[1]), f"<p>{frame}</p>")
    assert "<iframe" not in page and "http://127.0.0.1:4321/?name=Ada" in page
    remote = '<iframe src="https://example.com/"></iframe>'
    assert book.LIVE_FRAME.sub("", remote) == remote  # only loopback pages are replaced
