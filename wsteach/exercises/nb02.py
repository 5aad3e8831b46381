"""Checks for the exercises of notebook 02_polling_long_polling_streaming."""

from __future__ import annotations

import asyncio
import math
import time

from wsteach import http1
from wsteach.exercises.checking import NotYet, passed, require_answer
from wsteach.lessons import polling


async def check_long_poll_answer(answer_function) -> None:
    """``answer_function(source, after, hold)`` returns the
    bytes of a long poll's answer: 200 with the news, or 204 when ``hold`` seconds pass."""
    require_answer(answer_function)

    async def ask(source: polling.EventSource, hold: float) -> tuple[http1.Response, bytes, float]:
        started = time.perf_counter()
        async with asyncio.timeout(5):
            data = await answer_function(source, 0, hold)
        waited = time.perf_counter() - started
        if not isinstance(data, bytes | bytearray):
            raise NotYet("Return the bytes of the response (http1.build_response gives them).")
        end = http1.head_end(data)
        if end is None:
            raise NotYet("That is not a whole response head: it must end with an empty line.")
        try:
            return http1.parse_response(bytes(data[:end])), bytes(data[end:]), waited
        except http1.HTTPError as error:
            raise NotYet(f"A client cannot parse the response: {error.reason}.") from None

    source = polling.EventSource([{"name": "Ada"}])
    response, body, waited = await ask(source, 0.1)
    if response.status != 204:
        raise NotYet(f"With no news during the hold you answered {response.status}: answer "
                     "204 No Content.")
    if waited < 0.09:
        raise NotYet("You answered at once: that is short polling. Wait for news for up to "
                     "`hold` seconds: await source.wait_after(after, hold).")
    if body or "Content-Length" in response.headers:
        raise NotYet("A 204 has no body and no Content-Length header (RFC 9110 section 8.6).")
    asyncio.get_running_loop().call_later(0.05, source.publish, {"name": "Ada"})
    response, body, waited = await ask(source, 2.0)
    if response.status != 200 or b"Ada" not in body:
        raise NotYet(f"News arrived during the hold, but you answered {response.status} "
                     f"{body[:60]!r}: answer 200 with the messages.")
    if waited > 1.0:
        raise NotYet("News arrived after 0.05 s but you answered only when the hold ran out: "
                     "answer as soon as wait_after returns messages.")
    passed(f"204 after the hold when nothing happens; 200 after {waited * 1000:.0f} ms when a "
            "guest arrives.")


def check_polling_mbps(bytes_per_poll: float, clients: int, answer: object) -> None:
    """The bandwidth of ``clients`` each polling once a
    second, in the classic table's unit (2**20 bits per second)."""
    require_answer(answer)
    expected = bytes_per_poll * clients * 8 / 2**20
    if not isinstance(answer, int | float):
        raise NotYet("Answer with a number of megabits per second.")
    if math.isclose(answer, bytes_per_poll * clients * 8 / 1e6, rel_tol=1e-3):
        raise NotYet("Close: you divided by 1,000,000. The classic table divides by 2**20 "
                     "(1,048,576); use the same unit so the columns compare.")
    if math.isclose(answer, bytes_per_poll * clients / 2**20, rel_tol=1e-3):
        raise NotYet("That is megabytes per second: a byte is 8 bits.")
    if not math.isclose(answer, expected, rel_tol=1e-3):
        raise NotYet("Multiply the bytes of one poll by the clients (each polls once a second) "
                     "and by 8 bits, then divide by 2**20.")
    passed(f"{clients:,} clients × {bytes_per_poll:.0f} B × 8 bits = {expected:.1f} Mbps.")

