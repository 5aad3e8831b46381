"""Checks for the exercises of notebook 05_masking."""

from __future__ import annotations

import random

from wsteach.exercises.checking import NotYet, passed, require_answer


def check_unmask_bytes(masked: bytes, key: bytes, answer: object) -> None:
    """Unmask ``masked`` with the 4-byte ``key`` by hand (XOR with key[i % 4])."""
    require_answer(answer)
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
    passed(f"Unmasked: {answer[:60]!r}. Anyone holding the frame can do this: the key travels "
            "with it.")


def check_mask_key_index(position: int, answer: object) -> None:
    """Which of the four key bytes masks payload byte ``position``?"""
    require_answer(answer)
    expected = position % 4
    if isinstance(answer, bool) or not isinstance(answer, int):
        raise NotYet("Give the index of the key byte as an int: 0, 1, 2 or 3.")
    if answer == expected:
        passed(f"Payload byte {position} is masked with key[{position} % 4] = key[{expected}]: "
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
    passed("The function agrees with the RFC's formula at every length tried, the ones that "
            "are no multiple of 4 and an all-zero result included.")


def check_why_masking_protects(answer: object) -> None:
    """Why was the proxy not poisoned when the frame was masked? (a, b, c or d)"""
    require_answer(answer)
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
        passed("Right: the browser picks a fresh random key after the script has chosen its "
                "payload, so the script cannot choose the bytes the proxy sees. With a key it "
                "could predict, it pre-masks the payload and the attack works again.")
        return
    raise NotYet(hints.get(choice, "Answer with one letter: 'a', 'b', 'c' or 'd'."))

