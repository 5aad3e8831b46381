"""The teaching SHA-1 and base64 agree with hashlib and base64 byte for byte."""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wsteach import sha1 as s

# RFC 3174 section 7.3: the test strings, how often each is repeated, and the digest.
RFC_3174_VECTORS = [
    (b"abc", 1, "A9993E364706816ABA3E25717850C26C9CD0D89D"),
    (
        b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
        1,
        "84983E441C3BD26EBAAE4AA1F95129E5E54670F1",
    ),
    (b"a", 1_000_000, "34AA973CD4C4DAA4F61EEB2BDBAD27316534016F"),
    (
        b"0123456701234567012345670123456701234567012345670123456701234567",
        10,
        "DEA356A2CDDD90C7A7ECEDC5EBB563934F460452",
    ),
]


@pytest.mark.parametrize(("text", "repeat", "digest"), RFC_3174_VECTORS)
def test_rfc_3174_test_vectors(text, repeat, digest):
    assert s.sha1(text * repeat).hex().upper() == digest


def test_rfc_6455_section_1_3_example():
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    digest = s.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode())
    assert s.b64encode(digest) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_every_length_0_to_200_matches_hashlib_and_base64():
    rng = random.Random(6455)
    for length in range(201):
        data = rng.randbytes(length)
        assert s.sha1(data) == hashlib.sha1(data).digest(), length
        assert s.b64encode(data) == base64.b64encode(data).decode(), length
        assert s.b64decode(s.b64encode(data)) == data, length


@given(st.binary(max_size=200))
def test_sha1_matches_hashlib(data):
    assert s.sha1(data) == hashlib.sha1(data).digest()


@given(st.binary(max_size=200))
def test_base64_matches_the_standard_library_and_round_trips(data):
    text = s.b64encode(data)
    assert text == base64.b64encode(data).decode()
    assert s.b64decode(text) == data


@pytest.mark.parametrize("length", [0, 1, 55, 56, 63, 64, 65, 119, 120])
def test_padding_makes_whole_blocks_ending_in_the_bit_length(length):
    padded = s.pad(b"x" * length)
    assert len(padded) % 64 == 0
    assert padded[length] == 0x80
    assert padded[length + 1 : -8] == bytes(len(padded) - length - 9)
    assert int.from_bytes(padded[-8:], "big") == 8 * length


def test_the_message_schedule_starts_with_the_block_words_and_has_80():
    block = s.pad(b"abc")
    words = s.message_schedule(block)
    assert len(words) == 80
    assert words[0] == int.from_bytes(b"abc\x80", "big")
    assert words[15] == 24  # the bit length of "abc"
    assert all(0 <= w <= s.MASK32 for w in words)


def test_rounds_yield_80_states_and_compress_adds_the_last_one():
    block = s.pad(b"abc")
    states = list(s.rounds(s.INITIAL_STATE, block))
    assert len(states) == 80
    # RFC 3174 does not list them, FIPS 180-1 appendix A does: A after round 0 is 0x0116FC33.
    assert states[0][0] == 0x0116FC33
    expected = tuple((h + x) & s.MASK32 for h, x in zip(s.INITIAL_STATE, states[-1], strict=True))
    assert s.compress(s.INITIAL_STATE, block) == expected


@given(st.text(alphabet=s.ALPHABET + "=", max_size=40))
def test_b64decode_accepts_exactly_the_canonical_encodings(text):
    try:
        decoded = s.b64decode(text)
    except ValueError:
        try:
            canonical = base64.b64encode(base64.b64decode(text, validate=True)).decode()
        except binascii.Error:
            return
        assert canonical != text
    else:
        assert s.b64encode(decoded) == text


@given(st.text(max_size=40))
def test_b64decode_raises_only_value_error(text):
    with contextlib.suppress(ValueError):
        s.b64decode(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("abc", "multiple of 4"),
        ("ab=c", "'=' before the end at position 2"),
        ("a===", "at most 2"),
        ("====", "at most 2"),
        ("ab-c", "character '-' at position 2"),
        ("ab c", "character ' '"),
        ("abcé", "character 'é'"),
        ("QR==", "padding bits"),  # "QQ==" is canonical for b"A"
        ("QUJ=", "padding bits"),  # "QUI=" is canonical for b"AB"
    ],
)
def test_b64decode_rejects_with_a_clear_message(text, message):
    with pytest.raises(ValueError, match=message):
        s.b64decode(text)
