"""Masking (RFC 6455 section 5.3): every variant agrees with websockets' C implementation."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st
from websockets.speedups import apply_mask as websockets_apply_mask

from wsteach import masking

VARIANTS = [masking.apply_mask_loop, masking.apply_mask_int, masking.apply_mask_numpy,
            masking.apply_mask]


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda f: f.__name__)
def test_every_length_around_the_word_sizes_matches_websockets(variant):
    key = os.urandom(4)
    for length in range(0, 70):
        data = os.urandom(length)
        assert variant(data, key) == websockets_apply_mask(data, key), length


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda f: f.__name__)
def test_memoryview_slices_at_odd_offsets(variant):
    key = os.urandom(4)
    data = os.urandom(10_001)
    for start in range(4):
        view = memoryview(data)[start:]
        assert variant(view, key) == websockets_apply_mask(data[start:], key)


@pytest.mark.parametrize("size", [masking.NUMPY_THRESHOLD - 1, masking.NUMPY_THRESHOLD, 2**20 + 3])
def test_default_is_correct_on_both_sides_of_the_threshold(size):
    key = os.urandom(4)
    data = os.urandom(size)
    assert masking.apply_mask(data, key) == websockets_apply_mask(data, key)


@given(st.binary(max_size=300), st.binary(min_size=4, max_size=4))
def test_masking_twice_gives_the_payload_back(data, key):
    assert masking.apply_mask(masking.apply_mask(data, key), key) == data


def test_rfc_example_hello():
    # RFC 6455 section 5.7: "Hello" masked with 37 fa 21 3d.
    assert masking.apply_mask(b"Hello", bytes.fromhex("37fa213d")) == bytes.fromhex("7f9f4d5158")


def test_key_must_be_four_bytes():
    with pytest.raises(ValueError, match="4 bytes"):
        masking.apply_mask(b"data", b"abc")
