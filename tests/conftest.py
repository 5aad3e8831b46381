"""Shared test helpers.

Tests that need a system package call ``require(...)``: on a laptop that lacks it they skip with
the command that installs it; under CI (``CI=true``) a missing package is a failure, because
``.ci/run`` is supposed to have installed it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def require(available: bool, what: str, how_to_install: str) -> None:
    """Skip (laptop) or fail (CI) when a system package or permission is missing."""
    if available:
        return
    message = f"{what} is not available here; {how_to_install}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (.ci/run should have provided it)")
    pytest.skip(message)
