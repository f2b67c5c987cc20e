"""The worker process side: build the engine once, then answer batches until the socket closes.

Runs in a process spawned by `scanner.scan.pool.WorkerPool`; what it reads and writes is
`scanner.scan.protocol`.

A piece is either a whole message as received (`RawMessage`) or segments already extracted
(a piece of a large message). The worker extracts a raw message (`scanner.extract.extract`)
itself, so that MIME parsing and HTML flattening run here, on a worker's core, never on the
proxy's event loop -- and a message whose MIME makes extraction hang is killed with its worker
by the batch watchdog instead of freezing every SMTP session. When the extracted text is longer
than `RawMessage.piece_chars` characters, the worker does not detect it but answers `NeedsSplit`:
the batcher cuts it into pieces that are interleaved with other mail.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import os
import select
import signal
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from types import FrameType
from typing import Any, Protocol

from scanner.model import Extraction, Finding, Segment
from scanner.scan import protocol
from scanner.scan.budget import PIECE_SHARE, BudgetSpent, budget_finding, cpu_budget
from scanner.scan.protocol import Detected, Failed, NeedsSplit, PieceBody, PieceResult, RawMessage

Extractor = Callable[..., Extraction]


class BatchEngine(Protocol):
    """What a worker needs from the engine its factory builds (pure, synchronous)."""

    def detect_batch(self, messages: Sequence[Sequence[Segment]]) -> list[list[Finding]]: ...


def load_factory(path: str) -> Callable[..., BatchEngine]:
    """``"package.module:callable"`` -> the callable."""
    module_name, sep, attr = path.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"factory must look like 'package.module:callable', got {path!r}")
    factory = getattr(importlib.import_module(module_name), attr)
    if not callable(factory):
        raise TypeError(f"{path} is not callable")
    return factory  # type: ignore[no-any-return]


def _recv_exactly(sock: socket.socket, n: int) -> bytes | None:
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = sock.recv_into(view[got:])
        if k == 0:
            return None
        got += k
    return bytes(buf)


def _send(sock: socket.socket, frame: protocol.Frame) -> None:
    for part in protocol.encode(frame):
        sock.sendall(part)


def answer(
    engine: BatchEngine, extract: Extractor, pieces: Sequence[PieceBody], budget: float = 0.0
) -> tuple[PieceResult, ...]:
    """Extract the raw messages, then one `detect_batch` for the whole batch; if it raises,
    piece by piece so that one message that breaks the engine fails alone instead of taking
    its batch with it. A message has `budget` seconds of CPU, a piece of a split one a share of
    it (`scanner.scan.budget`); one that spends it is answered with an unscanned finding, so the
    worker is free for the next."""
    out: dict[int, PieceResult] = {}
    segments: dict[int, tuple[Segment, ...]] = {}
    defects: dict[int, tuple[str, ...]] = {}
    unread: dict[int, tuple[Finding, ...]] = {}  # fail closed: text not read is a finding
    left: dict[int, float] = {}  # CPU seconds each piece has left for detection
    for i, piece in enumerate(pieces):
        left[i] = budget * PIECE_SHARE
        if isinstance(piece, RawMessage):
            started = time.process_time()
            try:
                with cpu_budget(budget):  # documented never to raise; a bug fails one piece
                    extraction = extract(piece.data, envelope=piece.envelope)
            except BudgetSpent:
                out[i] = Detected((budget_finding(budget),), ())
                continue
            except Exception as exc:
                out[i] = Failed(type(exc).__name__)
                continue
            if sum(len(seg.text) for seg in extraction.segments) > piece.piece_chars:
                out[i] = NeedsSplit(extraction)
                continue
            segments[i], defects[i], unread[i] = extraction.segments, extraction.defects, extraction.unscanned
            left[i] = max(budget - (time.process_time() - started), 0.01) if budget > 0 else 0.0
        else:
            segments[i], defects[i] = piece, ()
    # Pieces of split messages are detected one by one under a budget: a batch that spends the
    # sum of its budgets would be detected again piece by piece, paying twice for a flood.
    together = [i for i in segments if budget <= 0 or isinstance(pieces[i], RawMessage)]
    try:
        with cpu_budget(sum(left[i] for i in together)):
            found = engine.detect_batch([segments[i] for i in together]) if together else []
        for i, findings in zip(together, found, strict=True):
            out[i] = Detected((*findings, *unread.get(i, ())), defects[i])
    except (Exception, BudgetSpent):  # find the piece that broke the engine or spent its budget
        pass
    for i in segments:
        if i not in out:
            out[i] = _detect_one(engine, segments[i], defects[i], unread.get(i, ()), left[i], budget)
    return tuple(out[i] for i in range(len(pieces)))


def _detect_one(
    engine: BatchEngine,
    segments: tuple[Segment, ...],
    defects: tuple[str, ...],
    unread: tuple[Finding, ...],
    left: float,
    budget: float,
) -> PieceResult:
    try:
        with cpu_budget(left):
            return Detected((*engine.detect_batch([segments])[0], *unread), defects)
    except BudgetSpent:
        return Detected((budget_finding(budget), *unread), defects)
    except Exception as exc:
        return Failed(type(exc).__name__)


def _parent_hung_up(sock: socket.socket) -> bool:
    """True when the proxy closed its end of our socket (even with a batch still unread)."""
    poller = select.poll()
    poller.register(sock, select.POLLRDHUP)
    return any(events & (select.POLLRDHUP | select.POLLHUP) for _, events in poller.poll(0))


def _on_sigterm(sock: socket.socket, signum: int, frame: FrameType | None) -> None:
    # SIGTERM from the proxy at shutdown: it closed our socket first, so our results are
    # thrown away -- stop now. A SIGTERM sent to the whole process group (systemd's
    # KillMode=control-group, `timeout`, a container stop) while the proxy still drains the
    # messages in flight finds the socket open: ignored, the proxy stops us by EOF later.
    if _parent_hung_up(sock):
        raise SystemExit(0)


def worker_main(
    sock: socket.socket,
    factory: str,
    kwargs: Mapping[str, Any],
    nice: int = 0,
    extract_kwargs: Mapping[str, Any] | None = None,
) -> None:
    """Entry point of a worker process: build the engine once, then serve batches until EOF.

    `extract_kwargs` are `scanner.extract.extract`'s limits (max_depth, max_text_bytes), for
    the raw messages among the pieces, and ``cpu_budget``: seconds of CPU per message.
    """
    # The parent owns shutdown: Ctrl-C in a terminal must not kill workers mid-batch while the
    # parent drains the messages in flight; SIGTERM only once the parent has let go of us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, functools.partial(_on_sigterm, sock))
    if nice:
        # workers are throughput, the event loop is latency: when they compete for a core
        # the loop should win (it only moves bytes, so it takes little from them)
        os.nice(nice)
    sock.setblocking(True)
    try:
        from scanner.extract import extract

        engine = load_factory(factory)(**kwargs)
        limits = dict(extract_kwargs or {})
        budget = float(limits.pop("cpu_budget", 0.0))  # per message, see `scanner.scan.budget`
        extractor: Extractor = functools.partial(extract, **limits)
    except Exception as exc:
        with contextlib.suppress(OSError):  # the parent may be gone already
            _send(sock, protocol.StartFailed(type(exc).__name__))
        return
    # the parent closing our socket (shutdown, or it died) ends the worker, quietly
    with contextlib.suppress(ConnectionError):
        _send(sock, protocol.Ready(os.getpid()))
        while True:
            header = _recv_exactly(sock, protocol.HEADER.size)
            if header is None:
                return
            body = _recv_exactly(sock, protocol.frame_length(header))
            if body is None:
                return
            batch = protocol.decode(body)
            if not isinstance(batch, protocol.Batch):
                return  # not a conversation we know: the parent sees EOF and replaces us
            _send(sock, protocol.Results(batch.batch_id, answer(engine, extractor, batch.pieces, budget)))
