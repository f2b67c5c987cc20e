"""Realistic customer mail: what a sending platform's customers send, EN and FR, as MIME. Pure.

    python -m benchmarks.generate_customer [--split dev|held] [--show CLASS] [--count N]

Written apart from the detectors and their tests (different templates, different fillers):
clinics, pharmacies, labs and physiotherapists writing to their patients, nameless clinical
report layouts, health newsletters and adverts, medical-education case narratives, vets,
telecoms (SIM ICCIDs, IMEIs), retailers (loyalty and gift cards, EAN codes), password-reset
and newsletter links carrying ids, banks (confirmations beside routing numbers), insurers
named "Mutuelle ...", clubs with member numbers, payment processors' test cards, companies'
own IBAN on their invoices, and ordinary transactional mail with its footers
(Privacy Policy, Unsubscribe, Politique de confidentialité, RCS/SIRET). A few real leaks
(a card, an IBAN, an SSN/NIR a person sent) check the look-alike rules do not eat them.

Two splits from two seeds: `dev` (tuned on) and `held` (measured, never tuned on). The held
split also uses every fourth template of each list, which the dev split never shows
(`Draw.pick`). Each message is built as MIME (text/plain, sometimes with an HTML alternative)
and extracted by `scanner.extract`, as the proxy does.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from email.message import EmailMessage
from html import escape
from random import Random

from faker import Faker

from benchmarks.generate_customer_health import (
    clinical_report,
    cme_case,
    health_newsletter,
    person_health,
    veterinary,
)
from benchmarks.generate_customer_numbers import (
    Draw,
    aba_confirmation,
    identifier_leak,
    insurer_member,
    luhn_noncard,
    sender_iban,
    test_card,
)
from scanner.extract import extract
from scanner.model import Segment

SEEDS = {"dev": 1201, "held": 7919}
Message = tuple[str, str, frozenset[str], tuple[Segment, ...]]  # (name, class, expected groups, segments)

TRANSACTIONAL_EN = (
    "Order confirmation #{order}\n\nHi {first},\n\nThanks for your order! We'll let you know when it "
    "ships.\n\n{item} x{qty} ${price}\nShipping: free\nTotal: ${total}\n\nShipping to: {address}",
    "Your order {order} has shipped!\n\nCarrier: {carrier}\nTracking number: {tracking}\nExpected "
    "delivery: {date}.",
    "Your receipt from {company}\n\nReceipt #{short}-{short2}\nPro plan (monthly) ${price}\nPaid with "
    "Visa ending in {last4} on {date}.\nQuestions? support@{domain}",
    "Reset your password\n\nHi {first}, click the link below to choose a new password. The link expires "
    "in 60 minutes.\nhttps://{domain}/reset/{token}",
    "Your reservation is confirmed\n\n{company} - table for {qty} on {date} at 8:00 pm.\nConfirmation "
    "code: {code}. Call {phone} to change it.",
    "Your booking at {company} Hotel\nCheck-in: {date}\nBooking number: {order}\nRoom: Deluxe King, "
    "{qty} nights, total ${total}.",
    "Weekly digest from {company}\n\n- 10 productivity tips for remote teams\n- Our new API is live\n- "
    "Customer story: how {company2} cut costs by 30%\n\nRead more on our blog.",
    "Your tickets for {event}\nOrder {order} - {qty} tickets\nDoors open at 7 pm on {date}. Ticket "
    "barcodes: {short}{short2}, {short2}{short}.",
    "Your statement is ready\n\nHi {first}, your {company} account statement for {month} is available. "
    "Balance: ${total}. Log in to view it.",
    "Welcome to {company}!\n\nHi {first}, your account is ready. Your username: {user}. Get started by "
    "setting up your profile.",
    "Your appointment at {company} Hair Studio on {date} at 3:30 pm is confirmed. Stylist: {first2}. "
    "Reply C to cancel.",
    "Delivery slot booked: {date}, 10:00-12:00. Order {order}, {qty} items. Driver will call {phone}.",
)  # fmt: skip
TRANSACTIONAL_FR = (
    "Confirmation de votre commande n° {order}\n\nBonjour {first},\n\nMerci pour votre commande !\n\n"
    "{item} x{qty} {price} €\nLivraison : offerte\nTotal TTC : {total} €\n\nAdresse de livraison : "
    "{address}",
    "Votre colis est en route\n\nTransporteur : Colissimo\nNuméro de suivi : {tracking}\nLivraison prévue "
    "le {date}.",
    "Votre facture {company}\n\nFacture n° {short}-{short2} du {date}\nAbonnement Premium : {price} € TTC\n"
    "Payé par carte bancaire se terminant par {last4}.",
    "Réinitialisation du mot de passe\n\nBonjour {first}, cliquez sur ce lien pour choisir un nouveau "
    "mot de passe : https://{domain}/reinit/{token}",
    "Votre réservation est confirmée\n\n{company} - table pour {qty} le {date} à 20h.\nCode de "
    "réservation : {code}. Tél. {phone}.",
    "La newsletter de {company}\n\n- Nos nouveautés de la saison\n- -30 % sur une sélection\n- Le mot du "
    "fondateur\n\nBonne lecture !",
    "Vos billets pour {event}\nCommande {order} - {qty} places\nOuverture des portes à 19h le {date}.",
    "Bienvenue chez {company} !\n\nBonjour {first}, votre compte est créé. Votre identifiant : {user}.",
    "Votre rendez-vous chez {company} Coiffure le {date} à 15h30 est confirmé. Répondez ANNULER pour "
    "annuler.",
    "Votre relevé de compte de {month} est disponible dans votre espace client. Solde : {total} €.",
)  # fmt: skip
FOOTER_EN = (
    "\n\n--\nYou are receiving this email because you have an account with {company}.\nUnsubscribe | "
    "Privacy Policy | Terms of Service\n{company}, {address}",
    "\n\n{company} · {address}\nManage your email preferences or unsubscribe. Read our Privacy Policy.",
    "\n\nThis message was sent to {email}. If you no longer wish to receive these emails, unsubscribe "
    "here. © 2025 {company}. All rights reserved.",
    "\n\nNeed help? Visit our Help Center or call {phone}.\nPrivacy Policy | Cookie Policy | Unsubscribe",
)  # fmt: skip
FOOTER_FR = (
    "\n\n--\nVous recevez cet e-mail car vous êtes client(e) de {company}.\nSe désabonner | Politique de "
    "confidentialité | Mentions légales\n{company} SAS au capital de 50 000 € - RCS {city} {siren} - "
    "SIRET {siret}",
    "\n\n{company} - {address}\nSIRET {siret} - TVA intracommunautaire {tva}\nPour ne plus recevoir nos "
    "e-mails, cliquez ici. Politique de confidentialité.",
    "\n\nConformément au RGPD, vous disposez d'un droit d'accès et de rectification de vos données. "
    "Désinscription | Politique de confidentialité\n{company}, RCS {city} B {siren}",
)  # fmt: skip


def _tva(siren: str) -> str:
    key = (12 + 3 * (int(siren) % 97)) % 97
    return f"FR{key:02d}{siren}"


def footer(d: Draw, french: bool) -> str:
    f = d.fr if french else d.en
    siren = d.fr.siren().replace(" ", "")
    return d.rng.choice(FOOTER_FR if french else FOOTER_EN).format(
        company=f.company(),
        address=f.address().replace("\n", ", "),
        email=f.email(),
        phone=f.phone_number(),
        city=d.fr.city(),
        siren=siren,
        siret=d.fr.siret(),
        tva=_tva(siren),
    )


def transactional(d: Draw) -> tuple[str, str]:
    french = d.rng.random() < 0.45
    f = d.fr if french else d.en
    qty = d.rng.randrange(1, 6)
    price = d.rng.randrange(5, 400)
    body = d.pick(TRANSACTIONAL_FR if french else TRANSACTIONAL_EN).format(
        order=d.rng.choice(("", "A", "FR", "#")) + d.digits(d.rng.choice((6, 8, 10, 12))),
        first=f.first_name(),
        first2=f.first_name(),
        item=d.rng.choice(("Wireless earbuds", "T-shirt bio", "Coffee beans 1kg", "Running shoes")),
        qty=qty,
        price=f"{price}.99" if not french else f"{price},99",
        total=f"{price * qty + 4}.50" if not french else f"{price * qty + 4},50",
        address=f.address().replace("\n", ", "),
        carrier=d.rng.choice(("UPS", "FedEx", "USPS", "DHL")),
        tracking=d.rng.choice(
            ("1Z" + d.digits(16), "9400" + d.digits(18), d.digits(12), "6A" + d.digits(11))
        ),
        date=f.date(),
        company=f.company(),
        company2=f.company(),
        short=d.digits(4),
        short2=d.digits(4),
        last4=d.digits(4),
        domain=f.domain_name(),
        token=f.sha1()[:32],
        code=f.bothify("??##??").upper(),
        phone=f.phone_number(),
        event=d.rng.choice(("Jazz Night", "Rock en Seine", "The Lion King", "Web Summit")),
        month=f.month_name(),
        user=f.user_name(),
    )
    return body.split("\n", 1)[0], body


# class -> (builder, expected groups, messages per split, share with a transactional footer)
CLASSES: dict[str, tuple[Callable[[Draw], tuple[str, str]], frozenset[str], int, float]] = {
    "health_person": (person_health, frozenset({"medical"}), 320, 0.5),
    "clinical_report": (clinical_report, frozenset({"medical"}), 200, 0.2),
    "health_newsletter": (health_newsletter, frozenset(), 300, 0.9),
    "cme_case": (cme_case, frozenset(), 150, 0.7),
    "veterinary": (veterinary, frozenset(), 150, 0.5),
    "luhn_noncard": (luhn_noncard, frozenset(), 320, 0.5),
    "aba_confirmation": (aba_confirmation, frozenset(), 100, 0.4),
    "insurer_member": (insurer_member, frozenset(), 160, 0.5),
    "test_card": (test_card, frozenset(), 100, 0.3),
    "sender_iban": (sender_iban, frozenset(), 150, 0.5),
    "transactional": (transactional, frozenset(), 1000, 0.8),
}
LEAKS = 200  # real identifiers, class "identifier_leak", expected group per message


def _html(body: str) -> str:
    paragraphs = "".join(f"<p>{escape(p).replace(chr(10), '<br>')}</p>" for p in body.split("\n\n"))
    return f'<html><body><div style="font-family:Arial">{paragraphs}</div></body></html>'


def _mime(subject: str, body: str, d: Draw) -> bytes:
    msg = EmailMessage()
    msg["From"] = d.en.company_email()
    msg["To"] = d.en.email()
    msg["Subject"] = subject.strip() or "(no subject)"
    msg.set_content(body)
    if d.rng.random() < 0.4:
        msg.add_alternative(_html(body), subtype="html")
    return msg.as_bytes()


def customer_messages(split: str = "dev", scale: float = 1.0) -> list[Message]:
    """Every class of one split, deterministic for a split and a scale."""
    seed = SEEDS[split]
    en, fr = Faker("en_US"), Faker("fr_FR")
    en.seed_instance(seed)
    fr.seed_instance(seed + 1)
    d = Draw(en, fr, Random(seed), held=split == "held")
    out: list[Message] = []
    for name, (build, expected, count, footed) in CLASSES.items():
        for i in range(max(1, round(count * scale))):
            subject, body = build(d)
            if d.rng.random() < footed:
                body += footer(d, any(ch in body for ch in "éèàç") or " le " in body)
            segments = extract(_mime(subject, body, d)).segments
            out.append((f"customer-{split}/{name}-{i}", name, expected, segments))
    for i in range(max(1, round(LEAKS * scale))):
        group, subject, body = identifier_leak(d)
        if d.rng.random() < 0.5:
            body += footer(d, " le " in body or "é" in body)
        segments = extract(_mime(subject, body, d)).segments
        out.append((f"customer-{split}/identifier_leak-{i}", "identifier_leak", frozenset({group}), segments))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=sorted(SEEDS), default="dev")
    parser.add_argument("--show", default=None, help="print the messages of one class")
    parser.add_argument("--count", type=int, default=3)
    args = parser.parse_args(argv)
    messages = customer_messages(args.split)
    shown = 0
    for name, kind, expected, segments in messages:
        if args.show == kind and shown < args.count:
            shown += 1
            print(f"=== {name} expect={sorted(expected)}")
            for s in segments:
                print(f"[{s.location}] {s.text}")
    counts: dict[str, int] = {}
    for _, kind, _, _ in messages:
        counts[kind] = counts.get(kind, 0) + 1
    print(", ".join(f"{k}: {v}" for k, v in counts.items()), f"(total {len(messages)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
