"""sendguard's recognizers, one class per file, and presidio's national ones mapped in."""

from __future__ import annotations

from scanner.detect.recognizers.base import Rule, SendguardRecognizer
from scanner.detect.recognizers.fr_driver_license import FrDriverLicenseRecognizer
from scanner.detect.recognizers.fr_id_card import FrIdCardRecognizer
from scanner.detect.recognizers.fr_nir import FrNirRecognizer
from scanner.detect.recognizers.fr_passport import FrPassportRecognizer
from scanner.detect.recognizers.fr_rib import FrRibRecognizer
from scanner.detect.recognizers.fr_tax_id import FrTaxIdRecognizer
from scanner.detect.recognizers.iban import IbanRecognizer
from scanner.detect.recognizers.payment_card import PaymentCardRecognizer
from scanner.detect.recognizers.us_bank_account import UsBankAccountRecognizer
from scanner.detect.recognizers.us_driver_license import UsDriverLicenseRecognizer
from scanner.detect.recognizers.us_itin import UsItinRecognizer
from scanner.detect.recognizers.us_passport import UsPassportRecognizer
from scanner.detect.recognizers.us_ssn import UsSsnRecognizer

DEFAULT_RECOGNIZERS: tuple[type[SendguardRecognizer], ...] = (
    UsSsnRecognizer,
    UsItinRecognizer,
    UsDriverLicenseRecognizer,
    UsPassportRecognizer,
    FrNirRecognizer,
    FrTaxIdRecognizer,
    FrDriverLicenseRecognizer,
    FrIdCardRecognizer,
    FrPassportRecognizer,
    PaymentCardRecognizer,
    IbanRecognizer,
    FrRibRecognizer,
    UsBankAccountRecognizer,
)

__all__ = ["DEFAULT_RECOGNIZERS", "Rule", "SendguardRecognizer"]
