"""US_SSN: area/group/serial rules (no 000, 666 or 9xx area, no 00 group, no 0000 serial)."""

from __future__ import annotations

from stdnum.us import ssn

from scanner.detect.recognizers.base import AFTER, BEFORE, SendguardRecognizer, compact
from scanner.detect.scoring import Check
from scanner.model import Group

# advertising and famously misused numbers (the Woolworth wallet card, "123-45-6789" samples)
KNOWN_INVALID = frozenset({"078051120", "219099999", "123456789", "111111111", "457555462"})


def valid_ssn(digits: str) -> bool:
    if len(digits) != 9 or digits in KNOWN_INVALID or len(set(digits)) == 1:
        return False
    return bool(ssn.is_valid(digits))


class UsSocialSecurityRecognizer(SendguardRecognizer):
    CATEGORY = "US_SSN"
    GROUP = Group.GOVERNMENT_ID
    PATTERNS = (
        ("ssn formatted", BEFORE + r"\d{3}[ \-.]\d{2}[ \-.]\d{4}" + AFTER),
        ("ssn digits", BEFORE + r"\d{9}" + AFTER),
    )
    CONTEXT = ("us_ssn",)
    KEEP_TAIL = 4

    def validate_result(self, pattern_text: str) -> bool | None:
        return valid_ssn(compact(pattern_text))

    def check(self, text: str, start: int, end: int) -> tuple[Check, int]:
        value = text[start:end]
        if not valid_ssn(compact(value)):
            return Check.INVALID, end
        # nine bare digits are everywhere (ids, amounts): only with SSN context
        return (Check.CHECKSUM if not value.isdigit() else Check.WEAK), end
