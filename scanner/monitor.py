"""Event-loop lag: how late the loop wakes a timer. Detection must never stall the loop.

A task sleeps `interval` seconds in a loop and records how much later than asked it woke up.
`snapshot()` returns max and p99 since the last snapshot; `sendguard serve` logs them with the
message counters every `report_every` seconds (and once at shutdown).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

log = logging.getLogger("sendguard.stats")


class LoopLagMonitor:
    def __init__(self, interval: float = 0.05) -> None:
        self._interval = interval
        self._samples: list[float] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            t0 = time.perf_counter()
            await asyncio.sleep(self._interval)
            self._samples.append(max(0.0, time.perf_counter() - t0 - self._interval))

    def snapshot(self) -> tuple[float, float]:
        """(max, p99) lag in milliseconds since the previous snapshot."""
        samples, self._samples = sorted(self._samples), []
        if not samples:
            return 0.0, 0.0
        p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
        return samples[-1] * 1000, p99 * 1000

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


async def report_stats(monitor: LoopLagMonitor, counters: Callable[[], dict[str, int]], every: float) -> None:
    """Log one stats line every `every` seconds: counters and loop lag, never content."""
    while True:
        await asyncio.sleep(every)
        log_stats(monitor, counters())


def log_stats(monitor: LoopLagMonitor, counters: dict[str, int]) -> None:
    lag_max, lag_p99 = monitor.snapshot()
    log.info(
        "stats %s lag_max_ms=%.1f lag_p99_ms=%.1f",
        " ".join(f"{k}={v}" for k, v in sorted(counters.items())) or "messages=0",
        lag_max,
        lag_p99,
    )
