"""Checks for the exercises of notebook 03_opening_handshake."""

from __future__ import annotations

import base64
import hashlib

from wsteach import handshake, http1
from wsteach.exercises.checking import NotYet, call_answer, passed, require_answer
from wsteach.handshake import GUID, accept_key

RFC_KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455 section 1.3


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _sha1(text: str | bytes) -> bytes:
    return hashlib.sha1(text.encode("ascii") if isinstance(text, str) else text).digest()


def accept_mistake(key: str, answer: object) -> str | None:
    """What went wrong when ``answer`` is not the accept for ``key``; None when it is right.
    Each known mistake is recomputed for this key, so a hint names only what really gives
    ``answer``."""
    expected = accept_key(key)
    if isinstance(answer, bytes | bytearray):
        if bytes(answer) == expected.encode("ascii"):
            return "Right characters, but bytes: a header value is text. Use .decode('ascii')."
        if bytes(answer) == _sha1(key + GUID):
            return "This is the raw 20-byte SHA-1 digest: now base64-encode it."
        return "The answer should be a str of 28 characters, like the header value."
    if not isinstance(answer, str):
        return "The answer should be a str: the value of the Sec-WebSocket-Accept header."
    if answer == expected:
        return None
    mistakes = {
        _sha1(key + GUID).hex(): "This is the SHA-1 digest in hex: base64-encode the raw "
        "20 bytes (.digest()), not the 40 hex characters.",
        _b64(_sha1(key + GUID).hex().encode()): "56 characters: did you base64 the hex "
        "digest instead of the raw 20 bytes? Use .digest(), not .hexdigest().",
        _b64(_sha1(key)): "28 characters but no match: the server hashes key + GUID, "
        "not the key alone.",
        _b64(_sha1(key + GUID + " ")): "That is the accept with the article's GUID, "
        "which ends in a space: the GUID has no trailing space.",
        _b64(_sha1(key + GUID.lower())): "The GUID is compared as text: use it exactly "
        "as RFC 6455 writes it, in capitals.",
        _b64(_sha1(GUID + key)): "Key and GUID are swapped: the key comes first.",
        _b64(_sha1(key + " " + GUID)): "There is a space between key and GUID: join "
        "them with nothing in between.",
        _b64(_sha1(base64.b64decode(key) + GUID.encode())): "The key was decoded "
        "first. The server hashes the key as the client sent it, the base64 text, plus the GUID.",
        _b64(hashlib.sha256((key + GUID).encode()).digest()): "That is SHA-256: the handshake "
        "uses SHA-1 (RFC 6455 section 4.2.2), whose digest is 20 bytes.",
        _b64(hashlib.md5((key + GUID).encode()).digest()): "That is MD5: the handshake uses "
        "SHA-1 (RFC 6455 section 4.2.2), whose digest is 20 bytes.",
        expected.rstrip("="): "Almost: 20 bytes make 27 base64 characters and one '=' of "
        "padding.",
        base64.urlsafe_b64encode(_sha1(key + GUID)).decode(): "That is the URL-safe "
        "alphabet (- and _): the header uses standard base64 (+ and /).",
        accept_key(RFC_KEY): "That is the accept of RFC 6455's example key, not of this key.",
    }
    if answer.strip() == expected:
        return "Right value, but with whitespace around it: strip it."
    if answer in mistakes:
        return mistakes[answer]
    if len(answer) == 28:
        return ("28 characters but no match: hash exactly (key + GUID).encode('ascii') with "
                "SHA-1 and base64 the 20-byte digest.")
    return (f"An accept is always 28 characters (20 bytes of SHA-1 in base64); this one is "
            f"{len(answer)}. Compute base64(sha1(key + GUID)).")


def check_accept_function(my_accept) -> None:
    """``my_accept(key)`` is the Sec-WebSocket-Accept for any key (RFC 6455 section 4.2.2),
    tried on the RFC's example key (section 1.3) and on fresh ones."""
    require_answer(my_accept)
    keys = [RFC_KEY, *(handshake.generate_key() for _ in range(3))]
    for key in keys:
        mistake = accept_mistake(key, call_answer(my_accept, key))
        if mistake:
            raise NotYet(f"For the key {key!r}: {mistake}")
    passed(f"my_accept gives the RFC's {accept_key(RFC_KEY)} for its example key, and the "
           f"right accept for {len(keys) - 1} fresh keys.")


def check_accepted_server(letter: object, key: str, answers: dict[str, str]) -> None:
    """Which of ``answers`` (server letter: its Sec-WebSocket-Accept for ``key``) would a client
    accept (RFC 6455 section 4.1)?"""
    require_answer(letter)
    right = [name for name, answer in answers.items() if answer == accept_key(key)]
    if not isinstance(letter, str) or letter.strip().upper() not in answers:
        raise NotYet(f"Answer with one of the letters {', '.join(answers)}, as a str.")
    if letter not in answers:
        raise NotYet(f"Write the letter as the table does: {letter.strip().upper()!r}.")
    if letter not in right:
        raise NotYet(f"A client would fail the connection on server {letter}'s answer: "
                     f"{accept_mistake(key, answers[letter])}")
    wrong = "; ".join(f"{name}: {accept_mistake(key, answer)}"
                      for name, answer in answers.items() if name not in right)
    passed(f"Server {letter}. What the others did: {wrong}")


def check_choose_subprotocol(choose_subprotocol) -> None:
    """``choose_subprotocol(offered, supported)``: the first of the server's own
    ``supported`` that the client offered in its ``Sec-WebSocket-Protocol`` values, or None
    (RFC 6455 section 4.2.2; names compare case-sensitively, RFC 7936)."""
    require_answer(choose_subprotocol)
    for offered, supported, hint in SUBPROTOCOL_CASES:
        expected = handshake.validate_request(_offering(offered), subprotocols=supported)
        got = call_answer(choose_subprotocol, list(offered), list(supported))
        if got == expected.subprotocol:
            continue
        if got == "" and expected.subprotocol is None:
            hint = "When nothing matches, return None, not '': the server then sends no header."
        raise NotYet(f"{hint} (offered {list(offered)}, supported {list(supported)}: you chose "
                     f"{got!r}, a server would choose {expected.subprotocol!r}.)")
    passed(f"Your choices agree with wsteach.handshake.validate_request on all "
           f"{len(SUBPROTOCOL_CASES)} handshakes.")


# (what the client's headers say, what the server speaks, the rule a wrong choice breaks)
SUBPROTOCOL_CASES = [
    (["chat"], ["chat"], "The client offered chat and the server speaks it: choose it."),
    (["chat, superchat"], ["superchat", "chat"], "The exercise asks for the server's "
     "preference: the first of `supported` that was offered, not the client's first."),
    (["chat,superchat"], ["superchat"], "Names are separated by commas, with or without spaces "
     "after them: split on ',' and strip each name."),
    (["chat", "superchat"], ["superchat"], "The header may come more than once: every value "
     "in `offered` counts."),
    (["superchat"], ["chat"], "The client offered nothing the server speaks: return None "
     "('superchat' contains 'chat', but a name matches only as a whole: compare whole names)."),
    (["Chat"], ["chat"], "Names are compared case-sensitively (RFC 7936): 'Chat' is not "
     "'chat'."),
    (["chat.v2"], ["chat"], "Compare whole names: 'chat.v2' is not 'chat'."),
    ([], ["chat"], "No Sec-WebSocket-Protocol header at all: return None."),
]


def _offering(offered: list[str]) -> http1.Request:
    """A valid handshake request with these Sec-WebSocket-Protocol values."""
    headers = http1.Headers([("Host", "127.0.0.1"), ("Upgrade", "websocket"),
                             ("Connection", "Upgrade"), ("Sec-WebSocket-Key", RFC_KEY),
                             ("Sec-WebSocket-Version", "13")])
    for value in offered:
        headers.add("Sec-WebSocket-Protocol", value)
    return http1.Request("GET", "/chat", "HTTP/1.1", headers)


def check_base64_by_hand(data: bytes, answer: object) -> None:
    """Base64 of ``data`` by hand."""
    require_answer(answer)
    expected = base64.b64encode(data).decode("ascii")
    if isinstance(answer, bytes | bytearray):
        answer = bytes(answer).decode("ascii", "replace")
        if answer == expected:
            raise NotYet("Right characters, but bytes: return a str (use .decode('ascii')).")
    if not isinstance(answer, str):
        raise NotYet("The answer should be a str of base64 characters.")
    if answer == expected:
        passed(f"{answer}: {len(data)} bytes = {len(data) * 8} bits, in 6-bit groups.")
        return
    if answer == data.hex():
        raise NotYet("That is hex (4 bits a character); base64 takes 6 bits a character.")
    if answer == expected.rstrip("="):
        raise NotYet(f"Almost: {len(data)} bytes is not a multiple of 3, so '=' pads the text "
                     "to a multiple of 4 characters.")
    if answer == base64.urlsafe_b64encode(data).decode("ascii"):
        raise NotYet("That is the URL-safe alphabet (- and _); standard base64 uses + and /.")
    if len(answer) != len(expected):
        raise NotYet(f"{len(data)} bytes make {len(expected)} characters: every 3 bytes become 4 "
                     "characters, and '=' fills the last group of 4.")
    wrong = next(i for i, (a, b) in enumerate(zip(answer, expected, strict=True)) if a != b)
    first_byte = 3 * (wrong // 4)
    last_byte = min(first_byte + 2, len(data) - 1)
    raise NotYet(f"Character {wrong} is wrong (group {wrong // 4}, from bytes "
                 f"{first_byte}-{last_byte}). Write those bytes in bits, cut "
                 "them into 6-bit groups, and look each value up in the alphabet A-Z a-z 0-9 + /; "
                 "missing bits at the end are zeros.")


def check_upgrade_request(request: object, authority: str) -> None:
    """Fix a handshake request for the server at ``authority`` so that a server would accept
    it (RFC 6455 section 4.1)."""
    require_answer(request)
    if isinstance(request, str):
        raise NotYet("Send bytes: write the request as a bytes literal b'...' (or .encode()).")
    if not isinstance(request, bytes | bytearray):
        raise NotYet("The answer should be the request's bytes.")
    if not bytes(request).endswith(b"\r\n\r\n"):
        raise NotYet("The head must end with an empty line: CRLF CRLF (b'\\r\\n\\r\\n'). "
                     "Every line ends in \\r\\n, not just \\n.")
    try:
        parsed = http1.parse_request(bytes(request))
        accepted = handshake.validate_request(parsed)
    except http1.HTTPError as error:
        raise NotYet(f"A server cannot even parse it ({error.status}): {error.reason}.") from None
    except handshake.HandshakeError as error:
        raise NotYet(f"A server would answer {error.status}: {error.reason}.") from None
    if parsed.headers.get("Host") != authority:
        raise NotYet(f"A server would answer 101 now, but one mistake is left: Host says "
                     f"{parsed.headers.get('Host')!r}. The request is meant for {authority}, "
                     "and a client names the port in Host when it is not the default one "
                     "(RFC 6455 section 4.1; RFC 9112 section 3.2).")
    passed(f"A server would answer 101, with Sec-WebSocket-Accept "
           f"{handshake.accept_key(accepted.key)}.")


# Exercise 3.6: the changed requests, and the rule that decides each server's answer.
SWITCH_RULES = {
    "Upgrade: WebSocket": "The value of Upgrade is compared case-insensitively (RFC 6455 "
    "section 4.2.1: 'treated as an ASCII case-insensitive value'), and both servers do.",
    "no Host line": "HTTP/1.1 requires Host: a server MUST answer 400 to a request without one "
    "(RFC 9112 section 3.2), and wsteach does; websockets does not look and switches anyway.",
    "Connection: keep-alive, Upgrade": "Connection is a list of tokens (RFC 9110 section "
    "7.6.1): the token upgrade among others is enough, and both servers read it that way "
    "(Firefox sends exactly this).",
    "Host without its port": "Neither server checks the port in Host (RFC 6455 section 4.2.1 "
    "leaves that to the server), so both switch, although the client should have sent it.",
    "a key of 19 bytes": "The key must be base64 for exactly 16 bytes (RFC 6455 section "
    "4.2.1): both servers answer 400.",
}


def check_switch_predictions(prediction: object, switched: dict[str, tuple[bool, bool]]) -> None:
    """Predictions ``{change: (wsteach switches, websockets switches)}`` against what the two
    servers did (``switched``, measured by the notebook)."""
    require_answer(prediction)
    if not isinstance(prediction, dict) or set(prediction) != set(switched):
        raise NotYet(f"Answer with a dict whose keys are the changes: {', '.join(switched)}.")
    for change, happened in switched.items():
        guess = prediction[change]
        if not (isinstance(guess, tuple) and len(guess) == 2
                and all(isinstance(item, bool) for item in guess)):
            raise NotYet(f"For {change!r}: give a pair of booleans, (our server switches, "
                         "websockets switches), such as (True, False).")
        if guess != happened:
            said = {True: "switched (101)", False: "refused"}
            raise NotYet(f"{change}: our server {said[happened[0]]}, websockets "
                         f"{said[happened[1]]}. {SWITCH_RULES.get(change, '')}")
    passed("All predicted. " + " ".join(SWITCH_RULES[change] for change in switched
                                        if change in SWITCH_RULES))
