"""The checks of notebook 08 reject the wrong answers a student would plausibly give, each with
the hint that names that mistake, and accept the right one."""

from __future__ import annotations

import random

import pytest

from wsteach.exercises import nb08
from wsteach.exercises.checking import NotYet

NO_ANSWER = "No answer yet"


def rejects(check, *args, hint: str) -> None:
    with pytest.raises(NotYet) as caught:
        check(*args)
    assert hint in str(caught.value), str(caught.value)


@pytest.mark.parametrize(("answer", "hint"), [
    (..., NO_ANSWER),
    (None, NO_ANSWER),
    (45, "pair of numbers"),
    ((20, 20), "whole interval later"),  # forgot the interval before the last ping
    ((20, 25), "whole interval later"),
    ((20, 70), "no second ping"),  # waited for a second ping
    ((0, 45), "waits out one timeout"),
    ((25, 45), "just as a ping leaves"),  # took the interval for the earliest
    ((45, 20), "cannot be later"),
    (("20", "45"), "pair of numbers"),
    ((True, 45), "pair of numbers"),
])
def test_detection_window_wrong_answers(answer, hint):
    rejects(nb08.check_detection_window, 25, 20, answer, hint=hint)


def test_detection_window_right_answer(capsys):
    nb08.check_detection_window(25, 20, (20, 45))
    nb08.check_detection_window(25, 20, [20.0, 45.0])
    assert "✔" in capsys.readouterr().out


def full_jitter(attempt, min_delay, factor, max_delay, rng):
    return rng.uniform(0, min(max_delay, min_delay * factor ** attempt))


def no_jitter(attempt, min_delay, factor, max_delay, rng):
    return min(max_delay, min_delay * factor ** attempt)


def no_cap(attempt, min_delay, factor, max_delay, rng):
    return rng.uniform(0, min_delay * factor ** attempt)


def off_by_one(attempt, min_delay, factor, max_delay, rng):
    return rng.uniform(0, min(max_delay, min_delay * factor ** (attempt + 1)))


def equal_jitter(attempt, min_delay, factor, max_delay, rng):
    ceiling = min(max_delay, min_delay * factor ** attempt)
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


def module_random(attempt, min_delay, factor, max_delay, rng):
    return random.uniform(0, min(max_delay, min_delay * factor ** attempt))


def from_min_delay(attempt, min_delay, factor, max_delay, rng):
    return rng.uniform(min_delay, min(max_delay, min_delay * factor ** attempt))


def capped_after_drawing(attempt, min_delay, factor, max_delay, rng):
    return min(max_delay, rng.uniform(0, min_delay * factor ** attempt))


def constant(attempt, min_delay, factor, max_delay, rng):
    return 1.0


def stub(attempt, min_delay, factor, max_delay, rng):
    raise NotImplementedError


@pytest.mark.parametrize(("function", "hint"), [
    (stub, NO_ANSWER),
    (..., NO_ANSWER),
    (no_jitter, "without jitter"),
    (no_cap, "above the cap"),
    (off_by_one, "not attempt + 1"),
    (equal_jitter, "equal jitter"),
    (constant, "does not depend on rng"),
    (module_random, "not from the random module"),
    (from_min_delay, "not from min_delay"),
    (capped_after_drawing, "the cap was applied after drawing"),
    (42, "the function itself"),
])
def test_backoff_wrong_answers(function, hint):
    rejects(nb08.check_backoff, function, hint=hint)


def test_backoff_right_answer(capsys):
    nb08.check_backoff(full_jitter)
    assert "✔" in capsys.readouterr().out


@pytest.mark.parametrize(("answer", "hint"), [
    (..., NO_ANSWER),
    ("never", "arrow function"),
    (30, "still marked alive"),
    (90, "One sweep too many"),
    (120, "Follow one client"),
    ("60 s", "number of seconds"),
])
def test_article_sweep_wrong_answers(answer, hint):
    rejects(nb08.check_article_sweep, answer, hint=hint)


def test_article_sweep_right_answer(capsys):
    nb08.check_article_sweep(60)
    assert "✔" in capsys.readouterr().out


@pytest.mark.parametrize(("answer", "hint"), [
    (None, NO_ANSWER),
    ((0, 42, 100), "no longer in the history"),  # replays what is gone
    ((9, 50, 100), "Count again"),
    ((0, 50, 100), "silent gap"),
    ((8, 49, 100), "after the last message"),
    ((8.0, 50, 100), "three whole numbers"),
])
def test_replay_wrong_answers(answer, hint):
    rejects(nb08.check_replay, answer, hint=hint)


def test_replay_right_answer(capsys):
    nb08.check_replay((8, 50, 100))
    assert "✔" in capsys.readouterr().out
