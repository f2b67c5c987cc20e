"""PAYMENT_CARD: 12–19 digits in any grouping, Luhn, issuer prefix and length."""

from __future__ import annotations

import re

from stdnum import luhn

from scanner.detect.recognizers.base import AFTER, BEFORE, SendguardRecognizer, compact, trim_groups
from scanner.detect.scoring import Check
from scanner.model import Group

# (first digits low, high, lengths): ranges are inclusive and compared on the same prefix length.
# Sources: ISO/IEC 7812 registrations as published by the networks (Visa, Mastercard incl. the
# 2-series, Amex, Discover/Diners, JCB incl. the legacy 15-digit 1800/2131, UnionPay, Maestro
# IINs, Mir, RuPay, Verve, Troy, Dankort, InterPayment/InstaPayment).
IIN_TABLE: tuple[tuple[str, str, frozenset[int]], ...] = (
    ("4", "4", frozenset({13, 16, 19})),
    ("51", "55", frozenset({16})),
    ("2221", "2720", frozenset({16})),
    ("34", "34", frozenset({15})),
    ("37", "37", frozenset({15})),
    ("6011", "6011", frozenset(range(16, 20))),
    ("644", "649", frozenset(range(16, 20))),
    ("65", "65", frozenset(range(16, 20))),
    ("622126", "622925", frozenset(range(16, 20))),
    ("300", "305", frozenset(range(14, 20))),
    ("3095", "3095", frozenset(range(14, 20))),
    ("36", "36", frozenset(range(14, 20))),
    ("38", "39", frozenset(range(14, 20))),
    ("3528", "3589", frozenset(range(16, 20))),
    ("1800", "1800", frozenset({15})),
    ("2131", "2131", frozenset({15})),
    ("62", "62", frozenset(range(16, 20))),
    ("81", "81", frozenset(range(16, 20))),
    ("5018", "5018", frozenset(range(12, 20))),
    ("5020", "5020", frozenset(range(12, 20))),
    ("5038", "5038", frozenset(range(12, 20))),
    ("5893", "5893", frozenset(range(12, 20))),
    ("6304", "6304", frozenset(range(12, 20))),
    ("6759", "6759", frozenset(range(12, 20))),
    ("6761", "6763", frozenset(range(12, 20))),
    ("2200", "2204", frozenset(range(16, 20))),
    ("60", "60", frozenset({16})),
    ("508", "508", frozenset({16})),
    ("506099", "506198", frozenset({16, 18, 19})),
    ("650002", "650027", frozenset({16, 18, 19})),
    ("9792", "9792", frozenset({16})),
    ("5019", "5019", frozenset({16})),
    ("636", "639", frozenset(range(16, 20))),
)


_GROUPS = re.compile(r"[ \-.]")


def issuer_known(digits: str) -> bool:
    """True when a network issues cards of this length under this prefix."""
    n = len(digits)
    return any(n in lengths and low <= digits[: len(low)] <= high for low, high, lengths in IIN_TABLE)


def _siret_layout(value: str) -> bool:
    """SIRET is written 3-3-3-5 (``732 829 320 00074``) and is Luhn-valid: not a card."""
    groups = value.replace("-", " ").replace(".", " ").split()
    return [len(g) for g in groups] == [3, 3, 3, 5]


def _card_grouping(value: str) -> bool:
    """Cards are written in groups of 4 (or 4-6-5, 4-6-4): a 1–2 digit first group is a decimal
    number or a phone prefix ("0.363636363636", "+1 555..."), not a card."""
    groups = _GROUPS.split(value)
    return len(groups) == 1 or len(groups[0]) >= 3


def _plausible(digits: str) -> bool:
    return 12 <= len(digits) <= 19 and len(set(digits)) > 1 and luhn.is_valid(digits)


class PaymentCardRecognizer(SendguardRecognizer):
    CATEGORY = "PAYMENT_CARD"
    GROUP = Group.PAYMENT_CARD
    PATTERNS = (("card digits, any grouping", BEFORE + r"\d(?:[ \-.]?\d){11,18}" + AFTER),)
    CONTEXT = ("payment_card",)

    def validate_result(self, pattern_text: str) -> bool | None:
        digits = compact(pattern_text)
        return _plausible(digits) and issuer_known(digits)

    def check(self, text: str, start: int, end: int) -> tuple[Check, int]:
        found = trim_groups(text, start, end, _plausible, 12)
        if found is None or _siret_layout(text[start:found]) or not _card_grouping(text[start:found]):
            return Check.INVALID, end
        # Luhn-valid outside the issuer table: a card only if the words around say so
        return (Check.CHECKSUM if issuer_known(compact(text[start:found])) else Check.WEAK), found
