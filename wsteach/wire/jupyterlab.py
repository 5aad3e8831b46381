"""JupyterLab's own kernel WebSocket, captured while a chat message is sent from a widget.

```
python -m wsteach.wire.jupyterlab          # writes data/captures/jupyterlab_chat.pcap
```

It starts a real JupyterLab (a free loopback port, a token, its settings and workspaces in a
temporary folder) on a small notebook that starts the chat in the kernel and shows a
``ChatWidget``; drives Chromium (Debian's ``/usr/bin/chromium``, through Playwright) to Run All,
type a message in the widget and press Send; and captures two ports meanwhile:

- Jupyter's: the browser's WebSocket to the kernel, ``/api/kernels/<id>/channels`` (subprotocol
  ``v1.kernel.websocket.jupyter.org``), which carries the widget's comm messages;
- the chat's: the kernel's WebSocket to the chat server, which carries ``{"type": "say"}``.

Only the packets of those WebSocket connections are kept: the rest is JupyterLab loading its
page (megabytes of JavaScript). Needs root or cap_net_raw (to capture), and Chromium and the
Python package playwright (the test extra). ``JupyterLab``, ``open_notebook`` and ``run_all``
are also what ``tests/test_chat_jupyterlab.py`` drives notebook 10 with.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.async_api import Browser, Page, async_playwright

from wsteach.paths import CAPTURES
from wsteach.show.envcheck import free_loopback_port

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]
IDLE = "Python 3 (ipykernel) | Idle"  # the status bar once the kernel is ready
MESSAGE = "hello from JupyterLab"
NEWS_OFF = {"@jupyterlab/apputils-extension/notification.jupyterlab-settings":
            {"fetchNews": "false", "checkForUpdates": False}}


class JupyterLab:
    """``jupyter lab`` on loopback, serving ``root``; ``url(path)`` opens a page of it."""

    def __init__(self, root: Path, port: int | None = None) -> None:
        self.root = root
        self.port = port or free_loopback_port()
        self.token = os.urandom(8).hex()
        self._home = Path(tempfile.mkdtemp(prefix="wsteach-lab-"))
        for name, settings in NEWS_OFF.items():  # no "receive official news?" toast
            path = self._home / "settings" / name
            path.parent.mkdir(parents=True)
            path.write_text(json.dumps(settings))
        command = [sys.executable, "-m", "jupyterlab", "--no-browser",
                   "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}",
                   "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
                   f"--ServerApp.root_dir={root}",
                   f"--LabApp.user_settings_dir={self._home / 'settings'}",
                   f"--LabApp.workspaces_dir={self._home / 'workspaces'}"]
        if os.geteuid() == 0:
            command.append("--allow-root")  # JupyterLab refuses root otherwise
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, start_new_session=True)

    def url(self, path: str = "lab") -> str:
        return f"http://127.0.0.1:{self.port}/{path}?token={self.token}"

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited: {self.process.stderr.read().decode()}")
            try:
                with urllib.request.urlopen(self.url("api/status"), timeout=2):
                    return
            except OSError:
                time.sleep(0.2)
        raise TimeoutError(f"JupyterLab did not answer within {timeout} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        shutil.rmtree(self._home, ignore_errors=True)

    def __enter__(self) -> JupyterLab:
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


async def open_notebook(browser: Browser, lab: JupyterLab, name: str) -> Page:
    """A new page on ``lab/tree/name``, once its kernel reads Idle in the status bar."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    await page.goto(lab.url(f"lab/tree/{name}"), timeout=60_000)
    await page.get_by_text(IDLE).wait_for(timeout=60_000)
    return page


async def run_all(page: Page, timeout: float = 60) -> None:
    """Run → Run All Cells, as a student would, and wait until every cell has run."""
    await page.get_by_role("menuitem", name="Run", exact=True).click()
    await page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    prompts = page.locator(".jp-InputArea-prompt")
    async with asyncio.timeout(timeout):
        await asyncio.sleep(0.5)
        while True:  # a cell waiting or running shows [*]
            texts = await prompts.all_text_contents()
            if texts and all("[*]" not in text and text.strip() != "[ ]:" for text in texts
                             if text.strip()):
                return
            await asyncio.sleep(0.2)


async def launch_chromium(playwright) -> Browser:
    return await playwright.chromium.launch(
        executable_path=shutil.which("chromium") or "/usr/bin/chromium", headless=True,
        args=CHROMIUM_ARGS, timeout=30_000)


# ---- the capture -----------------------------------------------------------------------------

CAPTURE_NOTEBOOK = """
from wsteach.chat import server, widget
room = await server.serve_chat("127.0.0.1", {chat_port})
ui = widget.ChatWidget.join(room.url, "Lab")
ui
"""


def write_notebook(path: Path, source: str) -> None:
    cells = [{"cell_type": "code", "metadata": {}, "source": source.strip(), "outputs": [],
              "execution_count": None}]
    path.write_text(json.dumps({
        "cells": cells, "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                    "language": "python"}}}))


async def send_from_widget(page: Page, who: str, text: str) -> None:
    """Type ``text`` in the Message box of ``who``'s chat widget and press Send; wait until
    the widget's log shows it (it went to the chat server and came back)."""
    chat = page.locator(".wsteach-chat").filter(has_text=f"as {who}")
    await chat.get_by_text("open").wait_for(timeout=20_000)
    await chat.get_by_role("textbox").fill(text)
    await chat.get_by_role("button", name="Send").click()
    await chat.get_by_text(text).wait_for(timeout=20_000)


async def record(out: Path) -> int:
    """Make the capture; returns its number of packets."""
    from wsteach.wire.capture import Capture, tcp_streams, write_pcap  # scapy: only here

    root = Path(tempfile.mkdtemp(prefix="wsteach-capture-"))
    chat_port = free_loopback_port()
    write_notebook(root / "chat.ipynb", CAPTURE_NOTEBOOK.format(chat_port=chat_port))
    with JupyterLab(root) as lab:
        async with async_playwright() as playwright, Capture(lab.port) as lab_capture, \
                Capture(chat_port) as chat_capture:
            browser = await launch_chromium(playwright)
            try:
                page = await open_notebook(browser, lab, "chat.ipynb")
                await run_all(page)
                await send_from_widget(page, "Lab", MESSAGE)
                await asyncio.sleep(0.5)  # the last updates reach the page
            finally:
                await browser.close()
    shutil.rmtree(root, ignore_errors=True)
    packets = sorted([*lab_capture.packets, *chat_capture.packets], key=lambda p: p.time)
    upgraded = websockets_in(packets)
    kept = [packet for packet in packets if connection_of(packet) in upgraded]
    tcp_streams(kept)  # raises if the capture lost a packet of them
    write_pcap(kept, out)
    return len(kept)


def connection_of(packet) -> frozenset:
    from scapy.layers.inet import IP, TCP

    return frozenset({(packet[IP].src, packet[TCP].sport), (packet[IP].dst, packet[TCP].dport)})


def websockets_in(packets) -> set[frozenset]:
    """The TCP connections that begin with the kernel's or the chat's Upgrade request."""
    from scapy.layers.inet import TCP

    return {connection_of(packet) for packet in packets if TCP in packet
            and bytes(packet[TCP].payload).startswith((b"GET /api/kernels/", b"GET /ws?"))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=CAPTURES / "jupyterlab_chat.pcap")
    args = parser.parse_args()
    count = asyncio.run(record(args.out))
    print(f"{args.out}: {count} packets, {args.out.stat().st_size} bytes")


if __name__ == "__main__":
    main()
