"""Running the identifier patterns only near digits changes no candidate.

The engine's windowed scan (`scanner.detect.digit_windows`) is compared with whole-text
`finditer` (`unwindowed` below) on every corpus segment, the accuracy
benchmark's generated messages and seeded random text made of what identifiers are made of.
"""

from __future__ import annotations

import json
import random
import re

import pytest

from scanner.detect import DetectionEngine
from scanner.detect.digit_windows import Bound, WindowedPattern
from scanner.detect.recognizers.base import AFTER, BEFORE
from scanner.detect.recognizers.fr_id_card import FrIdCardRecognizer
from scanner.extract import extract
from scanner.model import Segment
from tests.corpus import corpus_dir

CORPUS = corpus_dir()
# identifier material plus the characters the boundaries look at, letters of both cases,
# a non-ASCII letter (\w but not [A-Z]), the case-insensitive look-alikes of [A-Z] (dotless i,
# Kelvin sign, long s) and a non-ASCII digit (normalised away before the patterns run)
_ALPHABET = "0123456789" * 6 + "      ---...//++" + "ABFRKSabfrks" + "éıKſ٣" + ",:#\n"


def unwindowed(engine: DetectionEngine, text: str) -> list[object]:
    """Every rule's candidates from whole-text `finditer`: the reference the windows must equal."""
    out: list[object] = []
    if re.search(r"\d", text):
        for rule in engine.rules:
            whole = [WindowedPattern(p, None, 0) for p in rule.patterns]  # no bound: no windows
            engine._apply(rule, text, whole, {}, out)  # type: ignore[arg-type]
    return out


def _same(engine: DetectionEngine, text: str) -> None:
    segment = Segment("body[1]", text)
    scan = engine._scan(segment)
    assert scan.candidates == unwindowed(engine, scan.norm.text), text


def test_every_default_pattern_is_bounded(fast_engine: DetectionEngine) -> None:
    assert [p.pattern for r in fast_engine.rules for p in r.patterns if Bound.of(p) is None] == []


def test_cni_2021_lookahead_bounded_without_changing_matches() -> None:
    """The 2021 CNI lookaheads look {0,8} characters ahead (was *): same matches."""
    body = r"[0-9A-Z]{9}" + AFTER
    before = re.compile(BEFORE + r"(?=[A-Z]*\d)(?=\d*[A-Z])" + body)
    after = re.compile(FrIdCardRecognizer.PATTERNS[1][1])
    assert after.pattern == BEFORE + r"(?=[A-Z]{0,8}\d)(?=\d{0,8}[A-Z])" + body
    rng = random.Random(5)
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ" * 3 + "abc  -./+é"
    for _ in range(20000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 40)))
        assert [m.span() for m in after.finditer(text)] == [m.span() for m in before.finditer(text)], text
    assert (
        after.search("CNI: AB12CD34E.") and not after.search("ABCDEFGHI1") and not after.search("1234567890A")
    )


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (r"(?<!\w)\d{3}(?!\w)", Bound(0, 4, 3, 3)),
        (r"[A-Z]{2}\d{2}(?=.{5})", Bound(2, 9, 2, 2)),
        (r"(?:ab|c)?9\d", Bound(2, 4, 2, 2)),
        (r"a*\d", None),  # unbounded prefix
        (r"\d{3}$", None),  # anchors behave differently at endpos
        (r"(?=[A-Z]{0,2}\d)\w{3}", Bound(2, 3, 1, 0)),  # a lookahead's digit counts
        (r"(?=[A-Z]*\d)\w{3}", None),  # ... when it is at a bounded distance
        (r"(?!\d)\w{3}", None),  # a negative lookahead promises nothing
        (r"\d?", None),  # may match empty
        (r"[0-9a]\d", Bound(1, 2, 1, 1)),
        (r"\d{3}[ -]\d{2}(?=\d)\d{2,5}", Bound(0, 11, 7, 4)),  # a lookahead does not end a run
        (r"\d(?:[ -]?\d){4}", Bound(0, 9, 5, 1)),  # optional separators: one digit certain
        (r"[A-Z](?:\d{4}|\d\d-\d)\d", Bound(1, 6, 4, 2)),  # the weaker branch counts
    ],
)
def test_bounds(source: str, expected: Bound | None) -> None:
    assert Bound.of(re.compile(source)) == expected


@pytest.mark.parametrize(
    "source",
    [
        r"(?<![\w+])(?:[A-Z]{1,2}-?)?\d(?:[ \-]?\d){4,13}(?!\w)(?![.\-/]\w)",
        r"(?<![\w+])\d{3}[ \-.]\d{2}[ \-.]\d{4}(?!\w)",  # a run of 4 is needed
        r"(?<![\w+])[A-Z]?\d{8,9}(?!\w)",  # a run of 8
    ],
)
@pytest.mark.parametrize("shared", [False, True])
def test_windows_match_finditer_at_window_edges(source: str, shared: bool) -> None:
    """`shared`: windows made for other patterns too (a wider spread and horizon), as in the engine."""
    pattern = re.compile(source)
    bound = Bound.of(pattern)
    assert bound is not None
    windowed = (
        WindowedPattern(pattern, bound, bound.reach + 20, bound.lead + 6)
        if shared
        else WindowedPattern(pattern, bound, bound.reach)
    )
    rng = random.Random(7)
    for _ in range(3000):
        text = "".join(rng.choice(_ALPHABET) for _ in range(rng.randrange(1, 120)))
        # padding keeps the text sparse enough for windows to be used; unpadded, short texts
        # (scanned whole if they have the digits) and dense ones are checked too
        for padded in ("x" * 400 + text + " y" * 200, text):
            got = [m.span() for m in windowed.matches(padded, {})]
            assert got == [m.span() for m in pattern.finditer(padded)], padded


@pytest.mark.slow
def test_random_text(fast_engine: DetectionEngine) -> None:
    rng = random.Random(11)
    for _ in range(1500):
        parts = ["".join(rng.choice(_ALPHABET) for _ in range(rng.randrange(1, 60))) for _ in range(3)]
        _same(fast_engine, (" word " * rng.randrange(0, 80)).join(parts))


@pytest.mark.slow
def test_generated_messages(fast_engine: DetectionEngine) -> None:
    from tests.generators.messages import generated_messages

    for _, _, _, segments in generated_messages(seed=3):
        for segment in segments:
            _same(fast_engine, segment.text)


@pytest.mark.corpus
@pytest.mark.slow
def test_corpus(fast_engine: DetectionEngine) -> None:
    for line in (CORPUS / "labels.jsonl").read_text().splitlines():
        row = json.loads(line)
        for segment in extract((CORPUS / row["file"]).read_bytes()).segments:
            _same(fast_engine, segment.text)
