"""What every check shares: the ``NotYet`` error, the success line, and the missing-answer tests.

An exercise is a markdown prompt, a code cell tagged ``solution`` (replaced by a stub in the
student edition) and a check cell calling one function of the notebook's own module
(``nb03.check_accept_key(...)``). A check raises ``NotYet`` with a hint when the answer is
wrong, so a notebook run in CI fails if a teacher's solution breaks.

The stub of a value is ``answer = ...``; the stub of a function is a body that raises
``NotImplementedError``. Both give the "no answer yet" hint.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

NO_ANSWER = "No answer yet: replace the ... in the cell above with your code and run it."
NO_FUNCTION = ("No answer yet: the function in the cell above still raises NotImplementedError. "
               "Write its body and run the cell.")


class NotYet(AssertionError):
    """The answer is not right yet; the message says what to look at."""


def passed(message: str) -> None:
    """Print the line a student sees when the answer is right."""
    print(f"✔ {message}")


def require_answer(answer: object) -> None:
    """Stop with the "no answer yet" hint while the solution cell still holds its stub."""
    if answer is Ellipsis or answer is None:
        raise NotYet(NO_ANSWER)


def call_answer(function: object, *args: object) -> object:
    """Call a student's function. Its stub (``raise NotImplementedError``) means no answer yet;
    any other exception becomes a hint naming the input, chained to the student's traceback."""
    require_answer(function)
    if not callable(function):
        raise NotYet("The answer should be the function itself (its name, without calling it).")
    try:
        return function(*args)
    except NotImplementedError:
        raise NotYet(NO_FUNCTION) from None
    except Exception as error:
        raise NotYet(_raised(error, args)) from error


async def await_answer(function: Callable[..., object], *args: object) -> object:
    """``call_answer`` for a coroutine function: the stub may raise when called or when awaited."""
    result = call_answer(function, *args)
    if not inspect.isawaitable(result):
        raise NotYet("Define the function with `async def`: it has to await the news.")
    try:
        return await result
    except NotImplementedError:
        raise NotYet(NO_FUNCTION) from None
    except Exception as error:
        raise NotYet(_raised(error, args)) from error


def _raised(error: Exception, args: tuple[object, ...]) -> str:
    shown = ", ".join(repr(arg) for arg in args)
    if len(shown) > 200:
        shown = shown[:200] + "..."
    return (f"Your function raised {type(error).__name__}: {error} when called with ({shown}). "
            "The traceback above shows where.")
