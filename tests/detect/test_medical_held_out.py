"""MedicalDetector on a held-out set (written after tuning, never tuned against) and the corpus.

The held-out texts run the way the engine runs them: a spaCy Doc only where `needs_nlp` asks.
The corpus check (66 French clinical notes, ham and PII mail) skips when the corpus is absent
(fails under SENDGUARD_REQUIRE_CORPUS=1).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from scanner.detect.medical.detector import MedicalDetector
from scanner.extract import extract
from scanner.model import Confidence, Finding
from tests.corpus import corpus_dir, require_corpus
from tests.detect.conftest import level, run

MEDIUM = Confidence.MEDIUM


# --- written after the detector was tuned, never tuned against: a held-out check -------------------
HELD_OUT_RECORDS = [
    (
        "en",
        "SUBJECTIVE: Ms. Keller returns for follow-up of her COPD. She reports increased sputum and "
        "wheezing for 3 days.\nOBJECTIVE: Temp 37.9, BP 132/78, pulse 96, O2 sat 91% on room air. "
        "Diffuse expiratory wheezes.\nASSESSMENT: COPD exacerbation.\nPLAN: prednisone 40 mg daily x5 "
        "days, doxycycline 100 mg bid, albuterol nebs.",
    ),
    (
        "en",
        "RADIOLOGY REPORT\nPatient: Harold Jennings  DOB: 1948-02-11\nExam: CT chest with "
        "contrast\nFindings: 2.3 cm spiculated nodule in the right upper lobe. No pleural effusion. "
        "Mediastinal lymph nodes are not enlarged.\nImpression: suspicious for primary lung "
        "malignancy; recommend PET-CT and biopsy.",
    ),
    (
        "en",
        "OPERATIVE NOTE\nSurgeon: Dr. Patel\nPatient: Maria Gonzalez\nPreoperative diagnosis: acute "
        "appendicitis.\nProcedure: laparoscopic appendectomy.\nAnesthesia: general "
        "endotracheal.\nEstimated blood loss: 10 mL. The patient tolerated the procedure well.",
    ),
    (
        "en",
        "Hi Karen,\nQuick update on Tom Baker (MRN 55123908): his potassium came back at 6.1 this "
        "morning and creatinine is up to 2.4. I held the lisinopril and spironolactone and ordered "
        "a repeat BMP in 4 hours.\nThanks, Mike",
    ),
    (
        "en",
        "Explanation of Benefits\nMember: Susan Clark\nMember ID: XJH482913377\nClaim number: "
        "2024091800123\nProvider: Riverside Orthopedics\nService: MRI lumbar spine (CPT "
        "72148)\nDiagnosis: M54.16 radiculopathy, lumbar region\nAmount billed: $1,850.00  Plan paid: "
        "$1,240.00  You owe: $610.00",
    ),
    (
        "en",
        "Dear Dr. Nguyen, thank you for seeing Mr. Robert Hale, a 58-year-old man with poorly "
        "controlled type 2 diabetes (HbA1c 9.4%) despite metformin 1000 mg twice daily and "
        "glipizide 10 mg. He also has stage 3 chronic kidney disease (eGFR 48).",
    ),
    (
        "en",
        "PSYCHIATRIC EVALUATION\nName: Emily Stone\nDate of birth: 07/22/1990\nChief complaint: low "
        "mood and insomnia for 2 months.\nDiagnosis: major depressive disorder, single episode, "
        "moderate (F32.1).\nPlan: start sertraline 50 mg daily, CBT referral, follow-up in 4 weeks.",
    ),
    (
        "en",
        "Pediatric visit: Liam is a 4-year-old boy brought in by his mother with fever to 39.4 and "
        "right ear pain. Tympanic membrane bulging and erythematous. Diagnosis: acute otitis media. "
        "Amoxicillin 90 mg/kg/day divided bid for 10 days.",
    ),
    (
        "en",
        "Lab report for Jane Doe (DOB 3/14/1975)\nCBC: WBC 12.8, hemoglobin 10.2, platelets 410\nCMP: "
        "sodium 134, potassium 3.3, creatinine 0.9, glucose 212\nHbA1c: 8.7%",
    ),
    (
        "en",
        "Pathology: Specimen from Mr. Alan Brooks, left breast core biopsy. Invasive ductal "
        "carcinoma, grade 2, ER positive, PR positive, HER2 negative. Margins not applicable.",
    ),
    (
        "en",
        "ER note: 34 yo F presents with sudden onset severe headache, worst of her life, with neck "
        "stiffness and vomiting. BP 168/102. CT head negative; lumbar puncture ordered to rule out "
        "subarachnoid hemorrhage.",
    ),
    (
        "en",
        "Please find attached the discharge letter for Mrs. Olivia Turner. She was admitted with a "
        "left hip fracture after a fall and underwent hemiarthroplasty on 10/02. Discharged on "
        "enoxaparin 40 mg daily for 28 days and oxycodone 5 mg as needed.",
    ),
    (
        "fr",
        "Compte rendu d'hospitalisation\nMme Lefèvre Claire, 67 ans, hospitalisée du 3 au 9 mars "
        "pour une décompensation cardiaque. Échographie cardiaque : FEVG 35 %. Traitement de sortie "
        ": furosémide 40 mg, bisoprolol 2,5 mg, ramipril 5 mg.",
    ),
    (
        "fr",
        "Bonjour Docteur,\nJe vous adresse M. Bernard Petit, 54 ans, pour une douleur thoracique "
        "d'effort. ECG de repos normal, troponine négative. Merci de programmer une épreuve "
        "d'effort.\nCordialement",
    ),
    (
        "fr",
        "Résultats du laboratoire pour Mme Sophie Martin, née le 02/05/1980 : hémoglobine 11,2 "
        "g/dL, plaquettes 250 000, créatinine 78 µmol/L, CRP 45 mg/L.",
    ),
    (
        "fr",
        "Décompte de remboursement\nAssuré : Jean Dupuis\nN° adhérent : 7845120036\nActe : "
        "consultation de médecin généraliste, 25,00 €, remboursé 17,50 €\nMutuelle : 7,50 €",
    ),
    (
        "fr",
        "Patiente de 32 ans, enceinte de 28 SA, présentant une glycémie à jeun à 1,05 g/L : diabète "
        "gestationnel. Mise sous insuline et régime adapté.",
    ),
]
HELD_OUT_LOOK_ALIKES = [
    (
        "en",
        "Our clinic will be closed on Thanksgiving. For emergencies call 911. Regular hours resume "
        "Friday: 8am to 5pm. Flu shots available for all patients.",
    ),
    (
        "en",
        "New study: people who walk 7,000 steps a day have lower risk of heart disease, diabetes "
        "and depression, researchers say.",
    ),
    (
        "en",
        "Hi Bob, the server ran out of memory again and the process crashed with a fatal exception. "
        "I restarted it and the CPU temperature is back to normal.",
    ),
    (
        "en",
        "Save 20% on vitamins and supplements this week only! Vitamin D 1000 IU, fish oil 1200 mg, "
        "and more. Shop now.",
    ),
    (
        "en",
        "Job posting: Medical billing specialist. Knowledge of ICD-10 (e.g., E11.9, I10) and CPT "
        "coding required. Send your resume to hr@example.com.",
    ),
    (
        "en",
        "The surgeon general's report on smoking: lung cancer, COPD and stroke remain the leading "
        "causes of preventable death.",
    ),
    (
        "fr",
        "Votre pharmacie sera fermée le 15 août. Pensez à renouveler votre ordonnance avant le "
        "départ en vacances ! Horaires habituels dès le 16.",
    ),
    (
        "fr",
        "Le ministère de la Santé lance une campagne de vaccination contre la grippe pour les "
        "personnes âgées et les patients atteints de diabète.",
    ),
    (
        "fr",
        "Réunion du comité de direction : le bilan du trimestre, la fracture numérique et le cœur de métier.",
    ),
]


def run_with_nlp(det: MedicalDetector, nlp: Mapping[str, Any], lang: str, text: str) -> list[Finding]:
    """What the engine does: a Doc only where `needs_nlp` asks for one."""
    return run(det, text, nlp[lang](text) if det.needs_nlp(text) else None)


@pytest.mark.parametrize(("lang", "text"), HELD_OUT_RECORDS)
def test_held_out_records(detector: MedicalDetector, nlp: Mapping[str, Any], lang: str, text: str) -> None:
    assert level(run_with_nlp(detector, nlp, lang, text)) >= MEDIUM


@pytest.mark.parametrize(("lang", "text"), HELD_OUT_LOOK_ALIKES)
def test_held_out_look_alikes(
    detector: MedicalDetector, nlp: Mapping[str, Any], lang: str, text: str
) -> None:
    assert level(run_with_nlp(detector, nlp, lang, text)) < MEDIUM


# --- shared corpus ---------------------------------------------------------------------------------
def flagged(det: MedicalDetector, nlp: Mapping[str, Any], path: Path, lang: str) -> list[Finding]:
    """MEDIUM or HIGH medical findings in one message, over the segments `scanner.extract` reads."""
    findings: list[Finding] = []
    for segment in extract(path.read_bytes()).segments:
        doc = nlp[lang](segment.text[:100_000]) if det.needs_nlp(segment.text) else None
        findings += [f for f in det.detect(segment, doc) if f.confidence >= MEDIUM]
    return findings


@pytest.mark.slow
@pytest.mark.corpus
def test_corpus(detector: MedicalDetector, request: pytest.FixtureRequest) -> None:
    root = corpus_dir()
    require_corpus(root / "medical")
    nlp: Mapping[str, Any] = request.getfixturevalue("nlp")  # after the skip: loading spaCy takes seconds
    medical = sorted((root / "medical").glob("*.eml"))
    missed = [p.name for p in medical if not flagged(detector, nlp, p, "fr")]
    assert not missed, missed
    ham = [p.name for p in sorted((root / "ham").glob("*.eml")) if flagged(detector, nlp, p, "en")]
    assert len(ham) <= 2, ham
    pii = [p.name for p in sorted((root / "pii").glob("*.eml")) if flagged(detector, nlp, p, "en")]
    assert not pii, pii
