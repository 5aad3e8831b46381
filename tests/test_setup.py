"""The two setup routes agree, importing wsteach stays light, and `make lab` really starts."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import tomllib
import urllib.request

from conftest import ROOT

from wsteach.show.envcheck import free_loopback_port


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_names_the_same_runtime_packages_as_pyproject():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    runtime = {_name(r) for r in pyproject["project"]["dependencies"]}
    dependencies = (ROOT / "environment.yml").read_text().split("dependencies:", 1)[1]
    conda = {_name(m) for m in re.findall(r"^  - ([A-Za-z0-9_.\-]+)", dependencies, re.M)}
    system_only = {"python", "pip", "libpcap"}
    assert conda - system_only == runtime


def test_importing_wsteach_pulls_in_nothing_heavy():
    code = ("import sys, wsteach; heavy = [m for m in ('scapy', 'matplotlib', 'numpy') "
            "if m in sys.modules]; print(','.join(heavy))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == ""


def test_make_lab_starts_jupyterlab_on_loopback():
    port = free_loopback_port()
    token = "wsteach-test"
    options = f"--no-browser --ServerApp.port={port} --IdentityProvider.token={token}"
    process = subprocess.Popen(["make", "-s", "lab", f"LAB_OPTS={options}"], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                url = f"http://127.0.0.1:{port}/api/status?token={token}"
                with urllib.request.urlopen(url, timeout=2) as response:
                    status = response.status
                    break
            except OSError:
                time.sleep(0.3)
        assert status == 200, process.stdout.read().decode() if process.poll() is not None else ""
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
