"""Detection worker processes: spawn them, feed them batches, replace the ones that die.

The event loop never runs detection. Each worker is a `multiprocessing` process started with
the *spawn* context (fork would copy the event loop, uvloop's state and any threads of the
proxy) that builds its detection engine ONCE from a factory given as an import path
(``"scanner.detect:build_engine"``) and then serves batches until its socket closes.

Wire: one ``socket.socketpair()`` per worker carrying the frames of `scanner.scan.protocol`.
The parent end is an asyncio stream, so sending a batch never blocks the loop (the transport
buffers it; what it holds is bounded by `max_inflight` batches per worker) and a worker that
dies shows up as EOF at once -- no reader thread per worker, no polling. The child end
(`scanner.scan.worker`) is a plain blocking socket: the worker does one thing at a time.

Batches on one worker are answered in order; at most `max_inflight` are outstanding per worker
so that queueing happens in the batcher's bounded queue, not inside pipes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import socket
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from typing import Any

from scanner._errors import describe
from scanner.scan.batcher import WorkerLost
from scanner.scan.protocol import (
    HEADER,
    Batch,
    Frame,
    PieceBody,
    PieceResult,
    ProtocolError,
    Ready,
    Results,
    StartFailed,
    decode,
    encode,
    frame_length,
)
from scanner.scan.worker import worker_main

log = logging.getLogger("sendguard.scan.pool")

_CONTEXT = multiprocessing.get_context("spawn")
# niceness added to worker processes (see worker_main)
WORKER_NICE = 5
# seconds a worker busy at shutdown gets after SIGTERM before SIGKILL (its result is thrown away)
STOP_GRACE = 1.0


def _nothing() -> None:
    """The default `on_capacity`: a pool used without a batcher (tests, benchmarks)."""


def worker_count(configured: int | None) -> int:
    """`scan.workers`: 0 or None means one worker per core."""
    return configured or os.cpu_count() or 1


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
    # our end of the socketpair, owned by `writer`'s transport; kept to shut it synchronously
    sock: socket.socket
    # batch_id -> future, in the order the worker will answer them
    inflight: dict[int, asyncio.Future[tuple[PieceResult, ...]]] = field(default_factory=dict)
    chars: dict[int, int] = field(default_factory=dict)
    watchdog: asyncio.TimerHandle | None = None
    task: asyncio.Task[None] | None = None
    killed_for_timeout: bool = False


class WorkerPool:
    """N worker processes, each with its engine loaded once; least-loaded dispatch.

    `try_submit` never blocks and never queues beyond `max_inflight` batches per worker: when it
    returns None the caller keeps the batch in its own (bounded) queue and is told through the
    `on_capacity` given to `start` when a worker becomes ready (a finished batch resolves its
    future, which the caller watches anyway). A worker that dies is replaced (new process, engine
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
        stop_grace: float = STOP_GRACE,
    ) -> None:
        self.factory = factory
        self.factory_kwargs = dict(factory_kwargs or {})
        self.extract_kwargs = dict(extract_kwargs or {})
        self.size = worker_count(workers)
        self.max_inflight = max_inflight
        self.batch_timeout = batch_timeout
        self.start_timeout = start_timeout
        self.nice = nice
        self.stop_grace = stop_grace
        self._on_capacity: Callable[[], None] = _nothing
        self.restarts = 0
        self._workers: list[_Worker | None] = [None] * self.size
        self._next_batch = 0
        self._closing = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._start_failures: dict[int, int] = {}
        self._ready_event = asyncio.Event()

    # -- lifecycle --

    async def start(self, on_capacity: Callable[[], None] = _nothing) -> None:
        """Spawn every worker and wait until all have built their engine.

        `on_capacity` is called (on the loop) whenever a worker becomes ready to take a batch.
        """
        self._on_capacity = on_capacity
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
        """Stop every worker: close its socket (an idle worker exits at EOF); a busy one, whose
        result would be thrown away, gets SIGTERM and, `stop_grace` seconds later, SIGKILL."""
        self._closing = True
        self._ready_event.set()
        for task in list(self._tasks):
            task.cancel()
        workers = [w for w in self._workers if w is not None]
        self._workers = [None] * self.size
        busy = [bool(w.inflight) for w in workers]
        for w in workers:
            self._fail_inflight(w, WorkerLost("scanner closing"))
            # the socket must be shut before its SIGTERM (which it ignores while we hold our
            # end): shutdown() now, because abort() lets go of the fd only a loop turn or more
            # later (uvloop closes it in a libuv callback); abort, not close: a batch still
            # buffered for a busy worker is thrown away
            with contextlib.suppress(OSError):
                w.sock.shutdown(socket.SHUT_RDWR)
            w.writer.transport.abort()
        await asyncio.gather(
            *(self._reap(w, self.stop_grace, terminate=b) for w, b in zip(workers, busy, strict=True))
        )
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

    def ready_workers(self) -> int:
        """Workers that built their engine (readiness: all of them)."""
        return sum(
            1 for w in self._workers if w is not None and w.ready.done() and w.ready.exception() is None
        )

    def idle_workers(self) -> int:
        """Ready workers with nothing in flight."""
        return sum(
            1
            for w in self._workers
            if w is not None and w.ready.done() and w.ready.exception() is None and not w.inflight
        )

    def try_submit(
        self, pieces: Sequence[PieceBody], chars: int
    ) -> asyncio.Future[tuple[PieceResult, ...]] | None:
        """Send a batch to the least-loaded ready worker; None if every worker is full."""
        worker = self._pick()
        if worker is None:
            return None
        self._next_batch += 1
        batch_id = self._next_batch
        fut: asyncio.Future[tuple[PieceResult, ...]] = asyncio.get_running_loop().create_future()
        for part in encode(Batch(batch_id, tuple(pieces))):  # write(), not writelines(): uvloop
            worker.writer.write(part)  # sends at once what the socket takes, writelines queues it
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
        worker = _Worker(slot, proc, reader, writer, loop.create_future(), parent_sock)
        self._workers[slot] = worker
        worker.task = asyncio.create_task(self._serve(worker), name=f"sendguard-worker-{slot}")
        log.debug("worker %d spawned (pid %s)", slot, proc.pid)
        return worker

    async def _serve(self, w: _Worker) -> None:
        """Read the worker's frames until EOF; then replace it (unless closing)."""
        try:
            while True:
                header = await w.reader.readexactly(HEADER.size)
                self._on_frame(w, decode(await w.reader.readexactly(frame_length(header))))
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        except ProtocolError as exc:
            log.error("worker %d: %s", w.slot, exc)
            w.proc.kill()
        if self._closing:
            return
        self._lost(w)

    def _on_frame(self, w: _Worker, frame: Frame) -> None:
        match frame:
            case Ready(pid):
                w.ready.set_result(pid)
                self._start_failures[w.slot] = 0
                self._ready_event.set()
                log.info("worker %d ready (pid %s)", w.slot, pid)
                self._capacity()
            case StartFailed(error):
                w.ready.set_exception(WorkerStartError(f"engine factory raised {error}"))
            case Results(batch_id, results):
                fut = w.inflight.pop(batch_id, None)
                w.chars.pop(batch_id, None)
                self._disarm_watchdog(w)
                if w.inflight:
                    self._arm_watchdog(w)
                if fut is not None and not fut.done():
                    fut.set_result(results)
            case Batch():
                raise ProtocolError("a worker sent a batch")

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
        await self._reap(dead, grace=1.0, terminate=False)
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

    async def _reap(self, w: _Worker, grace: float, *, terminate: bool) -> None:
        """Wait for the process to exit (its sentinel fd becomes readable): at once if it was
        told to stop by EOF, after SIGTERM if `terminate`, then SIGKILL after `grace` seconds
        each time it does not; then join it so no zombie is left."""
        loop = asyncio.get_running_loop()
        steps = (w.proc.terminate, w.proc.kill) if terminate else (None, w.proc.terminate, w.proc.kill)
        for action in steps:
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
        try:
            self._on_capacity()
        except Exception as exc:  # the caller's bug must not kill this worker's reader
            log.error("on_capacity callback failed: %s", describe(exc))

    def _background(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
