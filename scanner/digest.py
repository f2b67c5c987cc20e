"""Keyed digests of allowlistable values (a tenant's own IBANs, its test card numbers). Pure.

The digest is computed in the worker process, where the matched value is known, and only the
digest leaves it (`Finding.digest`); the policy file lists digests, never values. HMAC-SHA256
under a server key (``tenants.digest_key``) rather than a bare hash: card numbers and IBANs are
few enough to be brute-forced from an unkeyed hash.
"""

from __future__ import annotations

import hashlib
import hmac

# categories whose values a tenant may allowlist
ALLOWLISTABLE = frozenset({"IBAN", "FR_RIB", "PAYMENT_CARD"})


def normalize(value: str) -> str:
    """Digits and letters only, upper case: ``fr76 3000 6000 ...`` and ``FR7630006000...`` agree."""
    return "".join(ch for ch in value if ch.isalnum()).upper()


def value_digest(key: bytes, value: str) -> str:
    return hmac.new(key, normalize(value).encode("utf-8"), hashlib.sha256).hexdigest()
