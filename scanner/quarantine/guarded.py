"""`GuardedQuarantine`: the proxy's hold, with a deadline and a check that the store is still there.

The gateway answers 250 for a held message only once the store committed it. Two ways that
promise broke under faults, both fixed here without touching the store itself:

- **A stalled store** (PostgreSQL paused, a table locked, SQLite locked by another process)
  made the client wait as long as the stall, and in-process holds queue one behind the other
  (the k-th waited k × 30 s). Each hold now has a deadline (`quarantine.hold_timeout`):
  past it the client gets ``451 4.3.0`` and retries later. If the commit lands just after the
  deadline, the message is held *and* retried: a duplicate in the quarantine for a reviewer to
  see, never a duplicate delivery and never a loss.
- **A SQLite file removed or replaced** under the running proxy: commits went into the deleted
  file and were gone at restart. The path's identity (`FileIdentity`) is checked before and
  after each hold; a changed file answers 451 (restart sendguard to reopen the store).
"""

from __future__ import annotations

import asyncio
import logging

from scanner._errors import StoreError
from scanner.ports import Quarantine
from scanner.quarantine.engine import FileIdentity
from scanner.quarantine.model import HeldMessage

log = logging.getLogger("sendguard.quarantine")


class GuardedQuarantine:
    """Implements `scanner.ports.Quarantine` around the real store (wired in `scanner.app`)."""

    def __init__(self, store: Quarantine, *, timeout: float, identity: FileIdentity | None) -> None:
        self._store = store
        self._timeout = timeout
        self._identity = identity
        self._abandoned: set[asyncio.Task[None]] = set()

    def _check_file(self, message_id: str, when: str) -> None:
        problem = self._identity.problem() if self._identity is not None else None
        if problem is not None:
            log.error("quarantine database file %s %s; hold of %s refused", problem, when, message_id)
            raise StoreError(f"quarantine database file {problem}")

    async def hold(self, message: HeldMessage) -> None:
        self._check_file(message.id, "before the hold")
        task = asyncio.ensure_future(self._store.hold(message))
        # asyncio.wait, not wait_for: a driver blocked in its thread (SQLite's busy handler) does
        # not notice the cancellation until it returns, and wait_for would wait for that too
        done, _ = await asyncio.wait({task}, timeout=self._timeout)
        if not done:
            task.cancel()  # rolls back when the driver returns; not awaited here
            self._abandoned.add(task)
            task.add_done_callback(self._forget)
            log.error("quarantine hold of %s took over %.1f s; answered 451", message.id, self._timeout)
            raise StoreError(f"quarantine hold timed out after {self._timeout:g} s")
        task.result()  # StoreError from the store itself
        self._check_file(message.id, "during the hold")

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._abandoned.discard(task)
        if not task.cancelled() and task.exception() is None:
            # committed after its deadline: held, and the client will retry (a duplicate for a
            # reviewer, never a second delivery)
            log.warning("a quarantine hold committed after its deadline; the client retries it")

    async def close(self) -> None:
        if self._abandoned:
            await asyncio.wait(set(self._abandoned), timeout=self._timeout)
        await self._store.close()
