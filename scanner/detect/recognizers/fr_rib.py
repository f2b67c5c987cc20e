"""FR_RIB: relevé d'identité bancaire: bank (5), branch (5), account (11 alnum), key (2).

python-stdnum has no RIB module. The key is 97 − ((89·bank + 15·branch + 3·account) mod 97),
with the account's letters first mapped to digits (A/J→1, B/K/S→2, … I/R/Z→9).
"""

from __future__ import annotations

from scanner.detect.recognizers.base import AFTER, BEFORE, SendguardRecognizer, compact
from scanner.detect.recognizers.payee import payee_account
from scanner.detect.scoring import Check
from scanner.model import Group

_LETTERS = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "12345678912345678923456789",
)


def rib_key(bank: str, branch: str, account: str) -> int:
    """The two-digit RIB key for these (already upper-case) parts."""
    acc = int(account.upper().translate(_LETTERS))
    return 97 - ((89 * int(bank) + 15 * int(branch) + 3 * acc) % 97)


def valid_rib(value: str) -> bool:
    value = compact(value)
    if len(value) != 23 or not (value[:10].isdigit() and value[21:].isdigit() and value[10:21].isalnum()):
        return False
    if len(set(value[:21])) <= 1:  # 00000 00000 00000000000 97 is a placeholder
        return False
    return rib_key(value[:5], value[5:10], value[10:21]) == int(value[21:])


class FrRibRecognizer(SendguardRecognizer):
    CATEGORY = "FR_RIB"
    GROUP = Group.BANK_ACCOUNT
    PATTERNS = (("rib", BEFORE + r"\d{5}[ \-]?\d{5}[ \-]?[0-9A-Z]{11}[ \-]?\d{2}" + AFTER),)
    CONTEXT = ("fr_rib",)
    KEEP_TAIL = 2
    LOOKALIKE_CATEGORY = "PAYEE_BANK_ACCOUNT"

    def validate_result(self, pattern_text: str) -> bool | None:
        return valid_rib(pattern_text)

    def check(self, text: str, start: int, end: int) -> tuple[Check, int]:
        """A valid RIB an invoice asks to be paid to is the sender's own (see `payee`)."""
        verdict, end = super().check(text, start, end)
        if verdict is Check.CHECKSUM and payee_account(text, start, end):
            return Check.LOOKALIKE, end
        return verdict, end
