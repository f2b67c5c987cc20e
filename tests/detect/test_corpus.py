"""Regression guard on the shared corpus: labelled identifiers found, ordinary mail not flagged.

Skips cleanly when the corpus is absent (path next to the repository, or SENDGUARD_CORPUS).
"""

from __future__ import annotations

import email
import json
import os
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from scanner.detect import DetectionEngine
from scanner.model import Segment
from tests.detect.conftest import flagged

_BESIDE_REPO = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"
CORPUS = Path(os.environ.get("SENDGUARD_CORPUS", _BESIDE_REPO))
IDENTIFIER_GROUPS = {"government_id", "payment_card", "bank_account"}

pytestmark = pytest.mark.skipif(not (CORPUS / "labels.jsonl").is_file(), reason="corpus not available")


def _segments(path: Path) -> list[Segment]:
    msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    out = [Segment("subject", str(msg.get("subject", "")))]
    for i, part in enumerate(msg.walk(), 1):
        if isinstance(part, EmailMessage) and part.get_content_type() == "text/plain":
            out.append(Segment(f"body[{i}]", str(part.get_content())))
    return out


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
