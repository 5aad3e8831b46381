"""Masking: XOR every payload byte with one of four key bytes (RFC 6455 section 5.3).

``masked[i] = payload[i] XOR key[i % 4]``. XOR is its own inverse, so the same function masks
and unmasks. Three ways to compute it, side by side, from the one that reads like the RFC to
the ones that are fast:

- ``apply_mask_loop``: one byte at a time, exactly the formula above (slow: notebook 05
  measures how slow).
- ``apply_mask_int``: turn the whole payload into one big Python integer and XOR it with the
  key repeated to the same length: a single XOR over thousands of bytes, done in C. Little
  endian, because ``int.from_bytes(..., "little")`` is measurably faster than big endian.
- ``apply_mask_numpy``: view the payload as 64-bit words and XOR them all with the key
  (twice) viewed as one 64-bit word. A view, not a copy: ``np.resize`` of the key to the
  payload's length would be pathologically slow.

``apply_mask`` picks the fastest for the size: the big integer below ``NUMPY_THRESHOLD`` bytes,
numpy from there on. The threshold is where notebook 05's benchmark (section 5, sizes in steps
of two) first measures numpy ahead of the big integer: 1 KiB (where it was tuned, the two
cross near 900 bytes, and at 512 B the big integer is still about 1.5 times as fast).
``benchmarks/protocol.py`` measures the default at 125 B, 64 KiB and 1 MiB, against websockets'
C code.
"""

from __future__ import annotations

import numpy as np

# Below this many bytes the big-integer XOR wins; above it numpy's vectorised XOR wins.
NUMPY_THRESHOLD = 1024

Buffer = bytes | bytearray | memoryview


def apply_mask_loop(data: Buffer, key: bytes) -> bytes:
    """Mask or unmask one byte at a time: the formula of RFC 6455 section 5.3, literally."""
    return bytes(byte ^ key[index % 4] for index, byte in enumerate(data))


def apply_mask_int(data: Buffer, key: bytes) -> bytes:
    """Mask or unmask with one big-integer XOR: payload XOR (key repeated to its length)."""
    length = len(data)
    repeated_key = key * (length // 4) + key[: length % 4]
    masked = int.from_bytes(data, "little") ^ int.from_bytes(repeated_key, "little")
    return masked.to_bytes(length, "little")


def apply_mask_numpy(data: Buffer, key: bytes) -> bytes:
    """Mask or unmask with numpy: 8 bytes at a time as 64-bit words, then the last 0-7 bytes."""
    whole = len(data) - len(data) % 8
    words = np.frombuffer(data, dtype=np.uint64, count=whole // 8)
    key_word = np.frombuffer(key * 2, dtype=np.uint64)[0]  # the key twice, as one 64-bit word
    masked = (words ^ key_word).tobytes()
    if whole == len(data):
        return masked
    return masked + apply_mask_int(memoryview(data)[whole:], key)


def apply_mask(data: Buffer, key: bytes) -> bytes:
    """Mask or unmask ``data`` with the 4-byte ``key`` (RFC 6455 section 5.3), fast at any size."""
    if len(key) != 4:
        raise ValueError(f"a masking key is exactly 4 bytes, not {len(key)}")
    length = len(data)
    if length >= NUMPY_THRESHOLD:
        return apply_mask_numpy(data, key)
    # apply_mask_int, inlined: most frames are small, and a function call is a large part of
    # the cost of masking a few bytes.
    repeated_key = key * (length // 4) + key[: length % 4]
    masked = int.from_bytes(data, "little") ^ int.from_bytes(repeated_key, "little")
    return masked.to_bytes(length, "little")
