"""MedicalDetector: records, ICD-10, MBI and claim numbers, English and French.

Table-driven over hand-written vectors, generated English/French records and look-alikes
(`tests.generators.medical`, fixed seed), the spaCy Doc path, and the shared corpus when present.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pytest

from scanner.assets import models_dir
from scanner.detect.medical.detector import EVIDENCE_KINDS, MedicalDetector
from scanner.model import Confidence, Group
from tests.detect.conftest import level, run, strongest
from tests.generators.medical import EN_RECORDS, FR_RECORDS, HAND_LOOK_ALIKES, generate, medical_samples

MEDIUM = Confidence.MEDIUM


# --- hand-written vectors ------------------------------------------------------------------------
RECORDS = [
    pytest.param(
        "Patient: John Carter\nDOB: 04/12/1957\nCHIEF COMPLAINT: chest pain.\nHISTORY OF PRESENT ILLNESS: "
        "67-year-old man with hypertension. EKG showed ST depression. Troponin 0.4.\n"
        "MEDICATIONS: metformin 500 mg twice daily.",
        Confidence.HIGH,
        id="en-note-header",
    ),
    pytest.param(
        "Mrs. Alvarez was admitted to the hospital with pneumonia; chest x-ray showed an infiltrate "
        "and she was started on ceftriaxone 1 g IV daily.",
        MEDIUM,
        id="en-title-name",
    ),
    pytest.param(
        "The patient is a 45-year-old woman with asthma on albuterol and fluticasone; spirometry "
        "and a CBC were ordered.",
        MEDIUM,
        id="en-age-sex",
    ),
    pytest.param(
        "Mme Durand, née le 12/03/1954, consulte pour un diabète de type 2. HbA1c à 8,2 %. "
        "Traitement : metformine 1000 mg 2 fois par jour. Tension artérielle 145/90.",
        Confidence.HIGH,
        id="fr-mme-nee-le",
    ),
    pytest.param(
        "La patiente présente une lombalgie chronique. IRM du rachis lombaire : hernie discale L4-L5. "
        "Traitement par tramadol 50 mg.",
        MEDIUM,
        id="fr-la-patiente",
    ),
    pytest.param(
        "Il s'agit d'un homme de 72 ans hospitalisé pour une insuffisance cardiaque. "
        "Furosémide 40 mg par jour.",
        MEDIUM,
        id="fr-homme-de-72-ans",
    ),
    pytest.param(
        "CHIEF COMPLAINT: cough.\nALLERGIES: penicillin.\n"
        "MEDICATIONS: lisinopril 10 mg.\nASSESSMENT: bronchitis.",
        MEDIUM,
        id="en-note-layout-only",
    ),
]


@pytest.mark.parametrize(("text", "at_least"), RECORDS)
def test_records_found(detector: MedicalDetector, text: str, at_least: Confidence) -> None:
    record = strongest(run(detector, text), "MEDICAL_RECORD")
    assert record is not None
    assert record.confidence >= at_least
    assert record.group is Group.MEDICAL
    assert 0 <= record.start < record.end <= len(text)
    assert record.masked.startswith("[clinical note: ")


NOT_RECORDS = [pytest.param(text, id=key) for key, text in HAND_LOOK_ALIKES.items()]


@pytest.mark.parametrize("text", NOT_RECORDS)
def test_look_alikes_pass(detector: MedicalDetector, text: str) -> None:
    assert level(run(detector, text)) < MEDIUM


def test_negation_lowers_score(detector: MedicalDetector) -> None:
    affirmed = (
        "The patient has diabetes and hypertension, takes metformin 500 mg daily and had a colonoscopy."
    )
    negated = (
        "The patient has no history of diabetes, denies hypertension, takes no metformin, "
        "never had a colonoscopy."
    )
    hypothetical = "If you have diabetes and hypertension, metformin and a colonoscopy may help the patient."
    strong = strongest(run(detector, affirmed), "MEDICAL_RECORD")
    assert strong is not None and strong.confidence >= MEDIUM
    for text in (negated, hypothetical):
        weak = strongest(run(detector, text), "MEDICAL_RECORD")
        assert weak is None or weak.score < strong.score


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Medicare number (MBI): 1EG4-TE5-MK73", Confidence.HIGH),
        ("MBI 1EG4TE5MK73 for the patient", Confidence.HIGH),
        ("Beneficiary identifier 9AA0AA0AA00", Confidence.HIGH),
        ("Please update the patient record: 2C39-A47-HP52.", MEDIUM),
        ("ref 1EG4TE5MK73", Confidence.LOW),
        ("Medicare MBI 0EG4TE5MK73", 0),  # position 1 is 1-9
        ("Medicare MBI 1SG4TE5MK73", 0),  # S never used
        ("Medicare MBI 1EGATE5MK73", 0),  # position 4 is numeric
        ("Medicare MBI 1EG4TB5MK73", 0),  # B never used
        ("Medicare MBI 1EG4TE5ML73", 0),  # L never used
        ("Medicare MBI 1EG4-TE5MK73", 0),  # dashes in both places or none
        ("Medicare MBI 1EG4TE5MK7", 0),  # ten characters
        ("Medicare MBI 1EG4TE5MK733", 0),  # twelve characters
        ("Medicare MBI 1eg4te5mk73", 0),  # printed upper-case
    ],
)
def test_medicare_mbi(detector: MedicalDetector, text: str, expected: int) -> None:
    findings = run(detector, text)
    assert level(findings, "US_MEDICARE_MBI") == expected
    if expected:
        mbi = strongest(findings, "US_MEDICARE_MBI")
        assert mbi is not None and mbi.masked.startswith("*******") and "TE5" not in mbi.masked


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Patient: Jane Roe, diabetes on insulin. ICD-10: E11.9", Confidence.HIGH),
        ("Diagnosis code J45.909 for Mr. Brown", MEDIUM),
        ("dx: I10 (the patient takes lisinopril 10 mg; BP 150/90)", Confidence.HIGH),
        ("La patiente, diabète : code CIM-10 E11.9", Confidence.HIGH),
        ("ICD-10 code list update: U07.1 added", Confidence.LOW),
        ("Firmware E11.9 released, see section J45.909", 0),  # no clinical context
        ("ICD-10: D95.1 for the patient", 0),  # D90-D99 unused
        ("ICD-10: H97.0 for the patient", 0),  # H96-H99 unused
        ("ICD-10 K96 for the patient", 0),  # K96 unused
        ("the patient, code E119", 0),  # undotted without an ICD keyword
    ],
)
def test_icd10(detector: MedicalDetector, text: str, expected: int) -> None:
    findings = run(detector, text)
    assert level(findings, "ICD10_CODE") == expected
    icd = strongest(findings, "ICD10_CODE")
    if icd is not None:
        assert "*" in icd.masked and text[icd.start : icd.end] not in icd.masked


@pytest.mark.parametrize(
    ("text", "category", "expected"),
    [
        ("MRN: 00482915", "HEALTH_CLAIM_ID", MEDIUM),
        ("MRN: 00482915 - hemoglobin 9.1, started iron supplements", "HEALTH_CLAIM_ID", Confidence.HIGH),
        ("Claim number: CLM-2024-0012345 for your hospital stay", "HEALTH_CLAIM_ID", MEDIUM),
        ("Member ID: W123456789 - Blue Cross health plan", "HEALTH_CLAIM_ID", MEDIUM),
        ("Mutuelle Harmonie, n° adhérent : 1234567890", "HEALTH_CLAIM_ID", MEDIUM),
        ("Numéro de mutuelle 987654321", "HEALTH_INSURANCE_ID", Confidence.HIGH),
        ("Policy number AB-99887766, health insurance renewal", "HEALTH_INSURANCE_ID", MEDIUM),
        ("Your member ID 88812345 has earned 5,000 miles.", None, 0),
        ("Order number: 12345678 shipped, tracking 1Z999AA10123456784.", None, 0),
        ("Claim your prize now: code 12345678!", None, 0),
        ("Insurance claim 2024-556677 for the car accident on the A6", None, 0),
    ],
)
def test_claim_and_member_ids(
    detector: MedicalDetector, text: str, category: str | None, expected: int
) -> None:
    findings = [f for f in run(detector, text) if f.category.startswith("HEALTH_")]
    assert level(findings, category) == expected
    for f in findings:
        value = re.sub(r"[^0-9A-Za-z]", "", text[f.start : f.end]).upper()
        assert f.masked.endswith(value[-4:]) and value not in f.masked


UNANCHORED_EN = (
    "Jonathan Whitaker was seen for major depressive disorder; sertraline 50 mg daily, TSH and CBC ordered."
)


def test_needs_nlp_only_when_an_anchor_is_missing(detector: MedicalDetector) -> None:
    unanchored = UNANCHORED_EN
    assert detector.needs_nlp(unanchored)
    assert not detector.needs_nlp("The patient was seen for depression; sertraline 50 mg daily, TSH ordered.")
    assert not detector.needs_nlp("Quarterly sales numbers and the new office opening hours.")
    assert level(run(detector, unanchored)) < MEDIUM


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        (
            "en",
            UNANCHORED_EN,
        ),
        (
            "fr",
            "Jean-Pierre Martin souffre d'une hypertension artérielle. Amlodipine 5 mg par jour, créatinine.",
        ),
    ],
)
def test_doc_path_person_anchor(
    detector: MedicalDetector, nlp: Mapping[str, Any], lang: str, text: str
) -> None:
    assert detector.needs_nlp(text)
    assert level(run(detector, text, None)) < MEDIUM
    assert level(run(detector, text, nlp[lang](text)), "MEDICAL_RECORD") >= MEDIUM


def test_doc_path_news_person_is_not_an_anchor(detector: MedicalDetector, nlp: Mapping[str, Any]) -> None:
    text = "Senator John Miller said lung cancer and respiratory disease rates fell in the state last year."
    assert level(run(detector, text, nlp["en"](text))) < MEDIUM


def test_deterministic(detector: MedicalDetector) -> None:
    text = str(RECORDS[0].values[0])
    assert run(detector, text) == run(detector, text) == run(MedicalDetector(models_dir()), text)


# --- generated records and look-alikes (tests.generators.medical, fixed seed) -----------------
def generated_rates(det: MedicalDetector) -> dict[str, tuple[int, int]]:
    """Found/total per generated set (records at >= MEDIUM; look-alikes counted when flagged)."""
    return {
        name: (sum(level(run(det, s.text)) >= MEDIUM for s in samples), len(samples))
        for name, samples in medical_samples(seed=7, copies=3).items()
    }


def test_generated_sets(detector: MedicalDetector) -> None:
    rates = generated_rates(detector)
    assert rates["en_records"][0] == rates["en_records"][1]
    assert rates["fr_records"][0] == rates["fr_records"][1]
    assert rates["en_look_alikes"][0] == 0
    assert rates["fr_look_alikes"][0] == 0


def test_masked_never_carries_names_or_ids(detector: MedicalDetector) -> None:
    samples = [*generate(EN_RECORDS, "en_US", 11, 2), *generate(FR_RECORDS, "fr_FR", 11, 2)]
    checked = 0
    for sample in samples:
        for f in run(detector, sample.text):
            checked += 1
            for secret in sample.secrets:
                assert secret.lower() not in f.masked.lower()
            names = re.findall(r"[A-Z][a-zà-ÿ'-]+", sample.text[f.start : f.end])
            # the masked form names evidence kinds ("lab"): a capitalised "Lab" heading is no name
            words = [n.lower() for n in names if len(n) > 2 and n.lower() not in EVIDENCE_KINDS]
            assert not any(w in f.masked.lower() for w in words)
    assert checked >= len(samples)
