"""Generated identifier messages for `benchmarks.accuracy`: templates and written forms. Pure.

English and French sentences carrying a card, a government ID or a bank account, written in the
forms mail uses and evasion tries (spaced, dashed, NBSP, fullwidth digits, zero-width), and
look-alike negatives (orders, tracking numbers, invoices, SIRET, phones, timestamps, masked cards).
"""

from __future__ import annotations

from datetime import datetime

EN_CARD = ("My card number is {v}, please charge it.", "Visa {v} exp 12/27", "Here it is: {v}", "cc# {v}")
FR_CARD = ("Mon numéro de carte est {v}.", "Carte bancaire : {v}", "Voici : {v}", "CB {v} exp 12/27")
EN_GOV = {
    "ssn": ("My SSN is {v}.", "social security number {v}", "SSN: {v}"),
    "itin": ("My ITIN is {v}.", "taxpayer id {v}"),
    "dl": ("driver's license number {v}", "DL# {v}"),
    "passport": ("My passport number is {v}.",),
}
FR_GOV = {
    "nir": ("Mon numéro de sécurité sociale : {v}", "NIR {v}", "Voici mon numéro : {v}", "n° SS {v}"),
    "spi": ("Mon numéro fiscal est {v}.", "numéro fiscal de référence : {v}"),
    "permis": ("Mon permis de conduire n° {v}",),
    "passeport": ("Passeport n° {v}",),
    "cni": ("Ma carte d'identité : {v}",),
}
BANK = ("IBAN: {v}", "Please wire to {v}", "Mon IBAN est {v}", "Virement sur {v}", "Here it is: {v}")
NEGATIVE = (
    "Order number {order} shipped, tracking 1Z{ups} via UPS.",
    "Votre commande n° {order} est en route, colis suivi {usps}.",
    "Facture n° {invoice} du {date}, SIRET {siret}, SIREN {siren}.",
    "Call me at {phone_us} or {phone_fr}.",
    "Tél : {phone_fr} — référence {order}",
    "Logged at {ts} ({epoch}), request id {uuid}, sha {sha}.",
    "Your card **** **** **** {last4} was charged. Card {masked6} expires soon.",
    "Invoice {invoice} ZIP {zip4} ref {order}",
    "Build {sha} at {date}, ticket #{order}",
    # no helpful words at all: the numbers alone must not pass for identifiers
    "{phone_us} / {phone_fr}",
    "{siret}",
    "{ts} {uuid}",
    "{zip4} {date}",
    "{masked6}",
    "{epoch}",
)


FIXED_END = datetime(2026, 1, 1)


def spaced(value: str, step: int = 4, sep: str = " ") -> str:
    return sep.join(value[i : i + step] for i in range(0, len(value), step))


def forms(value: str, i: int) -> str:
    """Vary the written form: compact, spaced, dashed, NBSP, fullwidth digits, zero-width."""
    match i % 6:
        case 1:
            return spaced(value)
        case 2:
            return spaced(value, sep="-")
        case 3:
            return spaced(value, sep="\u00a0")
        case 4:
            return value.translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})
        case 5:
            return value[:4] + "\u200b" + value[4:]
    return value
