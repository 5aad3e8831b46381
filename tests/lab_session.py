"""JupyterLab as a student uses it: ``make lab`` started as the README says, then a notebook
opened in Chromium (Playwright), Run All from the menu, and what the page shows collected.

The reusable part of the JupyterLab tests (``test_jupyterlab.py``; the chat's test imports it
too). It follows DESIGN.md's pitfalls: ``make lab`` adds ``--allow-root`` for root, the token is
``--IdentityProvider.token``, a settings override silences the news toast, and Run All waits
for the status bar to read "Python 3 (ipykernel) | Idle" (otherwise a "Select Kernel" dialog
can block the page). Autosave is switched off in the same override, so that a run never writes
outputs into the committed notebooks; the user's own settings and workspaces are not touched
(``JUPYTERLAB_SETTINGS_DIR`` and ``JUPYTERLAB_WORKSPACES_DIR`` point into a temporary folder).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from conftest import ROOT

from wsteach.show.envcheck import free_loopback_port

IDLE = "Python 3 (ipykernel) | Idle"
START_TIMEOUT = 60  # seconds for `make lab` to answer /api/status
OPEN_TIMEOUT = 60_000  # milliseconds for a notebook's kernel to become idle
SETTINGS = {
    # No "Would you like to get notified about official Jupyter news?" toast, no update check.
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false",
                                                    "checkForUpdates": False},
    # Never save a run's outputs into the committed notebooks.
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
}

# Every code cell has run ([n]:), or Run All stopped at an error: none queued ([*]:), one ran.
RUN_FINISHED = """() => {
  const prompts = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')]
    .map(p => p.textContent.trim());
  const ran = prompts.filter(p => /^\\[\\d+\\]:$/.test(p)).length;
  return prompts.length > 0 && ran > 0 && !prompts.includes('[*]:');
}"""
# Per code cell: its prompt, and each output's MIME type, whether it holds a widget, its text.
CELLS = """cells => cells.map(cell => ({
  prompt: cell.querySelector('.jp-InputPrompt').textContent.trim(),
  source: cell.querySelector('.jp-InputArea-editor').innerText.slice(0, 200),
  outputs: [...cell.querySelectorAll('.jp-OutputArea-output')].map(output => ({
    mime: output.getAttribute('data-mime-type'),
    widget: output.querySelector('.jupyter-widgets') !== null,
    text: output.innerText.slice(0, 2000)}))}))"""


@dataclass
class Lab:
    """A running ``make lab``: its port and token, and the requests it answers."""

    port: int
    token: str
    process: subprocess.Popen

    def url(self, path: str) -> str:
        """The page that opens ``path`` (relative to the repository) in a fresh workspace."""
        return f"http://127.0.0.1:{self.port}/lab/tree/{path}?reset&token={self.token}"

    def api(self, method: str, path: str) -> object:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/api/{path}", method=method,
            headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shut_down_kernels(self) -> None:
        for session in self.api("GET", "sessions"):
            self.api("DELETE", f"sessions/{session['id']}")


def write_settings(folder: Path) -> None:
    for plugin, values in SETTINGS.items():
        path = folder / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


@contextlib.contextmanager
def make_lab(scratch: Path) -> Iterator[Lab]:
    """``make lab`` on a free loopback port with a token, as a user starts it; stopped after."""
    port, token = free_loopback_port(), "wsteach-test"
    write_settings(scratch / "settings")
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(scratch / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(scratch / "workspaces"))
    options = f"--no-browser --ServerApp.port={port} --IdentityProvider.token={token}"
    log = (scratch / "lab.log").open("wb")
    process = subprocess.Popen(["make", "-s", "lab", f"LAB_OPTS={options}"], cwd=ROOT, env=env,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    lab = Lab(port, token, process)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            with contextlib.suppress(OSError):
                lab.api("GET", "status")
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("make lab did not start:\n" +
                                     (scratch / "lab.log").read_text(errors="replace"))
            time.sleep(0.3)
        yield lab
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


@dataclass
class Findings:
    """What a student saw in one notebook after Run All."""

    modified_on_open: bool = False
    unexecuted: list[str] = field(default_factory=list)  # code cells Run All never reached
    errors: list[str] = field(default_factory=list)  # tracebacks
    stderr: list[str] = field(default_factory=list)  # warnings and other text on stderr
    widget_problems: list[str] = field(default_factory=list)
    seconds: float = 0.0


def open_notebook(page, lab: Lab, path: str) -> None:
    """Open ``path`` and wait until its kernel is idle (before that, Run All may be blocked)."""
    page.goto(lab.url(path))
    page.get_by_text(IDLE).wait_for(timeout=OPEN_TIMEOUT)


def is_modified(page) -> bool:
    """Does the notebook's tab show the "modified" dot?"""
    return page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.jp-mod-dirty").count() > 0


def run_all(page, timeout_ms: int) -> None:
    """Run > Run All Cells, then wait until every cell ran or Run All stopped at an error."""
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
    page.wait_for_function(RUN_FINISHED, timeout=timeout_ms, polling=200)
    page.get_by_text(IDLE).wait_for(timeout=timeout_ms)


def collect(page, findings: Findings) -> Findings:
    """Fill ``findings`` from the page: errors, stderr, widgets that did not render."""
    for cell in page.eval_on_selector_all(".jp-Notebook .jp-CodeCell", CELLS):
        where = cell["source"].splitlines()[0] if cell["source"].strip() else "(empty cell)"
        if cell["prompt"] in ("[ ]:", ""):
            findings.unexecuted.append(where)
        for output in cell["outputs"]:
            text = output["text"]
            if output["mime"] == "application/vnd.jupyter.stderr":
                kind = findings.errors if "Traceback" in text else findings.stderr
                kind.append(f"{where}: {text}")
            elif output["mime"] is None and not output["widget"]:
                findings.widget_problems.append(f"{where}: {text[:200]}")
            if "Error displaying widget" in text:
                findings.widget_problems.append(f"{where}: {text[:200]}")
    return findings


def run_notebook(browser, lab: Lab, path: str, timeout_ms: int = 120_000) -> Findings:
    """Open ``path`` in a fresh page, note whether it is modified, Run All, collect; the
    page is closed and the kernel shut down afterwards."""
    findings = Findings()
    started = time.monotonic()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        open_notebook(page, lab, path)
        page.wait_for_timeout(500)  # JupyterLab writes language_info just after the kernel starts
        findings.modified_on_open = is_modified(page)
        run_all(page, timeout_ms)
        collect(page, findings)
    finally:
        page.close()
        lab.shut_down_kernels()
    findings.seconds = time.monotonic() - started
    return findings
