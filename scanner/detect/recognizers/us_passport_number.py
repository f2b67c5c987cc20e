"""US_PASSPORT: 9 digits or a letter and 8 digits (Next Generation passport), only with context."""

from __future__ import annotations

from scanner.detect.recognizers.base import AFTER, BEFORE, SendguardRecognizer
from scanner.model import Group


class UsPassportNumberRecognizer(SendguardRecognizer):
    CATEGORY = "US_PASSPORT"
    GROUP = Group.GOVERNMENT_ID
    PATTERNS = (("passport number", BEFORE + r"[A-Z]?\d{8,9}" + AFTER),)
    CONTEXT = ("us_passport",)
    REQUIRES_CONTEXT = True
    SENTENCE_BOUND = True
    KEEP_TAIL = 2
