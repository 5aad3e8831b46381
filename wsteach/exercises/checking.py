"""What every check shares: the ``NotYet`` error, the success line, and the missing-answer test.

An exercise is a markdown prompt, a code cell tagged ``solution`` (replaced by a stub in the
student edition) and a check cell calling one function of the notebook's own module
(``nb03.check_accept_key(...)``). A check raises ``NotYet`` with a hint when the answer is
wrong, so a notebook run in CI fails if a teacher's solution breaks.

The student edition (``wsteach.classroom.student``) turns each assigned name into
``name = ...`` and each function into one that raises ``NotImplementedError``; both must give
the "No answer yet" hint: ``require_answer`` catches the first, ``stub_is_no_answer`` the second.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import TypeVar

NO_ANSWER = "No answer yet: replace the ... in the cell above with your code and run it."
NO_FUNCTION = ("No answer yet: the function above still raises NotImplementedError; write its "
               "body and run the cell.")

Check = TypeVar("Check", bound=Callable)


class NotYet(AssertionError):
    """The answer is not right yet; the message says what to look at."""


def passed(message: str) -> None:
    """Print the line a student sees when the answer is right."""
    print(f"✔ {message}")


def require_answer(answer: object) -> None:
    """Stop with the "no answer yet" hint while the solution cell still holds its stub."""
    if answer is Ellipsis or answer is None:
        raise NotYet(NO_ANSWER)


def stub_is_no_answer(check: Check) -> Check:
    """Decorate a check that calls the student's function (sync or async): while that function
    is still the stub, its ``NotImplementedError`` becomes the "no answer yet" hint."""
    if inspect.iscoroutinefunction(check):
        @functools.wraps(check)
        async def checking_async(*args, **kwargs):
            try:
                return await check(*args, **kwargs)
            except NotImplementedError:
                raise NotYet(NO_FUNCTION) from None
        return checking_async  # type: ignore[return-value]

    @functools.wraps(check)
    def checking(*args, **kwargs):
        try:
            return check(*args, **kwargs)
        except NotImplementedError:
            raise NotYet(NO_FUNCTION) from None
    return checking  # type: ignore[return-value]
