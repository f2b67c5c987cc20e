"""FR_PASSPORT: 2 digits, 2 letters, 5 digits (``12AB34567``), only next to passport words."""

from __future__ import annotations

from scanner.detect.recognizers.base import AFTER, BEFORE, SendguardRecognizer
from scanner.model import Group


class FrPassportRecognizer(SendguardRecognizer):
    CATEGORY = "FR_PASSPORT"
    GROUP = Group.GOVERNMENT_ID
    PATTERNS = (("passeport", BEFORE + r"\d{2}[A-Z]{2}\d{5}" + AFTER),)
    CONTEXT = ("fr_passport",)
    REQUIRES_CONTEXT = True
    SENTENCE_BOUND = True
    KEEP_TAIL = 2
