"""In-memory fakes for the seams in `scanner.ports`, used by unit and loopback tests."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence

from scanner._errors import RelayTemporaryError, ScanUnavailable, StoreError
from scanner.gateway import Gateway
from scanner.model import Confidence, Envelope, Extraction, Finding, Group, Scanned, Segment, SegmentKind
from scanner.policy import Policy
from scanner.ports import Quarantine, Relay, Scanner
from scanner.quarantine.model import HeldMessage

# marker -> (category, group, confidence): lets a test message say what the fake should find
MARKERS: dict[str, tuple[str, Group, Confidence]] = {
    "FAKE-SSN": ("US_SSN", Group.GOVERNMENT_ID, Confidence.HIGH),
    "FAKE-CARD": ("PAYMENT_CARD", Group.PAYMENT_CARD, Confidence.HIGH),
    "FAKE-MEDICAL": ("MEDICAL_RECORD", Group.MEDICAL, Confidence.MEDIUM),
    "FAKE-WEAK": ("US_SSN", Group.GOVERNMENT_ID, Confidence.LOW),
}


def simple_extract(data: bytes) -> Extraction:
    """A crude extractor for gateway tests: subject + the raw body as one segment."""
    head, _, body = data.partition(b"\r\n\r\n")
    subject = ""
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"subject:"):
            subject = line[8:].decode("utf-8", "replace").strip()
    return Extraction(
        segments=(
            Segment("subject", subject, SegmentKind.SUBJECT),
            Segment("body[1]", body.decode("utf-8", "replace")),
        )
    )


class FakeDetector:
    """Finds the MARKERS above; pure and synchronous like the real engine."""

    def detect(self, segments: Sequence[Segment]) -> list[Finding]:
        out: list[Finding] = []
        for seg in segments:
            for marker, (category, group, conf) in MARKERS.items():
                for m in re.finditer(re.escape(marker), seg.text):
                    out.append(
                        Finding(category, group, seg.location, m.start(), m.end(), 0.9, conf, "***-**-0000")
                    )
        return out

    def detect_batch(self, messages: Sequence[Sequence[Segment]]) -> list[list[Finding]]:
        return [self.detect(m) for m in messages]


class FakeScanner:
    def __init__(self, detector: FakeDetector | None = None) -> None:
        self.detector = detector or FakeDetector()
        self.fail = False
        self.scanned = 0

    async def scan(self, message: bytes, envelope: Envelope | None = None) -> Scanned:
        if self.fail:
            raise ScanUnavailable("fake scanner down")
        self.scanned += 1
        extraction = simple_extract(message)
        return Scanned(tuple(self.detector.detect(extraction.segments)), extraction.defects)

    async def close(self) -> None:
        return None


class FakeRelay:
    """Records deliveries. `fail` makes deliver raise a temporary error, `fail_with` a chosen one;
    `gate`, when set, holds deliver (after `entered` is set) until the test opens it."""

    def __init__(self, *, fail_with: Exception | None = None) -> None:
        self.delivered: list[tuple[Envelope, bytes]] = []
        self.fail = False
        self.fail_with = fail_with
        self.closed = False
        self.entered = asyncio.Event()
        self.gate: asyncio.Event | None = None

    async def deliver(self, envelope: Envelope, data: bytes) -> None:
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        # yield once so concurrent deliveries really interleave
        await asyncio.sleep(0)
        if self.fail_with is not None:
            raise self.fail_with
        if self.fail:
            raise RelayTemporaryError("fake upstream down")
        self.delivered.append((envelope, data))

    async def close(self) -> None:
        self.closed = True


class FakeQuarantine:
    def __init__(self) -> None:
        self.held: list[HeldMessage] = []
        self.fail = False

    async def hold(self, message: HeldMessage) -> None:
        if self.fail:
            raise StoreError("fake store down")
        self.held.append(message)

    async def close(self) -> None:
        return None


def fake_gateway(relay: Relay, scanner: Scanner | None, quarantine: Quarantine) -> Gateway:
    """The gateway as unit and loopback tests run it, with the default policy.

    `scanner` None is scanning off (relay only), as in production.
    """
    return Gateway(
        scanner=scanner,
        policy=Policy.default(),
        relay=relay,
        quarantine=quarantine,
        hostname="sendguard.test",
    )
