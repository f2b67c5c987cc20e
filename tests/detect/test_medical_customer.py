"""Medical detection on customer mail: report layouts, the recipient as the person, né(e) le,
footers, teaching cases, pets, car/home insurers. Hand-written here, apart from the generator of
`benchmarks.generate_customer` (its dev split was tuned on, its held split is measured).
"""

from __future__ import annotations

import pytest

from scanner.detect.medical.detector import MedicalDetector
from scanner.model import Confidence
from tests.detect.conftest import level, run

MEDIUM = int(Confidence.MEDIUM)
FOOTER_EN = "\n\nYou received this email because you have an account.\nUnsubscribe | Privacy Policy"
FOOTER_FR = "\n\nSe désabonner | Politique de confidentialité | Mentions légales\nRCS Lyon 123 456 789"


@pytest.mark.parametrize(
    "text",
    [
        # nameless report layouts: the layout is the record
        "EXAM: MRI of the right shoulder.\nFINDINGS: Full-thickness supraspinatus tear. Mild "
        "acromioclavicular osteoarthritis.\nIMPRESSION: Rotator cuff tear.",
        "PREOPERATIVE DIAGNOSES: Left inguinal hernia.\nPROCEDURE: Open hernia repair with mesh.\n"
        "ANESTHESIA: General.\nESTIMATED BLOOD LOSS: 20 mL.",
        "HISTORY OF PRESENT ILLNESS: Three days of dysuria and fever.\nASSESSMENT: Pyelonephritis.\n"
        "PLAN: ciprofloxacin 500 mg twice daily.",
        "Compte rendu d'IRM du rachis lombaire\nConclusion : hernie discale L5-S1 avec conflit radiculaire. "
        "Infiltration proposée.",
        "ANTÉCÉDENTS : asthme.\nTRAITEMENT : salbutamol 100 µg à la demande.\nCONCLUSION : asthme contrôlé."
        + FOOTER_FR,  # footers do not make a record an advert
        # the recipient is the person: a greeting that names them, in mail about their own care
        "Hi Rachel,\n\nYour refill of lisinopril 10 mg is ready for pickup." + FOOTER_EN,
        "Hi Tom, your lab results: TSH 6.2 mIU/L, free T4 0.8 ng/dL. Dr. Shah will call you.",
        "Bonjour Marie Dupont,\nVotre séance de dialyse est maintenue jeudi à 7h.",
        "Bonjour Madame Leroy, votre demande de prise en charge au titre d'une affection de longue durée "
        "pour sclérose en plaques a été acceptée.",
        "Reminder for Paul: your chemotherapy infusion is on Monday at 9 am.",
        "Dear Ms. Lopez, your physical therapy notes: ACL reconstruction week 4, knee flexion 95 degrees.",
        # né(e) le is a date of birth
        "Résultat de votre test RT-PCR SARS-CoV-2\nLéa Martin, né(e) le 02/03/1990\nRésultat : POSITIF",
    ],
)
def test_customer_records(detector: MedicalDetector, text: str) -> None:
    assert level(run(detector, text), "MEDICAL_RECORD") >= MEDIUM


@pytest.mark.parametrize(
    "text",
    [
        # a greeting without care: a newsletter talking about health to a named reader
        "Hi Rachel,\n\nOctober is breast cancer awareness month: book your mammogram today. Webinar on "
        "chemotherapy side effects next week, register now.",
        # care words without anyone named
        "Your prescription is ready for pickup. Store hours: 9am-9pm.",
        "Hi team, the dialysis unit budget and the new MRI scanner were approved.",
        # a teaching case
        "Case of the week: a 58-year-old man with type 2 diabetes on metformin 1000 mg twice daily has an "
        "HbA1c of 9.1%. Which of the following would you add? Earn 0.5 CME credits.",
        "Cas clinique : une femme de 72 ans sous ramipril 5 mg présente une kaliémie à 6,2 mmol/L. Quelle "
        "est votre conduite à tenir ? Formation validante DPC.",
        # a pet is not a patient
        "Hi Laura, Max's bloodwork: creatinine 2.1 mg/dL, kidney disease. Dr. Ames suggests a renal diet "
        "and Rimadyl 75 mg twice daily for his arthritis. - Oak Animal Hospital",
        "Bonjour Claire, votre chien Filou a été opéré ce matin. Donner Metacam 2,5 mg par jour. Clinique "
        "vétérinaire des Alpes.",
    ],
)
def test_customer_look_alikes(detector: MedicalDetector, text: str) -> None:
    assert level(run(detector, text), "MEDICAL_RECORD") < MEDIUM


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Déclaration de sinistre\nN° de dossier : 60580077\nMutuelle de Poitiers Assurances, contrat auto",
            0,
        ),
        ("Votre assurance habitation Macif - Mutuelle Assurance\nN° de contrat : 12345678", 0),
        ("Welcome to FitZone Gym! Member ID: 48213377", 0),
        ("Mutuelle santé Harmonie\nN° adhérent : 48213377\nRemboursement de vos soins dentaires", MEDIUM),
    ],
)
def test_insurers_and_member_numbers(detector: MedicalDetector, text: str, expected: int) -> None:
    found = run(detector, text)
    best = max((int(f.confidence) for f in found if f.category.startswith("HEALTH_")), default=0)
    assert (best >= MEDIUM) is (expected >= MEDIUM)


@pytest.mark.parametrize(
    ("greeting", "anchored"),
    [
        ("Hi Jane,", True),
        ("Dear Mr. Roe,", True),
        ("Bonjour Marie Dupont,", True),
        ("Hello Anne-Sophie!", True),
        ("Hi team,", False),
        ("Bonjour à tous,", False),
        ("Dear patient,", False),
    ],
)
def test_recipient_greeting(detector: MedicalDetector, greeting: str, anchored: bool) -> None:
    text = f"{greeting}\nYour refill of metformin 500 mg is ready."
    assert (level(run(detector, text), "MEDICAL_RECORD") >= MEDIUM) is anchored
