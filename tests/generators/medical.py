"""Generated English and French medical records and look-alikes (Faker, fixed seed). Pure.

Used by `benchmarks.accuracy` (the "generated" set) and `tests/detect/test_medical.py`.
Records are clinical notes, lab results, prescriptions and claim information, each about one
person (a name, a date of birth, an age, a member or record number). Look-alikes speak of the
same things without a person behind them: health newsletters, pharmacy hours, wellness
marketing, nurse job ads, "if you have diabetes", and ordinary mail that uses medical words.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from faker import Faker


@dataclass(frozen=True, slots=True)
class Sample:
    text: str
    secrets: tuple[str, ...]  # names and identifiers that must never appear in a masked form


EN_RECORDS = (
    "Patient: {name}\nDOB: {dob}\n\nCHIEF COMPLAINT: chest pain.\nHISTORY OF PRESENT ILLNESS: {first} is a "
    "{age}-year-old {sex} with hypertension and type 2 diabetes. EKG showed ST depression. Troponin 0.4.\n"
    "MEDICATIONS: metformin 500 mg twice daily, lisinopril 10 mg daily.\nPLAN: cardiac catheterization.",
    "Hi,\n\nHere are the lab results for {title} {last} (DOB {dob}): hemoglobin 10.9 g/dL, creatinine "
    "1.6 mg/dL, potassium 5.4, HbA1c 8.1%. Please call to repeat the basic metabolic panel.\n\nThanks",
    "Claim number: CLM{claim}\nMember ID: {member}\nPatient: {name}\nDate of service: {dos}\n"
    "Diagnosis code (ICD-10): E11.9\nProcedure: CPT 99214 office visit\nDenied: missing prior authorization.",
    "Discharge summary\n\n{title} {last} was admitted to the hospital on {dos} with pneumonia. Chest x-ray "
    "showed a right lower lobe infiltrate; treated with ceftriaxone 1 g IV daily, discharged home on "
    "amoxicillin.",
    "Dear Dr. {doc},\n\nI am referring {name}, a {age}-year-old {sex} with atrial fibrillation on apixaban "
    "5 mg twice daily, for an echocardiogram. Blood pressure 150/95, heart rate 112.\n\nBest regards",
    "Prescription for {name}, date of birth {dob}: amoxicillin 500 mg three times a day for otitis media; "
    "ibuprofen 400 mg every 6 hours as needed for fever.",
    "Please update the file of {title} {last}: Medicare number (MBI) {mbi}. Seen for knee osteoarthritis, "
    "corticosteroid injection given, x-ray of the right knee attached.",
    "MRN: {mrn}\n{title} {last} underwent laparoscopic cholecystectomy under general anesthesia for acute "
    "cholecystitis. Postoperative pain controlled with oxycodone 5 mg.",
    "Lab results - {name}, DOB {dob}\nLipid panel: LDL 162 mg/dL, HDL 38, triglycerides 240\nTSH 5.8\n"
    "Please start atorvastatin 20 mg at bedtime and recheck in 3 months.",
    "Claim status for {name} (member ID {member}): claim {claim} for the colonoscopy on {dos} was approved. "
    "Diagnosis: K57.30 diverticulosis of the colon. Your share: $150.00.",
)
FR_RECORDS = (
    "Compte rendu de consultation\n\n{title} {last}, née le {dob}, consulte pour un diabète de type 2. "
    "HbA1c à 8,2 %. Traitement : metformine 1000 mg 2 fois par jour. Tension artérielle 145/90.",
    "Bonjour,\n\nVoici l'ordonnance de {title} {last} : amoxicilline 1 g 3 fois par jour pendant 7 jours "
    "pour une sinusite, paracétamol 1 g en cas de fièvre.",
    "Feuille de soins\nN° adhérent : {member}\nMutuelle : Harmonie\nPatient : {name}\n"
    "Acte : radiographie du genou, diagnostic d'arthrose.",
    "Dossier médical de {title} {last}\nAntécédents : hypertension artérielle, infarctus du myocarde.\n"
    "Traitement : aspirine 75 mg par jour.\nExamen clinique : auscultation cardiaque normale.",
    "Le patient, homme de {age} ans, a été hospitalisé pour une pneumopathie. La radiographie pulmonaire "
    "montre un foyer droit. Antibiothérapie par amoxicilline.",
    "Résultats d'analyses - {title} {last}, né(e) le {dob}\nGlycémie à jeun : 1,32 g/L\nHbA1c : 7,4 %\n"
    "Créatinine : 95 µmol/L\nCholestérol LDL : 1,65 g/L",
    "Relevé de remboursement de {name}\nN° adhérent : {member}\nActe : IRM du genou le {dos}\n"
    "Diagnostic : rupture du ligament croisé antérieur\nMontant remboursé : 68,00 €",
    "Courrier de sortie : {title} {last}, {age} ans, hospitalisé(e) pour une embolie pulmonaire. "
    "Angioscanner thoracique positif. Relais par apixaban 5 mg matin et soir.",
)
# hand-written look-alikes, also table-tested one by one in tests/detect/test_medical.py
HAND_LOOK_ALIKES = {
    "en-newsletter": "Diabetes Monthly, November issue. If you have diabetes, managing your blood glucose "
    "is key. Learn about the latest insulin pens and how metformin can help. Unsubscribe | View in browser",
    "en-pharmacy-hours": "Main Street Pharmacy. Opening hours: Monday-Friday 8am-8pm. Flu shots and "
    "COVID-19 vaccines without appointment. Prescription refills can be ordered online.",
    "en-wellness-tips": "5 simple ways to lower your blood pressure: walk 30 minutes a day, cut back on "
    "salt, sleep well. People with hypertension should talk to their doctor before changing medication.",
    "en-insurance-ad": "Looking for affordable health insurance? Our plans cover hospital stays, "
    "prescription drugs and chemotherapy with low deductibles. Get a free quote today - apply now!",
    "en-conference": "Join us at the 2025 International Diabetes Conference. Keynote by Dr. Maria Lopez on "
    "insulin therapy, HbA1c targets and glucose monitoring. Register now!",
    "en-nurse-job-ad": "We are hiring! Registered Nurse, oncology unit. Experience with chemotherapy "
    "administration, IV fluids and wound debridement for the patient. Competitive salary. Apply online.",
    "en-hypothetical": "If you have diabetes or high blood pressure, ask your doctor whether a yearly "
    "creatinine test and an eGFR are right for you.",
    "fr-newsletter": "Lettre d'information santé : si vous souffrez de diabète, pensez à contrôler votre "
    "glycémie. Nos conseils pour mieux vivre avec l'hypertension et l'insuline. Se désabonner.",
    "fr-pharmacy-hours": "Pharmacie du Centre, horaires d'ouverture : du lundi au samedi de 9h à 19h30. "
    "Vaccination contre la grippe sans rendez-vous, paracétamol et ibuprofène en promotion.",
    "fr-job-ad": "Offre d'emploi : infirmier(e) en service de chirurgie. Expérience en soins "
    "postopératoires et pose de cathéter auprès du patient. Envoyez votre candidature.",
    "fr-congress": "Congrès national de diabétologie, inscrivez-vous dès maintenant : insuline, "
    "hémoglobine glyquée et insuffisance rénale.",
    "fr-legal-ordonnance": "Nouvelle ordonnance n° 2024-123 relative au code du travail.",
    "en-plain": "The quarterly report shows record growth; our patient investors expect more.",
}
EN_LOOK_ALIKES = (
    *(text for key, text in HAND_LOOK_ALIKES.items() if key.startswith("en")),
    "Hi {first}, the {last} family reunion is on {dos}. Bring a salad; grandma's knee surgery went well.",
    "Dear {name}, your order {claim} has shipped. Track it online. Customer service is open 9-5.",
    "{title} {last} will present the quarterly results; the heart of our strategy is growth.",
    "Health tips from {name}: drink water, sleep eight hours, and walk daily. Unsubscribe anytime.",
    "Dr. {last} will talk about diabetes, insulin pumps and HbA1c at our free community seminar on {dos}. "
    "RSVP.",
    "Thank you {first} for your donation to cancer research: it funds chemotherapy trials and MRI scanners.",
    "Your prescription for {name} is ready for pickup. Store hours: 9am-9pm.",
    "{title} {last} from the hospital board approved the new MRI suite and the dialysis unit budget.",
    "{city} Health Letter, {month}\n\nDiabetes affects millions of Americans. If you have diabetes, checking "
    "your blood glucose and HbA1c regularly helps. Ask your pharmacist about insulin pens and metformin. "
    "To stop receiving these emails, unsubscribe here.",
    "{company} Pharmacy holiday hours: {weekday} 9am-6pm. Flu shots, blood pressure checks and "
    "prescription refills available. Walk-ins welcome.",
    "Feel your best this {month}! Our wellness program helps you lower cholesterol and blood pressure "
    "naturally. Try our omega-3 capsules, 1000 mg daily. Special offer: 20% off.",
    "Now hiring: ICU Registered Nurse at {company} Medical Center ({city}). Duties: administer medications, "
    "monitor vital signs, assist with intubation and central line care for critically ill patients. "
    "Apply online.",
    "Do you have type 2 diabetes? People with diabetes and high blood pressure may qualify for our study "
    "of a new insulin. Call {phone}.",
)
FR_LOOK_ALIKES = (
    *(text for key, text in HAND_LOOK_ALIKES.items() if key.startswith("fr")),
    "Bonjour {name}, votre commande {claim} a été expédiée. Suivi du colis en ligne.",
    "{title} {last} présentera le bilan annuel ; le cœur de notre stratégie reste la croissance.",
    "Le Dr {last} animera un atelier sur le diabète, l'insuline et la glycémie le {dos}. Entrée libre.",
    "{title} {last}, votre ordonnance est prête à la pharmacie. Horaires : 9h-19h.",
    "Lettre santé de {city}, {month}\nSi vous êtes diabétique, surveillez votre glycémie et votre tension "
    "artérielle. Nos pharmaciens vous conseillent sur l'insuline et la metformine. Se désabonner.",
    "Pharmacie {company} : ouverte du lundi au samedi, 8h30-19h30. Prise de tension, vaccination contre la "
    "grippe et renouvellement d'ordonnance sans rendez-vous.",
    "Programme bien-être : réduisez votre cholestérol et votre tension naturellement ! Oméga-3 1000 mg par "
    "jour. Offre spéciale -20 %.",
    "Recrutement : infirmier(ère) de bloc opératoire, clinique {company} à {city}. Missions : préparation du "
    "patient, surveillance des constantes, administration des traitements. Candidature en ligne.",
    "Vous avez du diabète ? Les personnes atteintes d'hypertension peuvent participer à notre étude sur une "
    "nouvelle insuline. Renseignements au {phone}.",
)
_MBI_SAMPLES = ("1EG4-TE5-MK73", "2C39A47HP52", "5TP7-KD2-AC45", "8VF3GM9XJ12")


def generate(templates: tuple[str, ...], locale: str, seed: int, copies: int) -> Iterator[Sample]:
    """`copies` rounds over `templates`, each filled with fresh Faker values; deterministic."""
    fake = Faker(locale)
    fake.seed_instance(seed)
    english = locale.startswith("en")
    titles = ("Mr.", "Mrs.", "Ms.") if english else ("M.", "Mme", "Mlle")
    date_format = "%m/%d/%Y" if english else "%d/%m/%Y"
    for i in range(copies):
        for j, template in enumerate(templates):
            first, last = fake.first_name(), fake.last_name()
            fields = {
                "first": first,
                "last": last,
                "name": f"{first} {last}",
                "title": titles[(i + j) % 3],
                "doc": fake.last_name(),
                "dob": fake.date_of_birth(minimum_age=20, maximum_age=90).strftime(date_format),
                "dos": fake.date_this_year().strftime(date_format),
                "age": str(fake.random_int(20, 90)),
                "sex": ("man", "woman")[(i + j) % 2],
                "claim": str(fake.random_number(digits=10, fix_len=True)),
                "member": f"W{fake.random_number(digits=9, fix_len=True)}",
                "mrn": str(fake.random_number(digits=8, fix_len=True)),
                "mbi": _MBI_SAMPLES[(i + j) % len(_MBI_SAMPLES)],
                "city": fake.city(),
                "company": fake.last_name(),
                "month": fake.month_name(),
                "weekday": fake.day_of_week(),
                "phone": fake.phone_number(),
            }
            secrets = (first, last, fields["claim"], fields["member"], fields["mrn"], fields["mbi"])
            yield Sample(template.format(**fields), secrets)


def medical_samples(seed: int, copies: int) -> dict[str, list[Sample]]:
    """Records and look-alikes per language: en_records, fr_records, en_look_alikes, fr_look_alikes."""
    return {
        "en_records": list(generate(EN_RECORDS, "en_US", seed, copies)),
        "fr_records": list(generate(FR_RECORDS, "fr_FR", seed, copies)),
        "en_look_alikes": list(generate(EN_LOOK_ALIKES, "en_US", seed + 1, copies)),
        "fr_look_alikes": list(generate(FR_LOOK_ALIKES, "fr_FR", seed + 1, copies)),
    }
