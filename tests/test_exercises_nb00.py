"""The checks of notebook 00: the answers students plausibly give are each rejected with the hint
that names that mistake; the right answer passes; a stub gives the "no answer yet" hint."""

from __future__ import annotations

import asyncio
import time

import pytest

from wsteach.exercises import nb00
from wsteach.exercises.checking import NO_ANSWER, NotYet

GREETING = "你好, WebSocket"  # the text of exercise 0.1: 13 characters, 17 bytes in UTF-8


def rejected(check, *args) -> str:
    with pytest.raises(NotYet) as info:
        check(*args)
    return str(info.value)


@pytest.mark.parametrize("stub", [..., None])
def test_a_stub_is_no_answer_yet(stub):
    assert rejected(nb00.check_utf8_length, GREETING, stub) == NO_ANSWER
    assert rejected(nb00.check_gather_prediction, stub, [42] * 3, 10.4, 10, 3) == NO_ANSWER


def test_utf8_length_passes_the_right_count(capsys):
    nb00.check_utf8_length(GREETING, len(GREETING.encode("utf-8")))
    assert "17 bytes" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (13, "counts characters"),
        (26, "UTF-16"),  # 2 bytes per character
        (28, "byte-order mark"),  # UTF-16 with its BOM
        (15, "GBK"),  # 2 bytes per Chinese character
        (52, "UTF-32"),
        ("17", "the right number, but written as text"),
        ("13", "a number, but written as text"),
        (17.0, "is a float"),
        (True, "not bool"),
        ([17], "not list"),
        (16, "is not the number of UTF-8 bytes"),
    ],
)
def test_utf8_length_names_the_mistake(answer, hint):
    assert hint in rejected(nb00.check_utf8_length, GREETING, answer)


def test_the_encodings_named_really_give_those_counts():
    """The hints name an encoding only because it yields that number for the greeting."""
    counts = {encoding: len(GREETING.encode(encoding)) for encoding in nb00.OTHER_ENCODINGS}
    assert counts == {"utf-16-le": 26, "utf-16": 28, "gbk": 15, "utf-32-le": 52}


async def gather_three() -> tuple[list[int], float]:
    """What the notebook's check cell measures."""
    async def answer_later() -> int:
        await asyncio.sleep(0.01)
        return 42

    started = time.perf_counter()
    result = await asyncio.gather(answer_later(), answer_later(), answer_later())
    return result, (time.perf_counter() - started) * 1000


def test_gather_prediction_passes_a_real_run(capsys):
    result, elapsed_ms = asyncio.run(gather_three())
    assert elapsed_ms < 25  # overlapping sleeps: the premise of the exercise
    nb00.check_gather_prediction(([42, 42, 42], 10), result, elapsed_ms, 10, 3)
    assert "overlapped" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("prediction", "hint"),
    [
        ((42, 10), "all of them, in a list"),
        ((126, 10), "does not add the results up"),
        (((42, 42, 42), 10), "a list, not a tuple"),
        (([42], 10), "3 results here"),
        (([42, 42, 42], 30), "the sleeps one after the other"),
        (([42, 42, 42], 0.01), "in milliseconds, not seconds"),
        (([42, 42, 42], 10_000), "far longer"),
        (([42, 42, 42], "10 ms"), "a number of milliseconds"),
        ([42, 42, 42], "as a pair"),
        (([42.0, 42.0, 42.0], 10), "of another type"),
    ],
)
def test_gather_prediction_names_the_mistake(prediction, hint):
    assert hint in rejected(nb00.check_gather_prediction, prediction, [42] * 3, 10.4, 10, 3)
