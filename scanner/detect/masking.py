"""Masked forms of identifiers: only the tail (and a non-identifying head) survives. Pure.

A finding travels to logs, SMTP replies and the review console; its `masked` form must never let
anyone rebuild the value. Letters and digits become ``*``, separators stay (so the shape is
recognisable), and at most the last `keep_tail` characters are shown.
"""

from __future__ import annotations

import hashlib
import hmac

# Categories whose findings may carry a `value_digest`: account numbers whose hidden part is
# too large to guess even by someone holding the key (an IBAN or RIB hides 10+ characters
# behind its masked form). Not cards (issuer prefix + last 4 + Luhn leave ~10^5 guesses) nor
# short US account numbers.
DIGEST_CATEGORIES = frozenset({"IBAN", "FR_RIB", "PAYEE_BANK_ACCOUNT"})


def mask(value: str, *, keep_tail: int = 4, keep_head: int = 0) -> str:
    """``123-45-6789`` -> ``***-**-6789``; separators kept, at most `keep_tail` alnum shown at the end.

    Short values keep less, so the visible tail is never more than half of the value.
    """
    alnum = sum(ch.isalnum() for ch in value)
    tail = min(keep_tail, alnum // 2)
    head = min(keep_head, max(0, alnum - tail) // 3)
    out: list[str] = []
    seen = 0
    for ch in value:
        if ch.isalnum():
            visible = seen < head or seen >= alnum - tail
            out.append(ch if visible else "*")
            seen += 1
        elif ch.isspace():
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def value_digest(key: bytes, family: str, value: str) -> str:
    """HMAC-SHA256 of the compacted, upper-cased value under a deployment secret, hex, 32 chars.

    A per-tenant allowlist stores digests of the tenant's own accounts and compares: it never
    holds the account itself, and without `key` a digest cannot be checked against a guess.
    `family` ("bank_account") keeps the same account equal under IBAN and PAYEE_BANK_ACCOUNT.
    """
    normalised = "".join(ch for ch in value if ch.isalnum()).upper()
    mac = hmac.new(key, f"{family}:{normalised}".encode(), hashlib.sha256)
    return mac.hexdigest()[:32]
