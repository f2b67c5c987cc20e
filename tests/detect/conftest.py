"""Engines built once per session (spaCy loads in seconds, not milliseconds).

The NLP engine is built with every socket connection refused, so `test_offline` can prove that
building and running the engine never touches the network. The medical tests reuse its spaCy
pipelines (`nlp`) rather than loading the models again.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from scanner.assets import models_dir
from scanner.detect import DetectionEngine, build_engine
from scanner.detect.medical.detector import MedicalDetector
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


# --- the medical detector on its own -------------------------------------------------------------


@pytest.fixture(scope="session")
def detector() -> MedicalDetector:
    return MedicalDetector(models_dir())


@pytest.fixture(scope="session")
def nlp(engine: DetectionEngine) -> Mapping[str, Any]:
    """The engine's spaCy pipelines by language ("en", "fr"): the Docs the engine would make."""
    return engine.nlp_models


def run(det: MedicalDetector, text: str, doc: Any = None) -> list[Finding]:
    return det.detect(Segment("body[1]", text), doc)


def strongest(findings: list[Finding], category: str | None = None) -> Finding | None:
    chosen = [f for f in findings if category is None or f.category == category]
    return max(chosen, key=lambda f: (f.confidence, f.score), default=None)


def level(findings: list[Finding], category: str | None = None) -> int:
    """The highest confidence among `findings` (of `category`, if given) as an int; 0 for none."""
    best = strongest(findings, category)
    return 0 if best is None else int(best.confidence)
