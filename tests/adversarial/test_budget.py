"""A per-message CPU budget in the workers: a message that spends it is held unread (never
passed), its remaining pieces are dropped, and the worker answers the next message."""

from __future__ import annotations

from collections.abc import Sequence

from scanner.app import build_scanner
from scanner.extract import extract
from scanner.model import Finding, Segment, Unscanned
from scanner.scan.protocol import Detected, RawMessage
from scanner.scan.worker import answer
from scanner.settings import ScanSettings


class SpinningEngine:
    """Burns CPU in Python on any segment that says SPIN, else finds nothing."""

    def detect_batch(self, messages: Sequence[Sequence[Segment]]) -> list[list[Finding]]:
        for segments in messages:
            if any("SPIN" in s.text for s in segments):
                while True:
                    pass
        return [[] for _ in messages]


def test_a_piece_that_spends_its_budget_is_unscanned_and_its_batch_mates_are_answered() -> None:
    pieces = (
        RawMessage(b"Subject: a\r\n\r\nSPIN forever\r\n", 1 << 16),
        RawMessage(b"Subject: b\r\n\r\nhello\r\n", 1 << 16),
        (Segment("body[1]", "SPIN too"),),
    )
    results = answer(SpinningEngine(), extract, pieces, budget=0.4)
    assert all(isinstance(r, Detected) for r in results)
    kinds = [[Unscanned.of(f) for f in r.findings] for r in results if isinstance(r, Detected)]
    assert kinds == [[Unscanned.BUDGET], [], [Unscanned.BUDGET]]
    finding = results[0].findings[0]  # type: ignore[union-attr]
    assert finding.masked == "not read: over its 0.4 s CPU budget"


async def test_a_dob_flood_is_held_unread_and_clean_mail_is_scanned_after_it() -> None:
    scanner = build_scanner(ScanSettings(workers=1, nlp=False, cpu_budget=1.0, timeout=120))
    async with scanner:
        flood = await scanner.scan(b"Subject: x\r\n\r\n" + b"DOB " * 1_000_000)
        clean = await scanner.scan(b"Subject: y\r\n\r\nSSN 536-22-8843\r\n")
    assert Unscanned.BUDGET in {Unscanned.of(f) for f in flood.findings}
    assert [f.category for f in clean.findings] == ["US_SSN"]
    assert scanner.stats.pieces < 12  # the flood's remaining pieces were dropped, not scanned
