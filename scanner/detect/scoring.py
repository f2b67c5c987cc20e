"""Confidence from evidence: pattern, checksum, context. Pure.

The ladder is the one the policy is written against (see `scanner.model.Confidence`):

    LOW     pattern only (or checksum undermined by look-alike context)
    MEDIUM  pattern + checksum, or pattern + context where the identifier has no checksum
    HIGH    pattern + checksum + context

A LOOKALIKE (a published test card number, a company's own account on its invoice) is LOW
whatever the context: visible as a tag, never a rejection.

Negative context (order, invoice, phone, référence...) lowers a candidate one step; "suppress"
context (tracking number, SIRET/SIREN, VAT...) drops it. A candidate that needs context to mean
anything (driver's licence, passport, US account number, a Luhn-valid number outside the issuer
table) is dropped when no keyword is near.
"""

from __future__ import annotations

import enum

from scanner.model import Confidence


class Check(enum.Enum):
    """What the validator said about a candidate."""

    INVALID = "invalid"  # wrong checksum or impossible structure: never a finding
    PATTERN = "pattern"  # no checksum exists for this identifier
    CHECKSUM = "checksum"  # checksum (and structure rules) verified
    WEAK = "weak"  # checksum valid but the number is plausible only with context
    # valid, and known not to be anyone's: a published test card, the sender's own account
    # on its invoice. Reported LOW under the rule's `lookalike_category` (tagged by default).
    LOOKALIKE = "lookalike"


class NegativeContext(enum.IntEnum):
    NONE = 0
    LOWER = 1
    SUPPRESS = 2


SCORES = {Confidence.LOW: 0.4, Confidence.MEDIUM: 0.75, Confidence.HIGH: 0.95}
# how far evidence moves a score inside its confidence's band (never into the next band)
BAND = 0.05
# one step down inside a band when look-alike context was seen next to positive context
_NEGATIVE_PENALTY = BAND


def score(confidence: Confidence, adjust: float = 0.0) -> float:
    """The one score ladder of every finding: its confidence's rung, moved by at most `BAND`
    (less for look-alike context, more for abundant evidence)."""
    return SCORES[confidence] + max(-BAND, min(BAND, adjust))


def grade(
    check: Check, positive: bool, negative: NegativeContext, *, requires_context: bool = False
) -> tuple[Confidence, float] | None:
    """Confidence and score for one candidate, or None when it is not a finding at all."""
    if check is Check.INVALID or negative is NegativeContext.SUPPRESS:
        return None
    if check is Check.LOOKALIKE:
        return Confidence.LOW, SCORES[Confidence.LOW]
    if check is Check.CHECKSUM and not requires_context:
        level = 3 if positive else 2
    elif positive:  # PATTERN, WEAK, or a checksum that only counts with context
        level = 2
    elif check is Check.PATTERN and not requires_context:
        level = 1
    else:
        return None
    score_penalty = 0.0
    if negative is NegativeContext.LOWER:
        level -= 1
        score_penalty = _NEGATIVE_PENALTY if positive else 0.0
        if level < 1:
            return None
    confidence = Confidence(level)
    return confidence, score(confidence, -score_penalty)
