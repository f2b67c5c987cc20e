"""IBAN: every registered country, country length and mod-97, spaced or compact, any case.

The account an invoice asks to be paid to is the sender's own (`payee.payee_account`):
reported as PAYEE_BANK_ACCOUNT at LOW confidence.
"""

from __future__ import annotations

from stdnum import iban

from scanner.detect.recognizers.base import AFTER, SendguardRecognizer, trim_groups
from scanner.detect.recognizers.payee import payee_account
from scanner.detect.scoring import Check
from scanner.model import Group

_BEFORE = r"(?<![\w])"


def valid_iban(value: str) -> bool:
    # the country structure (length, which positions are letters) is checked by stdnum's
    # registry; national check digits inside the BBAN are not (few countries have them)
    return len(set(value[4:])) > 2 and bool(iban.is_valid(value, check_country=False))


class IbanAccountRecognizer(SendguardRecognizer):
    CATEGORY = "IBAN"
    GROUP = Group.BANK_ACCOUNT
    PATTERNS = (
        ("iban compact", _BEFORE + r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}" + AFTER),
        ("iban grouped", _BEFORE + r"[A-Z]{2}\d{2}(?:[ \-]?[A-Z0-9]{4}){2,7}(?:[ \-]?[A-Z0-9]{1,4})?(?!\w)"),
    )
    CONTEXT = ("iban",)
    KEEP_HEAD = 4
    KEEP_TAIL = 4
    LOOKALIKE_CATEGORY = "PAYEE_BANK_ACCOUNT"

    def validate_result(self, pattern_text: str) -> bool | None:
        return valid_iban(pattern_text.replace(" ", "").replace("-", "").upper())

    def check(self, text: str, start: int, end: int) -> tuple[Check, int]:
        found = trim_groups(text, start, end, valid_iban, 15)
        if found is None:
            return Check.INVALID, end
        return (Check.LOOKALIKE if payee_account(text, start, found) else Check.CHECKSUM), found
