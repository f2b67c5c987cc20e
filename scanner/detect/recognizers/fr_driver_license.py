"""FR_DRIVER_LICENSE: numéro de permis, 12 digits (before 2013) or 2 digits, 2 letters, 5 digits."""

from __future__ import annotations

from scanner.detect.recognizers.base import AFTER, BEFORE, SendguardRecognizer
from scanner.model import Group


class FrDriverLicenseRecognizer(SendguardRecognizer):
    CATEGORY = "FR_DRIVER_LICENSE"
    GROUP = Group.GOVERNMENT_ID
    PATTERNS = (
        ("permis 12 digits", BEFORE + r"\d{2} ?\d{2} ?\d{2} ?\d{6}" + AFTER),
        ("permis 2013", BEFORE + r"\d{2}[A-Z]{2}\d{5}" + AFTER),
    )
    CONTEXT = ("fr_driver_license",)
    REQUIRES_CONTEXT = True
    SENTENCE_BOUND = True
    KEEP_TAIL = 2
