"""Engines built once per session (spaCy loads in seconds, not milliseconds).

The NLP engine is built with every socket connection refused, so `test_offline` can prove that
building and running the engine never touches the network.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from scanner.detect import DetectionEngine, build_engine
from scanner.model import Finding, Segment

CONNECT_ATTEMPTS: list[Any] = []


class NoNetwork:
    """Context manager: every socket connect raises and is recorded."""

    def __enter__(self) -> None:
        self._saved = (socket.socket.connect, socket.socket.connect_ex, socket.create_connection)

        def refuse(*args: Any, **kwargs: Any) -> Any:
            CONNECT_ATTEMPTS.append(args[1:] if len(args) > 1 else args)
            raise OSError("network disabled in tests")

        socket.socket.connect = refuse  # type: ignore[method-assign]
        socket.socket.connect_ex = refuse  # type: ignore[method-assign]
        socket.create_connection = refuse

    def __exit__(self, *exc: object) -> None:
        socket.socket.connect, socket.socket.connect_ex, socket.create_connection = self._saved  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def engine() -> Iterator[DetectionEngine]:
    with NoNetwork():
        built = build_engine(nlp=True)
    yield built


@pytest.fixture(scope="session")
def fast_engine() -> DetectionEngine:
    return build_engine(nlp=False)


def scan(engine: DetectionEngine, text: str) -> list[Finding]:
    return engine.detect([Segment("body[1]", text)])


def flagged(findings: list[Finding]) -> list[Finding]:
    """What the default policy holds or rejects: MEDIUM or HIGH."""
    return [f for f in findings if f.confidence >= 2]
