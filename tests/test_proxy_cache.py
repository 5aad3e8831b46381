"""The toy proxy cache poisoning of notebook 05: an unmasked frame poisons the cache, a frame
masked with a fresh random key does not, and a key the script could predict poisons it again."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from wsteach import http1
from wsteach.frames import random_mask_key
from wsteach.lessons import proxy_cache
from wsteach.masking import apply_mask

TIMEOUT = 5  # seconds; a scenario takes a few milliseconds
REAL = b'console.log("the real script")'
FAKE = b'alert("poisoned")'
SMUGGLED = http1.build_request("GET", "/script.js", [("Host", "victim.example")])


@dataclass
class Outcome:
    status: int
    body: bytes
    wire: bytes
    proxy: proxy_cache.CachingProxy
    origin: proxy_cache.Origin
    attacker: proxy_cache.AttackerServer


def attempt(payload: bytes, mask_key: bytes | None) -> Outcome:
    """The attacker's page sends ``payload`` through the proxy, then a victim fetches the script."""

    async def scenario() -> Outcome:
        fake = http1.build_response(200, "OK", [("Content-Type", "text/javascript")], FAKE)
        async with proxy_cache.Origin({"/script.js": ("text/javascript", REAL)}) as origin, \
                proxy_cache.AttackerServer(fake) as attacker:
            routes = {"victim.example": origin.address, "attacker.example": attacker.address}
            async with proxy_cache.CachingProxy(routes) as proxy:
                wire = await proxy_cache.open_and_send(proxy.address, "attacker.example",
                                                       payload, mask_key)
                status, body = await proxy_cache.fetch(proxy.address, "victim.example",
                                                       "/script.js")
        return Outcome(status, body, wire, proxy, origin, attacker)

    return asyncio.run(asyncio.wait_for(scenario(), TIMEOUT))


def test_an_unmasked_frame_poisons_the_cache():
    outcome = attempt(SMUGGLED, None)
    assert (outcome.status, outcome.body) == (200, FAKE)
    assert outcome.origin.requests == 0, "the victim's request never reached the real server"
    assert outcome.proxy.cache["victim.example/script.js"].endswith(FAKE)
    smuggled = [seen for seen in outcome.proxy.log if "victim.example/script.js" in seen.verdict]
    assert "after 2 bytes it skipped" in smuggled[0].verdict  # the frame header
    assert "forwarded to attacker.example" in smuggled[0].verdict


def test_a_randomly_masked_frame_does_not():
    outcome = attempt(SMUGGLED, random_mask_key())
    assert (outcome.status, outcome.body) == (200, REAL)
    assert outcome.origin.requests == 1
    assert any(seen.verdict.startswith("no HTTP request") for seen in outcome.proxy.log)
    # Masking hid nothing from the attacker's server: it unmasked the request.
    assert outcome.attacker.received == [SMUGGLED]


def test_a_key_the_script_could_predict_poisons_again():
    key = bytes.fromhex("37fa213d")
    outcome = attempt(apply_mask(SMUGGLED, key), key)  # pre-masked: masking undoes it
    assert outcome.body == FAKE
    assert SMUGGLED in outcome.wire


def test_the_proxy_caches_and_serves_from_the_cache():
    async def scenario() -> tuple[list[tuple[int, bytes]], int, list[str]]:
        async with proxy_cache.Origin({"/a.js": ("text/javascript", b"a")}) as origin, \
                proxy_cache.CachingProxy({"victim.example": origin.address}) as proxy:
            answers = [await proxy_cache.fetch(proxy.address, "victim.example", path)
                       for path in ("/a.js", "/a.js", "/missing")]
        return answers, origin.requests, [seen.verdict for seen in proxy.log]

    answers, requests, verdicts = asyncio.run(asyncio.wait_for(scenario(), TIMEOUT))
    assert answers == [(200, b"a"), (200, b"a"), (404, b"")]
    assert requests == 2
    assert "GET victim.example/a.js: answered from the cache" in verdicts
    assert "404: forwarded" in verdicts


def test_servers_bind_distinct_loopback_ports_and_close():
    async def scenario() -> list[tuple[str, int]]:
        async with proxy_cache.Origin({}) as one, proxy_cache.Origin({}) as two:
            return [one.address, two.address]

    first, second = asyncio.run(asyncio.wait_for(scenario(), TIMEOUT))
    assert first[0] == second[0] == "127.0.0.1"
    assert first[1] != second[1]
