"""A per-message CPU budget inside a worker process: SIGPROF interrupts work that ran too long.

`scan.timeout` (30 s) bounds a message from the proxy's side, but until it fires the worker is
busy and clean mail waits behind it (a 4 MB body of ``DOB `` repeated kept both workers busy
for 30 s). Inside the worker, `cpu_budget` arms ``ITIMER_PROF`` -- CPU time of this process,
so time spent waiting for a core on a busy machine is not charged -- and its handler raises
`BudgetSpent` at the next bytecode boundary. The worker then answers the message with an
`Unscanned.BUDGET` finding (the policy holds it: a reviewer decides) and is free for the next.
Worker processes are single-threaded, so the signal always lands in the scanning thread.

A message's budget covers its extraction and detection. A message too long for one piece comes
back split into pieces of at most 64 K characters; each piece gets `PIECE_SHARE` of the budget
(0.25 s of the default 5 s: the worst 64 K piece of the shared corpus took 0.07 s of CPU, with
spaCy), and the first that spends it holds the message -- the batcher then drops its remaining
pieces, so a 4 MB body of ``DOB `` (0.84 s a piece) costs the workers the pieces already sent
(at most ~4 s) instead of 30 s.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from scanner.model import Finding, Unscanned

PIECE_SHARE = 1 / 20


class BudgetSpent(BaseException):
    """The CPU budget of the message being scanned ran out. A BaseException, so that the
    never-raise guards of extraction (``except Exception``) do not swallow it."""


def _raise(signum: int, frame: FrameType | None) -> None:
    raise BudgetSpent


@contextmanager
def cpu_budget(seconds: float) -> Iterator[None]:
    """Raise `BudgetSpent` inside the block once it used `seconds` of CPU (0 = no budget)."""
    if seconds <= 0:
        yield
        return
    previous = signal.signal(signal.SIGPROF, _raise)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


def budget_finding(seconds: float) -> Finding:
    return Unscanned.BUDGET.finding("message", f"not read: over its {seconds:g} s CPU budget")
