"""Is this machine ready for the series? Versions, loopback ports, packet capture, tools.

Used by ``notebooks/00_start_here.ipynb`` and by the tests that need a system package. Nothing
here needs scapy: capture permission is probed with a plain ``AF_PACKET`` socket, which is
exactly what scapy opens when it sniffs on Linux.
"""

from __future__ import annotations

import ctypes.util
import os
import platform
import shutil
import socket
import sys
from dataclasses import dataclass
from importlib import metadata

PACKAGES = (
    "jupyterlab", "ipywidgets", "websockets", "nest_asyncio2", "scapy", "numpy", "matplotlib",
)

HOW_TO_ENABLE_CAPTURE = (
    "Live capture needs root or the cap_net_raw capability. Either start JupyterLab as root, or "
    "grant the capability to the venv's interpreter once: "
    "sudo setcap cap_net_raw,cap_net_admin=eip $(readlink -f .venv/bin/python). "
    "Until then the notebooks read the stored captures in data/captures/."
)


@dataclass(frozen=True)
class Check:
    """One row of the environment table: what was checked, whether it is fine, and details."""

    name: str
    ok: bool
    detail: str


def package_version(name: str) -> str | None:
    """The installed version of a distribution, or None when it is not installed."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def free_loopback_port() -> int:
    """Bind 127.0.0.1 port 0, let the kernel choose a free port, and report which one it was."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def capture_problem() -> str | None:
    """Why live packet capture is impossible here, or None when it is permitted.

    Opens (and closes at once) the raw ``AF_PACKET`` socket a sniffer needs on Linux.
    """
    if not hasattr(socket, "AF_PACKET"):
        return f"live capture on loopback is only supported on Linux (this is {platform.system()})"
    if ctypes.util.find_library("pcap") is None:
        return "libpcap is missing (Debian: apt-get install libpcap0.8); scapy needs it for filters"
    try:
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    except PermissionError:
        return "not permitted: " + HOW_TO_ENABLE_CAPTURE
    sock.close()
    return None


def environment_checks() -> list[Check]:
    """Every check of the start notebook, in the order the table shows them."""
    checks = [Check("Python", sys.version_info >= (3, 11), platform.python_version())]
    for name in PACKAGES:
        version = package_version(name)
        checks.append(Check(name, version is not None, version or "not installed"))
    try:
        checks.append(Check("bind a loopback port", True, f"127.0.0.1:{free_loopback_port()}"))
    except OSError as exc:
        checks.append(Check("bind a loopback port", False, str(exc)))
    problem = capture_problem()
    user = "root" if os.geteuid() == 0 else "not root"
    checks.append(Check("live packet capture", problem is None, problem or f"permitted ({user})"))
    tshark = shutil.which("tshark")
    checks.append(
        Check("tshark (Wireshark's dissector)", tshark is not None,
              tshark or "not installed: apt-get install tshark (only the tests need it)")
    )
    return checks
