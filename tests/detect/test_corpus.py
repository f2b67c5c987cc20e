"""Regression guard on the shared corpus: labelled identifiers found, ordinary mail not flagged.

Skips cleanly when the corpus is absent (path next to the repository, or SENDGUARD_CORPUS).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scanner.detect import DetectionEngine
from scanner.extract import extract
from scanner.model import Segment
from tests.corpus import corpus_dir
from tests.detect.conftest import flagged

CORPUS = corpus_dir()
IDENTIFIER_GROUPS = {"government_id", "payment_card", "bank_account"}

pytestmark = [pytest.mark.corpus, pytest.mark.slow]


def _segments(path: Path) -> tuple[Segment, ...]:
    return extract(path.read_bytes()).segments


def _rows(kind: str) -> list[dict[str, object]]:
    rows = [json.loads(line) for line in (CORPUS / "labels.jsonl").read_text().splitlines()]
    return [r for r in rows if r["kind"] == kind]


def test_every_labelled_identifier_is_found(fast_engine: DetectionEngine) -> None:
    missed = []
    for row in _rows("pii"):
        expected = set(row["expect"] or ()) & IDENTIFIER_GROUPS  # type: ignore[call-overload]
        found = {f.group.value for f in flagged(fast_engine.detect(_segments(CORPUS / str(row["file"]))))}
        if expected - found or found - expected:
            missed.append((row["file"], sorted(expected), sorted(found)))
    assert missed == []


def test_ordinary_mail_is_not_flagged(fast_engine: DetectionEngine) -> None:
    hits = []
    for row in _rows("ham"):
        found = flagged(fast_engine.detect(_segments(CORPUS / str(row["file"]))))
        if found:
            hits.append((row["file"], [(f.category, f.masked) for f in found]))
    assert hits == []
