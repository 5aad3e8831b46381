"""The checks of notebook 03: the answers students plausibly give are each rejected with the hint
that names that mistake; the right answer passes; a stub gives the "no answer yet" hint."""

from __future__ import annotations

import base64
import hashlib

import pytest

from wsteach import handshake
from wsteach.exercises import nb03
from wsteach.exercises.checking import NO_ANSWER, NO_FUNCTION, NotYet

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
RFC_KEY, RFC_ACCEPT = "dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def rejected(check, *args) -> str:
    with pytest.raises(NotYet) as info:
        check(*args)
    return str(info.value)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def sha1(text: str) -> bytes:
    return hashlib.sha1(text.encode()).digest()


def stub(*args):
    raise NotImplementedError


# ---- 3.1: my_accept --------------------------------------------------------------------------

def test_accept_function_passes_a_right_one(capsys):
    nb03.check_accept_function(lambda key: b64(sha1(key + GUID)))
    assert RFC_ACCEPT in capsys.readouterr().out


@pytest.mark.parametrize(
    ("function", "hint"),
    [
        (lambda key: hashlib.sha1((key + GUID).encode()).hexdigest(), "SHA-1 digest in hex"),
        (lambda key: b64(hashlib.sha1((key + GUID).encode()).hexdigest().encode()),
         "base64 the hex digest"),
        (lambda key: b64(sha1(key)), "not the key alone"),
        (lambda key: b64(sha1(key + GUID + " ")), "the article's GUID"),
        (lambda key: b64(sha1(key + GUID.lower())), "in capitals"),
        (lambda key: b64(sha1(GUID + key)), "swapped"),
        (lambda key: b64(sha1(key + " " + GUID)), "a space between key and GUID"),
        (lambda key: b64(hashlib.sha1(base64.b64decode(key) + GUID.encode()).digest()),
         "The key was decoded first"),
        (lambda key: b64(hashlib.sha256((key + GUID).encode()).digest()), "That is SHA-256"),
        (lambda key: b64(hashlib.md5((key + GUID).encode()).digest()), "That is MD5"),
        (lambda key: b64(sha1(key + GUID)).rstrip("="), "one '=' of padding"),
        (lambda key: base64.urlsafe_b64encode(sha1(key + GUID)).decode(), "URL-safe"),
        (lambda key: b64(sha1(key + GUID)).encode(), "but bytes"),
        (lambda key: sha1(key + GUID), "raw 20-byte SHA-1 digest"),
        (lambda key: b64(sha1(key + GUID)) + "\n", "whitespace around it"),
        (lambda key: RFC_ACCEPT, "the accept of RFC 6455's example key"),
        (lambda key: b64(sha1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B12")), "28 characters"),
        (lambda key: 42, "should be a str"),
        (lambda key: {}[key], "raised KeyError"),
        ("my_accept", "the function itself"),
    ],
)
def test_accept_function_names_the_mistake(function, hint):
    assert hint in rejected(nb03.check_accept_function, function)


def test_accept_function_stub():
    assert rejected(nb03.check_accept_function, ...) == NO_ANSWER
    assert rejected(nb03.check_accept_function, stub) == NO_FUNCTION


# ---- 3.2: which server a client accepts ------------------------------------------------------

KEY = handshake.generate_key()
ANSWERS = {"A": b64(sha1(KEY + GUID + " ")),
           "B": b64(hashlib.sha1(base64.b64decode(KEY) + GUID.encode()).digest()),
           "C": handshake.accept_key(KEY),
           "D": b64(hashlib.sha1((KEY + GUID).encode()).hexdigest().encode())}


def test_accepted_server_passes_and_names_what_the_others_did(capsys):
    nb03.check_accepted_server("C", KEY, ANSWERS)
    out = capsys.readouterr().out
    assert "A: That is the accept with the article's GUID" in out
    assert "B: The key was decoded first" in out and "D: 56 characters" in out


@pytest.mark.parametrize(
    ("letter", "hint"),
    [
        ("A", "server A's answer: That is the accept with the article's GUID"),
        ("B", "server B's answer: The key was decoded first"),
        ("D", "server D's answer: 56 characters"),
        ("c", "Write the letter as the table does: 'C'"),
        (" C", "Write the letter as the table does"),
        ("E", "one of the letters A, B, C, D"),
        (3, "one of the letters"),
    ],
)
def test_accepted_server_names_the_mistake(letter, hint):
    assert hint in rejected(nb03.check_accepted_server, letter, KEY, ANSWERS)


def test_accepted_server_stub():
    assert rejected(nb03.check_accepted_server, ..., KEY, ANSWERS) == NO_ANSWER


# ---- 3.3: choosing a subprotocol -------------------------------------------------------------

def names_in(offered: list[str]) -> list[str]:
    return [name.strip() for value in offered for name in value.split(",")]


def right(offered, supported):
    names = names_in(offered)
    return next((name for name in supported if name in names), None)


def clients_first(offered, supported):
    return next((name for name in names_in(offered) if name in supported), None)


def no_strip(offered, supported):
    names = [name for value in offered for name in value.split(", ")]
    return next((name for name in supported if name in names), None)


def first_header_only(offered, supported):
    return right(offered[:1], supported)


def empty_string(offered, supported):
    return right(offered, supported) or ""


def case_insensitive(offered, supported):
    names = [name.lower() for name in names_in(offered)]
    return next((name for name in supported if name.lower() in names), None)


def substring(offered, supported):
    text = ", ".join(offered)
    return next((name for name in supported if name in text), None)


def crashes_without_offer(offered, supported):
    offered[0].split(",")  # assumes there is a header
    return right(offered, supported)


def test_choose_subprotocol_passes_a_right_one(capsys):
    nb03.check_choose_subprotocol(right)
    assert "all 8 handshakes" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("function", "hint"),
    [
        (clients_first, "the server's preference"),
        (no_strip, "with or without spaces"),
        (first_header_only, "may come more than once"),
        (empty_string, "return None, not ''"),
        (case_insensitive, "case-sensitively"),
        (substring, "compare whole names"),
        (crashes_without_offer, "raised IndexError"),
    ],
)
def test_choose_subprotocol_names_the_mistake(function, hint):
    assert hint in rejected(nb03.check_choose_subprotocol, function)


def test_choose_subprotocol_stub():
    assert rejected(nb03.check_choose_subprotocol, None) == NO_ANSWER
    assert rejected(nb03.check_choose_subprotocol, stub) == NO_FUNCTION


# ---- 3.4: base64 by hand ---------------------------------------------------------------------

DATA = bytes.fromhex("8ab934e2c2")  # 5 bytes: two fill bits, one '='
RIGHT = b64(DATA)


def test_base64_by_hand_passes(capsys):
    nb03.check_base64_by_hand(DATA, RIGHT)
    assert "40 bits" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (RIGHT.rstrip("="), "'=' pads the text"),
        (DATA.hex(), "That is hex"),
        (RIGHT + "=", "make 8 characters"),
        (RIGHT[:6] + "J=", "Character 6 is wrong (group 1, from bytes 3-4)"),  # fill bits 1
        (RIGHT.swapcase(), "Character 0 is wrong"),  # the alphabet's halves swapped
        (RIGHT.encode(), "Right characters, but bytes"),
        (base64.urlsafe_b64encode(bytes.fromhex("fbff")).decode(), "URL-safe alphabet"),
        (5, "should be a str"),
    ],
)
def test_base64_by_hand_names_the_mistake(answer, hint):
    data = bytes.fromhex("fbff") if "URL-safe" in hint else DATA
    assert hint in rejected(nb03.check_base64_by_hand, data, answer)


def test_base64_by_hand_stub():
    assert rejected(nb03.check_base64_by_hand, DATA, ...) == NO_ANSWER


# ---- 3.5: the broken request -----------------------------------------------------------------

AUTHORITY = "127.0.0.1:9001"
BROKEN = (b"GET /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
          b"Sec-WebSocket-Key: " + RFC_KEY.encode() + b"\r\nSec-WebSocket-Version: 8\r\n\n")
FIXES = {
    "blank line": (b"\r\n\n", b"\r\n\r\n"),
    "Connection": (b"Upgrade: websocket\r\n", b"Upgrade: websocket\r\nConnection: Upgrade\r\n"),
    "version": (b"Version: 8", b"Version: 13"),
    "port": (b"Host: 127.0.0.1\r\n", b"Host: 127.0.0.1:9001\r\n"),
}


def fixed(*names: str, request: bytes = BROKEN) -> bytes:
    for name in names:
        request = request.replace(*FIXES[name])
    return request


def test_upgrade_request_passes_when_all_four_are_fixed(capsys):
    nb03.check_upgrade_request(fixed(*FIXES), AUTHORITY)
    assert RFC_ACCEPT in capsys.readouterr().out


@pytest.mark.parametrize(
    ("request_bytes", "hint"),
    [
        (BROKEN, "CRLF CRLF"),
        (fixed("blank line"), "400: the Connection header must contain the token Upgrade"),
        (fixed("blank line", "Connection"), "426: Sec-WebSocket-Version must be 13"),
        (fixed("blank line", "Connection", "version"), "Host says '127.0.0.1'"),
        (fixed("blank line", "Connection", "version", "port").replace(b"HTTP/1.1", b"HTTP/1.0"),
         "400: the handshake needs HTTP/1.1"),
        (fixed("blank line", "Connection", "version", "port").replace(b"GET", b"POST"),
         "405: the handshake must be a GET"),
        (fixed("blank line", "Connection", "version", "port").replace(
            b"Connection: Upgrade", b"Connection: close"), "token Upgrade"),
        (fixed("blank line", "Connection", "version", "port").decode(), "Send bytes"),
        ([fixed(*FIXES)], "the request's bytes"),
    ],
)
def test_upgrade_request_names_the_mistake(request_bytes, hint):
    assert hint in rejected(nb03.check_upgrade_request, request_bytes, AUTHORITY)


@pytest.mark.parametrize("variant", [(b"Connection: Upgrade", b"Connection: upgrade"),
                                     (b"Connection: Upgrade", b"Connection: keep-alive, Upgrade"),
                                     (b"Upgrade: websocket", b"Upgrade: WebSocket")])
def test_upgrade_request_accepts_what_servers_accept(variant, capsys):
    nb03.check_upgrade_request(fixed(*FIXES).replace(*variant), AUTHORITY)
    assert "would answer 101" in capsys.readouterr().out


def test_upgrade_request_stub():
    assert rejected(nb03.check_upgrade_request, ..., AUTHORITY) == NO_ANSWER


# ---- 3.6: predicting which server switches ---------------------------------------------------

MEASURED = {  # what wsteach and websockets 17.4 answered when the notebook ran
    "Upgrade: WebSocket": (True, True),
    "no Host line": (False, True),
    "Connection: keep-alive, Upgrade": (True, True),
    "Host without its port": (True, True),
    "a key of 19 bytes": (False, False),
}


def test_switch_predictions_pass(capsys):
    nb03.check_switch_predictions(dict(MEASURED), MEASURED)
    assert "RFC 9112 section 3.2" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("change", "guess", "hint"),
    [
        ("Upgrade: WebSocket", (False, False), "compared case-insensitively"),
        ("no Host line", (True, True), "a server MUST answer 400 to a request without one"),
        ("no Host line", (False, False), "websockets does not look and switches anyway"),
        ("Connection: keep-alive, Upgrade", (False, False), "a list of tokens"),
        ("Host without its port", (False, False), "Neither server checks the port"),
        ("a key of 19 bytes", (True, True), "exactly 16 bytes"),
        ("a key of 19 bytes", ("no", "no"), "a pair of booleans"),
        ("a key of 19 bytes", (0, 0), "a pair of booleans"),
    ],
)
def test_switch_predictions_name_the_mistake(change, guess, hint):
    prediction = {**MEASURED, change: guess}
    assert hint in rejected(nb03.check_switch_predictions, prediction, MEASURED)


def test_switch_predictions_need_every_change():
    partial = {name: MEASURED[name] for name in list(MEASURED)[:3]}
    assert "keys are the changes" in rejected(nb03.check_switch_predictions, partial, MEASURED)
    assert rejected(nb03.check_switch_predictions, ..., MEASURED) == NO_ANSWER
