"""Realistic customer mail, part 1: health. Pure.

What clinics, pharmacies, labs, hospitals, physiotherapists, health newsletters, medical
education providers and vets send through a sending platform, English and French, written
apart from the detectors' tests. Person-tied mail is about the recipient's own care (a refill,
results, an appointment for a treatment); clinical reports are nameless note layouts; the
look-alikes speak of the same things with nobody behind them (newsletters, adverts, teaching
cases, pets). Fillers draw drugs, doses, labs and diagnoses from small tables so one template
gives many texts. Used by `benchmarks.generate_customer`.
"""

from __future__ import annotations

from benchmarks.generate_customer_numbers import Draw

DRUGS_EN = (
    ("metformin", "500 mg"), ("levothyroxine", "75 mcg"), ("atorvastatin", "40 mg"), ("lisinopril", "10 mg"),
    ("sertraline", "50 mg"), ("amlodipine", "5 mg"), ("omeprazole", "20 mg"), ("insulin glargine", "20 units"),
    ("albuterol", "90 mcg"), ("apixaban", "5 mg"), ("methotrexate", "15 mg"), ("adalimumab", "40 mg"),
)  # fmt: skip
DRUGS_FR = (
    ("metformine", "850 mg"), ("lévothyrox", "75 µg"), ("atorvastatine", "20 mg"), ("ramipril", "5 mg"),
    ("sertraline", "50 mg"), ("amlodipine", "5 mg"), ("oméprazole", "20 mg"), ("kardégic", "75 mg"),
    ("doliprane", "1000 mg"), ("apixaban", "5 mg"), ("méthotrexate", "15 mg"), ("lantus", "18 UI"),
)  # fmt: skip
DIAG_EN = ("type 2 diabetes", "hypothyroidism", "rheumatoid arthritis", "chronic kidney disease", "asthma",
           "atrial fibrillation", "major depressive disorder", "breast cancer", "multiple sclerosis")  # fmt: skip
DIAG_FR = ("diabète de type 2", "hypothyroïdie", "polyarthrite rhumatoïde", "insuffisance rénale chronique",
           "asthme", "fibrillation auriculaire", "dépression", "cancer du sein", "sclérose en plaques")  # fmt: skip

PERSON_EN = (
    "Hi {first},\n\nYour refill of {drug} {dose} is ready for pickup at {pharmacy}. Rx #{rx}, {qty} tablets, "
    "take one {freq}.\nPick it up before {date} or it will be returned to stock.\n\n{pharmacy}",
    "Hi {first}, it's time to refill your {drug} {dose} prescription (Rx {rx}). Reply YES to refill.",
    "Dear {first} {last},\n\nYour lab results from {date} are available:\nTSH: {tsh} mIU/L (ref 0.4-4.0)\n"
    "Free T4: {ft4} ng/dL\nAnti-TPO antibodies: {tpo} IU/mL\n\nDr. {doc} recommends adjusting your "
    "levothyroxine. Log in to the patient portal to see the full report.",
    "{first} {last} - DOB {dob}\nHbA1c: {a1c}%\nLDL cholesterol: {ldl} mg/dL\nTriglycerides: {tg} mg/dL\n"
    "Fasting glucose: {glu} mg/dL\nYour results were reviewed by Dr. {doc}.",
    "Hi {first},\n\nNotes from today's physical therapy session:\n- Left ACL reconstruction, week {week}\n"
    "- Knee ROM: 0-{rom} degrees\n- Quad strength 4/5, hamstring 4+/5\n- Continue home exercises, "
    "ice after sessions.\n\nSee you on {date}!\n{doc}, PT",
    "Reminder for {first}: your dialysis session is on {date} at 6:30 am, chair {chair}, {center}. "
    "Please weigh yourself before arriving and bring your phosphate binder list.",
    "Hi {first}, your chemotherapy infusion (cycle {cycle} of FOLFOX) is scheduled for {date} at "
    "{center}. Please have your blood drawn for a CBC 48 hours before.",
    "Dear {first},\n\nThis is a reminder of your therapy session with Dr. {doc} on {date}. We will continue "
    "working on your anxiety and panic attacks (CBT, session {cycle} of 12).",
    "Immunization record - {first} {last}, date of birth {dob}\nTdap: {date}\nMMR: 2 doses\nHepatitis B: "
    "3 doses\nInfluenza: {date2}\nCOVID-19 (Pfizer) booster: {date2}",
    "Hi {first}, your hearing test results: right ear mild sensorineural hearing loss (35 dB at 4 kHz), "
    "left ear normal. Dr. {doc} recommends a hearing aid fitting for the right ear.",
    "COVID-19 test result\nName: {first} {last}\nDate of birth: {dob}\nSARS-CoV-2 RT-PCR: {covid}\n"
    "Sample collected on {date}.",
    "Hello {first},\n\nFollowing your biopsy on {date}, Dr. {doc} has confirmed a diagnosis of {diag}. "
    "Your treatment plan, starting with {drug} {dose}, will be discussed at your appointment.",
    "Hi {first}! Your rheumatology follow-up: ESR {esr} mm/h, CRP {crp} mg/L. Keep taking methotrexate "
    "15 mg weekly with folic acid. Next blood test on {date}.",
    "Dear {first} {last}, your MRI of the lumbar spine on {date} showed a disc herniation at L4-L5. "
    "Dr. {doc} will call you to discuss physical therapy and an epidural steroid injection.",
    "{first}, your radiation therapy for {diag} starts on {date}: 25 sessions, Monday to Friday at "
    "{center}.",
    "Hi {first}, your prescription for {drug} {dose} was sent to your pharmacy. Dr. {doc} also ordered "
    "a lipid panel and a TSH before your next visit.",
)  # fmt: skip
PERSON_FR = (
    "Bonjour {first},\n\nVotre renouvellement de {drug} {dose} est prêt à la {pharmacy}. 1 comprimé "
    "{freq}, boîte de 90.\n\nÀ bientôt !",
    "Bonjour {title} {last},\n\nVotre caisse d'assurance maladie vous informe que votre demande de prise "
    "en charge à 100 % au titre d'une affection de longue durée (ALD) pour {diag} a été acceptée "
    "jusqu'au {date}.",
    "Bonjour {first} {last},\nVos résultats d'analyses du {date} sont disponibles :\nTSH : {tsh} mUI/L\n"
    "T4 libre : {ft4fr} pmol/L\nAnticorps anti-TPO : {tpo} UI/mL\nVotre médecin, le Dr {doc}, en a été "
    "informé.",
    "{title} {last}, né(e) le {dob}\nHbA1c : {a1cfr} %\nCholestérol LDL : {ldlfr} g/L\nGlycémie à jeun : "
    "{glufr} g/L\nRésultats validés par le laboratoire {center}.",
    "Bonjour {first},\n\nCompte rendu de vos séances de kiné : rééducation du genou droit après "
    "ligamentoplastie du LCA (semaine {week}), flexion {rom}°, force du quadriceps 4/5. Prochaine "
    "séance le {date}.",
    "Bonjour {first}, rappel : votre séance de dialyse aura lieu le {date} à 7h, poste {chair}, {center}.",
    "Bonjour {title} {last}, votre cure de chimiothérapie (cycle {cycle}) est programmée le {date} à "
    "l'hôpital de jour de {center}. Bilan sanguin (NFS) à faire 48 h avant.",
    "Bonjour {first}, votre prochaine séance de psychothérapie avec le Dr {doc} est fixée au {date} "
    "(suivi de votre trouble anxieux).",
    "Carnet de vaccination de {first} {last}, né(e) le {dob}\nDTP : {date}\nROR : 2 doses\nHépatite B : 3 "
    "doses\nGrippe : {date2}",
    "Bonjour {first}, résultats de votre audiogramme : perte auditive légère de l'oreille droite (35 dB "
    "à 4 kHz), oreille gauche normale. Un appareillage auditif est conseillé par le Dr {doc}.",
    "Résultat de votre test RT-PCR SARS-CoV-2\n{first} {last}, né(e) le {dob}\nRésultat : {covidfr}\n"
    "Prélèvement du {date}.",
    "Bonjour {first},\nSuite à votre biopsie du {date}, le Dr {doc} confirme le diagnostic de {diag}. "
    "Votre traitement par {drug} {dose} débutera après la consultation d'annonce.",
    "Bonjour {first}, vos 10 séances de kinésithérapie pour lombalgie chronique ont été validées par "
    "votre mutuelle. Prescription du Dr {doc} du {date}.",
    "Bonjour {title} {last}, votre IRM du genou du {date} montre une lésion du ménisque interne. Le Dr "
    "{doc} vous propose une arthroscopie.",
    "Bonjour {first}, votre séance de radiothérapie pour {diag} est maintenue le {date}.",
    "Bonjour {first}, votre ordonnance de {drug} {dose} a été transmise à votre pharmacie. Pensez au "
    "bilan lipidique et à la TSH avant la prochaine consultation.",
)  # fmt: skip

REPORT_EN = (
    "EXAM: MRI of the {side} knee without contrast.\nHISTORY: Pain after twisting injury.\nTECHNIQUE: "
    "Multiplanar multisequence imaging.\nFINDINGS: Complete tear of the anterior cruciate ligament. "
    "Bone contusion of the lateral femoral condyle. Small joint effusion.\nIMPRESSION: ACL tear.",
    "EXAM: CT abdomen and pelvis with contrast.\nCLINICAL HISTORY: Right lower quadrant pain, fever.\n"
    "FINDINGS: The appendix is dilated to 12 mm with periappendiceal fat stranding. No free air.\n"
    "IMPRESSION: Acute appendicitis.",
    "PREOPERATIVE DIAGNOSES: Symptomatic cholelithiasis.\nPOSTOPERATIVE DIAGNOSES: Same.\nPROCEDURE: "
    "Laparoscopic cholecystectomy.\nANESTHESIA: General endotracheal.\nESTIMATED BLOOD LOSS: Minimal.\n"
    "FINDINGS: Distended gallbladder with multiple stones.",
    "HISTORY OF PRESENT ILLNESS: This {age}-year-old {sex} presents with three days of productive cough "
    "and fever.\nPAST MEDICAL HISTORY: COPD, hypertension.\nMEDICATIONS: tiotropium, amlodipine {dose}.\n"
    "PHYSICAL EXAMINATION: Crackles at the right base. Temp 38.6, HR 104.\nASSESSMENT: Community-acquired "
    "pneumonia.",
    "CHIEF COMPLAINT: Chest pain.\nHISTORY OF PRESENT ILLNESS: Substernal pressure radiating to the left "
    "arm for 2 hours.\nEKG: ST elevation in leads II, III, aVF.\nPLAN: Aspirin 325 mg, heparin drip, "
    "emergent cardiac catheterization.",
    "ECHOCARDIOGRAM REPORT\nINDICATION: Dyspnea.\nFINDINGS: Left ventricular ejection fraction 35%. "
    "Moderate mitral regurgitation. Mild left atrial enlargement.\nCONCLUSION: Reduced systolic function.",
    "SPECIMEN: Skin, left forearm, shave biopsy.\nGROSS DESCRIPTION: A tan-brown shave, 0.6 x 0.5 cm.\n"
    "MICROSCOPIC DESCRIPTION: Atypical melanocytes with pagetoid spread.\nDIAGNOSIS: Melanoma in situ; "
    "margins involved.",
    "DISCHARGE DIAGNOSIS: Diabetic ketoacidosis.\nHOSPITAL COURSE: Treated with IV fluids and insulin "
    "drip; anion gap closed on day 2.\nDISCHARGE MEDICATIONS: insulin glargine 22 units at bedtime, "
    "insulin lispro with meals.\nFOLLOW-UP: Endocrinology in 1 week.",
    "PROCEDURE: Colonoscopy with polypectomy.\nINDICATION: Screening, family history of colon cancer.\n"
    "FINDINGS: Two 5 mm sessile polyps in the sigmoid colon removed with cold snare. Internal "
    "hemorrhoids.\nRECOMMENDATIONS: Repeat colonoscopy in 5 years pending pathology.",
    "SUBJECTIVE: Follow-up of hypertension. Reports occasional headaches.\nOBJECTIVE: BP 152/94, "
    "pulse 78.\nASSESSMENT: Uncontrolled hypertension.\nPLAN: Increase lisinopril to 20 mg daily; recheck "
    "BMP in 2 weeks.",
    "IMPRESSION:\n1. No acute intracranial hemorrhage.\n2. Chronic small vessel ischemic changes.\n"
    "EXAM: CT head without contrast. INDICATION: Fall, on apixaban.",
    "OPERATIVE REPORT\nPREOPERATIVE DIAGNOSIS: Right carpal tunnel syndrome.\nPROCEDURE: Open carpal "
    "tunnel release.\nANESTHESIA: Local with sedation.\nCOMPLICATIONS: None.",
)  # fmt: skip
REPORT_FR = (
    "COMPTE RENDU D'IRM DU GENOU {sidefr}\nIndication : douleur après traumatisme en torsion.\nRésultats : "
    "rupture complète du ligament croisé antérieur, contusion osseuse du condyle fémoral latéral.\n"
    "Conclusion : rupture du LCA.",
    "COMPTE RENDU OPÉRATOIRE\nIndication : cholécystite aiguë lithiasique.\nIntervention : "
    "cholécystectomie par cœlioscopie sous anesthésie générale.\nSuites : simples.",
    "MOTIF D'HOSPITALISATION : dyspnée fébrile.\nHISTOIRE DE LA MALADIE : toux productive depuis 3 jours.\n"
    "EXAMEN CLINIQUE : crépitants de la base droite, température 38,7 °C.\nCONCLUSION : pneumopathie "
    "communautaire, amoxicilline 1 g 3 fois par jour.",
    "SCANNER ABDOMINO-PELVIEN\nTechnique : injection de produit de contraste.\nRésultats : appendice "
    "augmenté de taille à 11 mm avec infiltration de la graisse.\nConclusion : appendicite aiguë.",
    "Compte rendu d'échographie cardiaque\nFEVG 35 %, insuffisance mitrale modérée.\nConclusion : "
    "cardiomyopathie dilatée à fraction d'éjection altérée.",
    "ANTÉCÉDENTS : diabète de type 2, HTA.\nTRAITEMENT : metformine 1000 mg matin et soir, ramipril 5 mg.\n"
    "EXAMEN : pieds sans plaie, monofilament normal.\nCONCLUSION : équilibre glycémique insuffisant.",
    "COMPTE RENDU ANATOMOPATHOLOGIQUE\nPrélèvement : biopsie cutanée de l'avant-bras gauche.\nExamen "
    "microscopique : prolifération mélanocytaire atypique.\nConclusion : mélanome in situ.",
    "COMPTE RENDU DE COLOSCOPIE\nIndication : dépistage, antécédent familial de cancer colique.\n"
    "Résultats : deux polypes sessiles de 5 mm réséqués à l'anse froide.\nConclusion : contrôle à 5 ans.",
)  # fmt: skip

NEWS_EN = (
    "{greet}This month's health tips from {clinic}\n\n- 5 signs your blood pressure may be too high\n- "
    "What your cholesterol numbers mean\n- Is metformin right for you? Talk to your doctor.\n\nBook your "
    "annual check-up online.",
    "{greet}Flu season is here! Get your flu shot at any {clinic} location - no appointment needed. Most "
    "insurance plans cover the vaccine at no cost.",
    "{greet}October is Breast Cancer Awareness Month. Women over 40 should talk to their doctor about a "
    "mammogram. Schedule yours today at {clinic}.",
    "{greet}NEW: get your prescriptions delivered. Transfer your refills of metformin, lisinopril, "
    "atorvastatin and more to {clinic} Pharmacy and save up to 80%. Plans from $5/month.",
    "{greet}Living with type 2 diabetes? Our free webinar covers HbA1c targets, insulin options and "
    "healthy eating. Register now - seats are limited.",
    "{greet}Knee pain? Our physical therapists treat ACL injuries, arthritis and sports injuries. First "
    "assessment free this month at {clinic}.",
    "{greet}Your wellness newsletter: sleep and depression, the benefits of vitamin D 1000 IU daily, and "
    "how to read a lipid panel.",
    "{greet}Support {clinic}'s new dialysis unit and cancer center. Every donation helps patients "
    "receiving chemotherapy close to home.",
    "{greet}Telehealth visits now available 24/7 for colds, UTIs, allergies and prescription refills. "
    "Visits from $29. Download the app.",
    "{greet}Hearing loss affects 1 in 8 adults. Book a free hearing test at {clinic} and try our "
    "latest hearing aids for 30 days.",
)  # fmt: skip
NEWS_FR = (
    "{greet}La lettre santé de {clinic}\n\n- Hypertension : 5 signes qui doivent alerter\n- Cholestérol : "
    "comprendre votre bilan lipidique\n- Diabète : l'activité physique, un vrai traitement",
    "{greet}La campagne de vaccination contre la grippe commence ! Faites-vous vacciner à la pharmacie "
    "{clinic}, sans rendez-vous. Prise en charge à 100 % pour les plus de 65 ans.",
    "{greet}Octobre rose : le dépistage du cancer du sein par mammographie est recommandé tous les deux "
    "ans entre 50 et 74 ans. Prenez rendez-vous au centre {clinic}.",
    "{greet}Votre pharmacie {clinic} : -20 % sur les compléments alimentaires, vitamine D et magnésium. "
    "Offre valable jusqu'à dimanche.",
    "{greet}Douleurs au dos ? Le cabinet de kinésithérapie {clinic} ouvre un créneau de rééducation "
    "sportive. Séances de kiné remboursées sur prescription.",
    "{greet}Webinaire gratuit : vivre avec un diabète de type 2, insuline, HbA1c et alimentation. "
    "Inscrivez-vous.",
    "{greet}Téléconsultation 7j/7 : renouvellement d'ordonnance, infections urinaires, allergies. "
    "Consultation remboursée par l'Assurance Maladie.",
)  # fmt: skip

CME_EN = (
    "Case of the week\n\nA {age}-year-old woman with CKD 3b on lisinopril 20 mg presents with a potassium "
    "of 6.1 mmol/L and an eGFR of 38. Which of the following is the most appropriate next step?\nA) "
    "Stop lisinopril B) Start patiromer C) Dialysis D) Repeat the test\n\nEarn 0.25 CME credits.",
    "Clinical challenge: a {age}-year-old man with type 2 diabetes on metformin 1000 mg twice daily has "
    "an HbA1c of 9.2%. What would you add? Answer and discussion in next week's issue.",
    "Grand rounds recap: a {age}-year-old patient presented with fever, new murmur and positive blood "
    "cultures for Staphylococcus aureus. Learning objectives: diagnose infective endocarditis, choose "
    "empiric vancomycin dosing.",
    "Quiz: A 45-year-old woman presents with fatigue, TSH 8.2 mIU/L and positive anti-TPO antibodies. "
    "What is the most likely diagnosis? Test your knowledge and claim 1 CME credit.",
    "From the journal club: in a {age}-year-old man with atrial fibrillation, apixaban 5 mg twice daily "
    "vs warfarin - what does the evidence say? Accredited for 1 AMA PRA Category 1 Credit.",
)  # fmt: skip
CME_FR = (
    "Cas clinique de la semaine\n\nUne femme de {age} ans, diabétique de type 2 sous metformine 1000 mg "
    "2 fois par jour, présente une HbA1c à 8,9 %. Quelle est votre conduite à tenir ?\nRéponse dans "
    "la prochaine lettre. Formation validante DPC.",
    "Quiz FMC : un homme de {age} ans consulte pour une douleur thoracique. ECG : sus-décalage du "
    "segment ST en inférieur. Quel est votre diagnostic ? Validez vos crédits de formation.",
    "Webinaire DPC : à propos d'un cas, patient de {age} ans en insuffisance rénale chronique sous "
    "ramipril 5 mg, kaliémie à 6,0 mmol/L. Objectifs pédagogiques : conduite à tenir.",
)  # fmt: skip

VET_EN = (
    "Hi {first},\n\n{pet} is due for {his} annual vaccines (rabies and DHPP) on {date}. {pet}'s last "
    "weight was 24 kg. Please also bring a stool sample.\n\n{clinic} Veterinary Hospital",
    "Hi {first}, {pet}'s bloodwork came back: ALT 120 U/L, creatinine 1.9 mg/dL. Dr. {doc} suggests "
    "a kidney diet and Rimadyl 75 mg twice daily for {his} arthritis. Call us with questions.",
    "Reminder: {pet}'s heartworm and flea prevention (NexGard, 1 chew monthly) is due. Order from our "
    "online pharmacy. - {clinic} Animal Clinic",
    "{pet} did great during {his} dental cleaning today! Two teeth were extracted. Give meloxicam 1.5 mg "
    "once daily for 5 days. Your vet, Dr. {doc}",
)  # fmt: skip
VET_FR = (
    "Bonjour {first},\n\nLe rappel de vaccin de {pet} (CHPPiL et rage) est prévu le {date}. Pensez au "
    "vermifuge.\n\nClinique vétérinaire {clinic}",
    "Bonjour {first}, résultats d'analyse de {pet} : créatinine 25 mg/L, insuffisance rénale débutante "
    "chez votre chat. Le Dr {doc} conseille une alimentation rénale et un contrôle dans 3 mois.",
    "Votre chien {pet} a bien été opéré ce matin (castration). Donner 1 comprimé de Metacam 2,5 mg par "
    "jour pendant 5 jours. Clinique vétérinaire {clinic}",
)  # fmt: skip


def _values(d: Draw, french: bool) -> dict[str, str]:
    f = d.fr if french else d.en
    drug, dose = d.rng.choice(DRUGS_FR if french else DRUGS_EN)
    fmt = "%d/%m/%Y" if french else d.rng.choice(("%m/%d/%Y", "%B %d, %Y", "%Y-%m-%d"))
    return {
        "first": f.first_name(),
        "last": f.last_name(),
        "title": d.rng.choice(("Madame", "Monsieur", "M.", "Mme")),
        "doc": f.last_name(),
        "drug": drug,
        "dose": dose,
        "diag": d.rng.choice(DIAG_FR if french else DIAG_EN),
        "pharmacy": f"{f.last_name()} Pharmacy" if not french else f"pharmacie {f.last_name()}",
        "rx": d.digits(7),
        "qty": str(d.rng.choice((30, 60, 90))),
        "freq": d.rng.choice(("par jour", "matin et soir", "le soir")) if french
        else d.rng.choice(("daily", "twice daily", "at bedtime")),
        "date": f.date_between("-30d", "+60d").strftime(fmt),
        "date2": f.date_between("-2y", "-30d").strftime(fmt),
        "dob": f.date_of_birth(minimum_age=18, maximum_age=90).strftime(fmt),
        "tsh": f"{d.rng.uniform(0.2, 9):.2f}", "ft4": f"{d.rng.uniform(0.6, 1.9):.1f}",
        "ft4fr": f"{d.rng.uniform(8, 22):.1f}", "tpo": str(d.rng.randrange(5, 900)),
        "a1c": f"{d.rng.uniform(5.2, 11):.1f}", "a1cfr": f"{d.rng.uniform(5.2, 11):.1f}".replace(".", ","),
        "ldl": str(d.rng.randrange(70, 220)), "ldlfr": f"{d.rng.uniform(0.7, 2.2):.2f}".replace(".", ","),
        "tg": str(d.rng.randrange(60, 400)), "glu": str(d.rng.randrange(70, 250)),
        "glufr": f"{d.rng.uniform(0.7, 2.5):.2f}".replace(".", ","),
        "week": str(d.rng.randrange(2, 20)), "rom": str(d.rng.randrange(90, 135)),
        "chair": str(d.rng.randrange(1, 30)), "cycle": str(d.rng.randrange(1, 12)),
        "center": f"{f.city()} " + ("Medical Center" if not french else "CHU"),
        "covid": d.rng.choice(("NEGATIVE", "POSITIVE", "Not detected", "Detected")),
        "covidfr": d.rng.choice(("NÉGATIF", "POSITIF", "non détecté")),
        "esr": str(d.rng.randrange(5, 80)), "crp": str(d.rng.randrange(1, 90)),
        "age": str(d.rng.randrange(18, 90)), "sex": d.rng.choice(("male", "female", "man", "woman")),
        "side": d.rng.choice(("right", "left")), "sidefr": d.rng.choice(("DROIT", "GAUCHE")),
        "clinic": f.company(),
        "pet": d.rng.choice(("Max", "Bella", "Luna", "Rocky", "Milo", "Filou", "Caramel")),
        "his": d.rng.choice(("his", "her")),
        "greet": d.rng.choice(("", "", f"Hi {f.first_name()},\n\n", f"Bonjour {f.first_name()},\n\n")),
    }  # fmt: skip


def _one(d: Draw, pools: tuple[tuple[str, ...], tuple[str, ...]], fr_share: float = 0.45) -> tuple[str, str]:
    french = d.rng.random() < fr_share
    values = _values(d, french)
    if french and values["greet"].startswith("Hi"):
        values["greet"] = values["greet"].replace("Hi", "Bonjour", 1)
    if not french and values["greet"].startswith("Bonjour"):
        values["greet"] = values["greet"].replace("Bonjour", "Hi", 1)
    body = d.pick(pools[1] if french else pools[0]).format(**values)
    first_line = body.strip().split("\n", 1)[0]
    subject = first_line[:70] if len(first_line) < 80 else values["clinic"]
    return subject, body


def person_health(d: Draw) -> tuple[str, str]:
    return _one(d, (PERSON_EN, PERSON_FR))


def clinical_report(d: Draw) -> tuple[str, str]:
    return _one(d, (REPORT_EN, REPORT_FR), fr_share=0.35)


def health_newsletter(d: Draw) -> tuple[str, str]:
    return _one(d, (NEWS_EN, NEWS_FR))


def cme_case(d: Draw) -> tuple[str, str]:
    return _one(d, (CME_EN, CME_FR), fr_share=0.4)


def veterinary(d: Draw) -> tuple[str, str]:
    return _one(d, (VET_EN, VET_FR), fr_share=0.4)
