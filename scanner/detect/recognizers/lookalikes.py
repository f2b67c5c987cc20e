"""Numbers that pass Luhn (or sit beside a routing number) and are not cards or accounts. Pure.

Luhn is a check digit for any ISO/IEC 7812 identification number, not only payment cards: SIM
serials (ICCID, ITU-T E.118), phone serials (IMEI, 3GPP TS 23.003), shops' gift and loyalty
cards, and one random number in ten. So before the card rule reports a Luhn-valid number,
these look-alikes may *claim* it; a claimed number is not a card. Each claim is table-tested
(`tests/detect/test_lookalikes_claims.py`).

- **longer number**: the candidate is the prefix of a longer digit run written in one grouping
  of fours ending in 2–3 digits ("4970 1012 3456 7890 123" is one 19-digit number; its
  16-digit prefix is not a card);
- **ICCID**: 18–20 digits starting 89 (major industry identifier 8, telecom; no card network
  issues under 89), Luhn-valid;
- **IMEI**: 15 digits, Luhn-valid, with "IMEI" in the window;
- **EAN/UPC/GTIN**: 8, 12, 13 or 14 digits with a valid GS1 check digit and a product word;
- **link id**: the number is inside a URL or is a query parameter's value (``uid=…``), unless
  the parameter says card;
- **store card**: a gift, loyalty, SIM or membership card phrase near it and no payment word
  (Visa, credit card, CVV, expiry...).

Tracking numbers, SIRET/SIREN and VAT numbers are claimed by their keywords
(``models/context/suppress.*.txt``: a keyword there drops every candidate) and by layout (a
SIRET written 3-3-3-5 is never a card: `payment_card._siret_layout`).
"""

from __future__ import annotations

import re

from stdnum import ean, luhn

from scanner.detect.context import KeywordMatcher, Window

_RUN_CHAR = re.compile(r"[ \-.]?\d")
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE)
_PARAM = re.compile(r"[?&;](?P<name>[A-Za-z_][\w.\-]*)=$")
_CARD_PARAM = re.compile(r"card|(?<![a-z])cc|pan(?![a-z])", re.IGNORECASE)
_NEAR = Window(before=80, after=40)

IMEI_WORDS = KeywordMatcher(["imei", "imei number", "numero imei", "n° imei", "imei/meid", "meid"])
PRODUCT_WORDS = KeywordMatcher(
    ["ean", "ean-13", "ean13", "gtin", "upc", "barcode", "bar code", "code-barres", "code barre", "sku",
     "product", "produit", "article", "item"]
)  # fmt: skip
STORE_CARD_WORDS = KeywordMatcher(
    ["gift card", "e-gift card", "egift card", "giftcard", "gift certificate", "loyalty card", "rewards card",
     "reward card", "membership card", "member card", "club card", "store card number", "sim card", "sim",
     "esim", "iccid", "carte cadeau", "e-carte cadeau", "carte-cadeau", "cheque cadeau", "carte de fidelite",
     "carte fidelite", "fidelite", "carte membre", "carte sim", "n° de sim", "library card"]
)  # fmt: skip
PAYMENT_WORDS = KeywordMatcher(
    ["visa", "mastercard", "master card", "amex", "american express", "discover", "diners", "jcb", "maestro",
     "credit card", "debit card", "bank card", "payment card", "cvv", "cvc", "cvv2", "expiry", "expiration",
     "exp", "exp date", "cardholder", "carte bancaire", "carte bleue", "carte de credit", "carte de debit",
     "cb", "cryptogramme", "date d'expiration", "paid with", "paye par carte", "payee par carte"]
)  # fmt: skip


def digit_run(text: str, start: int, end: int) -> tuple[int, int]:
    """The whole run of digits and single separators that text[start:end] belongs to."""
    while (start > 0 and text[start - 1].isdigit()) or (
        start > 1 and text[start - 1] in " -." and text[start - 2].isdigit()
    ):
        start -= 1
    while end < len(text):
        m = _RUN_CHAR.match(text, end)
        if m is None:
            break
        end = m.end()
    return start, end


def _digits(value: str) -> str:
    return "".join(c for c in value if c.isdigit())


def longer_number(text: str, start: int, end: int) -> bool:
    """The candidate is a prefix of a longer number written in the same 4-digit grouping."""
    lo, hi = digit_run(text, start, end)
    if lo == start and hi == end:
        return False
    groups = re.split(r"[ \-.]", text[lo:hi])
    if len(groups) < 4 or text[hi : hi + 1] == "/":  # "... 1111 12/27": an expiry date follows
        return False
    # a last group of 2-3 digits ends one number (4-4-4-4-3 is how 19 digits are written); a
    # single digit ("... 1111 2 copies") or four ("... 1111 2025") may be something else
    return all(len(g) == 4 for g in groups[:-1]) and len(groups[-1]) in (2, 3)


def iccid(digits: str) -> bool:
    return 18 <= len(digits) <= 20 and digits.startswith("89") and luhn.is_valid(digits)


def imei(digits: str) -> bool:
    return len(digits) == 15 and luhn.is_valid(digits)


def gs1(digits: str) -> bool:
    return len(digits) in (8, 12, 13, 14) and ean.is_valid(digits)


def in_link(text: str, start: int, end: int) -> bool:
    """Inside a URL, or the value of a ``name=`` parameter; a card-named parameter does not count."""
    param = _PARAM.search(text, max(0, start - 40), start)
    if param is not None:
        return _CARD_PARAM.search(param.group("name")) is None
    lo = text.rfind(" ", 0, start) + 1
    line_start = max(lo, text.rfind("\n", 0, start) + 1)
    url = _URL.search(text, line_start, end)
    return url is not None and url.start() < start and url.end() >= end


def claim(text: str, start: int, end: int) -> str | None:
    """The look-alike that owns text[start:end] (a Luhn-valid number), or None."""
    lo, hi = digit_run(text, start, end)
    whole = _digits(text[lo:hi])
    if iccid(whole):
        return "iccid"
    if longer_number(text, start, end):
        return "longer number"
    digits = _digits(text[start:end])
    if imei(digits) and IMEI_WORDS.find(text, start, end, _NEAR):
        return "imei"
    if gs1(digits) and PRODUCT_WORDS.find(text, start, end, _NEAR):
        return "ean"
    if in_link(text, start, end):
        return "link id"
    if STORE_CARD_WORDS.find(text, start, end, _NEAR) and not PAYMENT_WORDS.find(text, start, end, _NEAR):
        return "store card"
    return None
