"""Look-alikes that claim a Luhn-valid number before the card rule, payee accounts, test cards,
and numbers labelled as something else beside a routing number. Table-tested: each row could fail.
"""

from __future__ import annotations

import pytest
from stdnum import luhn

from scanner.detect import DetectionEngine
from scanner.detect.recognizers.lookalikes import claim, digit_run, gs1, iccid, imei, in_link, longer_number
from scanner.detect.recognizers.payee import payee_account
from scanner.detect.recognizers.payment_card import TEST_PANS
from scanner.model import Confidence
from tests.detect.conftest import flagged, scan

ICCID = "8933150319012345678"  # 19 digits, 89 + France, Luhn completed below
ICCID = ICCID[:-1] + luhn.calc_check_digit(ICCID[:-1])
IMEI = "35693803564380" + luhn.calc_check_digit("35693803564380")
VISA = "4556737586861111"  # Luhn-valid, not a published test number
EAN_LUHN = "4006381333931"  # valid GS1 check digit, and Luhn-valid: a 13-digit "Visa"


def _span(text: str, value: str) -> tuple[int, int]:
    start = text.index(value)
    return start, start + len(value)


@pytest.mark.parametrize(
    ("digits", "expected"),
    [
        (ICCID, True),
        (ICCID[:-1] + str((int(ICCID[-1]) + 1) % 10), False),  # Luhn broken
        ("4" + ICCID[1:], False),  # not under 89
        (ICCID[:17], False),  # too short
    ],
)
def test_iccid(digits: str, expected: bool) -> None:
    assert iccid(digits) is expected


@pytest.mark.parametrize(
    ("digits", "expected"),
    [(IMEI, True), (IMEI[:-1] + str((int(IMEI[-1]) + 1) % 10), False), (IMEI[:14], False)],
)
def test_imei(digits: str, expected: bool) -> None:
    assert imei(digits) is expected


@pytest.mark.parametrize(
    ("digits", "expected"),
    [(EAN_LUHN, True), ("4006381333932", False), ("036000291452", True), ("96385074", True), ("123", False)],
)
def test_gs1(digits: str, expected: bool) -> None:
    assert gs1(digits) is expected


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        ("https://shop.example/reset?uid=4556737586861111&token=ab", VISA, True),
        ("see www.example.com/u/4556737586861111 now", VISA, True),
        ("Unsubscribe: https://x.example/u?sid=4556737586861111", VISA, True),
        ("https://pay.example/charge?card=4556737586861111", VISA, False),  # the parameter says card
        ("https://pay.example/charge?cc=4556737586861111", VISA, False),
        ("my card 4556737586861111 thanks", VISA, False),
    ],
)
def test_in_link(text: str, value: str, expected: bool) -> None:
    assert in_link(text, *_span(text, value)) is expected


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        ("Ref 4970 1012 3456 7890 123 paid", "4970 1012 3456 7890", True),  # 4-4-4-4-3: one number
        ("Ref 4970 1012 3456 7890 12 paid", "4970 1012 3456 7890", True),
        ("card 4556 7375 8686 1111 2 copies", "4556 7375 8686 1111", False),  # one digit: something else
        ("card 4556 7375 8686 1111 12/27", "4556 7375 8686 1111", False),  # an expiry date follows
        ("card 4556 7375 8686 1111 2025", "4556 7375 8686 1111", False),
        ("card 4556 7375 8686 1111", "4556 7375 8686 1111", False),
    ],
)
def test_longer_number(text: str, value: str, expected: bool) -> None:
    assert longer_number(text, *_span(text, value)) is expected


def test_digit_run_takes_single_separators_only() -> None:
    text = "a 12 34-56.78  90 b"
    assert text[slice(*digit_run(text, 5, 7))] == "12 34-56.78"


@pytest.mark.parametrize(
    ("text", "value", "kind"),
    [
        (f"Your SIM card number (ICCID): {ICCID}", ICCID, "iccid"),
        (f"IMEI of your device: {IMEI}", IMEI, "imei"),
        (f"Product EAN {EAN_LUHN} qty 2", EAN_LUHN, "ean"),
        (f"Gift card number: {VISA} PIN 1234", VISA, "store card"),
        (f"Votre carte de fidélité n° {VISA}", VISA, "store card"),
        (f"Gift purchase paid with Visa {VISA}, loyalty points added", VISA, None),  # a payment word
        (f"My card number is {VISA}", VISA, None),
        (f"{IMEI} is my number", IMEI, None),  # 15 digits without the word IMEI
        (f"EAN {EAN_LUHN[:-1]}0", EAN_LUHN[:-1] + "0", None),  # GS1 check digit wrong
    ],
)
def test_claim(text: str, value: str, kind: str | None) -> None:
    assert claim(text, *_span(text, value)) == kind


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Pour régler par virement : IBAN {v} - BIC BNPAFRPP", True),
        ("Please pay by bank transfer to: Acme Ltd\nIBAN: {v}", True),
        ("Merci d'effectuer votre virement sur notre compte :\nBarbier SA\nIBAN : {v}", True),
        ("Le remboursement sera effectué depuis notre compte {v}", True),
        ("Pour le prélèvement, mon IBAN personnel : {v}", False),  # the writer's own, as a person
        ("Hi, for the refund please use my account: IBAN {v}", False),
        ("Please pay to my account {v}", False),
        ("Please wire to {v}", False),  # no payee phrase
        ("Virement sur {v}", False),
        ("IBAN: {v}", False),
    ],
)
def test_payee_account(text: str, expected: bool) -> None:
    value = "FR14 2004 1010 0505 0001 3M02 606"
    filled = text.format(v=value)
    assert payee_account(filled, *_span(filled, value)) is expected


@pytest.mark.parametrize("pan", sorted(TEST_PANS))
def test_published_test_cards_are_tagged_not_rejected(fast_engine: DetectionEngine, pan: str) -> None:
    found = scan(fast_engine, f"Use the test card number {pan} in the sandbox")
    assert [(f.category, f.confidence) for f in found] == [("TEST_PAYMENT_CARD", Confidence.LOW)]
    assert found[0].masked.endswith(pan[-4:]) and pan not in found[0].masked


@pytest.mark.parametrize(
    ("text", "categories"),
    [
        # the sender's own account on its invoice: tagged; a person's: stopped
        (
            "Facture F1. Pour régler par virement : IBAN FR14 2004 1010 0505 0001 3M02 606",
            {"PAYEE_BANK_ACCOUNT"},
        ),
        ("Voici mon IBAN pour le remboursement : FR14 2004 1010 0505 0001 3M02 606", {"IBAN"}),
        # Luhn-valid 16 digits inside a payee's IBAN are not a card
        ("Nos coordonnées bancaires pour le règlement : IBAN ES56 4018 6616 6247 3199 5813", set()),
        (f"Your new SIM card: {ICCID}", set()),
        (f"Gift card number: {VISA}", set()),
        (f"Reset: https://x.example/reset?uid={VISA}&t=1", set()),
        (f"Card number {VISA}, exp 12/27", {"PAYMENT_CARD"}),
        (f"Visa gift card {VISA} exp 10/27", {"PAYMENT_CARD"}),
    ],
)
def test_engine_lookalikes(fast_engine: DetectionEngine, text: str, categories: set[str]) -> None:
    found = scan(fast_engine, text)
    stopped = {f.category for f in flagged(found)}
    assert stopped == (categories - {"PAYEE_BANK_ACCOUNT"})
    if "PAYEE_BANK_ACCOUNT" in categories:
        assert [(f.category, f.confidence) for f in found] == [("PAYEE_BANK_ACCOUNT", Confidence.LOW)]


@pytest.mark.parametrize(
    ("text", "stopped"),
    [
        ("Routing number (ABA): 021000021\nConfirmation #20240315123", False),
        ("Bank routing number 021000021, trace number 4829103345", False),
        ("Routing 021000021 reference: 99812345671", False),
        ("Routing 021000021, account number 4829103345", True),
        ("ABA 021000021 acct 99812345671", True),
    ],
)
def test_us_account_labelled_as_something_else(
    fast_engine: DetectionEngine, text: str, stopped: bool
) -> None:
    found = [f for f in flagged(scan(fast_engine, text)) if f.category == "US_BANK_ACCOUNT"]
    assert bool(found) is stopped
