"""The seams of sendguard: one `typing.Protocol` per seam.

Concrete classes are chosen in exactly one place, `scanner.app`; tests use the in-memory
fakes in `tests/fakes.py`.

- `Detector`   pure and synchronous: segments in, findings out (runs in worker processes)
- `Scanner`    async front of a detector as the proxy sees it (batched, bounded, may temp-fail)
- `Relay`      delivers bytes + envelope upstream (SMTP, or the local outbox)
- `Quarantine` durable store for held mail
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from scanner.model import Envelope, Extraction, Finding, Segment, Verdict


class Detector(Protocol):
    """Finds forbidden data. Pure: same segments, same findings; no I/O, no network."""

    def detect(self, segments: Sequence[Segment]) -> list[Finding]: ...

    def detect_batch(self, messages: Sequence[Sequence[Segment]]) -> list[list[Finding]]:
        """Several messages at once, so NLP can run as one `nlp.pipe` batch."""
        ...


class Scanner(Protocol):
    """What the SMTP layer awaits. Raises `ScanUnavailable` / `Overloaded`, never passes unscanned."""

    async def scan(self, extraction: Extraction) -> tuple[Finding, ...]: ...

    async def close(self) -> None: ...


class Relay(Protocol):
    """Delivers one message upstream. Returns only once the upstream accepted it.

    Raises `RelayTemporaryError` (retry later) or `RelayPermanentError` (upstream said 5xx).
    """

    async def deliver(self, envelope: Envelope, data: bytes) -> None: ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class HeldMessage:
    """A message the policy decided to hold, as handed to the quarantine."""

    id: str
    envelope: Envelope
    data: bytes
    verdict: Verdict
    received_at: datetime
    tenant: str | None = None


class Quarantine(Protocol):
    """The part of the quarantine store the proxy needs. `hold` returns once the message is durable."""

    async def hold(self, message: HeldMessage) -> None: ...

    async def close(self) -> None: ...
