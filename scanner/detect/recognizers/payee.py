"""Payee or person: whose bank account is this? Pure.

An invoice must tell the customer where to pay ("pour régler par virement : IBAN …", "please
pay by bank transfer to …"): that account is the sender's own, printed to be paid, and every
invoice of that sender carries it. An account someone gives as *theirs* ("my IBAN", "mon RIB
pour le remboursement", "votre compte") or a third party's is what the platform forbids.

`payee_account` says an account candidate is the sender's own: a payee phrase (the account
payments go to, "notre compte", "our account", "payable to") within `PAYEE_REACH` characters
before it and no possessive naming a person's account ("my account", "mon IBAN", "votre
compte") within `PERSON_REACH`. The IBAN and RIB rules then report it as
`PAYEE_BANK_ACCOUNT` at LOW confidence (tagged, not rejected; a tenant's allowlist of its own
accounts can pass it: see the README).
"""

from __future__ import annotations

import re

from scanner.detect.context import KeywordMatcher, Window

PAYEE_REACH = 200
PERSON_REACH = 80

PAYEE_WORDS = KeywordMatcher(
    ["pour regler par virement", "a regler par virement", "regler par virement", "reglement par virement",
     "paiement par virement", "effectuer votre virement", "effectuer le virement", "notre compte",
     "nos coordonnees bancaires", "coordonnees bancaires pour le reglement", "nos references bancaires",
     "depuis notre compte", "sur notre compte", "our account", "our bank account", "our bank details",
     "pay by bank transfer", "pay by transfer", "payable to", "pay to", "remit to", "remittance to",
     "payment details", "please quote", "make payment to", "payments to"]
)  # fmt: skip
# possessives case-sensitive after their first letter: "SA" (a company form) is not "sa"
_PERSON = re.compile(
    r"(?<!\w)(?:[Mm]y|[Mm]on|[Mm]a|[Mm]es|[Yy]our|[Vv]otre|[Vv]os|[Hh]is|[Hh]er|[Ss]on|[Ss]a|[Pp]ersonal"
    r"|[Pp]ersonnel(?:le)?|[Pp]erso)\s+(?:[\w'’-]+\s+)?"
    r"(?i:iban|rib|account|compte|bank details|coordonn[eé]es bancaires|bank)(?!\w)"
)


def payee_account(text: str, start: int, end: int) -> bool:
    """True when text[start:end] is the account payments are asked to go to, not a person's."""
    if not PAYEE_WORDS.find(text, start, end, Window(before=PAYEE_REACH, after=0)):
        return False
    return _PERSON.search(text, max(0, start - PERSON_REACH), end + 30) is None
