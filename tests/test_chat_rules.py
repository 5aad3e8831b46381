"""The chat's rules as pure functions: names, the rate limit, the Origin allow-list."""

from __future__ import annotations

import re

import pytest

from wsteach.chat import names, origins, protocol
from wsteach.chat.ratelimit import RateLimit


@pytest.mark.parametrize("raw", ["Ada", "  Ada  ", "张三", "Zoë", "👩‍💻 dev", "x" * 20])
def test_good_names_are_kept_without_the_spaces_around_them(raw):
    assert names.check_name(raw) == raw.strip()


@pytest.mark.parametrize(("raw", "why"), [
    ("", "a name is needed"), ("   ", "a name is needed"), ("x" * 21, "not 21"),
    ("Ada\u202egnp.exe", "U+202E"), ("A\u200bda", "U+200B"), ("Ada\x00", "U+0000"),
])
def test_bad_names_are_refused_with_a_reason(raw, why):
    with pytest.raises(ValueError, match=re.escape(why)):
        names.check_name(raw)


def test_names_that_look_alike_are_the_same_name():
    keys = {names.same_name_key(n) for n in ("Ada", "ADA", "ａｄａ", "Ａｄａ")}
    assert keys == {"ada"}
    assert names.same_name_key("Ada") != names.same_name_key("Ana")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_bucket_allows_a_burst_then_the_rate():
    clock = Clock()
    limit = RateLimit(rate=2, burst=3, clock=clock)
    assert [limit.allow() for _ in range(5)] == [True, True, True, False, False]
    assert limit.over == 2
    clock.now = 0.5  # one token back
    assert [limit.allow(), limit.allow()] == [True, False]
    assert limit.over == 3  # still flooding: the count goes on


def test_the_over_count_starts_again_once_the_client_calms_down():
    clock = Clock()
    limit = RateLimit(rate=1, burst=2, clock=clock)
    for _ in range(6):
        limit.allow()
    assert limit.over == 4
    clock.now = 10  # long quiet: the bucket is full again, and capped at the burst
    assert [limit.allow() for _ in range(3)] == [True, True, False]
    assert limit.over == 1


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (1, 0), (-1, 5)])
def test_a_rate_limit_that_allows_nothing_is_refused(rate, burst):
    with pytest.raises(ValueError):
        RateLimit(rate, burst)


def test_the_allowed_origins_are_the_pages_own_once_the_port_is_known():
    allowed = origins.AllowedOrigins(origins.hosts_for("127.0.0.1"))
    assert "http://127.0.0.1:0" not in allowed and len(allowed) == 0
    allowed.port = 8765
    assert set(allowed) == {"http://127.0.0.1:8765", "http://localhost:8765"}
    for foreign in ("http://evil.example", "http://127.0.0.1:8766", "https://127.0.0.1:8765",
                    "ws://127.0.0.1:8765", "null", None):
        assert foreign not in allowed
    allowed.port = 80
    assert "http://127.0.0.1" in allowed  # browsers leave the default port out


def test_hosts_of_each_kind_of_bind_address():
    assert origins.hosts_for("::1") == ["[::1]", "localhost"]
    assert origins.hosts_for("192.0.2.7") == ["192.0.2.7"]
    every = origins.hosts_for("0.0.0.0")
    assert every[:2] == ["127.0.0.1", "localhost"]
    assert not any(host.startswith("127.") for host in every[2:])


@pytest.mark.parametrize(("message", "reason"), [
    (b"binary", "not binary"), ("{", "not JSON"), ("[]", "unknown message type"),
    ('{"type": "shout"}', "unknown message type 'shout'"), ('{"type": "say"}', "some text"),
    ('{"type": "say", "text": "  "}', "some text"),
    ('{"type": "say", "text": 5}', "some text"),
    ('{"type": "say", "text": "' + "x" * 501 + '"}', "at most 500 characters"),
])
def test_what_a_client_sends_is_parsed_or_refused_with_a_reason(message, reason):
    with pytest.raises(ValueError, match=re.escape(reason)):
        protocol.parse(message)


def test_say_and_ping_are_understood():
    assert protocol.parse(protocol.say("hi <b>")) == protocol.Say("hi <b>")
    assert protocol.parse(protocol.ping(7)) == protocol.Ping(7)
