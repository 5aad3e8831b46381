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
