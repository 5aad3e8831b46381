"""SHA-1 (RFC 3174) and base64 (RFC 4648 section 4), written from scratch for teaching.

The WebSocket opening handshake proves that the server understood the request by answering
``base64(sha1(key + GUID))`` (RFC 6455 section 4.2.2). This module builds both halves by hand,
one small step per function, so a notebook can show every step:

- ``pad`` appends the 0x80 byte, zeros and the bit length (RFC 3174 section 4);
- ``message_schedule`` expands a 64-byte block into 80 words (RFC 3174 section 6.1, step b);
- ``rounds`` runs the 80 rounds and yields the five working words after each one;
- ``compress`` adds the result to the running state (RFC 3174 section 6.1, step e);
- ``sha1`` chains the blocks and returns the 20-byte digest;
- ``b64encode`` and ``b64decode`` turn bytes into 6-bit groups and back.

The package itself uses ``hashlib`` and ``base64`` (``wsteach.handshake``); the tests check that
this version gives exactly the same answers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

MASK32 = 0xFFFFFFFF
BLOCK_SIZE = 64

# The initial state H0..H4 (RFC 3174 section 6.1).
INITIAL_STATE = (0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0)


def rotl(word: int, count: int) -> int:
    """Rotate a 32-bit word left by ``count`` bits: the circular shift S^n (RFC 3174 section 3)."""
    return ((word << count) | (word >> (32 - count))) & MASK32


def pad(message: bytes) -> bytes:
    """Pad a message to a multiple of 64 bytes (RFC 3174 section 4).

    Append the byte 0x80 (a single 1 bit), then zero bytes until the length is 56 modulo 64,
    then the original length in bits as a 64-bit big-endian integer.
    """
    zeros = (55 - len(message)) % BLOCK_SIZE
    bit_length = (len(message) * 8).to_bytes(8, "big")
    return message + b"\x80" + bytes(zeros) + bit_length


def blocks(padded: bytes) -> list[bytes]:
    """Cut a padded message into its 64-byte blocks M(1), M(2), ... (RFC 3174 section 6.1)."""
    return [padded[i : i + BLOCK_SIZE] for i in range(0, len(padded), BLOCK_SIZE)]


def message_schedule(block: bytes) -> list[int]:
    """Expand one 64-byte block into the 80 words W(0)..W(79) (RFC 3174 section 6.1, a and b).

    The first 16 words are the block read as big-endian 32-bit integers; each later word is
    ``S^1(W(t-3) XOR W(t-8) XOR W(t-14) XOR W(t-16))``.
    """
    words = [int.from_bytes(block[i : i + 4], "big") for i in range(0, BLOCK_SIZE, 4)]
    for t in range(16, 80):
        words.append(rotl(words[t - 3] ^ words[t - 8] ^ words[t - 14] ^ words[t - 16], 1))
    return words


def choose(b: int, c: int, d: int) -> int:
    """f(t) for rounds 0-19: each bit of ``b`` chooses the bit of ``c`` (1) or ``d`` (0)."""
    return (b & c) | (~b & d)


def parity(b: int, c: int, d: int) -> int:
    """f(t) for rounds 20-39 and 60-79: the XOR of the three words."""
    return b ^ c ^ d


def majority(b: int, c: int, d: int) -> int:
    """f(t) for rounds 40-59: each bit is the value that at least two of the words have."""
    return (b & c) | (b & d) | (c & d)


# The four stages of 20 rounds: round function and constant K(t) (RFC 3174 section 5).
RoundFunction = Callable[[int, int, int], int]
STAGES: tuple[tuple[RoundFunction, int], ...] = (
    (choose, 0x5A827999),
    (parity, 0x6ED9EBA1),
    (majority, 0x8F1BBCDC),
    (parity, 0xCA62C1D6),
)


def rounds(state: tuple[int, ...], block: bytes) -> Iterator[tuple[int, ...]]:
    """Yield the working words (A, B, C, D, E) after each of the 80 rounds of one block.

    One round (RFC 3174 section 6.1, step d)::

        TEMP = S^5(A) + f(t;B,C,D) + E + W(t) + K(t)
        E = D;  D = C;  C = S^30(B);  B = A;  A = TEMP
    """
    a, b, c, d, e = state
    for t, word in enumerate(message_schedule(block)):
        function, constant = STAGES[t // 20]
        temp = (rotl(a, 5) + function(b, c, d) + e + word + constant) & MASK32
        a, b, c, d, e = temp, a, rotl(b, 30), c, d
        yield (a, b, c, d, e)


def compress(state: tuple[int, ...], block: bytes) -> tuple[int, ...]:
    """Process one 64-byte block: run the 80 rounds, then add the result to the state word by
    word, modulo 2**32 (RFC 3174 section 6.1, step e)."""
    *_, final = rounds(state, block)
    return tuple((h + x) & MASK32 for h, x in zip(state, final, strict=True))


def sha1(message: bytes) -> bytes:
    """The 20-byte SHA-1 digest of ``message`` (RFC 3174 section 6.1): pad, then compress each
    block into the state, starting from ``INITIAL_STATE``; the digest is H0..H4 big-endian."""
    state = INITIAL_STATE
    for block in blocks(pad(message)):
        state = compress(state, block)
    return b"".join(word.to_bytes(4, "big") for word in state)


# The base64 alphabet: value 0 is "A", value 63 is "/" (RFC 4648 section 4, Table 1).
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
PAD = "="


def b64encode(data: bytes) -> str:
    """Encode bytes as base64 text (RFC 4648 section 4).

    Every 3 bytes (24 bits) become 4 characters of 6 bits each. A final group of 1 or 2 bytes is
    filled with zero bits to a whole number of 6-bit groups, and ``=`` pads the text to a
    multiple of 4 characters.
    """
    out = []
    for i in range(0, len(data), 3):
        group = data[i : i + 3]
        bits = int.from_bytes(group + bytes(3 - len(group)), "big")
        sextets = [(bits >> shift) & 0x3F for shift in (18, 12, 6, 0)]
        used = len(group) + 1
        out.append("".join(ALPHABET[s] for s in sextets[:used]) + PAD * (4 - used))
    return "".join(out)


def b64decode(text: str) -> bytes:
    """Decode base64 text strictly (RFC 4648 sections 3.3, 3.5 and 4).

    Only the canonical encoding is accepted: a multiple of 4 characters from the alphabet, at
    most two ``=`` and only at the very end, and zero bits where padding bits belong. Anything
    else raises ``ValueError`` saying what is wrong.
    """
    if len(text) % 4:
        raise ValueError(f"base64 text must be a multiple of 4 characters long, not {len(text)}")
    body = text.rstrip(PAD)
    padding = len(text) - len(body)
    if padding > 2:
        raise ValueError(f"base64 text ends with {padding} '=' signs; at most 2 are allowed")
    for position, char in enumerate(body):
        if char not in ALPHABET:
            where = "'=' before the end" if char == PAD else f"character {char!r}"
            raise ValueError(f"{where} at position {position} is not in the base64 alphabet")
    out = bytearray()
    for i in range(0, len(body), 4):
        group = body[i : i + 4]
        bits = 0
        for char in group:
            bits = (bits << 6) | ALPHABET.index(char)
        extra_bits = len(group) * 6 % 8
        if bits & ((1 << extra_bits) - 1):
            raise ValueError("the padding bits of the last base64 group must be zero")
        byte_count = len(group) * 6 // 8
        out += (bits >> extra_bits).to_bytes(byte_count, "big")
    return bytes(out)
