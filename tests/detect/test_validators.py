"""Table-driven valid/invalid vectors for every validator, plus Faker-generated ones (fixed seed)."""

from __future__ import annotations

import pytest
from faker import Faker

from scanner.detect.recognizers.fr_nir import FrNirRecognizer
from scanner.detect.recognizers.fr_rib import FrRibRecognizer, rib_key, valid_rib
from scanner.detect.recognizers.fr_tax_id import FrTaxIdRecognizer
from scanner.detect.recognizers.iban_account import valid_iban
from scanner.detect.recognizers.payment_card import TEST_PANS, PaymentCardRecognizer, issuer_known
from scanner.detect.recognizers.us_bank_account import valid_aba
from scanner.detect.recognizers.us_social_security import valid_ssn
from scanner.detect.recognizers.us_taxpayer_id import valid_itin
from scanner.detect.scoring import Check

SEED = 20261127


def _check(recognizer: object, value: str) -> Check:
    check, _ = recognizer.check(value, 0, len(value))  # type: ignore[attr-defined]
    return check


# --- FR NIR --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("185057800608491", True),
        ("1 85 05 78 006 084 91", True),
        ("1.85.05.78.006.084.91", True),
        ("2 84 12 2A 500 512 30", True),  # Corse-du-Sud
        ("284122B50051257", True),  # Haute-Corse
        ("284122b50051257", True),  # lower case b
        ("185057800608492", False),  # key off by one
        ("2 84 12 2A 500 512 31", False),
        ("284122C50051257", False),  # no department 2C
    ],
)
def test_fr_nir(value: str, valid: bool) -> None:
    assert FrNirRecognizer().validate_result(value) is valid


def test_fr_nir_faker_vectors() -> None:
    fake = Faker("fr_FR")
    fake.seed_instance(SEED)
    for _ in range(50):
        assert FrNirRecognizer().validate_result(fake.ssn())


# --- FR tax number (SPI) -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("3023217600053", True),
        ("30 23 217 600 053", True),
        ("1234567890066", True),
        ("0101010101220", True),
        ("3023217600054", False),
        ("4023217600053", False),  # must start with 0-3
        ("0000000000000", False),
    ],
)
def test_fr_tax_id(value: str, valid: bool) -> None:
    assert FrTaxIdRecognizer().validate_result(value) is valid


# --- FR RIB ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("30002 00550 0000157845Z 02", True),
        ("20041 01005 0500013M026 06", True),
        ("10107 00100 00012345678 01", True),
        ("30004 00822 ABCDEFGHIJK 44", True),  # letters mapped A/J->1 ... I/R/Z->9
        ("3000200550 0000157845Z02", True),
        ("30002 00550 0000157845Z 03", False),
        ("30002 00550 0000157845Y 02", False),
        ("00000 00000 00000000000 97", False),  # degenerate
    ],
)
def test_fr_rib(value: str, valid: bool) -> None:
    assert valid_rib(value) is valid
    assert FrRibRecognizer().validate_result(value) is valid


def test_rib_key_matches_the_published_example() -> None:
    assert rib_key("30002", "00550", "0000157845Z") == 2


# --- IBAN --------------------------------------------------------------------------------------------
VALID_IBANS = [
    "GB82WEST12345698765432",
    "DE89370400440532013000",
    "FR1420041010050500013M02606",
    "ES9121000418450200051332",
    "IT60X0542811101000000123456",
    "NL91ABNA0417164300",
    "BE68539007547034",
    "CH9300762011623852957",
    "AT611904300234573201",
    "PL61109010140000071219812874",
    "PT50000201231234567890154",
    "SE4550000000058398257466",
    "NO9386011117947",
    "LU280019400644750000",
    "IE29AIBK93115212345678",
    "DK5000400440116243",
    "FI2112345600000785",
]


@pytest.mark.parametrize("value", VALID_IBANS)
def test_iban_valid_per_country(value: str) -> None:
    assert valid_iban(value)


@pytest.mark.parametrize(
    "value",
    [
        "GB82WEST12345698765433",  # checksum
        "DE89370400440532013001",
        "FR1420041010050500013M0260",  # FR is 27 characters
        "XX82WEST12345698765432",  # no such country
        "NO938601111794",  # NO is 15
    ],
)
def test_iban_invalid(value: str) -> None:
    assert not valid_iban(value)


@pytest.mark.parametrize("locale", ["fr_FR", "de_DE", "en_GB", "es_ES", "it_IT", "nl_NL", "pt_PT", "pl_PL"])
def test_iban_faker_vectors(locale: str) -> None:
    fake = Faker(locale)
    fake.seed_instance(SEED)
    for _ in range(10):
        assert valid_iban(fake.iban())


# --- payment cards -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("brand", "number"),
    [
        ("visa", "4111111111111111"),
        ("visa13", "4222222222222"),
        ("visa19", "4111111111111111110"),
        ("mastercard", "5555555555554444"),
        ("mastercard 2-series", "2223003122003222"),
        ("amex", "378282246310005"),
        ("amex", "371449635398431"),
        ("discover", "6011111111111117"),
        ("discover 65", "6500000000000002"),
        ("diners", "30569309025904"),
        ("diners 38", "38520000023237"),
        ("jcb", "3530111333300000"),
        ("jcb", "3566002020360505"),
        ("jcb 15 legacy", "180016070420458"),
        ("jcb 15 legacy", "213161594239298"),
        ("unionpay", "6200000000000005"),
        ("maestro", "6759649826438453"),
        ("maestro 12", "675984103431"),
        ("mir", "2200000000000004"),
    ],
)
def test_card_brands_are_known_issuers(brand: str, number: str) -> None:
    assert issuer_known(number), brand
    # most of these are processors' published test numbers: valid, and known to be no one's
    expected = Check.LOOKALIKE if number in TEST_PANS else Check.CHECKSUM
    assert _check(PaymentCardRecognizer(), number) is expected


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("4111111111111112", Check.INVALID),  # Luhn
        ("5555555555554445", Check.INVALID),
        ("0000000000000000", Check.INVALID),  # Luhn-valid but degenerate
        ("3598899323053410", Check.WEAK),  # Luhn-valid, outside the IIN table: needs context
        ("587428561654", Check.WEAK),
        ("4111111111111111111111", Check.INVALID),  # too long
        ("732 829 320 00074", Check.INVALID),  # SIRET layout (Luhn-valid)
        ("0.363636363636", Check.INVALID),  # a decimal number
    ],
)
def test_card_invalid_or_weak(number: str, expected: Check) -> None:
    assert _check(PaymentCardRecognizer(), number) is expected


@pytest.mark.parametrize(
    "brand", ["visa16", "visa13", "visa19", "mastercard", "amex", "discover", "diners", "jcb15"]
)
def test_card_faker_vectors(brand: str) -> None:
    fake = Faker("en_US")
    fake.seed_instance(SEED)
    for _ in range(20):
        assert _check(PaymentCardRecognizer(), fake.credit_card_number(brand)) is Check.CHECKSUM


@pytest.mark.parametrize("brand", ["jcb16", "maestro"])
def test_faker_numbers_outside_the_iin_table_are_weak_not_invalid(brand: str) -> None:
    # Faker draws JCB from all of "35" and Maestro from 56-58: Luhn-valid, so they count with
    # card context (see test_engine) even where no network issues such numbers
    fake = Faker("en_US")
    fake.seed_instance(SEED)
    for _ in range(20):
        assert _check(PaymentCardRecognizer(), fake.credit_card_number(brand)) in (Check.CHECKSUM, Check.WEAK)


# --- US SSN / ITIN / ABA -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("054286917", True),
        ("853371694", True),  # randomised areas above 772 are valid since 2011
        ("000123456", False),  # area 000
        ("666123456", False),  # area 666
        ("912701234", False),  # 9xx is ITIN, never SSN
        ("123004567", False),  # group 00
        ("123450000", False),  # serial 0000
        ("123456789", False),  # known invalid
        ("078051120", False),  # Woolworth wallet card
        ("219099999", False),  # advertising
        ("111111111", False),
    ],
)
def test_ssn_rules(value: str, valid: bool) -> None:
    assert valid_ssn(value) is valid


def test_ssn_faker_vectors() -> None:
    fake = Faker("en_US")
    fake.seed_instance(SEED)
    for _ in range(50):
        assert valid_ssn(fake.ssn().replace("-", ""))


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("912701234", True),
        ("900501234", True),  # 50-65 since 2011
        ("999941234", True),
        ("912891234", False),  # 89 never issued
        ("912931234", False),  # 93 never issued
        ("912401234", False),
        ("812701234", False),  # must start with 9
        ("987654321", False),  # advertising range
        ("912700000", False),
    ],
)
def test_itin_rules(value: str, valid: bool) -> None:
    assert valid_itin(value) is valid


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("021000021", True),
        ("011000015", True),
        ("121000358", True),
        ("026009593", True),
        ("021000022", False),  # 3-7-1 checksum
        ("991000021", False),  # no Federal Reserve district 99
        ("000000000", False),
    ],
)
def test_aba_routing(value: str, valid: bool) -> None:
    assert valid_aba(value) is valid
