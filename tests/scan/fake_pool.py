"""An in-process `scanner.scan.batcher.Pool`: the test decides when each batch finishes.

No processes, no engine: the batcher's scheduling (who goes in which batch, when, on which
worker, what is retried) is tested step by step. A raw message is "extracted" one segment
per line (``body[1]``, ``body[2]``...); findings are one per occurrence of ``SSN``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from scanner.model import Confidence, Extraction, Finding, Group, Segment
from scanner.scan.batcher import WorkerLost
from scanner.scan.protocol import Detected, NeedsSplit, PieceBody, PieceResult, RawMessage


@dataclass(eq=False)
class Sent:
    worker: int
    pieces: tuple[PieceBody, ...]
    chars: int
    future: asyncio.Future[tuple[PieceResult, ...]]

    def texts(self) -> list[str]:
        return [
            p.data.decode() if isinstance(p, RawMessage) else "".join(s.text for s in p) for p in self.pieces
        ]


def answer(piece: PieceBody) -> PieceResult:
    if isinstance(piece, RawMessage):
        lines = piece.data.decode().split("\n")
        segments = tuple(Segment(f"body[{i}]", line) for i, line in enumerate(lines, 1))
        if sum(map(len, lines)) > piece.piece_chars:
            return NeedsSplit(Extraction(segments))
    else:
        segments = piece
    findings = tuple(
        Finding("US_SSN", Group.GOVERNMENT_ID, s.location, i, i + 3, 0.9, Confidence.HIGH, "***")
        for s in segments
        for i in range(len(s.text))
        if s.text.startswith("SSN", i)
    )
    return Detected(findings, ())


class FakePool:
    def __init__(self, workers: int = 1, max_inflight: int = 2) -> None:
        self.workers = workers
        self.max_inflight = max_inflight
        self.sent: list[Sent] = []
        self.ready = [True] * workers
        self.on_capacity: Callable[[], None] = lambda: None
        self.closed = False

    async def start(self, on_capacity: Callable[[], None]) -> None:
        self.on_capacity = on_capacity

    async def close(self) -> None:
        self.closed = True
        for s in self.inflight():
            s.future.set_exception(WorkerLost("closing"))

    def inflight(self, worker: int | None = None) -> list[Sent]:
        return [s for s in self.sent if not s.future.done() and worker in (None, s.worker)]

    def _room(self) -> list[int]:
        return [w for w in range(self.workers) if self.ready[w] and len(self.inflight(w)) < self.max_inflight]

    def has_capacity(self) -> bool:
        return bool(self._room())

    def idle_workers(self) -> int:
        return sum(1 for w in range(self.workers) if self.ready[w] and not self.inflight(w))

    def try_submit(
        self, pieces: Sequence[PieceBody], chars: int
    ) -> asyncio.Future[tuple[PieceResult, ...]] | None:
        room = self._room()
        if not room:
            return None
        worker = min(room, key=lambda w: len(self.inflight(w)))
        fut: asyncio.Future[tuple[PieceResult, ...]] = asyncio.get_running_loop().create_future()
        self.sent.append(Sent(worker, tuple(pieces), chars, fut))
        return fut

    # -- what the test does --

    def finish(self, sent: Sent) -> None:
        sent.future.set_result(tuple(answer(p) for p in sent.pieces))

    def lose(self, worker: int) -> None:
        """The worker dies: its batches fail, it is not ready until `replace`."""
        self.ready[worker] = False
        for s in self.inflight(worker):
            s.future.set_exception(WorkerLost("died"))

    def replace(self, worker: int) -> None:
        self.ready[worker] = True
        self.on_capacity()
