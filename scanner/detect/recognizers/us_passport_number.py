"""US_PASSPORT: 9 digits or a letter and 8 digits (Next Generation passport), only with context."""

from __future__ import annotations

from scanner.detect.recognizers.base import AFTER, BEFORE, SendguardRecognizer, date_or_phone
from scanner.model import Group


class UsPassportNumberRecognizer(SendguardRecognizer):
    CATEGORY = "US_PASSPORT"
    GROUP = Group.GOVERNMENT_ID
    PATTERNS = (("passport number", BEFORE + r"[A-Z]?\d{8,9}" + AFTER),)
    CONTEXT = ("us_passport",)
    REQUIRES_CONTEXT = True
    SENTENCE_BOUND = True
    KEEP_TAIL = 2

    def validate_result(self, pattern_text: str) -> bool | None:
        # no checksum exists; only rule out the dates and phone numbers that follow such words
        return False if date_or_phone(pattern_text) else None
