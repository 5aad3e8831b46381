"""A result now, for synchronous code in a notebook: ``run_now``, with nest_asyncio2.

A widget callback (``Button.on_click``) is a plain function, called while the kernel's event
loop is already running: it cannot ``await``, and ``loop.run_until_complete`` refuses with
"This event loop is already running". Prefer not needing a result now: let the callback start
a task and update a widget when the task is done (``ChatWidget.submit`` does that), and use
top-level ``await`` in cells.

When a synchronous caller truly needs the result before it returns, ``run_now`` runs the
awaitable to completion inside the running loop. It calls ``nest_asyncio2.apply()``, which
patches, for the whole process and for good:

- the loop's class: ``run_forever``, ``run_until_complete`` and ``_run_once`` are replaced by
  versions that may run while the loop is already running (nested);
- ``asyncio.Task`` and ``asyncio.Future``: the C versions are replaced by the pure-Python ones,
  which tolerate being re-entered (and are slower);
- ``asyncio.run``, ``asyncio.get_event_loop`` and the event loop policy (and tornado's loop, if
  loaded).

The price: while ``run_now`` waits, every other task runs too, in the middle of your callback,
and may change what the callback was about to use; a task that calls ``run_now`` nests deeper.

nest_asyncio itself is no longer maintained: its author died in March 2024 and the repository
(erdewit/nest_asyncio) is archived (ipykernel#1381). ipykernel 7 depends on a fork,
nest-asyncio2, and so does this helper: with the original, a nested run in a JupyterLab kernel
fails with "cannot enter context: <Context> is already entered" (ipykernel 7 runs every cell in
one shared ``contextvars.Context``; the fork defers what would re-enter it), and the kernel's
tasks die. ``tests/test_chat_jupyterlab.py`` met exactly that.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


def run_now(awaitable: Awaitable[T]) -> T:
    """Run ``awaitable`` to completion from synchronous code, even inside a running loop."""
    import nest_asyncio2  # imported here: nothing is patched unless run_now is called

    loop = asyncio.get_event_loop()
    nest_asyncio2.apply(loop)
    return loop.run_until_complete(awaitable)
