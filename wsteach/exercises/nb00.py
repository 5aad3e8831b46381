"""Checks for the exercises of notebook 00_start_here."""

from __future__ import annotations

from wsteach.exercises.checking import NotYet, passed, require_answer


def check_utf8_length(text: str, answer: object) -> None:
    """How many bytes does ``text`` take in UTF-8?"""
    require_answer(answer)
    expected = len(text.encode("utf-8"))
    if answer == len(text):
        raise NotYet(f"{answer} counts characters, not bytes. A Chinese character takes 3 bytes "
                     "in UTF-8: encode the text first.")
    if answer != expected:
        raise NotYet(f"{answer} is not the number of UTF-8 bytes. Try len(text.encode('utf-8')).")
    passed(f"{text!r} is {len(text)} characters but {expected} bytes in UTF-8: a WebSocket "
            "length field counts bytes.")

