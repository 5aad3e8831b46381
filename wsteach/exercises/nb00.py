"""Checks for the exercises of notebook 00_start_here."""

from __future__ import annotations

from wsteach.exercises.checking import NotYet, passed, require_answer

# What a byte count means when it is not the UTF-8 one: the encodings a student may meet.
OTHER_ENCODINGS = {
    "utf-16-le": "counts UTF-16 (2 bytes per character here, as JavaScript's strings and "
                 "Windows store text)",
    "utf-16": "counts UTF-16 with its 2-byte byte-order mark",
    "gbk": "counts GBK (GB2312), 2 bytes per Chinese character, the encoding of many Chinese "
           "Windows systems",
    "utf-32-le": "counts UTF-32, 4 bytes per character",
}


def check_utf8_length(text: str, answer: object) -> None:
    """How many bytes does ``text`` take in UTF-8? (RFC 6455 section 5.6: text frames are
    UTF-8, and a frame's length counts bytes.)"""
    require_answer(answer)
    expected = len(text.encode("utf-8"))
    if isinstance(answer, str) and answer.strip().isdigit():
        verdict = "the right number" if int(answer) == expected else "a number"
        raise NotYet(f"{answer!r} is {verdict}, but written as text (a str): answer with an int, "
                     "such as what len() returns.")
    if isinstance(answer, float) and answer.is_integer():
        raise NotYet(f"{answer} is a float: a count of bytes is a whole number, an int.")
    if isinstance(answer, bool) or not isinstance(answer, int):
        raise NotYet(f"Answer with a whole number of bytes (an int), not {type(answer).__name__}.")
    if answer == expected:
        passed(f"{text!r} is {len(text)} characters but {expected} bytes in UTF-8: a WebSocket "
               "length field counts bytes.")
        return
    if answer == len(text):
        raise NotYet(f"{answer} counts characters, not bytes. A Chinese character takes 3 bytes "
                     "in UTF-8: encode the text first.")
    for encoding, meaning in OTHER_ENCODINGS.items():
        if answer == len(text.encode(encoding)):
            raise NotYet(f"{answer} {meaning}. WebSocket text is always UTF-8 (RFC 6455 section "
                         "5.6): encode with 'utf-8'.")
    raise NotYet(f"{answer} is not the number of UTF-8 bytes. Try len(text.encode('utf-8')).")


def check_gather_prediction(prediction: object, result: list, elapsed_ms: float,
                            delay_ms: float, count: int) -> None:
    """A prediction ``(result, milliseconds)`` of ``await asyncio.gather(...)`` over ``count``
    coroutines that each sleep ``delay_ms`` and return a value, against what the run gave."""
    require_answer(prediction)
    if not (isinstance(prediction, tuple) and len(prediction) == 2):
        raise NotYet("Write the prediction as a pair: (what gather returns, milliseconds).")
    predicted, predicted_ms = prediction
    value = result[0]
    if predicted == value:
        raise NotYet(f"gather gives one result per awaitable, all of them, in a list: not just "
                     f"{value!r}.")
    if predicted == value * count:
        raise NotYet("gather does not add the results up: it returns a list holding each one.")
    if isinstance(predicted, tuple) and list(predicted) == result:
        raise NotYet("The right values, but gather returns a list, not a tuple.")
    if predicted != result:
        raise NotYet(f"gather returns a list with the result of each awaitable, in the order "
                     f"they were given: {count} results here.")
    if any(type(guess) is not type(value) for guess, value in zip(predicted, result, strict=True)):
        raise NotYet(f"The right values, but of another type: the coroutines return "
                     f"{type(value).__name__}s, such as {value!r}.")
    if isinstance(predicted_ms, bool) or not isinstance(predicted_ms, int | float):
        raise NotYet("Give the time as a number of milliseconds.")
    if predicted_ms <= delay_ms / 5:
        raise NotYet(f"{predicted_ms} ms is too short: each coroutine still sleeps {delay_ms:g} ms "
                     "(and the time is in milliseconds, not seconds).")
    if predicted_ms > 2 * count * delay_ms:
        raise NotYet(f"{predicted_ms} ms is far longer than even {count} sleeps of {delay_ms:g} ms "
                     "one after the other: give the time in milliseconds.")
    if abs(predicted_ms - count * delay_ms) < abs(predicted_ms - delay_ms):
        raise NotYet(f"{predicted_ms} ms would be the sleeps one after the other. The event loop "
                     f"runs the others while one sleeps, so the {count} sleeps overlap: gather "
                     "waits for the slowest, not for the sum.")
    passed(f"{result} after {elapsed_ms:.1f} ms: the {count} sleeps of {delay_ms:g} ms "
           "overlapped, which is how one kernel runs a server and its clients at once.")
