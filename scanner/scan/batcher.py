"""The async front of detection: a micro-batcher over a pool of worker processes.

Every SMTP session awaits `BatchingScanner.scan(message)`. The message goes to a worker as it
was received, one *piece*: the worker extracts its text and, for ordinary mail, detects in the
same go, so the event loop does no MIME parsing at all. When the text is longer than
`piece_chars`, the worker sends the extraction back instead and its segments become pieces
bounded in characters (see `split_message`), so that one huge message is interleaved with other
sessions' mail instead of stalling a worker. Pieces wait in one bounded queue; batches of
pieces from many sessions go to the least-loaded worker (`Pool`, `scanner.scan.pool`): at once
when a worker is idle (shared among the idle ones), else when `max_batch` pieces are waiting or
the oldest has waited `max_wait_ms` -- so under load spaCy sees one `nlp.pipe` batch instead of
one call per message, and at low load nothing waits for batch mates while a core sits idle.
The event loop only moves pieces and futures around.

Guarantees the SMTP layer relies on (`scanner.ports.Scanner`):

- a message is answered with findings only once every one of its pieces was scanned;
- `Overloaded` (451 4.3.2) at once when `queue_limit` messages are already in the scanner,
  instead of unbounded latency;
- `ScanUnavailable` (451 4.3.0) when detection raised, took longer than `timeout`, or the
  worker died twice under the message. A message whose worker died is retried once, alone in
  its batch (so that a message that kills workers cannot take innocent batch mates with it);
- one huge message never stalls the others: batches are bounded in characters as well as in
  count, and filled round-robin across messages, one piece per message per round.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType
from typing import Protocol, Self

from scanner._errors import Overloaded, ScanUnavailable, describe
from scanner.model import Envelope, Extraction, Finding, Scanned, Unscanned
from scanner.scan.pieces import MAX_BATCH_CHARS, PIECE_CHARS, Piece, dedupe, placed, split_message
from scanner.scan.protocol import Detected, Failed, NeedsSplit, PieceBody, PieceResult, RawMessage

log = logging.getLogger("sendguard.scan.batcher")


class WorkerLost(Exception):
    """The worker running a batch died (or was killed after exceeding the batch timeout)."""


class Pool(Protocol):
    """What the batcher needs from the workers (`scanner.scan.pool.WorkerPool`; an in-process
    fake in `tests/scan/fake_pool.py`)."""

    async def start(self, on_capacity: Callable[[], None]) -> None:
        """Until the workers are ready; `on_capacity()` whenever a worker becomes ready later."""
        ...

    async def close(self) -> None: ...

    def has_capacity(self) -> bool: ...

    def idle_workers(self) -> int:
        """Ready workers with nothing in flight."""
        ...

    def try_submit(
        self, pieces: Sequence[PieceBody], chars: int
    ) -> asyncio.Future[tuple[PieceResult, ...]] | None:
        """A future of one result per piece, in order (`WorkerLost` if its worker died); None
        when no worker has room."""
        ...


# What waits in a message's queue: the message as received, or pieces of its extracted text.
Pending = RawMessage | Piece


@dataclasses.dataclass(eq=False)
class _Job:
    """One message in the scanner."""

    future: asyncio.Future[tuple[Finding, ...]]
    pending: deque[Pending]
    enqueued_at: float
    split: bool
    outstanding: int
    findings: list[Finding] = dataclasses.field(default_factory=list)
    defects: list[str] = dataclasses.field(default_factory=list)
    retried: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class _Entry:
    job: _Job
    piece: Pending

    @property
    def chars(self) -> int:
        return len(self.piece.data) if isinstance(self.piece, RawMessage) else self.piece.chars

    @property
    def body(self) -> PieceBody:
        """What goes to the worker."""
        return self.piece if isinstance(self.piece, RawMessage) else self.piece.segments


@dataclasses.dataclass
class BatcherStats:
    """Counters for metrics and benchmarks (never content)."""

    batches: int = 0
    pieces: int = 0
    retried: int = 0
    failed: int = 0
    overloaded: int = 0


class BatchingScanner:
    """The `scanner.ports.Scanner` sendguard runs: a micro-batcher over a `Pool` of workers.
    Use `await start()` (or `async with`)."""

    def __init__(
        self,
        pool: Pool,
        max_batch: int = 32,
        max_wait_ms: float = 5.0,
        queue_limit: int = 512,
        timeout: float = 30.0,
        *,
        piece_chars: int = PIECE_CHARS,
        max_batch_chars: int = MAX_BATCH_CHARS,
    ) -> None:
        self.pool = pool
        self.max_batch = max(1, max_batch)
        self.max_wait = max_wait_ms / 1000.0
        self.queue_limit = queue_limit
        self.timeout = timeout
        self.piece_chars = piece_chars
        self.max_batch_chars = max_batch_chars
        self.stats = BatcherStats()
        self._queue: deque[_Job] = deque()
        self._retry: deque[_Job] = deque()
        self._waiting = 0  # pieces queued, not sent
        self._in_scanner = 0
        self._timer: asyncio.Handle | None = None
        self._timer_at = 0.0
        self._closed = False
        self._pump_soon = False
        self._started = False

    async def start(self) -> None:
        await self.pool.start(self._pump)
        self._started = True

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Temp-fail everything still queued, then stop the workers (and reap them)."""
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
        for job in (*self._queue, *self._retry):
            self._fail(job, "scanner closing")
        self._queue.clear()
        self._retry.clear()
        await self.pool.close()

    @property
    def queued(self) -> int:
        """Messages in the scanner (queued or being scanned): what `queue_limit` bounds."""
        return self._in_scanner

    async def scan(self, message: bytes, envelope: Envelope | None = None) -> Scanned:
        """Extract (in a worker) and scan one message as received, with its envelope."""
        return await self._scan([RawMessage(message, self.piece_chars, envelope)])

    async def scan_extraction(self, extraction: Extraction) -> Scanned:
        """Scan text already extracted (for benchmarks of detection alone)."""
        if not extraction.segments:
            return Scanned(())
        return await self._scan(list(split_message(extraction.segments, self.piece_chars)))

    async def _scan(self, pieces: list[Pending]) -> Scanned:
        if self._closed or not self._started:
            raise ScanUnavailable("scanner closed" if self._closed else "scanner not started")
        if self._in_scanner >= self.queue_limit:
            self.stats.overloaded += 1
            raise Overloaded(f"{self._in_scanner} messages waiting")
        loop = asyncio.get_running_loop()
        job = _Job(loop.create_future(), deque(pieces), loop.time(), len(pieces) > 1, len(pieces))
        self._in_scanner += 1
        self._queue.append(job)
        self._waiting += len(pieces)
        try:
            # pump once per loop iteration: scans arriving in the same iteration share a batch
            if not self._pump_soon:
                self._pump_soon = True
                loop.call_soon(self._pump)
            async with asyncio.timeout(self.timeout):
                return Scanned(await job.future, tuple(job.defects))
        except TimeoutError:
            self.stats.failed += 1
            log.warning("scan timed out after %.1f s", self.timeout)
            raise ScanUnavailable("scan timed out") from None
        finally:
            self._in_scanner -= 1
            # timed out or the session went away: its queued pieces are not worth scanning
            self._waiting -= len(job.pending)
            job.pending.clear()

    # -- batching --

    def _pump(self) -> None:
        """Send batches while a worker has room. Called after enqueues, on capacity, on the timer.

        A worker with nothing to do gets what is waiting at once, shared out among the idle
        workers: waiting for batch mates would leave a core idle, and sendguard's engine runs
        as fast per message in batches of 1 as of 32 (benchmarks/engine.py). When every worker
        is busy, pieces gather into a batch of up to `max_batch`, sent when full or when the
        oldest has waited `max_wait_ms`, to wait in the worker's pipe (at most `max_inflight`
        batches) -- under load, batches fill up by themselves, which is what `nlp.pipe` wants.
        """
        self._pump_soon = False
        if self._closed:
            return
        while self.pool.has_capacity():
            if self._retry:
                batch = self._take_retry()
                if not batch:
                    continue  # that message was answered meanwhile (timed out)
            elif self._waiting <= 0:
                return
            else:
                oldest = self._oldest()
                if oldest is None:
                    return
                idle = self.pool.idle_workers()
                if idle:
                    batch = self._take_batch(min(self.max_batch, -(-self._waiting // idle)))
                else:
                    flush_at = oldest + self.max_wait
                    if self._waiting < self.max_batch and asyncio.get_running_loop().time() < flush_at:
                        self._arm_timer(flush_at)
                        return
                    batch = self._take_batch(self.max_batch)
                if not batch:
                    return
            self._dispatch(batch)

    def _oldest(self) -> float | None:
        while self._queue and not self._queue[0].pending:
            self._queue.popleft()
        return self._queue[0].enqueued_at if self._queue else None

    def _take_batch(self, limit: int) -> list[_Entry]:
        batch = self._take(self._queue, limit)
        self._queue = deque(j for j in self._queue if j.pending)
        return batch

    def _take_retry(self) -> list[_Entry]:
        """A retried message goes alone: if it is what kills workers, it dies alone."""
        job = self._retry[0]
        batch = self._take([job], self.max_batch)
        if not job.pending:
            self._retry.popleft()
        return batch

    def _take(self, jobs: Iterable[_Job], limit: int) -> list[_Entry]:
        """Round-robin over `jobs`, one piece each per round, bounded in count and characters."""
        batch: list[_Entry] = []
        chars = 0
        progressed = True
        while progressed and len(batch) < limit:
            progressed = False
            for job in jobs:
                if len(batch) >= limit:
                    break
                if not job.pending:
                    continue
                entry = _Entry(job, job.pending[0])
                if batch and chars + entry.chars > self.max_batch_chars:
                    continue
                job.pending.popleft()
                batch.append(entry)
                chars += entry.chars
                progressed = True
        self._waiting -= len(batch)
        return batch

    def _dispatch(self, batch: list[_Entry]) -> None:
        chars = sum(e.chars for e in batch)
        fut = self.pool.try_submit([e.body for e in batch], chars)
        if fut is None:  # cannot happen after has_capacity(); keep the pieces anyway
            self._requeue(batch, retry=False)
            return
        self.stats.batches += 1
        self.stats.pieces += len(batch)
        fut.add_done_callback(lambda f: self._on_batch_done(batch, f))

    def _arm_timer(self, when: float) -> None:
        # the deadline is kept here: uvloop's call_at returns a plain Handle (no .when())
        # when the time is already past
        if self._timer is not None and self._timer_at <= when:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = when
        self._timer = asyncio.get_running_loop().call_at(when, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._pump()

    # -- results --

    def _on_batch_done(self, batch: list[_Entry], fut: asyncio.Future[tuple[PieceResult, ...]]) -> None:
        try:
            self._route(batch, fut)
        except Exception as exc:
            # a bug here must not leave sessions waiting for their timeout, nor pass mail unscanned
            log.error("batch result handling failed: %s", describe(exc))
            for entry in batch:
                self._fail(entry.job, "internal error")
        self._pump()

    def _route(self, batch: list[_Entry], fut: asyncio.Future[tuple[PieceResult, ...]]) -> None:
        if fut.cancelled() or isinstance(fut.exception(), WorkerLost):
            self._requeue(batch, retry=True)
        elif fut.exception() is not None:
            for entry in batch:
                self._fail(entry.job, f"worker error {type(fut.exception()).__name__}")
        else:
            results = fut.result()
            if len(results) != len(batch):
                for entry in batch:
                    self._fail(entry.job, "engine returned a wrong number of results")
            else:
                for entry, result in zip(batch, results, strict=True):
                    self._on_result(entry, result)

    def _on_result(self, entry: _Entry, result: PieceResult) -> None:
        job = entry.job
        if job.future.done():
            return
        match result:
            case Failed(error):
                self._fail(job, f"detection raised {error}")
            case NeedsSplit(extraction):
                self._expand(job, extraction)
            case Detected(findings, defects):
                self._collect(entry, findings, defects)

    def _collect(self, entry: _Entry, findings: tuple[Finding, ...], defects: tuple[str, ...]) -> None:
        job = entry.job
        job.defects.extend(defects)
        if job.pending and any(Unscanned.of(f) is Unscanned.BUDGET for f in findings):
            # a piece spent its CPU budget: the message is held unread anyway, spare the workers
            job.outstanding -= len(job.pending)
            self._waiting -= len(job.pending)
            job.pending.clear()
        job.findings.extend(placed(entry.piece, findings) if isinstance(entry.piece, Piece) else findings)
        job.outstanding -= 1
        if job.outstanding == 0:
            job.future.set_result(dedupe(job.findings) if job.split else tuple(job.findings))

    def _expand(self, job: _Job, extraction: Extraction) -> None:
        """A message too long for one piece, extracted by a worker: its pieces join the queue."""
        job.defects.extend(extraction.defects)
        job.findings.extend(extraction.unscanned)  # fail closed: what was not read is a finding
        pieces = split_message(extraction.segments, self.piece_chars)
        job.split = True
        job.outstanding += len(pieces) - 1  # they replace the piece that came back
        job.pending.extend(pieces)
        self._waiting += len(pieces)
        queue = self._retry if job.retried else self._queue
        if job not in queue:
            queue.append(job)

    def _requeue(self, batch: list[_Entry], *, retry: bool) -> None:
        for job in dict.fromkeys(e.job for e in batch):
            if job.future.done():
                continue
            if self._closed or (retry and job.retried):
                self._fail(job, "worker died twice while scanning")
                continue
            back = [e.piece for e in batch if e.job is job]
            job.pending.extendleft(reversed(back))
            self._waiting += len(back)
            if retry:
                job.retried = True
                self.stats.retried += 1
                # all its remaining pieces now go through the solo retry path
                if job in self._queue:
                    self._queue.remove(job)
                self._retry.append(job)
            elif job not in self._queue:
                self._queue.appendleft(job)

    def _fail(self, job: _Job, reason: str) -> None:
        if job.future.done():
            return
        self.stats.failed += 1
        log.warning("scan failed: %s", reason)
        job.future.set_exception(ScanUnavailable(reason))
        self._waiting -= len(job.pending)
        job.pending.clear()
