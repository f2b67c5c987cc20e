"""Generated English and French identifier messages, medical records and their look-alikes
(Faker, fixed seed): the "generated" set of `benchmarks.accuracy` and of the detection tests.
"""

from __future__ import annotations

from collections.abc import Callable

from scanner.model import Segment
from tests.generators.identifiers import (
    BANK,
    EN_CARD,
    EN_GOV,
    FIXED_END,
    FR_CARD,
    FR_GOV,
    NEGATIVE,
    forms,
    spaced,
)

Message = tuple[str, str, frozenset[str], tuple[Segment, ...]]  # (name, kind, expected, segments)


def generated_messages(seed: int, per_kind: int = 60) -> list[Message]:
    from faker import Faker

    from scanner.detect.recognizers.fr_rib import rib_key

    en, fr = Faker("en_US"), Faker("fr_FR")
    en.seed_instance(seed)
    fr.seed_instance(seed)
    rng = en.random
    out: list[Message] = []

    def add(kind: str, group: str | None, text: str) -> None:
        expect = frozenset({group}) if group else frozenset()
        out.append((f"generated/{kind}-{len(out)}", kind, expect, (Segment("body[1]", text),)))

    brands = (
        "visa16",
        "visa13",
        "visa19",
        "mastercard",
        "amex",
        "discover",
        "diners",
        "jcb15",
        "jcb16",
        "maestro",
    )
    for i in range(per_kind * 2):
        number = en.credit_card_number(brands[i % len(brands)])
        templates = EN_CARD if i % 2 else FR_CARD
        add("card", "payment_card", rng.choice(templates).format(v=forms(number, i)))
    for i in range(per_kind):
        add("gov-en", "government_id", rng.choice(EN_GOV["ssn"]).format(v=en.ssn()))
        add("gov-en", "government_id", rng.choice(EN_GOV["itin"]).format(v=en.itin()))
        add("gov-en", "government_id", rng.choice(EN_GOV["dl"]).format(v=en.bothify("?#######").upper()))
        add("gov-en", "government_id", rng.choice(EN_GOV["passport"]).format(v=en.numerify("#########")))
        nir = fr.ssn()
        if i % 2:  # the printed form: 1 85 05 78 006 084 36
            nir = " ".join((nir[0], nir[1:3], nir[3:5], nir[5:7], nir[7:10], nir[10:13], nir[13:]))
        add("gov-fr", "government_id", rng.choice(FR_GOV["nir"]).format(v=nir))
        spi = str(rng.randrange(0, 4)) + en.numerify("#########")
        spi += f"{int(spi) % 511:03d}"
        add("gov-fr", "government_id", rng.choice(FR_GOV["spi"]).format(v=spi))
        add(
            "gov-fr",
            "government_id",
            FR_GOV["permis"][0].format(v=en.numerify("##") + en.lexify("??").upper() + en.numerify("#####")),
        )
        add(
            "gov-fr",
            "government_id",
            FR_GOV["passeport"][0].format(
                v=en.numerify("##") + en.lexify("??").upper() + en.numerify("#####")
            ),
        )
        add("gov-fr", "government_id", FR_GOV["cni"][0].format(v=en.numerify("############")))
    locales = (
        "fr_FR",
        "de_DE",
        "en_GB",
        "es_ES",
        "it_IT",
        "nl_NL",
        "pt_PT",
        "pl_PL",
        "fi_FI",
        "no_NO",
        "sv_SE",
    )
    for i in range(per_kind * 2):
        local = Faker(locales[i % len(locales)])
        local.seed_instance(seed + i)  # an unseeded instance draws from Faker's shared random
        iban = local.iban()
        form = iban.lower() if i % 7 == 0 else spaced(iban) if i % 2 else iban
        add("bank", "bank_account", rng.choice(BANK).format(v=form))
    for _ in range(per_kind // 2):
        bank, branch, account = (
            en.numerify("#####"),
            en.numerify("#####"),
            en.numerify("##########") + en.lexify("?").upper(),
        )
        rib = f"{bank} {branch} {account} {rib_key(bank, branch, account):02d}"
        add("bank", "bank_account", f"Voici mon RIB : {rib}")
        add("bank", "bank_account", f"Routing {en.aba()}, account number {en.numerify('##########')}")
    for _ in range(per_kind * 5):
        card = en.credit_card_number("visa16")
        add(
            "lookalike",
            None,
            rng.choice(NEGATIVE).format(
                order=en.numerify("#" * rng.randrange(8, 17)),
                ups=en.bothify("???######").upper() + en.numerify("#######"),
                usps=spaced(en.numerify("94" + "#" * 20)),
                invoice=en.bothify("INV-####-####"),
                date=en.date(),
                siret=fr.siret(),
                siren=fr.siren(),
                phone_us=en.phone_number(),
                phone_fr=fr.phone_number(),
                ts=en.iso8601(end_datetime=FIXED_END),  # not "now": same text every run
                epoch=en.numerify("17##########"),
                uuid=en.uuid4(),
                sha=en.sha1(),
                last4=card[-4:],
                masked6=card[:6] + "******" + card[-4:],
                zip4=en.zipcode_plus4(),
            ),
        )
    _add_medical(add, seed, copies=per_kind // 10)
    return out


def _add_medical(add: Callable[[str, str | None, str], None], seed: int, copies: int) -> None:
    """Generated medical records (group medical) and medical look-alikes, each distinct text once."""
    from tests.generators.medical import medical_samples

    seen: set[str] = set()
    for name, samples in medical_samples(seed, copies).items():
        record = name.endswith("records")
        for sample in samples:
            if sample.text not in seen:  # hand-written look-alikes have no fields to vary
                seen.add(sample.text)
                add("medical" if record else "lookalike-medical", "medical" if record else None, sample.text)
