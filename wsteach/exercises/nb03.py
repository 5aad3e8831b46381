"""Checks for the exercises of notebook 03_opening_handshake."""

from __future__ import annotations

import base64
import hashlib

from wsteach import handshake, http1
from wsteach.exercises.checking import NotYet, passed, require_answer
from wsteach.handshake import GUID, accept_key


def check_accept_key(key: str, answer: object) -> None:
    """The Sec-WebSocket-Accept a server answers to ``key``."""
    require_answer(answer)
    expected = accept_key(key)

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode("ascii")

    def sha1(text: bytes):
        return hashlib.sha1(text)

    if isinstance(answer, bytes | bytearray):
        if bytes(answer) == expected.encode("ascii"):
            raise NotYet("Right characters, but bytes: a header value is text. "
                         "Use .decode('ascii').")
        if bytes(answer) == sha1((key + GUID).encode()).digest():
            raise NotYet("This is the raw 20-byte SHA-1 digest: now base64-encode it.")
        raise NotYet("The answer should be a str of 28 characters, like the header value.")
    if not isinstance(answer, str):
        raise NotYet("The answer should be a str: the value of the Sec-WebSocket-Accept header.")
    if answer == expected:
        passed(f"{answer}: base64(sha1(key + GUID)), the same as the server would answer.")
        return
    mistakes = {
        sha1((key + GUID).encode()).hexdigest(): "This is the SHA-1 digest in hex: base64-encode "
        "the raw 20 bytes (.digest()), not the 40 hex characters.",
        b64(sha1((key + GUID).encode()).hexdigest().encode()): "56 characters: did you base64 "
        "the hex digest instead of the raw 20 bytes? Use .digest(), not .hexdigest().",
        b64(sha1(key.encode()).digest()): "Your accept is 28 characters but does not match: did "
        "you include the GUID? The server hashes key + GUID, not the key alone.",
        b64(sha1((key + GUID + " ").encode()).digest()): "That is the accept with the article's "
        "GUID, which ends in a space: the GUID has no trailing space.",
        b64(sha1((key + GUID.lower()).encode()).digest()): "The GUID is compared as text: use it "
        "exactly as RFC 6455 writes it, in capitals.",
        b64(sha1((GUID + key).encode()).digest()): "Key and GUID are swapped: the key comes first.",
        b64(sha1(base64.b64decode(key) + GUID.encode()).digest()): "You decoded the key first. "
        "The server hashes the key as the client sent it, the base64 text, plus the GUID.",
        expected.rstrip("="): "Almost: 20 bytes make 27 base64 characters and one '=' of padding.",
        base64.urlsafe_b64encode(sha1((key + GUID).encode()).digest()).decode(): "That is the "
        "URL-safe alphabet (- and _): the header uses standard base64 (+ and /).",
    }
    if answer.strip() == expected:
        raise NotYet("Right value, but with whitespace around it: strip it.")
    if answer in mistakes:
        raise NotYet(mistakes[answer])
    if len(answer) == 28:
        raise NotYet("Your accept is 28 characters but does not match: hash exactly "
                     "(key + GUID).encode('ascii') with SHA-1 and base64 the 20-byte digest.")
    raise NotYet(f"An accept is always 28 characters (20 bytes of SHA-1 in base64); yours is "
                 f"{len(answer)}. Compute base64(sha1(key + GUID)).")


def check_sha1_blocks(message_length: int, answer: object) -> None:
    """How many 512-bit blocks SHA-1 processes for a message."""
    require_answer(answer)
    expected = (message_length + 9 + 63) // 64
    if not isinstance(answer, int):
        raise NotYet("Answer with a whole number of blocks.")
    if answer == expected:
        passed(f"{message_length} bytes + 1 byte 0x80 + 8 bytes of length = "
                f"{message_length + 9} bytes at least, so {expected} blocks of 64 bytes.")
        return
    padded_bytes = expected * 64
    if answer in (padded_bytes, padded_bytes * 8):
        raise NotYet(f"{answer} counts {'bytes' if answer == padded_bytes else 'bits'}; the "
                     "question asks for blocks of 512 bits (64 bytes).")
    if answer == -(-message_length // 64):
        blocks = "one block" if answer == 1 else f"{answer} blocks"
        raise NotYet(f"{message_length} bytes alone would fit in {blocks} of 64 bytes, but "
                     "padding always adds at least 9 bytes: the byte 0x80 and the 8-byte length.")
    raise NotYet("Count the padded message: the message, one byte 0x80, zeros, and 8 bytes of "
                 "length, filled up to a multiple of 64 bytes (512 bits).")


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


def check_upgrade_request(request: object) -> None:
    """Fix a handshake request so that a server would accept it."""
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
    passed(f"A server would answer 101, with Sec-WebSocket-Accept "
            f"{handshake.accept_key(accepted.key)}.")

