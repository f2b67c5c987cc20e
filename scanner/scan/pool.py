"""Detection worker processes: spawn them, feed them batches, replace the ones that die.

The event loop never runs detection. Each worker is a `multiprocessing` process started with
the *spawn* context (fork would copy the event loop, uvloop's state and any threads of the
proxy) that builds its detection engine ONCE from a factory given as an import path
(``"scanner.detect:build_engine"``) and then serves batches until its socket closes.

Wire: one ``socket.socketpair()`` per worker, frames of ``!Q`` length + pickle. The parent end
is an asyncio stream, so sending a batch never blocks the loop (the transport buffers it; what
it holds is bounded by `max_inflight` batches per worker) and a worker that dies shows up as EOF
at once -- no reader thread per worker, no polling. The child end (`scanner.scan.worker`) is
a plain blocking socket: the worker does one thing at a time.

    parent -> child   (batch_id, items)     items[i]: tuple[Segment, ...], or the message's
                                            bytes, extracted by the worker
    child  -> parent  ("ready", pid) once, then (batch_id, results)
                      results[i]: (list[Finding], extraction defect notes), or the exception's
                      type name (never its text: it could quote the message) when item i raised.

Batches on one worker are answered in order; at most `max_inflight` are outstanding per worker
so that queueing happens in the batcher's bounded queue, not inside pipes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import pickle
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from typing import Any

from scanner._errors import describe
from scanner.scan.worker import HEADER, Item, ItemResult, worker_main

log = logging.getLogger(__name__)

_CONTEXT = multiprocessing.get_context("spawn")
# niceness added to worker processes (see worker_main)
WORKER_NICE = 5


class WorkerLost(Exception):
    """The worker running a batch died (or was killed after exceeding the batch timeout)."""


class WorkerStartError(Exception):
    """A worker could not build its engine at start (bad factory, missing model...)."""


# --- the parent side ---------------------------------------------------------------------------


@dataclass(eq=False)
class _Worker:
    slot: int
    proc: BaseProcess
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    ready: asyncio.Future[int]
    # batch_id -> future, in the order the worker will answer them
    inflight: dict[int, asyncio.Future[list[ItemResult]]] = field(default_factory=dict)
    chars: dict[int, int] = field(default_factory=dict)
    watchdog: asyncio.TimerHandle | None = None
    task: asyncio.Task[None] | None = None
    killed_for_timeout: bool = False


class WorkerPool:
    """N worker processes, each with its engine loaded once; least-loaded dispatch.

    `try_submit` never blocks and never queues beyond `max_inflight` batches per worker: when it
    returns None the caller keeps the batch in its own (bounded) queue and is told through
    `on_capacity` when a worker frees up. A worker that dies is replaced (new process, engine
    reloaded); the futures of its in-flight batches fail with `WorkerLost`. A batch that runs
    longer than `batch_timeout` gets its worker killed (a stuck regex, a runaway model) and
    replaced the same way.
    """

    def __init__(
        self,
        factory: str,
        factory_kwargs: Mapping[str, Any] | None = None,
        *,
        workers: int | None = None,
        max_inflight: int = 2,
        batch_timeout: float | None = None,
        start_timeout: float = 300.0,
        nice: int = WORKER_NICE,
        extract_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        self.factory = factory
        self.factory_kwargs = dict(factory_kwargs or {})
        self.extract_kwargs = dict(extract_kwargs or {})
        self.size = workers or os.cpu_count() or 1
        self.max_inflight = max_inflight
        self.batch_timeout = batch_timeout
        self.start_timeout = start_timeout
        self.nice = nice
        self.on_capacity: Callable[[], None] | None = None
        self.restarts = 0
        self._workers: list[_Worker | None] = [None] * self.size
        self._next_batch = 0
        self._closing = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._start_failures: dict[int, int] = {}
        self._ready_event = asyncio.Event()

    # -- lifecycle --

    async def start(self) -> None:
        """Spawn every worker and wait until all have built their engine."""
        workers = [await self._spawn(slot) for slot in range(self.size)]
        try:
            async with asyncio.timeout(self.start_timeout):
                await asyncio.gather(*(w.ready for w in workers))
        except BaseException as exc:
            await self.close()
            if isinstance(exc, WorkerStartError | TimeoutError):
                raise WorkerStartError(f"workers did not start from {self.factory}: {exc}") from exc
            raise

    async def close(self) -> None:
        """Stop every worker: close its socket (the worker exits at EOF), then reap it."""
        self._closing = True
        self._ready_event.set()
        for task in list(self._tasks):
            task.cancel()
        workers = [w for w in self._workers if w is not None]
        self._workers = [None] * self.size
        for w in workers:
            busy = bool(w.inflight)
            self._fail_inflight(w, WorkerLost("scanner closing"))
            w.writer.close()
            if busy and w.proc.exitcode is None:
                # its results would be thrown away: do not wait for the batch to finish
                w.proc.terminate()
        await asyncio.gather(*(self._reap(w, grace=5.0) for w in workers))
        tasks = [w.task for w in workers if w.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def wait_ready(self) -> None:
        """Until every slot has a worker that built its engine (after a replacement, say)."""
        while not self._closing and not all(
            w is not None and w.ready.done() and w.ready.exception() is None for w in self._workers
        ):
            self._ready_event.clear()
            await self._ready_event.wait()

    def pids(self) -> list[int]:
        return [w.proc.pid for w in self._workers if w is not None and w.proc.pid is not None]

    # -- dispatch --

    def has_capacity(self) -> bool:
        return self._pick() is not None

    def idle_workers(self) -> int:
        """Ready workers with nothing in flight."""
        return sum(
            1
            for w in self._workers
            if w is not None and w.ready.done() and w.ready.exception() is None and not w.inflight
        )

    def try_submit(self, items: list[Item], chars: int) -> asyncio.Future[list[ItemResult]] | None:
        """Send a batch to the least-loaded ready worker; None if every worker is full."""
        worker = self._pick()
        if worker is None:
            return None
        self._next_batch += 1
        batch_id = self._next_batch
        fut: asyncio.Future[list[ItemResult]] = asyncio.get_running_loop().create_future()
        payload = pickle.dumps((batch_id, items), protocol=pickle.HIGHEST_PROTOCOL)
        worker.writer.write(HEADER.pack(len(payload)) + payload)
        worker.inflight[batch_id] = fut
        worker.chars[batch_id] = chars
        if len(worker.inflight) == 1:
            self._arm_watchdog(worker)
        return fut

    def _pick(self) -> _Worker | None:
        best: _Worker | None = None
        for w in self._workers:
            if w is None or not w.ready.done() or w.ready.exception() is not None:
                continue
            if len(w.inflight) >= self.max_inflight:
                continue
            if best is None or (len(w.inflight), sum(w.chars.values())) < (
                len(best.inflight),
                sum(best.chars.values()),
            ):
                best = w
        return best

    # -- one worker's life --

    async def _spawn(self, slot: int) -> _Worker:
        parent_sock, child_sock = socket.socketpair()
        proc = _CONTEXT.Process(
            target=worker_main,
            args=(child_sock, self.factory, self.factory_kwargs, self.nice, self.extract_kwargs),
            name=f"sendguard-worker-{slot}",
            daemon=True,
        )
        try:
            proc.start()
        finally:
            # the child has its own copy; ours must go or EOF would never come when it dies
            child_sock.close()
        reader, writer = await asyncio.open_unix_connection(sock=parent_sock)
        loop = asyncio.get_running_loop()
        worker = _Worker(slot, proc, reader, writer, loop.create_future())
        self._workers[slot] = worker
        worker.task = asyncio.create_task(self._serve(worker), name=f"sendguard-worker-{slot}")
        log.debug("worker %d spawned (pid %s)", slot, proc.pid)
        return worker

    async def _serve(self, w: _Worker) -> None:
        """Read the worker's frames until EOF; then replace it (unless closing)."""
        try:
            while True:
                header = await w.reader.readexactly(HEADER.size)
                frame = pickle.loads(await w.reader.readexactly(HEADER.unpack(header)[0]))
                self._on_frame(w, frame)
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        if self._closing:
            return
        self._lost(w)

    def _on_frame(self, w: _Worker, frame: tuple[Any, Any]) -> None:
        tag, body = frame
        if tag == "ready":
            w.ready.set_result(body)
            self._start_failures[w.slot] = 0
            self._ready_event.set()
            log.info("worker %d ready (pid %s)", w.slot, body)
            self._capacity()
            return
        if tag == "error":
            w.ready.set_exception(WorkerStartError(f"engine factory raised {body}"))
            return
        fut = w.inflight.pop(tag, None)
        w.chars.pop(tag, None)
        self._disarm_watchdog(w)
        if w.inflight:
            self._arm_watchdog(w)
        if fut is not None and not fut.done():
            fut.set_result(body)
        self._capacity()

    def _lost(self, w: _Worker) -> None:
        started = w.ready.done() and w.ready.exception() is None
        if not w.ready.done():
            w.ready.set_exception(WorkerStartError("worker exited while building its engine"))
            w.ready.exception()  # retrieved: start() or _replace() reports it
        reason = "timed out" if w.killed_for_timeout else f"died (exit code {w.proc.exitcode})"
        log.warning(
            "worker %d (pid %s) %s, %d batches in flight", w.slot, w.proc.pid, reason, len(w.inflight)
        )
        self._fail_inflight(w, WorkerLost(f"worker {reason}"))
        w.writer.close()
        if self._workers[w.slot] is w:
            self._workers[w.slot] = None
        # a worker that dies while building its engine (missing model?) is retried with backoff
        failures = 0 if started else self._start_failures.get(w.slot, 0) + 1
        self._start_failures[w.slot] = failures
        delay = 0.0 if failures == 0 else min(0.5 * 2 ** (failures - 1), 30.0)
        self._background(self._replace(w, delay))

    async def _replace(self, dead: _Worker, delay: float) -> None:
        await self._reap(dead, grace=1.0)
        if delay:
            await asyncio.sleep(delay)
        if self._closing:
            return
        worker = await self._spawn(dead.slot)
        self.restarts += 1
        try:
            async with asyncio.timeout(self.start_timeout):
                await asyncio.shield(worker.ready)
        except TimeoutError:
            log.error("replacement worker %d did not start in %.0f s", dead.slot, self.start_timeout)
            worker.proc.kill()  # EOF follows: _serve schedules the next attempt
        except WorkerStartError:
            pass  # its process exits: _serve schedules the next attempt

    async def _reap(self, w: _Worker, grace: float) -> None:
        """Wait for the process to exit (its sentinel fd becomes readable), killing it if it
        does not within `grace` seconds; then join it so no zombie is left."""
        loop = asyncio.get_running_loop()
        for action in (None, w.proc.terminate, w.proc.kill):
            if action is not None:
                with contextlib.suppress(Exception):
                    action()
            if w.proc.exitcode is not None:
                break
            exited: asyncio.Future[None] = loop.create_future()

            def _done(fut: asyncio.Future[None] = exited) -> None:
                if not fut.done():
                    fut.set_result(None)

            loop.add_reader(w.proc.sentinel, _done)
            try:
                await asyncio.wait_for(exited, grace)
            except TimeoutError:
                continue
            finally:
                loop.remove_reader(w.proc.sentinel)
            break
        w.proc.join(timeout=1.0)
        with contextlib.suppress(ValueError):
            w.proc.close()

    def _fail_inflight(self, w: _Worker, exc: Exception) -> None:
        self._disarm_watchdog(w)
        for fut in w.inflight.values():
            if not fut.done():
                fut.set_exception(exc)
        w.inflight.clear()
        w.chars.clear()

    # -- stuck batches --

    def _arm_watchdog(self, w: _Worker) -> None:
        # armed for the batch the worker is running now (the oldest in flight)
        if self.batch_timeout is not None:
            w.watchdog = asyncio.get_running_loop().call_later(self.batch_timeout, self._kill_stuck, w)

    def _disarm_watchdog(self, w: _Worker) -> None:
        if w.watchdog is not None:
            w.watchdog.cancel()
            w.watchdog = None

    def _kill_stuck(self, w: _Worker) -> None:
        w.watchdog = None
        if w.proc.exitcode is None:
            w.killed_for_timeout = True
            w.proc.kill()  # EOF follows; _serve replaces the worker

    def _capacity(self) -> None:
        if self.on_capacity is not None:
            try:
                self.on_capacity()
            except Exception as exc:  # the caller's bug must not kill this worker's reader
                log.error("on_capacity callback failed: %s", describe(exc))

    def _background(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
