"""The engine end to end: categories, confidence ladder, offsets, masking, determinism, batching."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from scanner.assets import models_dir
from scanner.detect import DetectionEngine, build_engine
from scanner.detect.medical.detector import MedicalDetector
from scanner.model import Confidence, Finding, Group, Segment
from tests.detect.conftest import flagged, scan


@pytest.mark.parametrize(
    ("text", "category", "group"),
    [
        ("Here's my SSN: 054-28-6917", "US_SSN", Group.GOVERNMENT_ID),
        ("His social security number is 853 37 1694", "US_SSN", Group.GOVERNMENT_ID),
        ("my ITIN is 912-70-1234", "US_ITIN", Group.GOVERNMENT_ID),
        ("My driver's license number is 6940579", "US_DRIVER_LICENSE", Group.GOVERNMENT_ID),
        ("my driver's license number is 2270-66-1551", "US_DRIVER_LICENSE", Group.GOVERNMENT_ID),
        ("My passport number is 512345678.", "US_PASSPORT", Group.GOVERNMENT_ID),
        ("Mon numéro de sécurité sociale : 1 85 05 78 006 084 91", "FR_NIR", Group.GOVERNMENT_ID),
        ("NIR 2 84 12 2A 500 512 30", "FR_NIR", Group.GOVERNMENT_ID),
        ("Mon numéro fiscal est 30 23 217 600 053.", "FR_TAX_ID", Group.GOVERNMENT_ID),
        ("Mon permis de conduire n° 13AA00002", "FR_DRIVER_LICENSE", Group.GOVERNMENT_ID),
        ("Ma carte d'identité : X4RTBPFW4", "FR_ID_CARD", Group.GOVERNMENT_ID),
        ("Passeport n° 12AB34567", "FR_PASSPORT", Group.GOVERNMENT_ID),
        ("cc 4007070753690781", "PAYMENT_CARD", Group.PAYMENT_CARD),
        ("card number 3598899323053410 is lost", "PAYMENT_CARD", Group.PAYMENT_CARD),
        ("my credit card number is 587428561654?", "PAYMENT_CARD", Group.PAYMENT_CARD),
        ("Carte bancaire : 4970 1012 3456 7893", "PAYMENT_CARD", Group.PAYMENT_CARD),
        ("my iban is gb42nawi04454264788619", "IBAN", Group.BANK_ACCOUNT),
        ("IBAN FR14 2004 1010 0505 0001 3M02 606 merci", "IBAN", Group.BANK_ACCOUNT),
        ("Voici mon RIB : 30002 00550 0000157845Z 02", "FR_RIB", Group.BANK_ACCOUNT),
        ("Routing 021000021, account number 4839201746", "US_BANK_ACCOUNT", Group.BANK_ACCOUNT),
        ("acct # 000123456789 at our bank", "US_BANK_ACCOUNT", Group.BANK_ACCOUNT),
    ],
)
def test_detects_each_category(engine: DetectionEngine, text: str, category: str, group: Group) -> None:
    found = flagged(scan(engine, text))
    assert [(f.category, f.group) for f in found] == [(category, group)]


@pytest.mark.parametrize(
    ("text", "confidence"),
    [
        ("4556 7375 8686 1111", Confidence.MEDIUM),  # pattern + checksum
        ("card 4556 7375 8686 1111", Confidence.HIGH),  # + context
        ("ref 4556 7375 8686 1111", Confidence.LOW),  # checksum but look-alike context
        ("card 4556 7375 8686 1111, order ref", Confidence.MEDIUM),  # both kinds of context
        ("054-28-6917", Confidence.MEDIUM),  # formatted, area/group/serial rules
        ("SSN 054-28-6917", Confidence.HIGH),
        ("passport number 512345678", Confidence.MEDIUM),  # no checksum exists: context
    ],
)
def test_confidence_ladder(fast_engine: DetectionEngine, text: str, confidence: Confidence) -> None:
    found = scan(fast_engine, text)
    assert [f.confidence for f in found] == [confidence]
    assert 0.0 <= found[0].score <= 1.0


def test_scores_follow_confidence(fast_engine: DetectionEngine) -> None:
    texts = ("ref 4556 7375 8686 1111", "4556 7375 8686 1111", "visa 4556 7375 8686 1111")
    low, medium, high = (scan(fast_engine, t)[0] for t in texts)
    assert low.score < medium.score < high.score


@pytest.mark.parametrize(
    "text",
    [
        "512345678",  # passport digits, no passport word
        "6940579",  # licence digits alone
        "4839201746",  # account digits alone
        "3598899323053410",  # Luhn-valid outside the IIN table, no card word
        "054286917",  # nine bare digits: only with SSN context
    ],
)
def test_context_only_identifiers_need_context(fast_engine: DetectionEngine, text: str) -> None:
    assert scan(fast_engine, f"Hello, {text} thanks") == []


@pytest.mark.parametrize(
    "text",
    [
        "card ４５５６ ７３７５ ８６８６ １１１１",  # fullwidth digits
        "card 4556\u200b7375\u200b8686\u200b1111",  # zero-width spaces
        "card 4556\u00a07375\u00a08686\u00a01111",  # NBSP
        "card 4556\u202f7375\u20098686 1111",  # narrow and thin spaces
        "card 4556-7375.8686 1111",  # mixed separators
        "card 4556\u20137375\u20138686\u20131111",  # en dashes
        "card ٤٥٥٦٧٣٧٥٨٦٨٦١١١١",  # Arabic-Indic digits
        "card 4556\x017375\x028686\x7f1111",  # ASCII control characters (invisible in clients)
        "card 4556\u200e7375\u202e8686\u20621111",  # bidi marks, invisible times
    ],
)
def test_evasions_are_seen_through(fast_engine: DetectionEngine, text: str) -> None:
    found = scan(fast_engine, text)
    assert [(f.category, f.confidence) for f in found] == [("PAYMENT_CARD", Confidence.HIGH)]
    # offsets point at the original characters, invisible ones included
    original = text[found[0].start : found[0].end]
    assert original[0] in "4４٤" and original[-1] in "1１١"
    assert found[0].masked.endswith("1111")


def test_offsets_index_the_original_segment(fast_engine: DetectionEngine) -> None:
    text = "Bonjour,\n\nmon IBAN est FR14\u00a02004\u00a01010\u00a00505\u00a00001\u00a03M02\u00a0606 merci"
    (finding,) = scan(fast_engine, text)
    assert text[finding.start : finding.end].replace("\u00a0", "") == "FR1420041010050500013M02606"
    assert finding.location == "body[1]"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("SSN 123-45-6780", "***-**-6780"),
        ("card 4556 7375 8686 1111", "**** **** **** 1111"),
        ("IBAN FR14 2004 1010 0505 0001 3M02 606", "FR14 **** **** **** **** ***2 606"),
        ("NIR 1 85 05 78 006 084 91", "1 ** ** ** *** *** 91"),
        ("RIB 30002 00550 0000157845Z 02", "***** ***** *********** 02"),
    ],
)
def test_masking_keeps_only_the_tail(fast_engine: DetectionEngine, text: str, masked: str) -> None:
    (finding,) = scan(fast_engine, text)
    assert finding.masked == masked


def test_masked_forms_never_leak_more_than_four_characters_of_the_tail(engine: DetectionEngine) -> None:
    texts = [
        "SSN 054-28-6917, card 4007070753690781, IBAN GB82 WEST 1234 5698 7654 32",
        "NIR 185057800608491, RIB 30002 00550 0000157845Z 02, numéro fiscal 3023217600053",
        "driver's license number 2270-66-1551; passport number 512345678",
    ]
    for text in texts:
        for f in scan(engine, text):
            value = re.sub(r"\W", "", text[f.start : f.end])
            shown = re.sub(r"[\W*]", "", f.masked)
            # the head kept for IBAN (country + check digits) and NIR (sex digit) is not identifying
            head = {"IBAN": 4, "FR_NIR": 1}.get(f.category, 0)
            assert len(shown) - head <= 4, f.category
            assert value[:-4][head:] not in f.masked.replace(" ", "") or len(value) <= 8


def test_detect_is_deterministic_and_batch_equals_single(engine: DetectionEngine) -> None:
    messages = [
        [Segment("subject", "SSN 054-28-6917"), Segment("body[1]", "card 4556 7375 8686 1111")],
        [Segment("body[1]", "rien à signaler, commande 12345678")],
        [Segment("body[1]", "NIR 2 84 12 2A 500 512 30 et IBAN FR14 2004 1010 0505 0001 3M02 606")],
    ]
    single = [engine.detect(m) for m in messages]
    assert engine.detect_batch(messages) == single
    assert engine.detect_batch(messages) == single
    assert [f.location for f in single[0]] == ["subject", "body[1]"]
    assert single[1] == []


def test_sentence_bound_context_uses_spacy(engine: DetectionEngine, fast_engine: DetectionEngine) -> None:
    # the licence keyword ends the previous sentence; the number belongs to another sentence
    text = "I renewed my driver's license. Meeting room 4481920 is booked for Tuesday."
    assert flagged(scan(fast_engine, text))  # window only: the keyword is near
    assert flagged(scan(engine, text)) == []  # spaCy: different sentence


def test_extra_presidio_recognizers_by_name() -> None:
    engine = build_engine(nlp=False, extra_recognizers=["ES_NIF", "UK_NHS"])
    found = engine.detect([Segment("body[1]", "DNI 12345678Z, NHS number 943 476 5919")])
    assert {(f.category, f.group) for f in found} == {
        ("ES_NIF", Group.GOVERNMENT_ID),
        ("UK_NHS", Group.GOVERNMENT_ID),
    }
    assert all(f.masked.count("*") >= 6 for f in found)


def test_unknown_extra_recognizer_is_refused() -> None:
    with pytest.raises(ValueError, match="NO_SUCH"):
        build_engine(nlp=False, extra_recognizers=["NO_SUCH"])


class _RecordingMedical(MedicalDetector):
    def __init__(self) -> None:
        super().__init__(models_dir())
        self.seen: list[tuple[str, Any]] = []

    def needs_nlp(self, text: str) -> bool:
        return "patient" in text

    def detect(self, segment: Segment, doc: Any) -> list[Finding]:
        self.seen.append((segment.text, doc))
        if doc is None:
            return []
        return [
            Finding("MEDICAL_RECORD", Group.MEDICAL, segment.location, 0, 7, 0.8, Confidence.MEDIUM, "***")
        ]


def test_medical_detector_gets_a_language_doc_only_when_asked(engine: DetectionEngine) -> None:
    medical = _RecordingMedical()
    wired = DetectionEngine(
        engine.rules,
        _lexicon(),
        medical,
        nlp_models=engine._nlp,
        window=engine.window,
    )
    found = wired.detect_batch(
        [
            [Segment("body[1]", "Le patient présente une toux depuis trois jours et il est fatigué.")],
            [Segment("body[1]", "Lunch at noon?")],
        ]
    )
    docs = dict(medical.seen)
    assert docs["Lunch at noon?"] is None
    doc = docs["Le patient présente une toux depuis trois jours et il est fatigué."]
    assert doc is not None and doc.lang_ == "fr"
    assert [f.category for f in found[0]] == ["MEDICAL_RECORD"] and found[1] == []


def _lexicon() -> Any:
    from scanner.detect.context import ContextLexicon

    return ContextLexicon.load(Path(models_dir()) / "context")


@pytest.mark.parametrize(
    ("text", "confidence"),
    [
        ("021000021 / 4839201746", Confidence.MEDIUM),  # valid ABA routing number beside it
        ("routing 021000021, account number 4839201746", Confidence.HIGH),
        ("account number 4839201746", Confidence.MEDIUM),  # strong words alone
        ("021000022 / 4839201746", None),  # routing checksum wrong, no words
    ],
)
def test_us_bank_account_needs_routing_number_or_words(
    fast_engine: DetectionEngine, text: str, confidence: Confidence | None
) -> None:
    found = [f for f in scan(fast_engine, text) if f.category == "US_BANK_ACCOUNT"]
    assert [f.confidence for f in found] == ([confidence] if confidence else [])
    assert all(f.masked.endswith("1746") for f in found)
