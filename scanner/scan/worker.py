"""The worker process side: build the engine once, then answer batches until the socket closes.

Runs in a process spawned by `scanner.scan.pool.WorkerPool`. Wire format (both directions):
frames of ``!Q`` length + pickle; see `scanner.scan.pool` for the conversation.

An item is either a whole message as received (`RawMessage`) or segments already extracted
(a piece of a large message). The worker extracts a raw message (`scanner.extract.extract`)
itself, so that MIME parsing and HTML flattening run here, on a worker's core, never on the
proxy's event loop -- and a message whose MIME makes extraction hang is killed with its worker
by the batch watchdog instead of freezing every SMTP session. When the extracted text is longer
than `RawMessage.split_above` characters, the worker does not detect it but sends the
`Extraction` back: the batcher cuts it into pieces that are interleaved with other mail.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import os
import pickle
import signal
import socket
import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from scanner.model import Envelope, Extraction, Finding, Segment
from scanner.scan.budget import BudgetSpent, budget_finding, cpu_budget

HEADER = struct.Struct("!Q")


@dataclass(frozen=True, slots=True)
class RawMessage:
    """A whole message to extract, then to detect if its text is at most `split_above` characters."""

    data: bytes
    split_above: int
    envelope: Envelope | None = None  # scanned too: its addresses reach the recipient


Item = RawMessage | tuple[Segment, ...]
# (findings, the extraction's defect notes); a raw message's Extraction when its text is too
# long to detect as one item; or the name of the exception that extraction or detection raised
ItemResult = tuple[list[Finding], tuple[str, ...]] | Extraction | str
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


def _send_frame(sock: socket.socket, obj: object) -> None:
    payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    sock.sendall(HEADER.pack(len(payload)) + payload)


def _detect(
    engine: BatchEngine, extract: Extractor, items: list[Item], budget: float = 0.0
) -> list[ItemResult]:
    """Extract the raw messages, then one `detect_batch` for the whole batch; if it raises,
    item by item so that one message that breaks the engine fails alone instead of taking its
    batch with it. Each item has `budget` seconds of CPU (`scanner.scan.budget`); one that
    spends it is answered with an unscanned finding, so the worker is free for the next."""
    out: list[ItemResult | None] = [None] * len(items)
    segments: list[tuple[Segment, ...]] = []
    defects: list[tuple[str, ...]] = []
    unread: dict[int, tuple[Finding, ...]] = {}  # fail closed: text not read is a finding
    todo: list[int] = []
    for i, item in enumerate(items):
        if isinstance(item, RawMessage):
            try:
                # documented never to raise; a bug fails one item
                with cpu_budget(budget):
                    extraction = extract(item.data, envelope=item.envelope)
            except BudgetSpent:
                out[i] = ([budget_finding(budget)], ())
                continue
            except Exception as exc:
                out[i] = type(exc).__name__
                continue
            if sum(len(seg.text) for seg in extraction.segments) > item.split_above:
                out[i] = extraction  # to be cut into pieces by the batcher
                continue
            segments.append(extraction.segments)
            defects.append(extraction.defects)
            unread[i] = extraction.unscanned
        else:
            segments.append(item)
            defects.append(())
        todo.append(i)
    try:
        with cpu_budget(budget * len(segments)):
            found = engine.detect_batch(segments) if segments else []
        for i, findings, notes in zip(todo, found, defects, strict=True):
            out[i] = ([*findings, *unread.get(i, ())], notes)
    except (Exception, BudgetSpent):  # find the item that broke the engine or spent its budget
        for i, item, notes in zip(todo, segments, defects, strict=True):
            try:
                with cpu_budget(budget):
                    out[i] = ([*engine.detect_batch([item])[0], *unread.get(i, ())], notes)
            except BudgetSpent:
                out[i] = ([budget_finding(budget), *unread.get(i, ())], notes)
            except Exception as exc:
                out[i] = type(exc).__name__
    return [r if r is not None else "NoResult" for r in out]


def worker_main(
    sock: socket.socket,
    factory: str,
    kwargs: Mapping[str, Any],
    nice: int = 0,
    extract_kwargs: Mapping[str, Any] | None = None,
) -> None:
    """Entry point of a worker process: build the engine once, then serve batches until EOF.

    `extract_kwargs` are `scanner.extract.extract`'s limits (max_depth, max_text_bytes), for
    the raw messages among the items, and ``cpu_budget``: seconds of CPU per item.
    """
    # The parent owns shutdown: Ctrl-C in a terminal, or a SIGTERM sent to the whole process
    # group (systemd's KillMode=control-group, `timeout`, a container stop) must not kill
    # workers mid-batch while the parent drains the messages in flight. The parent stops us by
    # closing our socket (EOF), and kills us if that does not work.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
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
            _send_frame(sock, ("error", type(exc).__name__))
        return
    # the parent closing our socket (shutdown, or it died) ends the worker, quietly
    with contextlib.suppress(ConnectionError):
        _send_frame(sock, ("ready", os.getpid()))
        while True:
            header = _recv_exactly(sock, HEADER.size)
            if header is None:
                return
            payload = _recv_exactly(sock, HEADER.unpack(header)[0])
            if payload is None:
                return
            batch_id, items = pickle.loads(payload)
            _send_frame(sock, (batch_id, _detect(engine, extractor, items, budget)))
