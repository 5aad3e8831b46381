"""The two setup routes agree, importing wsteach stays light, and `make lab` really starts."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

from conftest import ROOT
from lab_session import make_lab


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


def test_make_lab_starts_jupyterlab_on_loopback(tmp_path):
    with make_lab(tmp_path) as lab:  # waits for /api/status on 127.0.0.1, or fails with the log
        assert "started" in lab.api("GET", "status")
