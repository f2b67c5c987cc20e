"""Numbers that look like identifiers must never reach MEDIUM or HIGH (that would hold or reject)."""

from __future__ import annotations

import pytest
from faker import Faker

from scanner.detect import DetectionEngine
from tests.detect.conftest import flagged, scan


@pytest.mark.parametrize(
    "text",
    [
        # order, invoice and reference numbers (even when Luhn-valid with a card prefix)
        "Order number 4111111111111111 has shipped",
        "Votre commande n° 4111 1111 1111 1111 est confirmée",
        "Facture n° 4539578763621486 du 12/03/2024",
        "Invoice INV-2024-000123, PO 4500012345",
        "Référence : 5555555555554444",
        # tracking numbers
        "UPS tracking 1Z999AA10123456784",
        "USPS 9400 1000 0000 0000 0000 00",
        "n° de suivi colis 6A12345678901",
        "tracking number 4111111111111111",
        # SIRET (14 digits, Luhn-valid) and SIREN
        "SIRET 732 829 320 00074",
        "siret: 73282932000074",
        "Société XYZ, 732 829 320 00074, RCS Paris",
        "SIREN 732 829 320",
        # phone numbers
        "Tél : +33 6 12 34 56 78",
        "Call me at (555) 123-4567 or +1 555 123 4567",
        "phone 06 12 34 56 78 / 01.23.45.67.89",
        "+44 20 7946 0958",
        # timestamps, dates, ids
        "at 2024-01-15T12:30:45Z (1705321845123)",
        "Date: 20240115123045",
        "request 550e8400-e29b-41d4-a716-446655440000",
        "uuid 123e4567-e89b-12d3-a456-426614174000",
        "sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709",
        "md5 d41d8cd98f00b204e9800998ecf8427e",
        # masked or truncated cards
        "card **** **** **** 1234",
        "Visa 411111******1111",
        "carte XXXX XXXX XXXX 4242",
        "card ending in 4242",
        # ZIP+4, decimals, versions
        "Springfield, IL 62704-1234",
        "ratio 0.363636363636 over 12 runs",
        "version 4.1.1111111111111",
        # a routing number alone names a bank, not an account
        "routing number 021000021 for my account",
        # nine digits without SSN context, SSN-shaped advertising numbers
        "ICQ: 132152059",
        "SSN 123-45-6789 is an example",
        "SSN 078-05-1120",
        # licence/passport words with numbers in another sentence (window only catches this)
        "The passport office is closed. Call 555-0100.",
        # dates and phone numbers right after licence/passport words
        "driver's license expires 2027-03-15",
        "driver's license issued 15-03-2021",
        "driver's license questions: call 555-123-4567",
        "passport renewal on 20270315",
    ],
)
def test_lookalikes_are_never_flagged(engine: DetectionEngine, text: str) -> None:
    assert flagged(scan(engine, text)) == []


def test_faker_lookalikes_are_never_flagged(fast_engine: DetectionEngine) -> None:
    en, fr = Faker("en_US"), Faker("fr_FR")
    en.seed_instance(7)
    fr.seed_instance(7)
    for _ in range(40):
        texts = [
            f"SIRET {fr.siret()}",
            f"SIREN {fr.siren()}",
            f"Tél : {fr.phone_number()}",
            f"Phone: {en.phone_number()}",
            f"ZIP {en.zipcode_plus4()}",
            f"id {en.uuid4()} at {en.iso8601()}",
            f"commit {en.sha1()}",
            f"card ending **** {en.numerify('####')}",
        ]
        for text in texts:
            assert flagged(scan(fast_engine, text)) == [], text


def test_cardiff_is_not_card_context(fast_engine: DetectionEngine) -> None:
    # Luhn-valid, but not in the issuer table: only card context could make it count
    assert scan(fast_engine, "CARDIFF office 3598899323053410") == []
    assert flagged(scan(fast_engine, "card 3598899323053410"))
