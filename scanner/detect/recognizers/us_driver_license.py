"""US_DRIVER_LICENSE: state formats vary too much for a checksum; only next to licence words.

Presidio's version fires on words like "Q3", "H1", "INTRODUCTORY"; this one needs at least five
digits and a whole-word licence keyword in the same sentence.
"""

from __future__ import annotations

from scanner.detect.recognizers.base import AFTER, BEFORE, SendguardRecognizer, date_or_phone
from scanner.model import Group


class UsDriverLicenseRecognizer(SendguardRecognizer):
    CATEGORY = "US_DRIVER_LICENSE"
    GROUP = Group.GOVERNMENT_ID
    PATTERNS = (("licence number", BEFORE + r"(?:[A-Z]{1,2}-?)?\d(?:[ \-]?\d){4,13}" + AFTER),)
    FLAGS = 0  # the optional letter prefix is upper case: "is 6940579" must not start at "is"
    CONTEXT = ("us_driver_license",)
    REQUIRES_CONTEXT = True
    SENTENCE_BOUND = True
    KEEP_TAIL = 2

    def validate_result(self, pattern_text: str) -> bool | None:
        # no checksum exists; only rule out the dates and phone numbers that follow such words
        return False if date_or_phone(pattern_text) else None
