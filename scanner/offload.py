"""CPU work of the proxy process off its event loop, on ONE thread.

Large copies, sealing and the review view of a held message are too long for the loop (a 10 MB
message: tens of ms each), so they run in a thread. But a thread that runs Python holds the GIL,
and the loop must win it back to go on: with one such thread the loop waits at most the switch
interval (5 ms); with several (three 10 MB holds at once, on the default executor) it waited
36-65 ms, losing the GIL to one thread after another. So all of it queues on this one thread.
Work that never holds the GIL for long (file writes, password hashing) can keep
``asyncio.to_thread``.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

# the size of a message's bytes above which copying or sealing them is too long for the loop
LARGE = 1024 * 1024

_executor: ThreadPoolExecutor | None = None


def _thread() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sendguard-cpu")
    return _executor


async def in_cpu_thread(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """`fn(*args, **kwargs)` on the proxy's one CPU thread."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_thread(), functools.partial(fn, *args, **kwargs))


async def off_loop_if_large(size: int, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """`fn(*args, **kwargs)`: on the CPU thread when it works on more than `LARGE` bytes, else
    right here (a thread hop costs more than the work)."""
    if size > LARGE:
        return await in_cpu_thread(fn, *args, **kwargs)
    return fn(*args, **kwargs)
