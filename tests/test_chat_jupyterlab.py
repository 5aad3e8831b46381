"""Notebook 10 in a real JupyterLab, in Chromium, used as a student uses it.

JupyterLab starts as ``make lab`` starts it (loopback, a token, ``--allow-root`` as root) on a
copy of the notebook; Playwright drives Debian's ``/usr/bin/chromium``. The test waits for the
kernel to read Idle, clicks Run → Run All Cells twice (the second run must close the first
one's chat and start afresh), then types in the first chat widget's Message box and presses
Send. A browser page on the chat receives the message and answers; the widget shows the
answer. This is what proves that background tasks and widget updates work in a real
JupyterLab with the installed ipykernel: every step after Run All happens while no cell runs.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import time

import pytest
from conftest import ROOT, require

try:
    from playwright.async_api import async_playwright, expect

    from wsteach.wire import jupyterlab
except ImportError:  # checked with require() below
    async_playwright = None

NOTEBOOK = ROOT / "notebooks" / "10_live_chat.ipynb"
FROM_WIDGET = "hello from the widget"
FROM_PAGE = "hello widget, from the page"


@pytest.mark.timeout(240)  # JupyterLab's start, two Run Alls, the chat: about 40 s here
def test_notebook_10_chats_in_a_real_jupyterlab(tmp_path):
    require(async_playwright is not None, "the Python package playwright",
            'pip install -e ".[test]" (never `playwright install`: we use Debian\'s chromium)')
    require(shutil.which("chromium") is not None, "chromium", "apt-get install chromium")
    shutil.copy(NOTEBOOK, tmp_path / NOTEBOOK.name)
    seen: dict[str, float | str] = {}

    async def scenario() -> None:
        async with async_playwright() as playwright:
            browser = await jupyterlab.launch_chromium(playwright)
            try:
                with jupyterlab.JupyterLab(tmp_path) as lab:
                    started = time.monotonic()
                    page = await jupyterlab.open_notebook(browser, lab, NOTEBOOK.name)
                    seen["idle after (s)"] = time.monotonic() - started
                    for run in (1, 2):
                        started = time.monotonic()
                        await jupyterlab.run_all(page, timeout=90)
                        seen[f"Run All {run} (s)"] = time.monotonic() - started
                    await chat_through_the_widget(browser, page)
            finally:
                await browser.close()

    async def chat_through_the_widget(browser, page) -> None:
        outputs = page.locator(".jp-OutputArea-output").filter(has_text="the page:")
        assert await outputs.count() == 1  # the second Run All replaced the first one's output
        url = re.search(r"the page:\s+(http://127\.0\.0\.1:\d+/)", await outputs.text_content())
        assert url, await outputs.text_content()
        seen["chat page"] = url.group(1)
        you = page.locator(".wsteach-chat").filter(has_text="as You")
        # The iframe of section 4 joined, and the XSS payload of section 5.1 shows as text.
        await expect(you).to_contain_text("Browser", timeout=20_000)
        await expect(you).to_contain_text("<img src=x onerror=")
        assert await page.locator(".wsteach-chat img").count() == 0

        context = await browser.new_context()
        try:
            other = await context.new_page()
            await other.goto(url.group(1) + "?name=Tester")
            await expect(you).to_contain_text("Tester", timeout=10_000)  # presence, live
            started = time.monotonic()
            await jupyterlab.send_from_widget(page, "You", FROM_WIDGET)
            await expect(other.get_by_role("log")).to_contain_text(FROM_WIDGET)
            seen["widget → page (s)"] = time.monotonic() - started
            await other.get_by_label("Message").fill(FROM_PAGE)
            started = time.monotonic()
            await other.get_by_role("button", name="Send").click()
            await expect(you).to_contain_text(FROM_PAGE, timeout=10_000)
            seen["page → widget (s)"] = time.monotonic() - started
        finally:
            await context.close()
        await expect(page.get_by_text(jupyterlab.IDLE)).to_be_visible()

    asyncio.run(scenario())
    print("what the JupyterLab test saw:", seen)

