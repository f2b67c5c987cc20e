"""FR_TAX_ID: numéro fiscal de référence (SPI), 13 digits starting 0–3, checksum mod 511."""

from __future__ import annotations

from stdnum.fr import nif

from scanner.detect.recognizers.base import AFTER, BEFORE, SendguardRecognizer, compact
from scanner.model import Group


class FrTaxIdRecognizer(SendguardRecognizer):
    CATEGORY = "FR_TAX_ID"
    GROUP = Group.GOVERNMENT_ID
    # printed as "30 23 217 600 053" on the avis d'imposition
    PATTERNS = (("spi", BEFORE + r"[0-3]\d ?\d{2} ?\d{3} ?\d{3} ?\d{3}" + AFTER),)
    CONTEXT = ("fr_tax_id",)
    KEEP_TAIL = 3

    def validate_result(self, pattern_text: str) -> bool | None:
        digits = compact(pattern_text)
        return len(set(digits)) > 2 and bool(nif.is_valid(digits))
