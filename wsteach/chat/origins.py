"""Which pages may open the chat's WebSocket: the Origin allow-list (RFC 6455 section 10.2).

A browser sends, with every WebSocket handshake, the ``Origin`` of the page whose script opens
it, and the script cannot change it. Without a check, any site a student visits could open
``ws://127.0.0.1:8765/ws`` from the student's browser and chat in the student's name
(cross-site WebSocket hijacking). So the chat accepts only its own page's origin:
``http://HOST:PORT`` for each host name it is reached by. Taking the host from the request's
``Host`` header instead would not do: a site that makes its own name resolve to 127.0.0.1 (DNS
rebinding) sends a matching Host and Origin.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterable, Iterator, Set

# The names of loopback, by the address a server binds to.
LOOPBACK_HOSTS = {"127.0.0.1": ["127.0.0.1", "localhost"], "::1": ["[::1]", "localhost"],
                  "localhost": ["localhost", "127.0.0.1", "[::1]"]}


class AllowedOrigins(Set):
    """``http://HOST:PORT`` for each of ``hosts``; the port is filled in once the server listens
    (it may have asked for port 0), and until then nothing is allowed."""

    def __init__(self, hosts: Iterable[str]) -> None:
        self.hosts = tuple(dict.fromkeys(hosts))
        self.port = 0

    def _origins(self) -> list[str]:
        if not self.port:
            return []
        suffix = "" if self.port == 80 else f":{self.port}"  # browsers leave out port 80
        return [f"http://{host}{suffix}" for host in self.hosts]

    def __contains__(self, origin: object) -> bool:
        return origin in self._origins()

    def __iter__(self) -> Iterator[str]:
        return iter(self._origins())

    def __len__(self) -> int:
        return len(self._origins())


def url_host(address: str) -> str:
    """An address as it appears in a URL: IPv6 in brackets."""
    return f"[{address}]" if ":" in address and not address.startswith("[") else address


def hosts_for(bind: str) -> list[str]:
    """The host names (as in a URL) that reach a server bound to ``bind``."""
    if bind == "0.0.0.0":  # every IPv4 interface
        return [*LOOPBACK_HOSTS["127.0.0.1"], *local_addresses()]
    if bind in ("::", ""):  # every interface, IPv6 and IPv4
        return [*LOOPBACK_HOSTS["localhost"], *local_addresses()]
    return LOOPBACK_HOSTS.get(bind, [url_host(bind)])


def local_addresses() -> list[str]:
    """This machine's IPv4 addresses other than loopback, as students in the room would type
    them. Found without sending a packet: "connecting" a UDP socket only picks the interface
    the system would route through."""
    found: list[str] = []
    with contextlib.suppress(OSError):
        found += socket.gethostbyname_ex(socket.gethostname())[2]
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))  # TEST-NET-1 (RFC 5737): nothing is sent
        found.append(probe.getsockname()[0])
    return [address for address in dict.fromkeys(found) if not address.startswith("127.")]
