"""The confidence ladder, masking and the language guess, as tables."""

from __future__ import annotations

import pytest

from scanner.detect.language import guess_language
from scanner.detect.masking import mask
from scanner.detect.scoring import SCORES, Check, NegativeContext, grade
from scanner.model import Confidence

N, L, S = NegativeContext.NONE, NegativeContext.LOWER, NegativeContext.SUPPRESS


@pytest.mark.parametrize(
    ("check", "positive", "negative", "requires_context", "expected"),
    [
        (Check.CHECKSUM, True, N, False, Confidence.HIGH),
        (Check.CHECKSUM, False, N, False, Confidence.MEDIUM),
        (Check.CHECKSUM, True, L, False, Confidence.MEDIUM),
        (Check.CHECKSUM, False, L, False, Confidence.LOW),
        (Check.CHECKSUM, True, S, False, None),
        (Check.PATTERN, True, N, False, Confidence.MEDIUM),
        (Check.PATTERN, False, N, False, Confidence.LOW),
        (Check.PATTERN, False, L, False, None),
        (Check.PATTERN, True, N, True, Confidence.MEDIUM),
        (Check.PATTERN, False, N, True, None),
        (Check.PATTERN, True, L, True, Confidence.LOW),
        (Check.WEAK, True, N, False, Confidence.MEDIUM),
        (Check.WEAK, False, N, False, None),
        (Check.CHECKSUM, False, N, True, None),
        (Check.CHECKSUM, True, N, True, Confidence.MEDIUM),
        (Check.INVALID, True, N, False, None),
    ],
)
def test_grade(
    check: Check,
    positive: bool,
    negative: NegativeContext,
    requires_context: bool,
    expected: Confidence | None,
) -> None:
    result = grade(check, positive, negative, requires_context=requires_context)
    if expected is None:
        assert result is None
    else:
        assert result is not None and result[0] is expected
        assert SCORES[expected] - 0.05 <= result[1] <= SCORES[expected]


@pytest.mark.parametrize("check", list(Check))
@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("requires_context", [False, True])
def test_negative_context_never_makes_a_finding(check: Check, positive: bool, requires_context: bool) -> None:
    """The engine reads negative context only for candidates kept without it: that must not
    drop a candidate negative context would have kept."""
    if grade(check, positive, NegativeContext.NONE, requires_context=requires_context) is None:
        for negative in NegativeContext:
            assert grade(check, positive, negative, requires_context=requires_context) is None


def test_scores_are_ordered_in_unit_interval() -> None:
    assert 0 < SCORES[Confidence.LOW] < SCORES[Confidence.MEDIUM] < SCORES[Confidence.HIGH] <= 1


@pytest.mark.parametrize(
    ("value", "kwargs", "expected"),
    [
        ("123-45-6789", {}, "***-**-6789"),
        ("4556 7375 8686 1111", {}, "**** **** **** 1111"),
        ("FR7630006000011234567890189", {"keep_head": 4}, "FR76*******************0189"),
        ("1 85 05 78 006 084 91", {"keep_head": 1, "keep_tail": 2}, "1 ** ** ** *** *** 91"),
        ("6940579", {"keep_tail": 2}, "*****79"),
        ("1234", {}, "**34"),  # short values never show more than half
    ],
)
def test_mask(value: str, kwargs: dict[str, int], expected: str) -> None:
    assert mask(value, **kwargs) == expected


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Le patient est venu pour une douleur dans la poitrine et il a été examiné.", "fr"),
        ("The patient came in with chest pain and was seen by the doctor.", "en"),
        ("4556 7375 8686 1111", "en"),
        ("Bonjour, voici mon numéro de carte pour la commande.", "fr"),
    ],
)
def test_guess_language(text: str, lang: str) -> None:
    assert guess_language(text) == lang
