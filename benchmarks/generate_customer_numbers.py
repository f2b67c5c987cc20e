"""Realistic customer mail, part 2: numbers that look forbidden and are not, and real leaks. Pure.

Written from what a sending platform's customers send every day (telecoms, retailers, banks,
insurers, SaaS, payment processors' developer mail), not from the detectors' tests. Every value
is valid where it should be (python-stdnum / Luhn computed here), so a checksum alone never
tells a look-alike from the real thing. Used by `benchmarks.generate_customer`.

Each builder takes a `Draw` (Faker instances for both languages + the split's template filter)
and returns (subject, body, html_footer?) for one message.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from random import Random

from faker import Faker
from stdnum import luhn
from stdnum.us import rtn


@dataclass(frozen=True, slots=True)
class Draw:
    """What every builder draws from: Faker per language, a random, which templates this split uses."""

    en: Faker
    fr: Faker
    rng: Random
    held: bool  # held-out split: every template; dev split: all but the held-out-only ones

    def pick(self, templates: Sequence[str]) -> str:
        """One template: every 4th one of a list is held-out only (never seen while tuning)."""
        usable = [t for i, t in enumerate(templates) if self.held or i % 4 != 3]
        return self.rng.choice(usable)

    def digits(self, n: int) -> str:
        return "".join(str(self.rng.randrange(10)) for _ in range(n))


# --- valid values ---------------------------------------------------------------------------------


def luhn_complete(prefix: str) -> str:
    return prefix + luhn.calc_check_digit(prefix)


def iccid(d: Draw) -> str:
    """SIM serial (ITU-T E.118): 89 + country code + issuer + serial + Luhn, 19 or 20 digits."""
    head = d.rng.choice(("8933", "8901", "8944", "89330", "8949"))
    length = d.rng.choice((19, 20))
    return luhn_complete(head + d.digits(length - len(head) - 1))


def imei(d: Draw) -> str:
    """15 digits: 8-digit type allocation code, 6-digit serial, Luhn check digit."""
    tac = d.rng.choice(("35", "86", "01", "35", "49")) + d.digits(6)
    return luhn_complete(tac + d.digits(6))


def luhn_with(d: Draw, head: str, length: int) -> str:
    return luhn_complete(head + d.digits(length - len(head) - 1))


def long_with_card_prefix(d: Draw) -> str:
    """19 digits, Luhn-invalid as a whole, whose 16-digit (or 12/13-digit) prefix is a valid Visa."""
    while True:
        prefix_len = d.rng.choice((12, 13, 16))
        prefix = luhn_with(d, "4", prefix_len)
        value = prefix + d.digits(19 - prefix_len)
        if not luhn.is_valid(value):
            return value


def ean13_luhn(d: Draw) -> str:
    """A valid EAN-13 (GS1 weights 1-3) that is also Luhn-valid (about one in ten are)."""
    from stdnum import ean

    while True:
        body = d.rng.choice(("300", "301", "340", "376", "400", "500", "871", "080")) + d.digits(9)
        value = body + ean.calc_check_digit(body)
        if luhn.is_valid(value):
            return value


def aba(d: Draw) -> str:
    while True:
        head = d.rng.choice(("02", "01", "11", "12", "26", "06", "07", "03", "31", "32"))
        body = head + d.digits(6)
        for check in "0123456789":
            if rtn.is_valid(body + check):
                return body + check


def grouped(value: str, size: int = 4, sep: str = " ") -> str:
    return sep.join(value[i : i + size] for i in range(0, len(value), size))


# --- Luhn-valid numbers that are not cards -------------------------------------------------------

SIM_EN = (
    "Welcome to {brand} Mobile!\n\nHi {first},\n\nYour new SIM card is on its way. To activate it, go to "
    "{url}/activate and enter the SIM card number (ICCID) printed on the card: {iccid}.\nYour number "
    "will be ported on {date}.\n\nNeed help? Reply to this email.",
    "Hi {first}, we received your eSIM order.\nICCID: {iccid}\nIMEI of your device: {imei}\n"
    "Plan: Unlimited 5G, ${price}/month. Your first bill will be issued on {date}.",
    "Device unlock request #{short}\n\nThe device with IMEI {imei} has been unlocked and can be used "
    "with any carrier. Restart your phone with a new SIM card inserted.",
    "Your replacement SIM card\n\nSIM number: {iccid_g}\nPUK: {puk}\nKeep this email: you need the PUK "
    "if you enter a wrong PIN three times.",
)
SIM_FR = (
    "Bonjour {first},\n\nVotre nouvelle carte SIM {brand} vous a été expédiée. Pour l'activer, saisissez "
    "le numéro de carte SIM (ICCID) : {iccid} sur {url}/activation.\nVotre numéro sera porté le {date}.",
    "Confirmation de commande eSIM\nICCID : {iccid}\nIMEI du terminal : {imei}\nForfait 100 Go : "
    "{price} €/mois.",
    "Demande de déblocage n° {short}\nVotre téléphone (IMEI {imei}) est désormais débloqué tous opérateurs.",
    "Votre carte SIM de remplacement\nN° de SIM : {iccid_g}\nCode PUK : {puk}\nConservez ce message.",
)
LOYALTY_EN = (
    "Hi {first},\n\nThanks for shopping at {store}! Your rewards card number is {loyalty}. You now have "
    "{points} points - {reward} more and you get $10 off.\n\nShow this card at checkout.",
    "Your {store} gift card\n\nSomeone sent you a ${price} gift card!\nGift card number: {gift}\n"
    "PIN: {pin}\nRedeem online or in store. Gift cards never expire.",
    "Your {store} e-gift card balance: ${price}.\nCard: {gift_g}\nCheck your balance anytime at {url}.",
    "Membership renewed\n\n{store} Club member card: {loyalty_g}\nValid until {date}. Your annual fee of "
    "${price} was charged to your card ending in {last4}.",
)
LOYALTY_FR = (
    "Bonjour {first},\n\nMerci pour votre achat chez {store} ! Votre numéro de carte de fidélité : "
    "{loyalty}. Vous cumulez {points} points.",
    "Votre carte cadeau {store}\n\nVous avez reçu une carte cadeau de {price} € !\nNuméro de la carte "
    "cadeau : {gift}\nCode : {pin}\nValable 12 mois en magasin et sur {url}.",
    "Solde de votre e-carte cadeau : {price} €\nCarte n° {gift_g}",
    "Carte {store} Plus renouvelée\nN° de carte de fidélité : {loyalty_g}\nValable jusqu'au {date}.",
)
LINK_EN = (
    "Reset your password\n\nHi {first},\n\nWe received a request to reset your password. Click the link "
    "below:\n{url}/account/reset?uid={uid}&token={token}\n\nIf you did not ask for this, ignore this "
    "email.",
    "You're receiving this because you subscribed to {store} news.\nUnsubscribe: "
    "{url}/u?sid={uid}&list=weekly\nManage preferences: {url}/prefs/{uid}",
    "Confirm your email\n\nWelcome aboard! Your user ID is {uid}. Confirm your address here: "
    "{url}/confirm/{uid}/{token}",
    "Your order has shipped\n\nTrack it: {url}/track?order={uid}\nCarrier: UPS",
)
LINK_FR = (
    "Réinitialisation de votre mot de passe\n\nBonjour {first},\n\nCliquez sur le lien suivant :\n"
    "{url}/compte/reinit?uid={uid}&jeton={token}\n\nSi vous n'êtes pas à l'origine de cette demande, "
    "ignorez ce message.",
    "Vous recevez cet e-mail car vous êtes abonné(e) à la lettre de {store}.\nSe désinscrire : "
    "{url}/desabo?abonne={uid}",
    "Votre identifiant client : {uid}\nActivez votre compte : {url}/activer/{uid}/{token}",
)
LONG_EN = (
    "Payment received - thank you!\n\nTransaction reference: {long}\nAmount: ${price}\nDate: {date}",
    "Your parcel is on its way.\nTracking number: {long}\nEstimated delivery: {date}",
    "Remittance advice {short}\nBatch ID {long} processed on {date}.",
    "Product {ean} - qty 2 - ${price}\nProduct {ean2} - qty 1\nThank you for your order!",
)
LONG_FR = (
    "Paiement reçu, merci !\nRéférence de transaction : {long}\nMontant : {price} €",
    "Votre colis est en route. Numéro de suivi : {long}. Livraison prévue le {date}.",
    "Récapitulatif : article EAN {ean} x1, {price} € ; article EAN {ean2} x2.",
)


def luhn_noncard(d: Draw) -> tuple[str, str]:
    """A SIM, IMEI, loyalty/gift card, link id or long-number mail: Luhn-valid, no payment card."""
    kind = d.rng.randrange(4)
    french = d.rng.random() < 0.5
    f = d.fr if french else d.en
    values = {
        "first": f.first_name(),
        "brand": d.rng.choice(("Nova", "Free", "Orbit", "Bouygues", "Kite", "Sosh")),
        "url": "https://" + d.rng.choice(("www.", "my.", "")) + f.domain_name(),
        "iccid": iccid(d),
        "iccid_g": grouped(iccid(d)),
        "imei": imei(d),
        "date": f.date(),
        "price": f"{d.rng.randrange(5, 120)}.{d.rng.randrange(10, 99)}",
        "short": d.digits(6),
        "puk": d.digits(8),
        "store": f.company(),
        # store cards: Luhn-valid, some under issuer-looking prefixes (6, 60, 63 are private label ranges)
        "loyalty": luhn_with(d, d.rng.choice(("60", "6035", "7", "8", "2")), d.rng.choice((16, 17, 18, 19))),
        "loyalty_g": grouped(luhn_with(d, d.rng.choice(("6", "7", "9")), 16)),
        "gift": luhn_with(d, d.rng.choice(("6006", "6039", "7777", "9", "5")), d.rng.choice((16, 19))),
        "gift_g": grouped(luhn_with(d, d.rng.choice(("6006", "7")), 16)),
        "pin": d.digits(4),
        "points": str(d.rng.randrange(100, 5000)),
        "reward": str(d.rng.randrange(10, 500)),
        "last4": d.digits(4),
        "uid": luhn_with(d, d.rng.choice(("4", "5", "3", "1", "6")), d.rng.choice((14, 15, 16))),
        "token": f.sha1()[:24],
        "long": long_with_card_prefix(d),
        "ean": ean13_luhn(d),
        "ean2": ean13_luhn(d),
    }
    pools = ((SIM_EN, SIM_FR), (LOYALTY_EN, LOYALTY_FR), (LINK_EN, LINK_FR), (LONG_EN, LONG_FR))[kind]
    body = d.pick(pools[1] if french else pools[0]).format(**values)
    subject = body.split("\n", 1)[0][:70] if d.rng.random() < 0.5 else f.catch_phrase()
    return subject, body


# --- bank look-alikes: routing numbers beside confirmations, a company's own IBAN -----------------

ABA_EN = (
    "Wire transfer confirmation\n\nYour outgoing wire of ${price} was sent on {date}.\nBeneficiary bank: "
    "{bank}\nRouting number (ABA): {aba}\nConfirmation #{conf}\nBeneficiary account ending in {last4}",
    "Direct deposit set up\n\nHi {first}, your paycheck will be deposited to {bank} (routing {aba}), "
    "account ending in {last4}. Confirmation number: {conf}.",
    "Payment scheduled - confirmation {conf}\nFrom: checking ****{last4}\nTo: {company}\nBank routing "
    "number {aba}\nAmount: ${price}",
    "ACH return notice\nTrace number {conf}\nOriginating DFI routing number: {aba}\nReason: R01 "
    "insufficient funds. Please update your payment method.",
)


def aba_confirmation(d: Draw) -> tuple[str, str]:
    f = d.en
    body = d.pick(ABA_EN).format(
        price=f"{d.rng.randrange(50, 9000):,}.00",
        date=f.date(),
        bank=f.company() + " Bank",
        aba=aba(d),
        conf=d.digits(d.rng.choice((8, 10, 11, 12, 14))),
        last4=d.digits(4),
        first=f.first_name(),
        company=f.company(),
    )
    return body.split("\n", 1)[0], body


SENDER_IBAN_FR = (
    "Facture n° {inv}\n\nBonjour,\n\nVeuillez trouver ci-joint votre facture d'un montant de {price} € TTC, "
    "à régler avant le {date}.\n\nPour régler par virement : IBAN {iban} - BIC {bic}\nTitulaire : "
    "{company}\n\n{company} - SAS au capital de 10 000 € - RCS {city} {siren} - SIRET {siret}",
    "Votre échéancier\n\nMontant dû : {price} €. Merci d'effectuer votre virement sur notre compte :\n"
    "{company}\nIBAN : {iban}\nBIC : {bic}\nEn indiquant la référence {inv}.",
    "Relance : facture {inv} impayée\nNos coordonnées bancaires pour le règlement : IBAN {iban}. "
    "{company}, {city}.",
    "Avoir n° {inv}\nLe remboursement sera effectué par virement depuis notre compte {iban} sous 5 jours.",
)
SENDER_IBAN_EN = (
    "Invoice {inv}\n\nAmount due: €{price}, payable within 30 days.\nPlease pay by bank transfer to:\n"
    "{company}\nIBAN: {iban}\nBIC/SWIFT: {bic}\nReference: {inv}\n\n{company} Ltd, registered in England",
    "Payment details for your order\nPay to: {company}\nBank: {bank}\nIBAN {iban}\nPlease quote {inv}.",
    "Your subscription renews on {date}. If you pay by transfer, our account is {iban} ({company}).",
    "Remittance: we will pay supplier invoices from our account IBAN {iban} on {date}.",
)


def sender_iban(d: Draw) -> tuple[str, str]:
    french = d.rng.random() < 0.6
    f = d.fr if french else d.en
    local = Faker(d.rng.choice(("fr_FR", "de_DE", "nl_NL", "en_GB", "es_ES", "it_IT")))
    local.seed_instance(d.rng.randrange(1 << 30))
    raw = local.iban()
    iban = grouped(raw) if d.rng.random() < 0.7 else raw
    body = d.pick(SENDER_IBAN_FR if french else SENDER_IBAN_EN).format(
        inv=f"F{d.digits(4)}-{d.digits(5)}",
        price=f"{d.rng.randrange(20, 4000)},{d.rng.randrange(10, 99)}",
        date=f.date(),
        iban=iban,
        bic=d.rng.choice(("BNPAFRPPXXX", "AGRIFRPP", "SOGEFRPP", "DEUTDEFF", "NWBKGB2L")),
        company=f.company(),
        city=d.fr.city(),
        siren=d.fr.siren(),
        siret=d.fr.siret(),
        bank=f.company() + " Bank",
    )
    return body.split("\n", 1)[0], body


# --- test card numbers: published by processors for sandboxes ------------------------------------

TEST_PANS = (
    "4111 1111 1111 1111",
    "4242 4242 4242 4242",
    "4000 0566 5566 5556",
    "5555 5555 5555 4444",
    "5105 1051 0510 5100",
    "5200 8282 8282 8210",
    "2223 0031 2200 3222",
    "4012 8888 8888 1881",
    "3782 822463 10005",
    "3714 496353 98431",
    "6011 1111 1111 1117",
    "6011 0009 9013 9424",
    "3056 9300 0902 0004",
    "3566 0020 2036 0505",
    "6200 0000 0000 0005",
    "4000 0000 0000 0002",
    "4000 0000 0000 9995",
    "4000 0025 0000 3155",
    "4917 6100 0000 0000",
    "5454 5454 5454 5454",
)
TEST_CARD_EN = (
    "Your sandbox is ready\n\nHi {first},\n\nYou can now test payments. Use the test card {pan}, any "
    "future expiry date and any CVC. No real money moves in test mode.\n\nThe {company} team",
    "Integration checklist\n1. Create a test payment with card number {pan} (exp 12/34, CVC 123).\n"
    "2. Check the webhook.\n3. Switch to live keys.",
    "Release notes v{short}: fixed a bug where the test card {pan} was declined in staging.",
    "QA report: checkout OK with {pan} (test Visa/Mastercard), 3-D Secure challenge shown with {pan2}.",
)
TEST_CARD_FR = (
    "Votre environnement de test est prêt\n\nBonjour {first},\n\nPour tester un paiement, utilisez la carte "
    "de test {pan}, une date d'expiration future et n'importe quel cryptogramme.",
    "Recette du paiement : carte de test {pan} acceptée, carte {pan2} refusée (cas attendu).",
)


def test_card(d: Draw) -> tuple[str, str]:
    french = d.rng.random() < 0.4
    f = d.fr if french else d.en
    pan, pan2 = d.rng.sample(TEST_PANS, 2)
    if d.rng.random() < 0.4:
        pan = pan.replace(" ", "")
    body = d.pick(TEST_CARD_FR if french else TEST_CARD_EN).format(
        first=f.first_name(), company=f.company(), pan=pan, pan2=pan2, short=d.digits(3)
    )
    return body.split("\n", 1)[0], body


# --- insurers with "Mutuelle" in the name, member numbers without a health fact -------------------

MUTUELLE_FR = (
    "Bonjour {first},\n\nVotre contrat auto n° {contract} auprès de la {insurer} a bien été renouvelé. "
    "Véhicule : {car}, immatriculation {plate}.\nVotre numéro de sociétaire : {member}.",
    "{insurer} - Assurance habitation\nContrat n° {contract}\nAdresse assurée : {address}\nCotisation "
    "annuelle : {price} €. Prélèvement le {date}.",
    "Déclaration de sinistre enregistrée\nN° de dossier : {contract}\nSociétaire n° {member}\n"
    "Dégât des eaux du {date} - un expert vous contactera. {insurer}",
    "Votre attestation d'assurance auto {insurer}\nN° adhérent : {member}\nValable jusqu'au {date}.",
)
MEMBER_EN = (
    "Welcome to {club}!\n\nHi {first}, your membership number is {member}. Bring it to the front desk for "
    "your first class on {date}.",
    "Your {club} membership card\nMember ID: {member}\nMember since: {date}\nLevel: Gold",
    "Frequent flyer statement\nMember number: {member}\nMiles earned this month: {points}",
    "Renewal reminder: your {club} membership ({member}) expires on {date}. Renew online.",
)
MEMBER_FR = (
    "Bienvenue au {club} !\nVotre numéro d'adhérent : {member}. Présentez-le à l'accueil.",
    "Carte membre {club}\nN° de membre : {member}\nAdhérent depuis le {date}.",
    "Renouvellement de votre adhésion ({member}) au {club} avant le {date}.",
)


def insurer_member(d: Draw) -> tuple[str, str]:
    """A car/home insurer called "Mutuelle ..." or a club/airline member number: no health fact."""
    mutual = d.rng.random() < 0.5
    french = mutual or d.rng.random() < 0.4
    f = d.fr if french else d.en
    values = {
        "first": f.first_name(),
        "contract": d.rng.choice(("", "A", "AU-")) + d.digits(d.rng.choice((7, 8, 10))),
        "member": d.rng.choice(("", "S", "M")) + d.digits(d.rng.choice((6, 8, 9))),
        "insurer": d.rng.choice(
            (
                "Mutuelle de Poitiers Assurances",
                "MAIF (Mutuelle d'Assurance des Instituteurs de France)",
                "Mutuelle Assurance Automobile",
                "Macif - Mutuelle Assurance des Commerçants et Industriels de France",
                "Mutuelle Alsace Lorraine Jura",
                "Mutuelle de l'Est Assurances Auto",
            )
        ),
        "car": d.rng.choice(("Peugeot 208", "Renault Clio", "Tesla Model 3", "Citroën C3")),
        "plate": d.fr.license_plate(),
        "address": d.fr.address().replace("\n", ", "),
        "price": f"{d.rng.randrange(150, 1200)},00",
        "date": f.date(),
        "club": d.rng.choice(("FitZone Gym", "Club de tennis de Lyon", "SkyMiles", "Costco", "Cinéclub")),
        "points": str(d.rng.randrange(100, 9000)),
    }
    pool = MUTUELLE_FR if mutual else (MEMBER_FR if french else MEMBER_EN)
    body = d.pick(pool).format(**values)
    return body.split("\n", 1)[0], body


# --- real leaks in realistic mail: what must still be stopped -------------------------------------

LEAK_EN = (
    (
        "payment_card",
        "Hi,\n\nPlease charge my card for the renewal: {card}, exp {exp}, CVC {cvc}. Thanks, {first}",
    ),
    (
        "payment_card",
        "Booking for {first} {last}\nCard on file: {card_g}\nExpiry: {exp}\nGuest arrives {date}.",
    ),
    ("bank_account", "Hi {first}, for the refund please use my account: IBAN {iban}. Thanks!"),
    ("government_id", "Employee onboarding: {first} {last}, SSN {ssn}, start date {date}."),
    ("payment_card", "Gift purchase - paid with Visa {card_g}, loyalty points added."),
)
LEAK_FR = (
    ("payment_card", "Bonjour,\nVoici ma carte bancaire pour le paiement : {card_g}, exp {exp}."),
    ("bank_account", "Bonjour, voici mon RIB pour le remboursement : IBAN {iban}. Cordialement, {first}"),
    ("government_id", "Dossier de {first} {last} : numéro de sécurité sociale {nir}."),
    ("bank_account", "Pour le prélèvement, mon IBAN personnel : {iban} (titulaire {first} {last})."),
)


def identifier_leak(d: Draw) -> tuple[str, str, str]:
    """(group, subject, body): a card, an account or an ID a person really sent."""
    french = d.rng.random() < 0.45
    f = d.fr if french else d.en
    group, template = d.rng.choice(LEAK_FR if french else LEAK_EN)
    card = d.en.credit_card_number(d.rng.choice(("visa16", "mastercard", "amex", "discover")))
    local = Faker("fr_FR" if french else d.rng.choice(("de_DE", "en_GB", "fr_FR")))
    local.seed_instance(d.rng.randrange(1 << 30))
    body = template.format(
        card=card,
        card_g=grouped(card),
        exp=f"{d.rng.randrange(1, 13):02d}/{d.rng.randrange(26, 31)}",
        cvc=d.digits(3),
        first=f.first_name(),
        last=f.last_name(),
        iban=grouped(local.iban()),
        ssn=d.en.ssn(),
        nir=d.fr.ssn(),
        date=f.date(),
    )
    return group, body.split("\n", 1)[0][:60], body


Builder = Callable[[Draw], tuple[str, str]]
