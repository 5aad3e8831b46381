"""Checks for the exercises of notebook 08_heartbeat_and_reconnect."""

from __future__ import annotations

import math
import random

from wsteach.exercises.checking import NotYet, call_answer, passed, require_answer


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_detection_window(interval: float, timeout: float, answer: object) -> None:
    """The earliest and the latest moment, after a peer goes silent, at which a keepalive
    that pings every ``interval`` seconds and waits ``timeout`` for each pong notices it."""
    require_answer(answer)
    if not (isinstance(answer, tuple | list) and len(answer) == 2
            and all(_is_number(x) for x in answer)):
        raise NotYet("Answer with a pair of numbers of seconds: (earliest, latest).")
    earliest, latest = answer
    if math.isclose(earliest, timeout) and math.isclose(latest, interval + timeout):
        passed(f"Between {timeout} s and {interval + timeout} s, the window section 3 measured "
               "for its own settings. A page without an application heartbeat would never "
               "notice at all.")
        return
    if earliest > latest:
        raise NotYet("The first number is the earliest moment: it cannot be later than the "
                     "second.")
    if math.isclose(latest, timeout) or math.isclose(latest, interval):
        raise NotYet("The latest case: the peer goes silent just after a pong came back. The "
                     "next ping goes out a whole interval later, and only then does the "
                     "timeout start: add them.")
    if math.isclose(latest, 2 * interval + timeout) or math.isclose(latest, 2 * interval):
        raise NotYet("A ping that goes unanswered is noticed at its own timeout; there is no "
                     "second ping to wait for.")
    if not math.isclose(latest, interval + timeout):
        raise NotYet(f"{latest} s is not the latest moment. Draw the timeline: pings every "
                     f"{interval} s, each waiting {timeout} s.")
    if math.isclose(earliest, 0):
        raise NotYet("Even at best the server waits out one timeout: the silence is only "
                     "noticed when a pong fails to come back in time.")
    raise NotYet(f"{earliest} s is not the earliest moment. When does the silence cost the "
                 "least? When it begins just as a ping leaves.")


def check_backoff(function: object) -> None:
    """``function(attempt, min_delay, factor, max_delay, rng)``: the delay before retry
    ``attempt`` (0, 1, 2, ...), exponential backoff with full jitter drawn from ``rng``."""
    require_answer(function)

    def backoff(*args: object) -> object:
        return call_answer(function, *args)
    min_delay, factor, max_delay = 0.5, 2.0, 8.0

    def ceiling(n: int) -> float:
        return min(max_delay, min_delay * factor ** n)

    attempts = range(8)
    samples = {n: [backoff(n, min_delay, factor, max_delay, random.Random(seed))
                   for seed in range(200)] for n in attempts}
    if not all(_is_number(v) for values in samples.values() for v in values):
        raise NotYet("Return a number of seconds.")
    again = [backoff(n, min_delay, factor, max_delay, random.Random(0)) for n in attempts]
    if again != [samples[n][0] for n in attempts]:
        raise NotYet("Two calls with equally seeded rngs gave different delays: draw from the "
                     "rng you are given (rng.uniform), not from the random module, so that a "
                     "schedule can be replayed.")
    if any(min(samples[n]) < 0 for n in attempts):
        raise NotYet("A delay is never negative: draw between 0 and the ceiling.")
    if all(len(set(samples[n])) == 1 for n in attempts):
        if all(math.isclose(samples[n][0], ceiling(n)) for n in attempts):
            raise NotYet("Every client would wait exactly the same time: that is backoff "
                         "without jitter. Draw the delay with rng.uniform(0, ceiling).")
        raise NotYet("The delay does not depend on rng: draw it with rng.uniform.")
    too_long = [n for n in attempts if max(samples[n]) > ceiling(n) + 1e-9]
    if too_long and all(max(samples[n]) <= ceiling(n + 1) + 1e-9 for n in attempts):
        raise NotYet("Each retry waits up to twice too long: retry 0 waits at most min_delay, "
                     "so the exponent is the attempt number itself, not attempt + 1.")
    if too_long:
        n = too_long[-1]
        raise NotYet(f"Retry {n} waited {max(samples[n]):.2f} s, above the cap of "
                     f"{max_delay} s: take min(max_delay, ...) before drawing.")
    piled_up = [n for n in attempts
                if sum(math.isclose(v, max_delay) for v in samples[n]) > len(samples[n]) / 10]
    if piled_up:
        raise NotYet(f"At retry {piled_up[0]} many delays are exactly max_delay: the cap was "
                     "applied after drawing. Cap the ceiling first, min(max_delay, min_delay * "
                     "factor ** attempt), then draw between 0 and it.")
    if all(min(samples[n]) >= min_delay - 1e-9 for n in attempts):
        raise NotYet(f"No delay fell below min_delay ({min_delay} s): full jitter draws from "
                     "0, not from min_delay, so some clients retry almost at once.")
    if all(min(samples[n]) >= ceiling(n) / 2 - 1e-9 for n in attempts):
        raise NotYet("No delay fell below half its ceiling: that is 'equal jitter' "
                     "(ceiling/2 plus a random half). Full jitter draws from 0.")
    means = {n: sum(samples[n]) / len(samples[n]) for n in attempts}
    uneven = [n for n in attempts if not 0.35 * ceiling(n) <= means[n] <= 0.65 * ceiling(n)]
    if uneven:
        n = uneven[0]
        raise NotYet("The delays are not spread evenly between 0 and the ceiling "
                     f"min(max_delay, min_delay * factor ** attempt): at retry {n} their mean "
                     f"is {means[n]:.2f} s, where the ceiling is {ceiling(n)} s (expected: "
                     "about half of it).")
    passed("Exponential ceilings, capped, and the delay drawn anywhere below: the clients "
           "of a restarted server spread out, as the storm plot showed.")


def check_article_sweep(answer: object) -> None:
    """With the article's server (the pong handler an arrow function), a sweep every 30 s,
    and three healthy clients connected just before a sweep: when is each terminated?"""
    require_answer(answer)
    if isinstance(answer, str) and answer.strip().lower() in {"never", "none"}:
        raise NotYet("The clients answer every ping, but look at what the pong handler marks "
                     "alive: `this` inside an arrow function is not the socket.")
    if not _is_number(answer):
        raise NotYet("Answer with a number of seconds (for instance 90), or 'never'.")
    if math.isclose(answer, 30):
        raise NotYet("At the first sweep every client is still marked alive by the "
                     "connection handler (ws.isAlive = true): the sweep only marks it not alive "
                     "and pings it.")
    if math.isclose(answer, 90):
        raise NotYet("One sweep too many: after the first sweep set isAlive to false, nothing "
                     "ever sets it back to true for the socket.")
    if not math.isclose(answer, 60):
        raise NotYet("Follow one client through the sweeps: the first marks it not alive and "
                     "pings; what does the second find?")
    passed("At the second sweep, 60 s: every client, healthy or not, is terminated, exactly "
           "as the Sweeper showed. With `function () { this.isAlive = true }` (or "
           "`ws.isAlive = true`) no healthy client would be.")


def check_replay(answer: object) -> None:
    """A client saw up to message 41; the server's history holds messages 50 to 100. What does
    the client receive when it reconnects? Answer ``(missed, first, last)``."""
    require_answer(answer)
    if not (isinstance(answer, tuple | list) and len(answer) == 3
            and all(isinstance(x, int) and not isinstance(x, bool) for x in answer)):
        raise NotYet("Answer with three whole numbers: (messages reported missed, first "
                     "message replayed, last message replayed).")
    missed, first, last = answer
    if (first, last) == (42, 100):
        raise NotYet("Messages 42 to 49 are no longer in the history: the server cannot replay "
                     "them, it can only say how many there were.")
    if (first, last) != (50, 100):
        raise NotYet("Replay is everything the history holds after the last message the "
                     "client saw.")
    if missed == 9:
        raise NotYet("Count again: after 41 comes 42, and the history starts at 50.")
    if missed == 0:
        raise NotYet("Never a silent gap: the client must be told that some messages are gone.")
    if missed != 8:
        raise NotYet("How many whole numbers lie strictly between 41 and 50?")
    passed("A gap notice for 8 messages (42-49), then 50 to 100 in order: nothing silent, "
           "nothing twice.")
