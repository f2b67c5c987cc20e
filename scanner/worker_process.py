"""The worker process side: build the engine once, then answer batches until the socket closes.

Runs in a process spawned by `scanner.workers.WorkerPool`. Wire format (both directions):
frames of ``!Q`` length + pickle; see `scanner.workers` for the conversation.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pickle
import signal
import socket
import struct
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from scanner.model import Finding, Segment

HEADER = struct.Struct("!Q")

Item = tuple[Segment, ...]
ItemResult = list[Finding] | str


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


def _detect(engine: BatchEngine, items: list[Item]) -> list[ItemResult]:
    """One `detect_batch` for the whole batch; if it raises, item by item so that one
    message that breaks the engine fails alone instead of taking its batch with it."""
    try:
        return list(engine.detect_batch(items))
    except Exception:
        pass
    out: list[ItemResult] = []
    for item in items:
        try:
            out.append(list(engine.detect_batch([item])[0]))
        except Exception as exc:
            out.append(type(exc).__name__)
    return out


def worker_main(sock: socket.socket, factory: str, kwargs: Mapping[str, Any], nice: int = 0) -> None:
    """Entry point of a worker process: build the engine once, then serve batches until EOF."""
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
        engine = load_factory(factory)(**kwargs)
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
            _send_frame(sock, (batch_id, _detect(engine, items)))
