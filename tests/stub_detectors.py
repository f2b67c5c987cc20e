"""Stub detection engines for the batcher and worker-pool tests, built in worker processes.

`build` makes a trivial regex engine (US SSN shape, no checksum) whose behaviour is steered by
marker strings in the text, so one factory covers every failure the pool must survive:

    CRASH-WORKER   the process dies (os._exit) every time it sees it
    CRASH-ONCE     the process dies the first time any worker sees it (a file remembers)
    RAISE          detect_batch raises ValueError
    SLEEP          detect_batch sleeps `sleep` seconds first

`ignore_sigterm=True` makes the worker deaf to SIGTERM, as one stuck in C code would be.

With `report=True` every message also gets three bookkeeping findings: BATCH (start = number of
messages in the batch it came in), PID (start = the worker's pid) and NLP (start = 1 if
built with nlp=True).
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scanner.model import Confidence, Finding, Group, Segment

SSN = re.compile(r"\b\d{3}-\d{2}-(\d{4})\b")


class StubEngine:
    def __init__(
        self, *, report: bool = False, sleep: float = 0.0, crash_once_file: str | None = None
    ) -> None:
        self.report = report
        self.sleep = sleep
        self.crash_once_file = crash_once_file
        self.nlp = True

    def detect(self, segments: Sequence[Segment]) -> list[Finding]:
        return self.detect_batch([segments])[0]

    def detect_batch(self, messages: Sequence[Sequence[Segment]]) -> list[list[Finding]]:
        texts = [s.text for m in messages for s in m]
        if any("CRASH-WORKER" in t for t in texts):
            os._exit(1)
        if self.crash_once_file and any("CRASH-ONCE" in t for t in texts):
            marker = Path(self.crash_once_file)
            if not marker.exists():
                marker.touch()
                os._exit(1)
        if any("SLEEP" in t for t in texts):
            time.sleep(self.sleep)
        if any("RAISE" in t for t in texts):
            raise ValueError("stub engine asked to raise")
        out: list[list[Finding]] = []
        for message in messages:
            found = [
                Finding(
                    "US_SSN",
                    Group.GOVERNMENT_ID,
                    s.location,
                    m.start(),
                    m.end(),
                    0.9,
                    Confidence.MEDIUM,
                    f"***-**-{m.group(1)}",
                )
                for s in message
                for m in SSN.finditer(s.text)
            ]
            if self.report:
                found.append(_note("BATCH", len(messages)))
                found.append(_note("PID", os.getpid()))
                found.append(_note("NLP", int(self.nlp)))
            out.append(found)
        return out


def _note(category: str, value: int) -> Finding:
    return Finding(category, Group.GOVERNMENT_ID, "__stub__", value, value, 0.0, Confidence.LOW, "")


def build(
    *, nlp: bool = True, extra_recognizers: Sequence[str] = (), models_dir: str | None = None, **kwargs: Any
) -> StubEngine:
    """Same signature as `scanner.detect.build_engine` plus the stub's knobs."""
    if kwargs.pop("ignore_sigterm", False):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    engine = StubEngine(**kwargs)
    engine.nlp = nlp
    return engine


def build_broken(**kwargs: object) -> StubEngine:
    raise RuntimeError("this engine cannot be built")
