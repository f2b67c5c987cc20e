"""Medical records and health-care claim data tied to a person, English and French. Pure, no I/O.

A clinical term alone is not a record: newsletters, pharmacy ads and job offers talk about
diabetes too. A segment becomes a MEDICAL_RECORD only when it names clinical facts of at least
two distinct kinds (diagnosis, medication, procedure, lab, vital signs, anatomy) *and* points at
one person (a title and a name, a date of birth, "the patient"/"la patiente", "a 45-year-old man",
a record number, a clinical-note layout, or a spaCy PERSON/PER when the engine ran NLP).
Negated ("no history of", "pas d'antécédent") and hypothetical/generic mentions ("if you have",
"si vous souffrez de", "people with") count for less; advertising, newsletter, job-ad and
opening-hours cues drop a record unless it identifies someone (date of birth, age, ID).

Identifiers are found beside the record: ICD-10 codes (category checked against the chapter
ranges in use), US Medicare Beneficiary Identifiers (CMS format rules) and claim, member and
record numbers behind a keyword. Lexicons live in ``models/medical`` and are matched as whole
words, case- and accent-insensitively, by one Aho-Corasick automaton built in ``__init__``.

`detect` is pure and deterministic; `needs_nlp` is cheap (no spaCy) and says when a Doc could
change the decision: clinical evidence is there but no cheap person anchor was found.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import ahocorasick

from scanner.model import Confidence, Finding, Group, Segment

if TYPE_CHECKING:
    from spacy.tokens import Doc

EVIDENCE_KINDS = ("diagnosis", "medication", "procedure", "lab", "vitals", "anatomy")
_SPECIFIC = frozenset({"medication", "procedure", "lab", "vitals"})
_CUE_KINDS = ("section", "anchor", "negation", "hypothetical", "marketing", "health")
_SENTENCE_END = frozenset(".!?;:\n")
_NEGATION_WINDOW = 50
_HYPOTHETICAL_WINDOW = 80
_SPAN_WINDOW = 300
# Anchor strengths: 1 = points at a person in context ("the patient", a note layout, a NER
# PERSON, "Dr X"), 2 = names one (Mr/Mme + a name: newsletters quote people too), 3 = identifies
# one (a date of birth, an age and sex, "Patient: Jane Roe", a record or member number).
_CONTEXTUAL, _NAMED, _IDENTIFYING = 1, 2, 3


class _FoldTable(dict[int, int]):
    """Lazy `str.translate` table: lowercase, strip accents, one character in, one out.

    Keeping the length lets offsets in the folded text serve as offsets in the segment.
    """

    def __missing__(self, cp: int) -> int:
        ch = chr(cp)
        if ch in "\u2018\u2019\u02bc\u00b4":
            out = "'"
        elif ch in "\u2010\u2011\u2012\u2013\u2014":
            out = "-"
        elif ch in "\r\n\v\f\x85\u2028\u2029":
            out = "\n"  # line breaks end a sentence for the negation window; keep them
        elif ch.isspace():
            out = " "
        else:
            base = unicodedata.normalize("NFD", ch)[0].lower()
            out = base if len(base) == 1 and base.isprintable() else ch
        self[cp] = ord(out)
        return ord(out)


_FOLD = _FoldTable()


def fold(text: str) -> str:
    """Case- and accent-folded copy of `text` with the same length (``Écho`` -> ``echo``)."""
    return text.translate(_FOLD)


def _is_word(ch: str) -> bool:
    return ch.isalnum()


# --- patterns over folded text -------------------------------------------------------------
_DOSE = re.compile(
    r"(?<![\w.,])\d+(?:[.,]\d+)?\s?(?:mg|mcg|µg|μg|ug|ui|iu|meq|units?|unites?)"
    r"(?:/kg(?:/(?:day|j|jour|24 ?h))?)?(?![\w/])"
    r"|(?<![\w.,])\d+(?:[.,]\d+)?\s?(?:ml|g|gouttes?|drops?)\b(?=.{0,25}?(?:daily|twice|a day|per day"
    r"|par jour|fois par jour|/jour|/j\b|le matin|le soir|au coucher|at bedtime|every \d+ hours"
    r"|toutes les \d+ heures))"
    r"|(?<!\w)(?:q\.?d|b\.?i\.?d|t\.?i\.?d|q\.?i\.?d|q\.?h\.?s|p\.?r\.?n|q\d+h)\.?(?!\w)"
    r"|(?<!\w)\d+\s?fois par jour(?!\w)"
)
_VITALS = re.compile(
    r"(?<!\w)(?:bp|ta|blood pressure|tension(?: arterielle)?|pression arterielle)\s*(?:of|was|is|de|"
    r"est de|etait de|:|=)?\s*\d{2,3}\s?/\s?\d{2,3}(?!\d)|(?<![\w.])\d{2,3}\s?(?:bpm|battements par minute)"
    # a body temperature, not the weather: 34-42 degrees right after the word
    r"|(?<!\w)temp(?:erature)?(?: tympanique| corporelle| axillaire| rectale| buccale)?\s*(?:of|was|is|de|"
    r"est de|:|=|a)?\s*(?:3[4-9]|4[0-2])(?:[.,]\d)?\s*(?:°|degr|c\b)"
)
_CPT = re.compile(
    r"(?<!\w)(?:cpt|hcpcs|procedure code|code acte|ccam)(?: code)?\s*[:#]?\s*\d{4}[0-9ft](?!\w)"
)
_SUFFIX = re.compile(
    r"(?<!\w)(?!nostalg)[a-z]{3,}(?:(?P<procedure>ectomy|ectomies|otomy|oscopy|ostomy|ectomie|otomie"
    r"|oscopie|ostomie)|(?P<diagnosis>itis|opathy|algia|opathie|algie))s?(?!\w)"
)
_AGE_EN = re.compile(
    r"(?<!\w)\d{1,3}[- ](?:year|yr|month|week)s?[- ]old(?!\w)|(?<!\w)\d{1,3}\s?(?:yo|y/o|y\.o\.)(?!\w)"
)
_AGE_FR = re.compile(
    r"(?<!\w)(?:homme|femme|garcon|fille|fillette|monsieur|madame|dame|enfant|nourrisson|bebe|patient|"
    r"patiente|adolescent|adolescente|nouveau-ne)(?:\s+[\w'-]+){0,3}?\s+(?:agee?\s+)?de\s+\d{1,3}\s+"
    r"(?:ans|mois|semaines)(?!\w)|(?<!\w)agee?\s+de\s+\d{1,3}\s+ans(?!\w)"
)
_BIRTH_CUES = frozenset(
    (
        "date of birth",
        "birth date",
        "birthdate",
        "dob",
        "d.o.b",
        "born on",
        "date de naissance",
        "ne le",
        "nee le",
    )
)
_DATE_NEAR = re.compile(r"[^\n]{0,25}?\d")
# Over the original text: a title then a capitalised word. "Dr X" anchors only contextually:
# it is usually the physician, not the patient.
_TITLE_NAME = re.compile(
    r"(?<![\w.])(?:(?P<doctor>Dr|Prof|Pr)|Mr|Mrs|Ms|Mx|Miss|Mme|Mlle|Madame|Monsieur|Mademoiselle|M(?=\.))"
    r"\.?\s+[A-Z][A-Za-zÀ-ÖØ-öø-ÿ'-]*"
)
# "Patient: Jane Roe", "Nom : Dupont": a label, then a capitalised word
_LABELLED_NAME = re.compile(
    r"(?<!\w)(?i:patient(?:e)?|patient name|name|nom|nom du patient|nom de la patiente|member|insured|"
    r"subscriber|assurée?|bénéficiaire)\s*:\s*"
    r"[A-ZÀ-ÖØ-Þ][A-Za-zÀ-ÖØ-öø-ÿ'-]+"
)
_ICD = re.compile(r"(?<![\w.-])(?P<cat>[A-Z]\d[0-9AB])(?:\.(?P<sub>[0-9A-Z]{1,4}))?(?![\w-])")
_ICD_CONTEXT = re.compile(
    r"(?<!\w)(?:icd(?:-?10)?(?:-cm)?|cim(?:-?10)?|dx|diagnosis|diagnoses|diagnostic|diagnostique|"
    r"code diagnostique|code diagnostic)(?!\w)"
)
_MBI_LETTER = "AC-HJKMNP-RT-Y"  # CMS: no S, L, O, I, B, Z
_MBI = re.compile(
    rf"(?<![A-Za-z0-9-])([1-9][{_MBI_LETTER}][{_MBI_LETTER}0-9]\d)(-?)([{_MBI_LETTER}][{_MBI_LETTER}0-9]\d)"
    rf"(-?)([{_MBI_LETTER}]{{2}}\d{{2}})(?![A-Za-z0-9-])"
)
# what may sit between a keyword ("member ID", "n° adhérent") and the identifier itself
_ID_TAIL = re.compile(
    r"(?:\s*(?:number|no|num(?:ber|ero)?|n°|nº|#|id))?\.?\s*[:#=-]?\s*(?:is\s+|est\s+)?"
    r"(?P<id>[a-z0-9][a-z0-9/-]{3,22}[a-z0-9])(?![\w-])"
)
_MBI_CONTEXT = re.compile(r"(?<!\w)(?:mbi|medicare|beneficiary)(?!\w)")


_Term = tuple[str, int, int]  # (kind, start, end) of a lexicon match in the folded text
_IdHit = tuple[str, bool, int, int]  # (category, strong keyword?, start, end) of an identifier


@dataclass(frozen=True, slots=True)
class _Hit:
    kind: str
    start: int
    end: int
    term: str
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class _Analysis:
    """Everything `detect` and `needs_nlp` decide on, for one segment."""

    evidence: tuple[_Hit, ...]
    anchor: int  # 0 = none, else _CONTEXTUAL / _NAMED / _IDENTIFYING
    marketing: int  # distinct advertising / newsletter cues
    health: bool
    ner_only: bool = False  # the only anchor is a spaCy PERSON/PER

    @property
    def categories(self) -> tuple[str, ...]:
        """Evidence kinds with at least one affirmed (not negated, not hypothetical) hit."""
        present = {h.kind for h in self.evidence if h.weight >= 1.0}
        return tuple(k for k in EVIDENCE_KINDS if k in present)

    @property
    def distinct_terms(self) -> int:
        """Distinct affirmed evidence terms (folded), however often each is repeated."""
        return len({h.term for h in self.evidence if h.weight >= 1.0})

    @property
    def total(self) -> float:
        return sum(h.weight for h in self.evidence)


def _read_terms(path: Path) -> Iterator[str]:
    for line in path.read_text(encoding="utf-8").splitlines():
        term = line.split("#", 1)[0].strip() if not line.lstrip().startswith("#") else ""
        if term:
            yield " ".join(fold(term).split())


class MedicalDetector:
    """Finds medical records and health-care claim information about a person. Pure, no I/O after init."""

    def __init__(self, models_dir: Path) -> None:
        base = models_dir / "medical"
        kinds: dict[str, set[str]] = {}
        for path in sorted(base.glob("*_*.txt")):
            kind = path.stem.rsplit("_", 1)[0]
            if kind not in EVIDENCE_KINDS and kind not in _CUE_KINDS:
                continue
            for term in _read_terms(path):
                kinds.setdefault(term, set()).add(kind)
        for line in (base / "id_keywords.txt").read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                category, strength, keyword = line.split("\t")
                term = " ".join(fold(keyword).split())
                kinds.setdefault(term, set()).add(f"id:{category}:{strength}")
        if not kinds:
            raise FileNotFoundError(f"no medical lexicons under {base}")
        self._automaton = ahocorasick.Automaton()
        for term, term_kinds in kinds.items():
            self._automaton.add_word(term, (len(term), tuple(sorted(term_kinds))))
        self._automaton.make_automaton()
        self._icd_ranges: list[tuple[str, str]] = []
        for line in (base / "icd10_ranges.txt").read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                first, last = line.split()[0].split("-")
                self._icd_ranges.append((first, last))

    # --- public API ----------------------------------------------------------------------------
    def needs_nlp(self, text: str) -> bool:
        """True when clinical evidence is there but no cheap person anchor was found (no spaCy)."""
        folded = fold(text)
        terms = list(self._terms(folded))
        analysis = self._analyse(text, folded, terms, _id_hits(folded, terms), None)
        return analysis.anchor == 0 and not analysis.marketing and _ner_could_anchor(analysis)

    def detect(self, segment: Segment, doc: Doc | None) -> list[Finding]:
        """Findings for one segment; `doc` is the spaCy Doc of `segment.text` or None. Pure."""
        text = segment.text
        folded = fold(text)
        terms = list(self._terms(folded))
        ids = _id_hits(folded, terms)
        analysis = self._analyse(text, folded, terms, ids, doc)
        findings: list[Finding] = []
        record = self._record(segment, analysis)
        if record is not None:
            findings.append(record)
        findings.extend(self._icd_findings(segment, folded, analysis))
        findings.extend(self._mbi_findings(segment, folded, analysis))
        for category, strong, start, end in ids:
            if strong:
                level = Confidence.HIGH if analysis.health or analysis.categories else Confidence.MEDIUM
            elif not analysis.health:
                continue
            else:
                level = Confidence.HIGH if analysis.categories else Confidence.MEDIUM
            findings.append(self._finding(segment, category, start, end, level, _mask_tail(text[start:end])))
        return findings

    # --- analysis ------------------------------------------------------------------------------
    def _terms(self, folded: str) -> Iterator[tuple[str, int, int]]:
        """(kind, start, end) of every whole-word lexicon match; evidence terms may take a plural."""
        n = len(folded)
        for last, (length, kinds) in self._automaton.iter(folded):
            start, end = last - length + 1, last + 1
            if start > 0 and _is_word(folded[start]) and _is_word(folded[start - 1]):
                continue
            if end < n and _is_word(folded[end - 1]) and _is_word(folded[end]):
                suffix = next((s for s in ("es", "s", "x") if folded.startswith(s, end)), None)
                tail = end + len(suffix) if suffix else end
                if suffix is None or (tail < n and _is_word(folded[tail])):
                    continue
                kinds = tuple(k for k in kinds if k in EVIDENCE_KINDS)
                end = tail
            for kind in kinds:
                yield kind, start, end

    def _analyse(
        self, text: str, folded: str, terms: list[_Term], ids: list[_IdHit], doc: Doc | None
    ) -> _Analysis:
        raw: list[_Hit] = []
        cues: dict[str, list[tuple[int, int]]] = {k: [] for k in _CUE_KINDS}
        marketing: set[str] = set()
        sections: set[str] = set()
        for kind, start, end in terms:
            if kind.startswith("id:"):
                continue
            if kind in EVIDENCE_KINDS:
                raw.append(_Hit(kind, start, end, folded[start:end]))
            elif kind == "section":
                if _is_heading(text, folded, start, end):
                    sections.add(folded[start:end])
            else:
                cues[kind].append((start, end))
                if kind == "marketing":
                    marketing.add(folded[start:end])
        for pattern, kind in ((_DOSE, "medication"), (_VITALS, "vitals"), (_CPT, "procedure")):
            raw.extend(_Hit(kind, m.start(), m.end(), m.group(0)) for m in pattern.finditer(folded))
        for m in _SUFFIX.finditer(folded):
            kind = "procedure" if m.group("procedure") else "diagnosis"
            raw.append(_Hit(kind, m.start(), m.end(), m.group(0)))
        cue_ends = {kind: sorted(end for _, end in spans) for kind, spans in cues.items()}
        evidence = tuple(
            _Hit(h.kind, h.start, h.end, h.term, _weight(folded, h, cue_ends)) for h in _longest_first(raw)
        )

        anchor = 0
        if cues["anchor"] or len(sections) >= 3:
            anchor = _CONTEXTUAL
        for start, end in cues["anchor"]:
            if folded[start:end] in _BIRTH_CUES and _DATE_NEAR.match(folded, end):
                anchor = _IDENTIFYING
        if _LABELLED_NAME.search(text):
            anchor = _IDENTIFYING
        for m in _TITLE_NAME.finditer(text):
            anchor = max(anchor, _CONTEXTUAL if m.group("doctor") else _NAMED)
        if ids or _AGE_EN.search(folded) or _AGE_FR.search(folded):
            anchor = _IDENTIFYING
        ner_only = False
        if doc is not None and anchor == 0 and self._has_person(doc, evidence):
            anchor, ner_only = _CONTEXTUAL, True
        health = bool(cues["health"]) or bool(evidence)
        return _Analysis(evidence, anchor, len(marketing), health, ner_only)

    def _has_person(self, doc: Doc, evidence: tuple[_Hit, ...]) -> bool:
        """A NER person near affirmed evidence, not a shouted heading and not itself a clinical term.

        News articles name people and mention cancer in the same page; a person only counts
        within _SPAN_WINDOW characters of an affirmed clinical mention.
        """
        affirmed = [h for h in evidence if h.weight >= 1.0]
        for ent in doc.ents:
            if ent.label_ not in ("PERSON", "PER"):
                continue
            name = ent.text.strip()
            if len(name) < 2 or not name[0].isupper() or name.isupper():
                continue
            folded = " ".join(fold(name).split())
            if self._automaton.exists(folded):
                continue
            near = (abs(h.start - ent.start_char) <= _SPAN_WINDOW for h in affirmed)
            if any(near):
                return True
        return False

    # --- findings ------------------------------------------------------------------------------
    def _record(self, segment: Segment, a: _Analysis) -> Finding | None:
        categories = a.categories
        # One kind of evidence is enough only when it is rich (a procedure note naming the catheter,
        # the brachytherapy and the treatment plan) and someone is anchored.
        single = len(categories) == 1 and a.anchor and not a.marketing and a.distinct_terms >= 3
        if len(categories) < 2 and not single:
            return None
        if a.ner_only and not _ner_could_anchor(a):
            return None
        total = a.total
        if a.anchor == 0:
            if len(categories) < 3 or total < 5 or a.marketing:
                return None
            level = Confidence.LOW
        elif (a.anchor >= _NAMED and total >= 4) or (len(categories) >= 3 and total >= 6):
            level = Confidence.HIGH
        else:
            level = Confidence.MEDIUM
        if a.marketing and a.anchor < _IDENTIFYING:
            return None  # a newsletter or an ad talking to "the patient" in general
        if a.marketing >= 3:
            return None  # a health newsletter quoting a named case is still a newsletter
        start, end = _densest_span([h for h in a.evidence if h.weight >= 1.0])
        masked = f"[clinical note: {', '.join(categories)}]"
        return self._finding(segment, "MEDICAL_RECORD", start, end, level, masked, total)

    def _icd_findings(self, segment: Segment, folded: str, a: _Analysis) -> Iterator[Finding]:
        seen: set[str] = set()
        clinical = len(a.categories)
        for m in _ICD.finditer(segment.text):
            code, dotted = m.group(0), m.group("sub") is not None
            if code in seen or not any(lo <= m.group("cat") <= hi for lo, hi in self._icd_ranges):
                continue
            window = folded[max(0, m.start() - 60) : m.start()] + " " + folded[m.end() : m.end() + 30]
            keyword = _ICD_CONTEXT.search(window) is not None
            if keyword and a.anchor and clinical:
                level = Confidence.HIGH
            elif (keyword and (a.anchor or clinical)) or (dotted and a.anchor and clinical):
                level = Confidence.MEDIUM
            elif keyword or (dotted and clinical >= 2):
                level = Confidence.LOW
            else:
                continue
            if a.marketing and a.anchor < _IDENTIFYING:
                continue  # a coding course or a billing job ad quoting example codes
            seen.add(code)
            # even the chapter letter is health data (F = mental disorders): mask it all
            masked = "***" + (".*" if dotted else "")
            yield self._finding(segment, "ICD10_CODE", m.start(), m.end(), level, masked)

    def _mbi_findings(self, segment: Segment, folded: str, a: _Analysis) -> Iterator[Finding]:
        for m in _MBI.finditer(segment.text):
            if m.group(2) != m.group(4):  # printed either 1EG4-TE5-MK73 or 1EG4TE5MK73
                continue
            before = folded[max(0, m.start() - 60) : m.start()]
            if _MBI_CONTEXT.search(before):
                level = Confidence.HIGH
            elif a.health or a.anchor:
                level = Confidence.MEDIUM
            else:
                level = Confidence.LOW
            yield self._finding(segment, "US_MEDICARE_MBI", m.start(), m.end(), level, _mask_tail(m.group(0)))

    @staticmethod
    def _finding(
        segment: Segment,
        category: str,
        start: int,
        end: int,
        level: Confidence,
        masked: str,
        total: float = 0.0,
    ) -> Finding:
        base = {Confidence.LOW: 0.4, Confidence.MEDIUM: 0.65, Confidence.HIGH: 0.85}[level]
        score = round(base + min(0.1, total / 100), 3)
        return Finding(category, Group.MEDICAL, segment.location, start, end, score, level, masked)


def _ner_could_anchor(a: _Analysis) -> bool:
    """Evidence rich enough for a NER person to anchor it.

    NER finds people in every news story; it anchors only text naming a drug, an act, a lab or
    a vital sign beside other clinical facts, not "cancer" next to "respiratory".
    """
    return len(a.categories) >= 2 and bool(set(a.categories) & _SPECIFIC) and a.distinct_terms >= 3


def _id_hits(folded: str, terms: list[_Term]) -> list[_IdHit]:
    """(category, strong keyword?, start, end) of IDs right behind a claim/member/record keyword."""
    out: dict[tuple[int, int], _IdHit] = {}
    for kind, _start, end in terms:
        if not kind.startswith("id:"):
            continue
        _, category, strength = kind.split(":")
        m = _ID_TAIL.match(folded, end)
        if m is None or sum(c.isdigit() for c in m.group("id")) < 4:
            continue
        key = (m.start("id"), m.end("id"))
        strong = strength == "strong"
        if key not in out or (strong and not out[key][1]):
            out[key] = (category, strong, *key)
    return sorted(out.values(), key=lambda t: t[2])


def _is_heading(text: str, folded: str, start: int, end: int) -> bool:
    """A section name followed by a colon, or written in capitals ("EXAMEN PHYSIQUE")."""
    rest = folded[end : end + 4].lstrip(" ")
    if rest.startswith(":"):
        return True
    word = text[start:end]
    return any(c.isalpha() for c in word) and word.isupper() and len(word) >= 3


def _weight(folded: str, hit: _Hit, cue_ends: dict[str, list[int]]) -> float:
    """1.0 for an affirmed mention, 0.3 when a negation or hypothetical cue governs it.

    A cue governs a term that follows it within its window in the same sentence. Only the
    nearest cue before the term needs checking: a farther one spans the nearer one's gap too.
    """
    for kind, window in (("negation", _NEGATION_WINDOW), ("hypothetical", _HYPOTHETICAL_WINDOW)):
        ends = cue_ends[kind]
        i = bisect.bisect_right(ends, hit.start)
        near = i > 0 and hit.start - ends[i - 1] <= window
        if near and not any(c in _SENTENCE_END for c in folded[ends[i - 1] : hit.start]):
            return 0.3
    return 1.0


def _longest_first(hits: list[_Hit]) -> list[_Hit]:
    """Drop hits nested inside a longer hit ("diabetes" inside "type 2 diabetes")."""
    kept: list[_Hit] = []
    for h in sorted(hits, key=lambda h: (h.start, -(h.end - h.start))):
        if kept and h.start >= kept[-1].start and h.end <= kept[-1].end:
            continue
        kept.append(h)
    return kept


def _densest_span(hits: list[_Hit]) -> tuple[int, int]:
    """Start and end of the window (≤ _SPAN_WINDOW chars) holding the most distinct evidence kinds."""
    best = (0, 0, hits[0].start, hits[0].end)
    j = 0
    for i, h in enumerate(hits):
        while hits[j].start < h.end - _SPAN_WINDOW:
            j += 1
        window = hits[j : i + 1]
        score = (len({w.kind for w in window}), len(window))
        if score > best[:2]:
            best = (*score, window[0].start, max(w.end for w in window))
    return best[2], best[3]


def _mask_tail(value: str) -> str:
    """``*******1234``: the last four characters (two for short values) of the compacted ID."""
    compact = re.sub(r"[^0-9A-Za-z]", "", value).upper()
    keep = 4 if len(compact) >= 8 else 2
    return "*" * (len(compact) - keep) + compact[-keep:]
