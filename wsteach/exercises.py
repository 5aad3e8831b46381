"""Checks for the notebooks' exercises: each says what is wrong, not just that it is wrong.

An exercise is a markdown prompt, a code cell tagged ``solution`` (replaced by a stub in the
student edition) and a check cell calling one function here. A check raises ``NotYet`` with a
hint when the answer is wrong, so a notebook run in CI fails if a teacher's solution breaks.
"""

from __future__ import annotations


class NotYet(AssertionError):
    """The answer is not right yet; the message says what to look at."""


def _passed(message: str) -> None:
    print(f"✔ {message}")


def _require_answer(answer: object) -> None:
    if answer is Ellipsis or answer is None:
        raise NotYet("No answer yet: replace the ... in the cell above with your code and run it.")


def check_utf8_length(text: str, answer: object) -> None:
    """00_start_here: how many bytes does ``text`` take in UTF-8?"""
    _require_answer(answer)
    expected = len(text.encode("utf-8"))
    if answer == len(text):
        raise NotYet(f"{answer} counts characters, not bytes. A Chinese character takes 3 bytes "
                     "in UTF-8: encode the text first.")
    if answer != expected:
        raise NotYet(f"{answer} is not the number of UTF-8 bytes. Try len(text.encode('utf-8')).")
    _passed(f"{text!r} is {len(text)} characters but {expected} bytes in UTF-8: a WebSocket "
            "length field counts bytes.")


def check_16bit_length_frame(frames: list, answer: object) -> None:
    """06_packets_on_the_wire: the index of the first frame whose length uses the 16-bit form."""
    _require_answer(answer)
    if not isinstance(answer, int) or not 0 <= answer < len(frames):
        raise NotYet(f"Give an index into the frames list (0 to {len(frames) - 1}).")
    expected = next(i for i, frame in enumerate(frames) if frame.wire[1] & 0x7F == 126)
    length = len(frames[answer].payload)
    if answer != expected:
        form = "7-bit (0-125)" if length <= 125 else "64-bit (65536 and up)" if length > 65535 \
            else "16-bit, but it is not the first one"
        raise NotYet(f"Frame {answer} carries {length} bytes: its length uses the {form} form. "
                     "Look at the low 7 bits of the second byte: 126 announces a 16-bit length.")
    _passed(f"Frame {answer}: byte 2 says 126, so the next 2 bytes hold the length {length}.")


def check_unmasked(frame, answer: object) -> None:
    """06_packets_on_the_wire: unmask a client frame's payload by hand."""
    _require_answer(answer)
    if not isinstance(answer, bytes | bytearray):
        raise NotYet("The answer should be bytes: build it with bytes(...) from a list of ints.")
    if bytes(answer) == frame.wire[-len(frame.payload):]:
        raise NotYet("These are still the masked bytes: XOR each byte with key[i % 4].")
    if bytes(answer) != frame.payload:
        raise NotYet("Not the payload yet. Byte i of the payload is masked[i] ^ key[i % 4], with "
                     "the 4-byte key that comes right before the payload.")
    _passed(f"Unmasked: {bytes(answer)!r}. XOR twice with the same key gives the bytes back.")


def check_first_two_bytes(answer: object) -> None:
    """04_frame_layout: the first two bytes of an unmasked, final binary frame of 300 bytes."""
    _require_answer(answer)
    if not isinstance(answer, bytes | bytearray) or len(answer) != 2:
        raise NotYet("Answer with exactly two bytes, e.g. bytes([first, second]).")
    first, second = answer
    if first & 0x0F != 0x2:
        raise NotYet(f"The opcode bits of 0x{first:02x} say 0x{first & 0x0F:X}; binary is 0x2.")
    if not first & 0x80:
        raise NotYet("FIN is the top bit of the first byte: set it (1 << 7) for a whole message.")
    if first & 0x70:
        raise NotYet("RSV1-3 must stay 0 without an extension.")
    if second & 0x80:
        raise NotYet("The MASK bit (top bit of byte 2) is 0: the frame is unmasked.")
    if second & 0x7F == 300 & 0x7F or second & 0x7F != 126:
        raise NotYet("300 does not fit in 7 bits: byte 2 must say 126, and the length follows "
                     "in the next two bytes.")
    _passed(f"{bytes(answer).hex(' ')}: FIN + binary, then 126 announcing a 16-bit length.")


def check_header_reading(header: bytes, answer: object) -> None:
    """04_frame_layout: read opcode, payload length and mask bit from two header bytes."""
    _require_answer(answer)
    if not isinstance(answer, tuple) or len(answer) != 3:
        raise NotYet("Answer with a tuple (opcode, length, masked).")
    opcode, length, masked = answer
    if opcode != header[0] & 0x0F:
        raise NotYet("The opcode is the low 4 bits of the first byte: header[0] & 0x0F.")
    if length != header[1] & 0x7F:
        raise NotYet("The length is the low 7 bits of the second byte: header[1] & 0x7F "
                     "(the top bit is MASK, not part of the length).")
    if bool(masked) != bool(header[1] & 0x80):
        raise NotYet("MASK is the top bit of the second byte: header[1] & 0x80.")
    _passed(f"opcode {opcode!r}, {length} bytes of payload, masked={bool(masked)}.")


def check_frame_length(frame_length) -> None:
    """04_frame_layout: a function giving a frame's total size on the wire."""
    _require_answer(frame_length)
    from wsteach.frames import Frame, Opcode, encode_frame

    for size in (0, 1, 125, 126, 127, 65535, 65536, 70000):
        for masked in (False, True):
            expected = len(encode_frame(Frame(Opcode.BINARY, bytes(size)),
                                        b"abcd" if masked else None))
            got = frame_length(size, masked)
            if got != expected:
                raise NotYet(f"frame_length({size}, masked={masked}) gave {got}, the frame takes "
                             f"{expected} bytes. Check the form switches at 126 and 65536, and "
                             "the 4-byte key.")
    _passed("Right for every length form, masked and unmasked.")


def check_accept_key(key: str, answer: object) -> None:
    """03_opening_handshake: the Sec-WebSocket-Accept a server answers to ``key``."""
    import base64
    import hashlib

    from wsteach.handshake import GUID, accept_key

    _require_answer(answer)
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
        _passed(f"{answer}: base64(sha1(key + GUID)), the same as the server would answer.")
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
    """03_opening_handshake: how many 512-bit blocks SHA-1 processes for a message."""
    _require_answer(answer)
    expected = (message_length + 9 + 63) // 64
    if not isinstance(answer, int):
        raise NotYet("Answer with a whole number of blocks.")
    if answer == expected:
        _passed(f"{message_length} bytes + 1 byte 0x80 + 8 bytes of length = "
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
    """03_opening_handshake: base64 of ``data`` by hand."""
    import base64

    _require_answer(answer)
    expected = base64.b64encode(data).decode("ascii")
    if isinstance(answer, bytes | bytearray):
        answer = bytes(answer).decode("ascii", "replace")
        if answer == expected:
            raise NotYet("Right characters, but bytes: return a str (use .decode('ascii')).")
    if not isinstance(answer, str):
        raise NotYet("The answer should be a str of base64 characters.")
    if answer == expected:
        _passed(f"{answer}: {len(data)} bytes = {len(data) * 8} bits, in 6-bit groups.")
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
    """03_opening_handshake: fix a handshake request so that a server would accept it."""
    from wsteach import handshake, http1

    _require_answer(request)
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
    _passed(f"A server would answer 101, with Sec-WebSocket-Accept "
            f"{handshake.accept_key(accepted.key)}.")


def check_handshake_count(packets, answer: object) -> None:
    """01_http_before_websocket: how many TCP three-way handshakes does a capture hold?"""
    _require_answer(answer)
    flags = [packet.getlayer("TCP").flags for packet in packets if packet.haslayer("TCP")]
    syn = sum(1 for flag in flags if flag.S and not flag.A)
    requests = sum(1 for packet in packets if packet.haslayer("TCP")
                   and bytes(packet.getlayer("TCP").payload).startswith(b"GET "))
    if answer == 2 * syn:
        raise NotYet("That counts the SYN-ACKs too. Each handshake has one SYN (flags S) and one "
                     "SYN-ACK (flags SA): count only packets with S set and A not set.")
    if answer == requests and requests != syn:
        raise NotYet(f"{answer} is the number of requests. A keep-alive connection carries "
                     "several requests after one handshake: count the SYN packets instead.")
    if answer != syn:
        raise NotYet(f"{answer} is not it. A handshake starts with a packet whose TCP flags are "
                     "exactly 'S': count those (packet[TCP].flags.S and not packet[TCP].flags.A).")
    _passed(f"{syn} handshakes for {requests} requests: HTTP/1.0 pays one per request, "
            "keep-alive one per connection.")


def check_round_trips(requests: int, answer: object) -> None:
    """01_http_before_websocket: round trips for ``requests`` requests made one after the
    other, as (HTTP/1.0 with a connection each, HTTP/1.1 on one keep-alive connection)."""
    _require_answer(answer)
    if not (isinstance(answer, tuple) and len(answer) == 2):
        raise NotYet("Answer with a pair: (round trips over HTTP/1.0, round trips keep-alive).")
    old, kept = answer
    if old == requests:
        raise NotYet("Over HTTP/1.0 every request first opens a TCP connection: one round trip "
                     "for SYN / SYN-ACK, then one for the request and its response.")
    if kept == requests:
        raise NotYet("The keep-alive connection still has to be opened once: add the handshake.")
    if kept == 2 * requests:
        raise NotYet("Keep-alive pays the handshake once, not once per request.")
    if (old, kept) != (2 * requests, requests + 1):
        raise NotYet("Count, for each request, the round trips before its response arrives: the "
                     "TCP handshake (when a connection is new) and the request/response itself.")
    _passed(f"{2 * requests} round trips against {requests + 1}: with 50 ms per round trip, "
            f"{100 * requests} ms against {50 * (requests + 1)} ms.")


async def check_long_poll_answer(answer_function) -> None:
    """02_polling_long_polling_streaming: ``answer_function(source, after, hold)`` returns the
    bytes of a long poll's answer: 200 with the news, or 204 when ``hold`` seconds pass."""
    import asyncio
    import time

    from wsteach import http1, polling

    _require_answer(answer_function)

    async def ask(source: polling.EventSource, hold: float) -> tuple[http1.Response, bytes, float]:
        started = time.perf_counter()
        async with asyncio.timeout(5):
            data = await answer_function(source, 0, hold)
        waited = time.perf_counter() - started
        if not isinstance(data, bytes | bytearray):
            raise NotYet("Return the bytes of the response (http1.build_response gives them).")
        end = http1.head_end(data)
        if end is None:
            raise NotYet("That is not a whole response head: it must end with an empty line.")
        try:
            return http1.parse_response(bytes(data[:end])), bytes(data[end:]), waited
        except http1.HTTPError as error:
            raise NotYet(f"A client cannot parse the response: {error.reason}.") from None

    source = polling.EventSource([{"name": "Ada"}])
    response, body, waited = await ask(source, 0.1)
    if response.status != 204:
        raise NotYet(f"With no news during the hold you answered {response.status}: answer "
                     "204 No Content.")
    if waited < 0.09:
        raise NotYet("You answered at once: that is short polling. Wait for news for up to "
                     "`hold` seconds: await source.wait_after(after, hold).")
    if body or "Content-Length" in response.headers:
        raise NotYet("A 204 has no body and no Content-Length header (RFC 9110 section 8.6).")
    asyncio.get_running_loop().call_later(0.05, source.publish, {"name": "Ada"})
    response, body, waited = await ask(source, 2.0)
    if response.status != 200 or b"Ada" not in body:
        raise NotYet(f"News arrived during the hold, but you answered {response.status} "
                     f"{body[:60]!r}: answer 200 with the messages.")
    if waited > 1.0:
        raise NotYet("News arrived after 0.05 s but you answered only when the hold ran out: "
                     "answer as soon as wait_after returns messages.")
    _passed(f"204 after the hold when nothing happens; 200 after {waited * 1000:.0f} ms when a "
            "guest arrives.")


def check_polling_mbps(bytes_per_poll: float, clients: int, answer: object) -> None:
    """02_polling_long_polling_streaming: the bandwidth of ``clients`` each polling once a
    second, in the classic table's unit (2**20 bits per second)."""
    import math

    _require_answer(answer)
    expected = bytes_per_poll * clients * 8 / 2**20
    if not isinstance(answer, int | float):
        raise NotYet("Answer with a number of megabits per second.")
    if math.isclose(answer, bytes_per_poll * clients * 8 / 1e6, rel_tol=1e-3):
        raise NotYet("Close: you divided by 1,000,000. The classic table divides by 2**20 "
                     "(1,048,576); use the same unit so the columns compare.")
    if math.isclose(answer, bytes_per_poll * clients / 2**20, rel_tol=1e-3):
        raise NotYet("That is megabytes per second: a byte is 8 bits.")
    if not math.isclose(answer, expected, rel_tol=1e-3):
        raise NotYet("Multiply the bytes of one poll by the clients (each polls once a second) "
                     "and by 8 bits, then divide by 2**20.")
    _passed(f"{clients:,} clients × {bytes_per_poll:.0f} B × 8 bits = {expected:.1f} Mbps.")


# ---- 05_masking ------------------------------------------------------------------------------

def check_unmask_bytes(masked: bytes, key: bytes, answer: object) -> None:
    """05_masking: unmask ``masked`` with the 4-byte ``key`` by hand (XOR with key[i % 4])."""
    _require_answer(answer)
    if not isinstance(answer, bytes | bytearray):
        raise NotYet("The answer should be bytes: build it with bytes(...) from a list of ints.")
    answer = bytes(answer)
    expected = bytes(byte ^ key[index % 4] for index, byte in enumerate(masked))
    if answer == masked:
        raise NotYet("These are still the masked bytes: XOR each byte with key[i % 4].")
    if len(answer) != len(masked):
        raise NotYet(f"{len(answer)} bytes, but the masked payload has {len(masked)}: masking "
                     "turns each byte into exactly one byte.")
    if answer == bytes(byte ^ key[0] for byte in masked):
        raise NotYet("Every byte was XORed with key[0]. The key has four bytes and takes turns: "
                     "byte i uses key[i % 4].")
    if answer != expected:
        index = next(i for i, (a, b) in enumerate(zip(answer, expected, strict=True)) if a != b)
        raise NotYet(f"Byte {index} is 0x{answer[index]:02x}, not yet right: it should be "
                     f"masked[{index}] ^ key[{index % 4}] = 0x{masked[index]:02x} ^ "
                     f"0x{key[index % 4]:02x}.")
    _passed(f"Unmasked: {answer[:60]!r}. Anyone holding the frame can do this: the key travels "
            "with it.")


def check_mask_key_index(position: int, answer: object) -> None:
    """05_masking: which of the four key bytes masks payload byte ``position``?"""
    _require_answer(answer)
    expected = position % 4
    if isinstance(answer, bool) or not isinstance(answer, int):
        raise NotYet("Give the index of the key byte as an int: 0, 1, 2 or 3.")
    if answer == expected:
        _passed(f"Payload byte {position} is masked with key[{position} % 4] = key[{expected}]: "
                f"the key has gone round {position // 4} whole times before it.")
        return
    if answer == position // 4:
        raise NotYet(f"{answer} is {position} // 4, how many whole rounds of the key come before "
                     "this byte. The key byte is what is left over: the remainder.")
    if answer == expected + 1:
        raise NotYet("Off by one: indexes count from 0, the payload's and the key's. Payload "
                     "byte 0 uses key[0].")
    if not 0 <= answer <= 3:
        raise NotYet("There are only four key bytes, key[0] to key[3]: take the position "
                     "modulo 4.")
    raise NotYet("Count it out: payload bytes 0, 4, 8, ... use key[0]; 1, 5, 9, ... use key[1]; "
                 "and so on.")


def check_apply_mask_function(function: object) -> None:
    """05_masking: a student's apply_mask(data, key) built on int.from_bytes, for any length."""
    _require_answer(function)
    if not callable(function):
        raise NotYet("Pass the function itself, without calling it: my_apply_mask, "
                     "not my_apply_mask(...).")
    import random

    rng = random.Random(5)
    key = bytes.fromhex("37fa213d")
    cases = [bytes(rng.randrange(256) for _ in range(n)) for n in [*range(0, 13), 125, 1001]]
    cases.append(key * 3 + key[:2])  # masks to all zero bytes: the integer is 0
    for data in cases:
        expected = bytes(byte ^ key[i % 4] for i, byte in enumerate(data))
        try:
            result = function(data, key)
        except OverflowError:
            raise NotYet(f"For a payload of {len(data)} bytes, to_bytes had too few bytes for the "
                         "integer: is the repeated key longer than the payload? Cut it to "
                         "key * (n // 4) + key[:n % 4].") from None
        except Exception as error:  # any other failure becomes a hint too
            raise NotYet(f"For a payload of {len(data)} bytes the function raised "
                         f"{type(error).__name__}: {error}") from None
        if not isinstance(result, bytes | bytearray):
            raise NotYet(f"The function returned {type(result).__name__}; return bytes: "
                         "int.to_bytes(length, byteorder) turns the integer back into bytes.")
        if bytes(result) == expected:
            continue
        if len(result) != len(data):
            raise NotYet(f"For {len(data)} bytes the function returned {len(result)}. Two "
                         "places to look: repeat the key to exactly the payload's length "
                         "(key * (n // 4) + key[:n % 4]), and give to_bytes the payload's length "
                         "(leading zero bytes vanish in an integer).")
        raise NotYet(f"Wrong for a payload of {len(data)} bytes: {bytes(result).hex(' ')} "
                     f"instead of {expected.hex(' ')}. Use one byte order for both from_bytes "
                     "calls and for to_bytes, and start the repeated key with key[0].")
    _passed("The function agrees with the RFC's formula at every length tried, the ones that "
            "are no multiple of 4 and an all-zero result included.")


def check_why_masking_protects(answer: object) -> None:
    """05_masking: why was the proxy not poisoned when the frame was masked? (a, b, c or d)"""
    _require_answer(answer)
    choice = str(answer).strip().lower()[:1]
    hints = {
        "a": "No: the key travels in the frame, just before the payload. The proxy could unmask "
             "the bytes as easily as the attacker's server did. Masking hides nothing.",
        "b": "No: the toy proxy knows nothing of WebSocket or the MASK bit. It looked for an HTTP "
             "request in the bytes it forwarded and found none.",
        "d": "No: the attacker's server sent its fake response in every run; the proxy log shows "
             "it passing by. What changed was the bytes the client sent.",
    }
    if choice == "c":
        _passed("Right: the browser picks a fresh random key after the script has chosen its "
                "payload, so the script cannot choose the bytes the proxy sees. With a key it "
                "could predict, it pre-masks the payload and the attack works again.")
        return
    raise NotYet(hints.get(choice, "Answer with one letter: 'a', 'b', 'c' or 'd'."))
