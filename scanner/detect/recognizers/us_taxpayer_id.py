"""US_ITIN: 9xx-xx-xxxx with the IRS group ranges (50–65, 70–88, 90–92, 94–99)."""

from __future__ import annotations

from scanner.detect.recognizers.base import AFTER, BEFORE, SendguardRecognizer, compact
from scanner.detect.scoring import Check
from scanner.model import Group

_GROUPS = frozenset([*range(50, 66), *range(70, 89), 90, 91, 92, *range(94, 100)])


def valid_itin(digits: str) -> bool:
    # 987-65-4320 … 987-65-4329 are reserved for advertisements
    if digits.startswith("98765432"):
        return False
    return len(digits) == 9 and digits[0] == "9" and int(digits[3:5]) in _GROUPS and digits[5:] != "0000"


class UsTaxpayerIdRecognizer(SendguardRecognizer):
    CATEGORY = "US_ITIN"
    GROUP = Group.GOVERNMENT_ID
    PATTERNS = (
        ("itin formatted", BEFORE + r"9\d{2}[ \-.]\d{2}[ \-.]\d{4}" + AFTER),
        ("itin digits", BEFORE + r"9\d{8}" + AFTER),
    )
    CONTEXT = ("us_itin", "us_ssn")

    def validate_result(self, pattern_text: str) -> bool | None:
        return valid_itin(compact(pattern_text))

    def check(self, text: str, start: int, end: int) -> tuple[Check, int]:
        value = text[start:end]
        if not valid_itin(compact(value)):
            return Check.INVALID, end
        return (Check.CHECKSUM if not value.isdigit() else Check.WEAK), end
