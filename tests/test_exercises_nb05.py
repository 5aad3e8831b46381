"""The checks of notebook 05 (masking): the right answer passes, and each wrong answer a
student plausibly gives is rejected with the hint that names that mistake."""

from __future__ import annotations

import pytest

from wsteach.exercises import nb05
from wsteach.exercises.checking import NotYet
from wsteach.masking import apply_mask, apply_mask_loop

KEY = bytes.fromhex("37d69209")
PLAIN = b"x" * 126
MASKED = apply_mask(PLAIN, KEY)


def rejected(check, *args, hint: str) -> None:
    with pytest.raises(NotYet, match=hint):
        check(*args)


@pytest.mark.parametrize("stub", [..., None])
def test_a_stub_is_no_answer_yet(stub: object) -> None:
    rejected(nb05.check_recovered_key, MASKED, PLAIN, KEY, stub, hint="No answer yet")
    rejected(nb05.check_zero_key_prediction, stub, True, hint="No answer yet")
    rejected(nb05.check_apply_mask_function, stub, hint="No answer yet")
    rejected(nb05.check_why_masking_protects, stub, hint="No answer yet")
    rejected(nb05.check_small_frames, SPEEDS, 128, PYTHON, stub, 1.0, hint="No answer yet")
    rejected(nb05.check_small_frames, SPEEDS, 128, PYTHON, BIG_INT, stub, hint="No answer yet")


# ---- 5.1: recover the key from a known plaintext ----------------------------------------------

def test_recovered_key_right(capsys: pytest.CaptureFixture[str]) -> None:
    nb05.check_recovered_key(MASKED, PLAIN, KEY, bytes(MASKED[j] ^ PLAIN[j] for j in range(4)))
    assert "37 d6 92 09" in capsys.readouterr().out


@pytest.mark.parametrize(("answer", "hint"), [
    (MASKED[:4], "the first four masked bytes themselves"),  # forgot to XOR with the plain bytes
    (KEY[::-1], "wrong order"),
    (bytes([MASKED[0] ^ ord("x")]) * 4, "All four bytes are the same"),  # key[0] four times
    (bytes([MASKED[0] ^ ord("x")]), "exactly 4"),  # one byte only
    (MASKED[:4].hex(), "not as text"),
    (KEY.hex(" "), "not as text"),
    ([0x37, 0xD6, 0x92, 0x09], "should be bytes"),
    (bytes(m ^ 0x78 ^ 0x20 for m in MASKED[:4]), "Not the key yet"),  # XORed with "X", not "x"
])
def test_recovered_key_wrong(answer: object, hint: str) -> None:
    rejected(nb05.check_recovered_key, MASKED, PLAIN, KEY, answer, hint=hint)


# ---- 5.2: predict, then run (the all-zero key) ------------------------------------------------

def test_zero_key_prediction_right(capsys: pytest.CaptureFixture[str]) -> None:
    nb05.check_zero_key_prediction(True, True)
    assert "Predicted and measured: poisoned" in capsys.readouterr().out


@pytest.mark.parametrize(("prediction", "poisoned", "hint"), [
    (False, True, "A byte XOR 0 is the byte itself"),  # "it is masked, so it is safe"
    ("yes", True, "True .the cache gets poisoned. or False"),
    (1, True, "True .the cache gets poisoned. or False"),  # 1 == True: a type coincidence
    (True, False, "did not poison"),
])
def test_zero_key_prediction_wrong(prediction: object, poisoned: bool, hint: str) -> None:
    rejected(nb05.check_zero_key_prediction, prediction, poisoned, hint=hint)


# ---- 5.3: my_apply_mask with int.from_bytes ---------------------------------------------------

def big_endian(data: bytes, key: bytes) -> bytes:
    n = len(data)
    repeated = key * (n // 4) + key[:n % 4]
    return (int.from_bytes(data, "big") ^ int.from_bytes(repeated, "big")).to_bytes(n, "big")


def little_endian(data: bytes, key: bytes) -> bytes:
    n = len(data)
    repeated = key * (n // 4) + key[:n % 4]
    return (int.from_bytes(data, "little") ^ int.from_bytes(repeated, "little")).to_bytes(
        n, "little")


@pytest.mark.parametrize("function", [big_endian, little_endian, apply_mask_loop])
def test_apply_mask_function_right(function, capsys: pytest.CaptureFixture[str]) -> None:
    nb05.check_apply_mask_function(function)
    assert "agrees with the RFC's formula" in capsys.readouterr().out


def forgot_tail(data: bytes, key: bytes) -> bytes:
    n = len(data)
    return (int.from_bytes(data, "big") ^ int.from_bytes(key * (n // 4), "big")).to_bytes(n, "big")


def forgot_tail_little(data: bytes, key: bytes) -> bytes:
    n = len(data)
    number = int.from_bytes(data, "little") ^ int.from_bytes(key * (n // 4), "little")
    return number.to_bytes(n, "little")


def mixed_orders(data: bytes, key: bytes) -> bytes:
    n = len(data)
    repeated = key * (n // 4) + key[:n % 4]
    return (int.from_bytes(data, "big") ^ int.from_bytes(repeated, "little")).to_bytes(n, "big")


def mixed_orders_other_way(data: bytes, key: bytes) -> bytes:
    n = len(data)
    repeated = key * (n // 4) + key[:n % 4]
    number = int.from_bytes(data, "little") ^ int.from_bytes(repeated, "big")
    return number.to_bytes(n, "little")


def key_too_long(data: bytes, key: bytes) -> bytes:
    n = len(data)
    number = int.from_bytes(data, "big") ^ int.from_bytes(key * (n // 4 + 1), "big")
    return number.to_bytes(n, "big")


def minimal_to_bytes(data: bytes, key: bytes) -> bytes:
    n = len(data)
    number = int.from_bytes(data, "big") ^ int.from_bytes(key * (n // 4) + key[:n % 4], "big")
    return number.to_bytes((number.bit_length() + 7) // 8, "big")


def returns_int(data: bytes, key: bytes) -> int:
    n = len(data)
    return int.from_bytes(data, "big") ^ int.from_bytes(key * (n // 4) + key[:n % 4], "big")


def forgot_return(data: bytes, key: bytes) -> None:
    big_endian(data, key)


def stub(data: bytes, key: bytes) -> bytes:
    raise NotImplementedError


def key_as_str(data: bytes, key: bytes) -> bytes:
    return bytes(byte ^ ord(key.decode("latin-1")[i % 4]) for i, byte in enumerate(data)) + "!"


@pytest.mark.parametrize(("function", "hint"), [
    (forgot_tail, "The last n % 4 bytes"),  # the mistake the prompt warns about
    (forgot_tail_little, "The last n % 4 bytes"),
    (mixed_orders, "Use one byte order: the payload and the key"),
    (mixed_orders_other_way, "Use one byte order: the payload and the key"),
    (key_too_long, "longer than the payload"),
    (minimal_to_bytes, "Give to_bytes the payload's length"),
    (returns_int, "returned int"),
    (forgot_return, "forget to return"),
    (stub, "No answer yet"),
    (key_as_str, "raised TypeError"),
    (big_endian(b"abcd", KEY), "Pass the function itself"),
])
def test_apply_mask_function_wrong(function, hint: str) -> None:
    rejected(nb05.check_apply_mask_function, function, hint=hint)


# ---- 5.4: why masking protects ----------------------------------------------------------------

@pytest.mark.parametrize("answer", ["c", "(c)", " C ", "c)"])
def test_why_masking_protects_right(answer: str, capsys: pytest.CaptureFixture[str]) -> None:
    nb05.check_why_masking_protects(answer)
    assert capsys.readouterr().out.startswith("✔")


@pytest.mark.parametrize(("answer", "hint"), [
    ("a", "the key travels in the frame"),  # "masking is encryption"
    ("(b)", "knows nothing of WebSocket"),
    ("d", "sent its fake response in every run"),
    ("cat", "Answer with one letter"),  # first letter right, answer not
    ("c because the key is random", "Answer with one letter"),
    (3, "Answer with one letter"),
    ("", "Answer with one letter"),
])
def test_why_masking_protects_wrong(answer: object, hint: str) -> None:
    rejected(nb05.check_why_masking_protects, answer, hint=hint)


# ---- 5.5: read the measured table -------------------------------------------------------------

LOOP, BIG_INT = "loop (apply_mask_loop)", "big integer (apply_mask_int)"
NUMPY, DEFAULT = "numpy (apply_mask_numpy)", "default (apply_mask)"
C_CODE = "websockets C (speedups.apply_mask)"
PYTHON = [LOOP, BIG_INT, NUMPY, DEFAULT]
SPEEDS = {  # MB/s, the shape of a real run: the loop is not timed at 1 MiB
    LOOP: {128: 20.0},
    BIG_INT: {128: 250.0, 2**20: 800.0},
    NUMPY: {128: 80.0, 2**20: 25_000.0},
    DEFAULT: {128: 240.0, 2**20: 24_800.0},
    C_CODE: {128: 2_100.0, 2**20: 52_000.0},
}


def test_small_frames_right(capsys: pytest.CaptureFixture[str]) -> None:
    nb05.check_small_frames(SPEEDS, 128, PYTHON, BIG_INT, 250e6 / 128)
    assert "1,953,125 frames per second" in capsys.readouterr().out
    # The default runs the big integer's code at 128 B: within noise of it, it counts as right.
    nb05.check_small_frames(SPEEDS, 128, PYTHON, DEFAULT, 240e6 / 128)


@pytest.mark.parametrize(("name", "per_second", "hint"), [
    (C_CODE, 2_100e6 / 128, "leaves the C code out"),
    (NUMPY, 80e6 / 128, "fastest for large payloads, not at 128 B"),
    (LOOP, 20e6 / 128, "Read the 128 B row again"),
    ("apply_mask_int", 250e6 / 128, "as the table writes it"),
    (BIG_INT, 250 / 128, "multiply by 10..6"),  # MB/s taken as bytes per second
    (BIG_INT, 250 * 2**20 / 128, "not 2..20"),  # MiB
    (BIG_INT, 250e6, "divide by the frame size"),
    (BIG_INT, 250e6 / 128 / 8, "no factor 8"),
    (BIG_INT, 250e6 / 125, "how many 128-byte frames"),  # the chat's 125, not the table's row
    (BIG_INT, "about two million", "as a number"),
])
def test_small_frames_wrong(name: str, per_second: object, hint: str) -> None:
    rejected(nb05.check_small_frames, SPEEDS, 128, PYTHON, name, per_second, hint=hint)
