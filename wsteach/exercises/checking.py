"""What every check shares: the ``NotYet`` error, the success line, and the missing-answer test.

An exercise is a markdown prompt, a code cell tagged ``solution`` (replaced by a stub in the
student edition) and a check cell calling one function of the notebook's own module
(``nb03.check_accept_key(...)``). A check raises ``NotYet`` with a hint when the answer is
wrong, so a notebook run in CI fails if a teacher's solution breaks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

NO_ANSWER = "No answer yet: replace the ... in the cell above with your code and run it."


class NotYet(AssertionError):
    """The answer is not right yet; the message says what to look at."""


def passed(message: str) -> None:
    """Print the line a student sees when the answer is right."""
    print(f"✔ {message}")


def require_answer(answer: object) -> None:
    """Stop with the "no answer yet" hint while the solution cell still holds its stub."""
    if answer is Ellipsis or answer is None:
        raise NotYet(NO_ANSWER)


def require_function(answer: object) -> Callable[..., Any]:
    """The student's function, wrapped so that the stub's ``raise NotImplementedError`` gives
    the "no answer yet" hint too."""
    require_answer(answer)
    if not callable(answer):
        raise NotYet(f"The answer should be a function (def ...), not {type(answer).__name__}.")

    def call(*args: Any) -> Any:
        try:
            return answer(*args)
        except NotImplementedError:
            raise NotYet(NO_ANSWER) from None

    return call
