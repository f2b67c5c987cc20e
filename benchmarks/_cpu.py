"""Where the CPU goes during a `benchmarks.proxy` phase, by role (psutil)."""

from __future__ import annotations

from typing import Any

import psutil

ROLES = ("proxy", "workers", "sink", "generator")  # plus "rest": the machine's other busy time


class CpuMeter:
    """CPU seconds (user + system) by role: the proxy's main process, its workers (its descendants
    but multiprocessing's resource tracker), the sink, this load generator; and "rest", the
    machine's busy time beyond them (other processes, the kernel's own work).

    `sample()` before a phase, `since(sample)` after it. A worker that exits during the phase is
    missed for that phase (rare: a crash); one that starts during it counts from its start.
    """

    def __init__(self, proxy_pid: int, sink_pid: int) -> None:
        self._proxy = psutil.Process(proxy_pid)
        self._fixed = [
            ("proxy", self._proxy),
            ("sink", psutil.Process(sink_pid)),
            ("generator", psutil.Process()),
        ]
        self._tracker: dict[int, bool] = {}  # pid -> is multiprocessing's resource tracker

    def _workers(self) -> list[tuple[str, Any]]:
        try:
            children = self._proxy.children(recursive=True)
        except psutil.Error:
            return []
        out = []
        for child in children:
            if child.pid not in self._tracker:
                try:
                    self._tracker[child.pid] = "resource_tracker" in " ".join(child.cmdline())
                except psutil.Error:
                    continue
            if not self._tracker[child.pid]:
                out.append(("workers", child))
        return out

    def sample(self) -> tuple[dict[tuple[str, int], float], float]:
        """(CPU seconds so far by (role, pid), the machine's busy CPU seconds so far)."""
        per_process: dict[tuple[str, int], float] = {}
        for role, proc in [*self._fixed, *self._workers()]:
            try:
                t = proc.cpu_times()
            except psutil.Error:
                continue
            per_process[(role, proc.pid)] = float(t.user + t.system)
        m = psutil.cpu_times()  # guest time is already in user: not added twice
        busy = sum(float(getattr(m, f, 0.0)) for f in ("user", "nice", "system", "irq", "softirq"))
        return per_process, busy

    def since(self, start: tuple[dict[tuple[str, int], float], float]) -> dict[str, float]:
        """CPU seconds by role (and "rest") since `start`."""
        (before, busy_before), (after, busy_after) = start, self.sample()
        out = dict.fromkeys(ROLES, 0.0)
        for (role, pid), seconds in after.items():
            out[role] += seconds - before.get((role, pid), 0.0)
        out["rest"] = max(0.0, busy_after - busy_before - sum(out.values()))
        return out
