"""Checks for the exercises of notebook 07_control_frames_and_closing."""

from __future__ import annotations

import codecs
import json
import zlib
from collections.abc import Callable, Mapping, Sequence

from wsteach.exercises.checking import NO_FUNCTION, NotYet, passed, require_answer
from wsteach.masking import apply_mask
from wsteach.paths import DATA

BROWSER_CLOSE_EVENTS = DATA / "browser_close_events.json"  # measured by tests/test_browser.py


def check_close_payload(wire: bytes, answer: object) -> None:
    """Decode a masked client close frame by hand: ``(code, reason)`` (section 5.5.1)."""
    require_answer(answer)
    if not isinstance(answer, tuple) or len(answer) != 2:
        raise NotYet("Answer with a tuple (code, reason): an int and a str.")
    code, reason = answer
    if not isinstance(code, int) or not isinstance(reason, str):
        raise NotYet("The code is an int (2 bytes) and the reason a str (the bytes after it, "
                     "decoded).")
    length = wire[1] & 0x7F
    key, masked = wire[2:6], wire[6:6 + length]
    payload = apply_mask(masked, key)
    right_code, right_reason = int.from_bytes(payload[:2], "big"), payload[2:].decode("utf-8")
    if code == int.from_bytes(masked[:2], "big") != right_code:
        raise NotYet("That code comes from the masked bytes: a client frame's payload is XORed "
                     "with the 4-byte key before it (notebook 05). Unmask first.")
    if code == int.from_bytes(payload[:2], "little") != right_code:
        raise NotYet("Those two bytes read backwards: the code is in network byte order, "
                     "big-endian (payload[0] * 256 + payload[1]).")
    if code != right_code:
        raise NotYet(f"{code} is not the code. It is the first 2 bytes of the unmasked payload; "
                     "the payload starts after the 2 header bytes and the 4-byte key.")
    if reason == payload[2:].decode("latin-1") != right_reason:
        raise NotYet("Mojibake: the reason is UTF-8 (section 5.5.1), not Latin-1. Decode the "
                     "bytes after the code with .decode('utf-8').")
    if reason == payload.decode("utf-8", "replace") or reason.endswith(right_reason) and \
            reason != right_reason:
        raise NotYet("The reason starts after the code: skip the first 2 bytes of the payload.")
    if reason != right_reason:
        raise NotYet(f"{reason!r} is not the reason: decode the unmasked bytes after the code "
                     "as UTF-8.")
    passed(f"Code {code}, reason {reason!r}: {len(payload) - 2} bytes of UTF-8 after the code, "
           f"{len(reason)} characters.")


def first_fin(rows: Sequence) -> str:
    """Who sent the first FIN in a capture's packet rows: "client", "server" or "nobody"."""
    for row in rows:
        if "F" in row.flags:
            return row.direction.split()[0]
    return "nobody"


def first_close(rows: Sequence) -> str | None:
    """Who sent the first close frame in a capture's packet rows, if anyone did."""
    for row in rows:
        if "WebSocket close" in row.what:
            return row.direction.split()[0]
    return None


def check_first_fin(rows_by_capture: Mapping[str, Sequence], answer: object) -> None:
    """For each capture, predict who sends the first FIN: "client", "server" or "nobody"."""
    require_answer(answer)
    if not isinstance(answer, Mapping) or set(answer) != set(rows_by_capture):
        raise NotYet(f"Answer with a dict with exactly these keys: {sorted(rows_by_capture)}.")
    for name, rows in rows_by_capture.items():
        guess = answer[name]
        require_answer(guess)
        if guess not in ("client", "server", "nobody"):
            raise NotYet(f"{name}: say 'client', 'server' or 'nobody', not {guess!r}.")
        right = first_fin(rows)
        if guess == right:
            continue
        if right == "nobody":
            raise NotYet(f"{name}: nobody sends FIN there. A peer that vanishes sends RST (or "
                         "nothing at all): look for the R flag instead of F.")
        if guess == "nobody":
            raise NotYet(f"{name}: someone does send FIN there: after a closing handshake both "
                         "sides close TCP with FIN (flag F). Only a peer that vanishes sends none.")
        if guess == first_close(rows):
            raise NotYet(f"{name}: the side that starts the closing handshake is not the side "
                         "that closes TCP first. Section 7.1.1: the server closes TCP first, "
                         "so that the client is not left in TIME_WAIT.")
        raise NotYet(f"{name}: not the {guess}. Section 7.1.1: after the closing handshake "
                     "the server closes TCP first. Look for the first row with F in its TCP "
                     "flags.")
    passed("Right each time: the server sends FIN first, whoever began the close; a reset "
           "sends none.")


def browser_close_events() -> dict[str, tuple[int, bool]]:
    """``(code, wasClean)`` of each ending, as Chromium reported them in tests/test_browser.py."""
    stored = json.loads(BROWSER_CLOSE_EVENTS.read_text(encoding="utf-8"))
    return {row["ending"]: (row["code"], row["wasClean"]) for row in stored["endings"]}


def check_browser_close_events(endings: Sequence[str], answer: object) -> None:
    """Predict the page's CloseEvent ``(code, wasClean)`` for each ending in ``endings``."""
    require_answer(answer)
    if not isinstance(answer, Mapping) or set(answer) != set(endings):
        raise NotYet(f"Answer with a dict whose keys are exactly: {list(endings)}.")
    measured = browser_close_events()
    for ending in endings:
        guess = answer[ending]
        require_answer(guess)
        if not isinstance(guess, tuple) or len(guess) != 2:
            raise NotYet(f"{ending}: answer with a tuple (code, wasClean), e.g. (1000, True).")
        code, clean = guess
        right_code, right_clean = measured[ending]
        if code == 1000 and right_code == 1005:
            raise NotYet(f"{ending}: no code was sent, and 1000 is a code. A close frame "
                         "without a code is reported as 1005, 'no status received'.")
        if code == 1002 and right_code == 1006:
            raise NotYet(f"{ending}: the browser does send 1002 to the server, but its page "
                         "learns only that the connection failed: 1006.")
        if code == 1005 and right_code == 1006:
            raise NotYet(f"{ending}: 1005 means a close frame came without a code. Here no "
                         "valid close frame completed the handshake: that is 1006.")
        if code != right_code:
            raise NotYet(f"{ending}: the code is not {code}. Which close frame, if any, did "
                         "the page receive?")
        if bool(clean) != right_clean:
            raise NotYet(f"{ending}: wasClean is true only when the closing handshake "
                         "completed: a close frame each way, then TCP closed.")
    passed("Each one as Chromium reported it.")


def check_inflate_messages(inflate_messages: Callable[[list[bytes]], list[str]],
                           payloads: list[bytes], expected: list[str]) -> None:
    """A function that inflates a side's compressed messages, in order (RFC 7692 7.2.2)."""
    require_answer(inflate_messages)
    try:
        got = inflate_messages(list(payloads))
    except NotImplementedError:
        raise NotYet(NO_FUNCTION) from None
    except zlib.error as error:
        problem = str(error)
        if "header" in problem:
            hint = ("permessage-deflate is raw DEFLATE, without the 2-byte zlib header: "
                    "zlib.decompressobj(-15) (a negative window size).")
        elif "distance" in problem:
            hint = ("The second message refers back into the first (that is how it got so "
                    "small): keep one decompressobj for all the messages of a side, as the "
                    "context is shared.")
        elif "stored block" in problem:
            hint = ("The inflater is still inside the previous message: the sender stripped "
                    "its last 4 bytes (section 7.2.1). Append b'\\x00\\x00\\xff\\xff' to "
                    "each message before inflating it.")
        elif "truncated" in problem:
            hint = ("zlib.decompress() wants a whole stream, but a message is not the end of "
                    "one: the stream goes on into the next message. Use a decompressobj.")
        else:
            hint = f"zlib refused the data ({problem})."
        raise NotYet(hint) from None
    if not isinstance(got, list) or len(got) != len(expected):
        raise NotYet(f"Return a list with one str per message ({len(expected)} here).")
    for number, (message, right) in enumerate(zip(got, expected, strict=True), 1):
        if isinstance(message, bytes | bytearray):
            raise NotYet(f"Message {number} is bytes: decode the text messages as UTF-8.")
        if message != right:
            raise NotYet(f"Message {number} is not what was sent: {message[:40]!r}...")
    passed(f"All {len(expected)} messages inflated, through one shared context.")


def check_utf8_failure(data: bytes, answer: object) -> None:
    """The index of the first byte at which a fail-fast UTF-8 decoder rejects ``data``."""
    require_answer(answer)
    if not isinstance(answer, int) or isinstance(answer, bool):
        raise NotYet("Answer with an index into the payload (an int).")
    decoder = codecs.getincrementaldecoder("utf-8")()
    right = None
    for index in range(len(data)):
        try:
            decoder.decode(data[index:index + 1])
        except UnicodeDecodeError:
            right = index
            break
    assert right is not None, "the exercise's data must be invalid UTF-8"
    if not 0 <= answer < len(data):
        raise NotYet(f"An index into the payload is between 0 and {len(data) - 1}.")
    if answer == right:
        passed(f"Byte {right} ({data[right]:#04x}) cannot continue the character begun before "
               "it: the decoder knows there, before the rest arrives.")
        return
    if answer == right + 1:
        raise NotYet(f"One too far: counted from 1, that is the right byte, but indexes start "
                     f"at 0 (the payload's first byte is data[0]). data[{answer}] is "
                     f"{data[answer]:#04x}, the byte after the one that fails.")
    if answer >= len(data) - 1:
        raise NotYet("That is the end of the payload: a fail-fast decoder does not wait for the "
                     "whole frame, it stops at the first byte that cannot be UTF-8.")
    if answer < right and data[answer] >= 0xC0:
        raise NotYet(f"Byte {answer} ({data[answer]:#04x}) is a valid first byte of a "
                     "multi-byte character: nothing is wrong yet. What must the next byte be?")
    raise NotYet(f"Byte {answer} ({data[answer]:#04x}) is not where it goes wrong. Bytes "
                 "0x00-0x7F are whole characters; a lead byte 0xC2-0xF4 must be followed by "
                 "continuation bytes 0x80-0xBF.")
