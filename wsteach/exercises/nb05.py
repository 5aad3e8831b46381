"""Checks for the exercises of notebook 05_masking."""

from __future__ import annotations

import random
from collections.abc import Mapping

from wsteach.exercises.checking import NotYet, call_answer, passed, require_answer


def _xor(data: bytes, key: bytes) -> bytes:
    """RFC 6455 section 5.3, as the checks' reference: data[i] ^ key[i % 4]."""
    return bytes(byte ^ key[index % 4] for index, byte in enumerate(data))


def check_recovered_key(masked: bytes, plaintext: bytes, key: bytes, answer: object) -> None:
    """Recover the 4-byte masking key from a masked payload and the plaintext it carries."""
    require_answer(answer)
    if isinstance(answer, str):
        raise NotYet("Give the key as bytes (bytes([...]) or bytes.fromhex(...)), not as text.")
    if not isinstance(answer, bytes | bytearray):
        raise NotYet("The key should be bytes: bytes([k0, k1, k2, k3]).")
    answer = bytes(answer)
    if answer == key:
        passed(f"The key is {key.hex(' ')}: masked[j] ^ plain[j] for j = 0 to 3. Knowing what "
               "a frame carries gives away its key, and with it every other byte.")
        return
    if len(answer) != 4:
        raise NotYet(f"{len(answer)} bytes: a masking key has exactly 4 (one per position "
                     "i % 4), so recover key[0] to key[3].")
    if answer == masked[:4]:
        raise NotYet("These are the first four masked bytes themselves. Each is plain ^ key: "
                     "XOR it with the plain byte you know to get the key byte.")
    if answer == key[::-1]:
        raise NotYet("The right bytes in the wrong order: key[0] masks payload byte 0, key[1] "
                     "byte 1, and so on.")
    if len(set(answer)) == 1 and answer[0] in key:
        raise NotYet("All four bytes are the same: that is key[j] for one j only. Each key byte "
                     "masks its own positions: key[j] = masked[j] ^ plain[j] for j = 0, 1, 2, 3.")
    raise NotYet("Not the key yet. For j in 0..3: key[j] = masked[j] ^ plain[j] (XOR undoes "
                 "XOR), where plain is the text you know the client sent.")


def check_zero_key_prediction(prediction: object, poisoned: bool) -> None:
    """Predict, then run: does the all-zero key poison the proxy? ``poisoned`` is what the run
    just measured."""
    require_answer(prediction)
    if not isinstance(prediction, bool):
        raise NotYet("Predict with True (the cache gets poisoned) or False (it does not).")
    if prediction != poisoned:
        if poisoned:
            raise NotYet("The run poisoned the cache. A byte XOR 0 is the byte itself: with the "
                         "key 00 00 00 00 the masked payload is the plain request, and the "
                         "proxy reads it as before. The MASK bit alone protects nothing; what "
                         "protects is a key the script cannot predict.")
        raise NotYet("The run did not poison the cache: look at the proxy log above to see "
                     "what it made of the bytes.")
    passed(f"Predicted and measured: {'poisoned' if poisoned else 'not poisoned'}. Any key the "
           "script can predict (all zeros, one reused key, a counter) lets it pre-mask its "
           "bytes; RFC 6455 section 5.3 asks for a key from a strong source of entropy.")


# ---- my_apply_mask: what a student may get wrong, each with the hint that names it ------------

def _int_mask(data: bytes, key: bytes, repeat: str = "cut", data_order: str = "big",
              key_order: str = "big") -> bytes:
    """The int.from_bytes way, right (``repeat="cut"``, one byte order) or with one mistake."""
    length = len(data)
    repeated_key = {"cut": key * (length // 4) + key[:length % 4],
                    "whole": key * (length // 4),  # the tail forgotten
                    "long": key * (length // 4 + 1)}[repeat]  # one whole key too many
    number = int.from_bytes(data, data_order) ^ int.from_bytes(repeated_key, key_order)
    return number.to_bytes(length, data_order)


MIXED_ORDERS = ("Use one byte order: the payload and the key were turned into integers in "
                "different orders ('big' for one, 'little' for the other).")
# The mistakes a student plausibly makes, each with the hint that names it.
MASK_MISTAKES = [
    ({"repeat": "whole"}, "The last n % 4 bytes: key * (n // 4) is shorter than the payload when "
     "n is no multiple of 4. Add the start of the key, key[:n % 4], so that the repeated key is "
     "exactly n bytes long."),
    ({"repeat": "whole", "data_order": "little", "key_order": "little"}, "The last n % 4 bytes: "
     "key * (n // 4) leaves them unmasked when n is no multiple of 4. Add key[:n % 4]."),
    ({"data_order": "big", "key_order": "little"}, MIXED_ORDERS),
    ({"data_order": "little", "key_order": "big"}, MIXED_ORDERS),
    ({"repeat": "long"}, "The repeated key is longer than the payload (key * (n // 4 + 1)): cut "
     "it to exactly n bytes, key * (n // 4) + key[:n % 4]."),
]


def _named_mistake(data: bytes, key: bytes, result: bytes) -> str | None:
    for mistake, hint in MASK_MISTAKES:
        try:
            if result == _int_mask(data, key, **mistake):
                return hint
        except OverflowError:  # this mistake cannot even give a result for this payload
            continue
    return None


def check_apply_mask_function(function: object) -> None:
    """A student's apply_mask(data, key) built on int.from_bytes, for any length."""
    require_answer(function)
    if not callable(function):
        raise NotYet("Pass the function itself, without calling it: my_apply_mask, "
                     "not my_apply_mask(...).")
    rng = random.Random(5)
    key = bytes.fromhex("37fa213d")
    cases = [bytes(rng.randrange(256) for _ in range(n)) for n in [*range(0, 13), 125, 1001]]
    cases.append(key * 3 + key[:2])  # masks to all zero bytes: the integer is 0
    for data in cases:
        expected = _xor(data, key)
        try:
            result = call_answer(function, data, key)
        except NotYet as error:
            if isinstance(error.__cause__, OverflowError):
                raise NotYet(f"For a payload of {len(data)} bytes, to_bytes had too few bytes "
                             "for the integer: is the repeated key longer than the payload? Cut "
                             "it to key * (n // 4) + key[:n % 4].") from None
            raise
        if result is None:
            raise NotYet("The function returned None: did it forget to return the result?")
        if not isinstance(result, bytes | bytearray):
            raise NotYet(f"The function returned {type(result).__name__}; return bytes: "
                         "int.to_bytes(length, byteorder) turns the integer back into bytes.")
        if bytes(result) == expected:
            continue
        if len(result) != len(data):
            raise NotYet(f"For {len(data)} bytes the function returned {len(result)}. Give "
                         "to_bytes the payload's length: leading zero bytes vanish in an "
                         "integer, so the integer alone does not know it.")
        hint = _named_mistake(data, key, bytes(result))
        if hint is not None:
            raise NotYet(f"Wrong for a payload of {len(data)} bytes. {hint}")
        raise NotYet(f"Wrong for a payload of {len(data)} bytes: {bytes(result).hex(' ')} "
                     f"instead of {expected.hex(' ')}. Byte i must be data[i] ^ key[i % 4].")
    passed("The function agrees with the RFC's formula at every length tried, the ones that "
           "are no multiple of 4 and an all-zero result included.")


def check_why_masking_protects(answer: object) -> None:
    """Why was the proxy not poisoned when the frame was masked? (a, b, c or d)"""
    require_answer(answer)
    choice = answer.strip().strip("()").strip().lower() if isinstance(answer, str) else None
    hints = {
        "a": "No: the key travels in the frame, just before the payload. The proxy could unmask "
             "the bytes as easily as the attacker's server did. Masking hides nothing.",
        "b": "No: the toy proxy knows nothing of WebSocket or the MASK bit. It looked for an HTTP "
             "request in the bytes it forwarded and found none.",
        "d": "No: the attacker's server sent its fake response in every run; the proxy log shows "
             "it passing by. What changed was the bytes the client sent.",
    }
    if choice == "c":
        passed("Right: the browser picks a fresh random key after the script has chosen its "
               "payload, so the script cannot choose the bytes the proxy sees. With a key it "
               "could predict, it pre-masks the payload and the attack works again.")
        return
    raise NotYet(hints.get(choice, "Answer with one letter as a str: 'a', 'b', 'c' or 'd'."))


def check_small_frames(speeds: Mapping[str, Mapping[int, float]], size: int,
                       candidates: list[str], fastest: object, per_second: object) -> None:
    """Read the measured table: the fastest of ``candidates`` at ``size`` bytes, and how many
    frames of that size per second it masks (MB/s is 10**6 bytes per second)."""
    require_answer(fastest)
    require_answer(per_second)
    if not isinstance(fastest, str) or fastest not in speeds:
        raise NotYet(f"Name the implementation as the table writes it, for instance "
                     f"{candidates[0]!r}.")
    best = max(candidates, key=lambda name: speeds[name][size])
    row = ", ".join(f"{name.split(' (')[0]} {speeds[name][size]:,.0f}" for name in candidates)
    if fastest not in candidates:
        raise NotYet(f"{fastest} is not one of the four Python versions; the question leaves the "
                     "C code out (a pure-Python server has no C extension).")
    if speeds[fastest][size] < 0.95 * speeds[best][size]:
        largest = max(speeds[fastest])
        if fastest == max(candidates, key=lambda name: speeds[name].get(largest, 0)):
            raise NotYet(f"{fastest} is the fastest for large payloads, not at {size} B. Read "
                         f"the {size} B row: {row} MB/s.")
        raise NotYet(f"Read the {size} B row again: {row} MB/s.")
    if isinstance(per_second, bool) or not isinstance(per_second, int | float):
        raise NotYet("Give the frames per second as a number.")
    expected = speeds[fastest][size] * 1e6 / size
    mistakes = {
        speeds[fastest][size] / size: "MB/s is millions of bytes per second: multiply by 10**6 "
                                      "before dividing by the frame size.",
        speeds[fastest][size] * 2**20 / size: "MB/s here means 10**6 bytes per second, not "
                                              "2**20 (that would be MiB/s).",
        speeds[fastest][size] * 1e6: "That is bytes per second; divide by the frame size to "
                                     "count frames.",
        speeds[fastest][size] * 1e6 / size / 8: "The table counts bytes, not bits: no factor 8.",
    }
    if abs(per_second - expected) > 0.01 * expected:
        for value, hint in mistakes.items():
            if abs(per_second - value) <= 0.01 * value:
                raise NotYet(hint)
        raise NotYet(f"{fastest} masked {speeds[fastest][size]:,.0f} MB/s at {size} B: how many "
                     f"{size}-byte frames is that per second?")
    passed(f"{fastest}: {speeds[fastest][size]:,.0f} MB/s at {size} B, about "
           f"{expected:,.0f} frames per second on one core. For small frames the cost of each "
           "call counts more than the bytes.")
