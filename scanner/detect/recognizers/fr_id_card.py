"""FR_ID_CARD: carte nationale d'identité, 12 characters (before 2021) or 9 alphanumerics."""

from __future__ import annotations

import re

from scanner.detect.recognizers.base import AFTER, BEFORE, SendguardRecognizer
from scanner.model import Group


class FrIdCardRecognizer(SendguardRecognizer):
    CATEGORY = "FR_ID_CARD"
    GROUP = Group.GOVERNMENT_ID
    # old: YYMM + department (3) + 5 digits; 2021 card: 9 upper-case letters and digits, mixed.
    # The digit and the letter are looked for within the 9 characters ({0,8}, not *: the same
    # matches, as a 10th letter or digit fails AFTER), which lets the engine scan near digits only.
    PATTERNS = (
        ("cni 12", BEFORE + r"\d{4}[0-9A-Z]{3}\d{5}" + AFTER),
        ("cni 2021", BEFORE + r"(?=[A-Z]{0,8}\d)(?=\d{0,8}[A-Z])[0-9A-Z]{9}" + AFTER),
    )
    CONTEXT = ("fr_id_card",)
    FLAGS = 0  # case matters: "Identité9" is a word, not a card number
    REQUIRES_CONTEXT = True
    SENTENCE_BOUND = True
    KEEP_TAIL = 2

    def validate_result(self, pattern_text: str) -> bool | None:
        return None if re.search(r"\d", pattern_text) else False
