"""US_BANK_ACCOUNT: 8–17 digits, only next to a valid ABA routing number or strong context.

An account number has no checksum; the routing number beside it has one (weights 3-7-1, sum a
multiple of 10). A valid routing number within the window, or words like "account number",
"acct #", "routing" make a digit run an account number. The routing number itself is public
(it names the bank) and is not reported.
"""

from __future__ import annotations

import re

from stdnum.us import rtn

from scanner.detect.context import ContextLexicon, KeywordMatcher, Window
from scanner.detect.recognizers.base import AFTER, BEFORE, Rule, SendguardRecognizer
from scanner.detect.scoring import Check
from scanner.model import Group

_NINE_DIGITS = re.compile(BEFORE + r"\d{9}" + AFTER)
# A label right before the digits naming them as something else: a bank's confirmation or
# trace number printed under its routing number is not an account ("Confirmation #2024...").
_OTHER_LABEL = re.compile(
    r"(?<!\w)(?:confirmation|conf|trace|reference|ref|transaction|batch|order|ticket|invoice|receipt|"
    r"tracking|case|claim|check|cheque|numero de confirmation|reference de transaction)"
    r"(?:\s*(?:number|no|num|id|code|#|n°))?\.?\s*[:#=]?\s*#?\s*$",
    re.IGNORECASE,
)
_NEAR = Window(before=80, after=80)


def valid_aba(digits: str) -> bool:
    """ABA routing number: 9 digits, first two 00–12, 21–32, 61–72 or 80, checksum 3-7-1."""
    if len(digits) != 9 or not digits.isdigit() or len(set(digits)) == 1:
        return False
    prefix = int(digits[:2])
    if not (prefix <= 12 or 21 <= prefix <= 32 or 61 <= prefix <= 72 or prefix == 80):
        return False
    return bool(rtn.is_valid(digits))


class UsBankAccountRecognizer(SendguardRecognizer):
    CATEGORY = "US_BANK_ACCOUNT"
    GROUP = Group.BANK_ACCOUNT
    PATTERNS = (("account digits", BEFORE + r"\d{8,17}" + AFTER),)
    CONTEXT = ("us_bank_account",)
    KEEP_TAIL = 4
    _routing_words = KeywordMatcher(["routing", "aba"])

    def to_rule(self, lexicon: ContextLexicon) -> Rule:
        # the words that name a routing number come from models/context/aba_routing.*.txt
        self._routing_words = lexicon.matcher(["aba_routing"])
        return super().to_rule(lexicon)

    def check(self, text: str, start: int, end: int) -> tuple[Check, int]:
        value = text[start:end]
        if len(set(value)) <= 2 or _OTHER_LABEL.search(text, max(0, start - 40), start):
            return Check.INVALID, end
        if valid_aba(value) and self._routing_words.find(text, start, end, Window(before=30, after=0)):
            return Check.INVALID, end  # this is the routing number itself
        lo, hi = _NEAR.bounds(len(text), start, end)
        for m in _NINE_DIGITS.finditer(text, lo, hi):
            if m.start() != start and valid_aba(m.group()):
                # a routing number next to it: as good as a checksum (MEDIUM; HIGH with words)
                return Check.CHECKSUM, end
        # digits alone: an account number only when account words are near
        return Check.WEAK, end
