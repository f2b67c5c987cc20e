"""PAYMENT_CARD: 12–19 digits in any grouping, Luhn, issuer prefix and length.

Before a Luhn-valid number is called a card, the look-alikes (`lookalikes.claim`: SIM and
phone serials, product codes, ids in links, gift and loyalty cards, the prefix of a longer
number) may claim it. The published test card numbers of payment processors are reported as
`TEST_PAYMENT_CARD` at LOW confidence (tagged, not rejected: no cardholder exists; see the
README). "Card" in "SIM card", "gift card", "carte cadeau", "carte de fidélité" is not a
payment card word.
"""

from __future__ import annotations

import dataclasses
import re

from stdnum import luhn

from scanner.detect.context import ContextLexicon, KeywordMatcher, Window
from scanner.detect.recognizers.base import AFTER, BEFORE, Rule, SendguardRecognizer, compact, trim_groups
from scanner.detect.recognizers.lookalikes import STORE_CARD_WORDS, claim
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
# Test numbers published by Stripe, Adyen, Braintree, PayPal, Checkout.com and the networks'
# own integration guides: they exist so that nobody types a real card into a sandbox.
TEST_PANS = frozenset(
    {
        "4111111111111111", "4242424242424242", "4000056655665556", "4012888888881881", "4222222222222",
        "4000000000000002", "4000000000009995", "4000000000000077", "4000002500003155", "4000000000003220",
        "4917610000000000", "4988438843884305", "4166676667666746", "4646464646464644", "4000000000000010",
        "5555555555554444", "5105105105105100", "5200828282828210", "2223003122003222", "5454545454545454",
        "2222400070000005", "5101180000000007", "5555341244441115", "5500000000000004",
        "378282246310005", "371449635398431", "378734493671000", "370000000000002", "340000000000009",
        "6011111111111117", "6011000990139424", "6011000000000004", "6445644564456445",
        "30569309025904", "38520000023237", "36006666333344", "3530111333300000", "3566002020360505",
        "3566111111111113", "3056930009020004", "6200000000000005", "6250941006528599", "6759649826438453",
    }
)  # fmt: skip


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


class CardWords(KeywordMatcher):
    """Card words, except inside a phrase naming another card ("SIM card", "carte cadeau")."""

    __slots__ = ("_not",)

    def __init__(self, keywords: list[str], excluded: KeywordMatcher) -> None:
        super().__init__(keywords)
        self._not = excluded

    def find(self, text: str, start: int, end: int, window: Window) -> list[tuple[int, int]]:
        spans = super().find(text, start, end, window)
        if not spans:
            return spans
        other = self._not.find(text, start, end, window)
        return [s for s in spans if not any(o[0] <= s[0] and s[1] <= o[1] for o in other)]


class PaymentCardRecognizer(SendguardRecognizer):
    CATEGORY = "PAYMENT_CARD"
    GROUP = Group.PAYMENT_CARD
    PATTERNS = (("card digits, any grouping", BEFORE + r"\d(?:[ \-.]?\d){11,18}" + AFTER),)
    CONTEXT = ("payment_card",)
    LOOKALIKE_CATEGORY = "TEST_PAYMENT_CARD"

    def to_rule(self, lexicon: ContextLexicon) -> Rule:
        rule = super().to_rule(lexicon)
        return dataclasses.replace(rule, positive=CardWords(lexicon.words(self.CONTEXT), STORE_CARD_WORDS))

    def validate_result(self, pattern_text: str) -> bool | None:
        digits = compact(pattern_text)
        return _plausible(digits) and issuer_known(digits)

    def check(self, text: str, start: int, end: int) -> tuple[Check, int]:
        found = trim_groups(text, start, end, _plausible, 12)
        if found is None or _siret_layout(text[start:found]) or not _card_grouping(text[start:found]):
            return Check.INVALID, end
        digits = compact(text[start:found])
        if digits in TEST_PANS:
            return Check.LOOKALIKE, found
        if claim(text, start, found) is not None:
            return Check.INVALID, end
        # Luhn-valid outside the issuer table: a card only if the words around say so
        return (Check.CHECKSUM if issuer_known(digits) else Check.WEAK), found
