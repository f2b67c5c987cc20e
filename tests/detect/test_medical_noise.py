"""The medical detector on binary noise and long mail: matches must be words in text, and a
record's evidence and anchor must lie close together (`medical_evidence.WINDOW`).

Regression for the WAV attachment whose bytes, read as one 188,360-character segment, gave a
HIGH MEDICAL_RECORD ("qd", "a1c", "0ug" in the noise; "3ýO" folded to the age "3yo").
"""

from __future__ import annotations

import random

import pytest

from scanner.assets import models_dir
from scanner.detect.medical.detector import MedicalDetector
from scanner.detect.medical.evidence import WINDOW
from scanner.detect.medical.patterns import FREQUENCY, in_prose
from scanner.detect.normalize import fold
from scanner.model import Confidence, Finding, Segment
from tests.corpus import corpus_dir, require_corpus


@pytest.fixture(scope="module")
def detector() -> MedicalDetector:
    return MedicalDetector(models_dir())


def flagged(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.confidence >= Confidence.MEDIUM]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("takes metformin 500 mg qd.", True),
        ("HbA1c: 8.1 %", True),
        ("« insuline » le soir", True),
        ("• lisinopril 10 mg", True),
        ("takes\x01 metformin\x02 daily", True),  # a few invisible controls do not hide a word
        ("x\x00qd\x0fz\x00\x1e", False),  # controls all around: binary
        ("\u00e0\u00b6qd\u00d7", False),  # stray Latin-1 signs right beside it
        ("abc\x03def \x01 ghi qd klm\x05", False),  # three controls in the neighbourhood
        ("\u00a4\u00a9\u00ac ab qd cd \u00bc\u00be", False),  # several stray signs around
    ],
)
def test_in_prose(text: str, expected: bool) -> None:
    start = (
        text.index("qd")
        if "qd" in text
        else next(text.index(w) for w in ("metformin", "HbA1c", "insuline", "lisinopril") if w in text)
    )
    assert in_prose(text, start, start + 2) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("doxycycline 100 mg bid", "bid"),
        ("albuterol 2 puffs q4h", "q4h"),
        ("ibuprofen 400 mg p.r.n.", "p.r.n"),
        ("Our bid for the contract is ready.", None),  # a word, not a frequency
        ("qd", None),
        ("\x00QD\x0f", None),
    ],
)
def test_frequency_needs_a_number(text: str, expected: str | None) -> None:
    m = FREQUENCY.search(fold(text))
    assert (m.group("freq") if m else None) == expected


def test_wav_attachment_is_no_record(detector: MedicalDetector) -> None:
    path = corpus_dir() / "mime" / "flanker" / "attachments" / "mailgun-rocks.wav"
    require_corpus(path)
    # the extractor (before it learnt to call NUL-laden bodies binary) gave the bytes as Latin-1
    text = path.read_bytes().decode("latin-1")
    assert flagged(detector.detect(Segment("body[1]", text), None)) == []
    assert not detector.needs_nlp(text)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("encoding", ["latin-1", "cp1252", "utf-8"])
def test_random_bytes_are_no_record(detector: MedicalDetector, seed: int, encoding: str) -> None:
    rng = random.Random(seed)
    size = (20_000, 100_000, 200_000)[seed % 3]
    text = rng.randbytes(size).decode(encoding, errors="replace")
    assert flagged(detector.detect(Segment("body[1]", text), None)) == []


FILLER = (
    "The town council met on Tuesday to discuss the new bicycle lanes on Main Street. "
    "Volunteers repainted the benches in the park and the library extended its evening schedule. "
    "The football club won its third match in a row, and the bakery on Elm Road reopened. "
)


def newsletter(gap: int) -> str:
    """A community letter: a named reader at the top, a health-fair notice `gap` characters on."""
    body = (FILLER * (gap // len(FILLER) + 1))[:gap]
    return (
        f"Dear Mr. Thompson,\n\nHere is the news from Oakdale this month.\n{body}\n"
        "At the county health fair on Saturday, nurses will check blood pressure and blood glucose, "
        "and the hospital pharmacy will talk about insulin, metformin and aspirin; the surgeons "
        "will explain knee arthroscopy.\n\nBest wishes from the Oakdale association"
    )


@pytest.mark.parametrize("gap", [2 * WINDOW, 5_000, 50_000])
def test_far_anchor_is_no_record(detector: MedicalDetector, gap: int) -> None:
    text = newsletter(gap)
    assert flagged(detector.detect(Segment("body[1]", text), None)) == []


def test_near_anchor_still_counts(detector: MedicalDetector) -> None:
    # the same notice about one named person, in one paragraph, is a record
    text = newsletter(50_000) + (
        "\n\nMr. Thompson, date of birth 02/03/1951, was seen today: blood pressure 150/95, "
        "metformin 500 mg twice daily, knee arthroscopy planned."
    )
    assert flagged(detector.detect(Segment("body[1]", text), None))
