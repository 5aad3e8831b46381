"""The start notebook's environment check reports what is really there."""

from __future__ import annotations

import socket

from wsteach.show import envcheck


def test_free_loopback_port_can_be_bound_again():
    port = envcheck.free_loopback_port()
    assert 0 < port < 65536
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_checks_name_every_package_with_its_installed_version():
    rows = {c.name: c for c in envcheck.environment_checks()}
    import websockets

    assert rows["websockets"].detail == websockets.__version__
    assert all(rows[name].ok for name in envcheck.PACKAGES)


def test_capture_problem_explains_how_to_enable_capture(monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(envcheck.ctypes.util, "find_library", lambda name: "libpcap.so")
    monkeypatch.setattr(envcheck.socket, "socket", refuse)
    problem = envcheck.capture_problem()
    assert problem is not None and "cap_net_raw" in problem and "data/captures" in problem
