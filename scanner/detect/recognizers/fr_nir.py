"""FR_NIR: numéro de sécurité sociale, 15 characters incl. Corsica 2A/2B, key = 97 − (n mod 97)."""

from __future__ import annotations

from stdnum.fr import nir

from scanner.detect.recognizers.base import AFTER, BEFORE, SendguardRecognizer, compact
from scanner.model import Group

_S = r"[ .\-]?"


class FrNirRecognizer(SendguardRecognizer):
    CATEGORY = "FR_NIR"
    GROUP = Group.GOVERNMENT_ID
    # sex, year, month, department (2A/2B in Corsica), commune, order, key
    _BODY = rf"[1-478]{_S}\d{{2}}{_S}\d{{2}}{_S}(?:\d{{2}}|2[AB]){_S}\d{{3}}{_S}\d{{3}}{_S}\d{{2}}"
    PATTERNS = (("nir", BEFORE + _BODY + AFTER),)
    CONTEXT = ("fr_nir",)
    KEEP_HEAD = 1
    KEEP_TAIL = 2

    def validate_result(self, pattern_text: str) -> bool | None:
        return bool(nir.is_valid(compact(pattern_text)))
