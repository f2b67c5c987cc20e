"""sendguard's recognizers, one class per file, and presidio's national ones mapped in."""

from __future__ import annotations

from scanner.detect.recognizers.base import Rule, SendguardRecognizer
from scanner.detect.recognizers.fr_driver_license import FrDriverLicenseRecognizer
from scanner.detect.recognizers.fr_id_card import FrIdCardRecognizer
from scanner.detect.recognizers.fr_nir import FrNirRecognizer
from scanner.detect.recognizers.fr_passport import FrPassportRecognizer
from scanner.detect.recognizers.fr_rib import FrRibRecognizer
from scanner.detect.recognizers.fr_tax_id import FrTaxIdRecognizer
from scanner.detect.recognizers.iban_account import IbanAccountRecognizer
from scanner.detect.recognizers.payment_card import PaymentCardRecognizer
from scanner.detect.recognizers.us_bank_account import UsBankAccountRecognizer
from scanner.detect.recognizers.us_driver_license import UsDriverLicenseRecognizer
from scanner.detect.recognizers.us_passport_number import UsPassportNumberRecognizer
from scanner.detect.recognizers.us_social_security import UsSocialSecurityRecognizer
from scanner.detect.recognizers.us_taxpayer_id import UsTaxpayerIdRecognizer

DEFAULT_RECOGNIZERS: tuple[type[SendguardRecognizer], ...] = (
    UsSocialSecurityRecognizer,
    UsTaxpayerIdRecognizer,
    UsDriverLicenseRecognizer,
    UsPassportNumberRecognizer,
    FrNirRecognizer,
    FrTaxIdRecognizer,
    FrDriverLicenseRecognizer,
    FrIdCardRecognizer,
    FrPassportRecognizer,
    PaymentCardRecognizer,
    IbanAccountRecognizer,
    FrRibRecognizer,
    UsBankAccountRecognizer,
)

__all__ = ["DEFAULT_RECOGNIZERS", "Rule", "SendguardRecognizer"]
