"""Debian's Chromium for the browser tests, launched the one way that works here.

Never ``playwright install``: Playwright drives ``/usr/bin/chromium`` through
``executable_path``, headless, with the flags DESIGN.md's pitfalls list.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator

from conftest import require

try:
    import playwright
except ImportError:  # checked with require_chromium()
    playwright = None

CHROMIUM = "/usr/bin/chromium"  # Debian's package; `playwright install` is never run
CHROMIUM_ARGS = [
    "--no-sandbox",  # we run as root in a container
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def require_chromium() -> None:
    """Skip (laptop) or fail (CI) when Playwright or Debian's Chromium is missing."""
    require(playwright is not None, "the Python package playwright",
            'pip install -e ".[test]" (never `playwright install`: we use Debian\'s chromium)')
    require(shutil.which("chromium") is not None, "chromium", "apt-get install chromium")


def launch_options() -> dict:
    """Keyword arguments for ``playwright.chromium.launch``."""
    return {"executable_path": shutil.which("chromium") or CHROMIUM, "headless": True,
            "args": CHROMIUM_ARGS, "timeout": 15_000}


@contextlib.contextmanager
def sync_chromium() -> Iterator:
    """Chromium through Playwright's synchronous API, for tests that need no event loop."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        browser = driver.chromium.launch(**launch_options())
        try:
            yield browser
        finally:
            browser.close()
