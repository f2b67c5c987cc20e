"""Medical records and health-care claim data tied to a person, English and French. Pure, no I/O.

A clinical term alone is not a record: newsletters, pharmacy ads and job offers talk about
diabetes too. A segment holds a MEDICAL_RECORD only when one stretch of it (`WINDOW`
characters) names clinical facts of at least two distinct kinds (diagnosis, medication,
procedure, lab, vital signs, anatomy) *and* points at one person (a title and a name, a date of
birth, "the patient"/"la patiente", "a 45-year-old man", a record number, a clinical-note
layout, or a spaCy PERSON/PER when the engine ran NLP). Negated ("no history of", "pas
d'antécédent") and hypothetical/generic mentions ("if you have", "si vous souffrez de", "people
with") count for less; advertising, newsletter, job-ad and opening-hours cues drop a record
unless it identifies someone (date of birth, age, ID). Matches count only in text, never in
binary noise (`medical_patterns.Prose`).

Identifiers are found beside the record: ICD-10 codes (category checked against the chapter
ranges in use), US Medicare Beneficiary Identifiers (CMS format rules) and claim, member and
record numbers behind a keyword, each graded by the evidence within `WINDOW` characters.
Lexicons live in ``models/medical`` (see `medical_evidence.Lexicon`); patterns in
`medical_patterns`.

`detect` is pure and deterministic; `needs_nlp` is cheap (no spaCy) and says when a Doc could
change the decision: some stretch has rich clinical evidence but no cheap person anchor.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from scanner.detect.context import CONTEXT_WINDOW
from scanner.detect.medical.evidence import (
    CONTEXTUAL,
    EVIDENCE_KINDS,
    IDENTIFYING,
    NAMED,
    Anchor,
    Evidence,
    Hit,
    Lexicon,
    Local,
    collect,
    id_hits,
)
from scanner.detect.medical.patterns import ICD, ICD_CONTEXT, MBI, MBI_CONTEXT, Prose, mask_tail
from scanner.detect.normalize import fold
from scanner.detect.scoring import score
from scanner.model import Confidence, Finding, Group, Segment

if TYPE_CHECKING:
    from spacy.tokens import Doc

__all__ = ["EVIDENCE_KINDS", "MedicalDetector", "fold"]

# a NER person anchors only clinical mentions this close: news stories name people too
_PERSON_REACH = 300
# the reported location of a record: the densest stretch of evidence this long
_SPAN_WINDOW = 300


class _Reading:
    """`fold(text)` and `Prose(text)`, each made on first use: most segments need neither once
    their evidence is remembered."""

    __slots__ = ("_folded", "_prose", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._folded: str | None = None
        self._prose: Prose | None = None

    @property
    def folded(self) -> str:
        if self._folded is None:
            self._folded = fold(self._text)
        return self._folded

    @property
    def prose(self) -> Prose:
        if self._prose is None:
            self._prose = Prose(self._text)
        return self._prose


# results remembered (by digest) between `needs_nlp` and `detect`, and across messages
_MEMO_SIZE = 1024


class MedicalDetector:
    """Finds medical records and health-care claim information about a person. Pure, no I/O after init."""

    def __init__(self, models_dir: Path) -> None:
        base = models_dir / "medical"
        self._lexicon = Lexicon(base)
        self._memo: dict[bytes, tuple[Evidence, list[tuple[str, bool, int, int]]]] = {}
        self._icd_ranges: list[tuple[str, str]] = []
        for line in (base / "icd10_ranges.txt").read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                first, last = line.split()[0].split("-")
                self._icd_ranges.append((first, last))

    # --- public API ----------------------------------------------------------------------------
    def needs_nlp(self, text: str) -> bool:
        """True when some stretch has rich clinical evidence but no cheap person anchor (no spaCy)."""
        evidence = self._collect(text)[0]
        if evidence.marketing:
            return False
        # a cheap anchor a little before a stretch would have made the record already: look around it
        return any(
            local.anchor == 0
            and local.ner_could_anchor
            and evidence.near(local.evidence[0].start, local.evidence[-1].end).anchor == 0
            for local in evidence.windows()
        )

    def detect(self, segment: Segment, doc: Doc | None) -> list[Finding]:
        """Findings for one segment; `doc` is the spaCy Doc of `segment.text` or None. Pure."""
        text = segment.text
        reading = _Reading(text)  # the fold and prose guard, made only if a code needs them
        evidence, ids = self._collect(text)
        if doc is not None:
            evidence = evidence.with_anchors(self._people(doc, evidence))
        findings: list[Finding] = []
        record = _record(segment, evidence)
        if record is not None:
            findings.append(record)
        findings.extend(self._icd_findings(segment, reading, evidence))
        findings.extend(_mbi_findings(segment, reading, evidence))
        for category, strong, start, end in ids:
            local = evidence.near(start, end)
            # a car or home insurer's name ("Mutuelle de Poitiers") is no health context
            health = local.health and (bool(local.evidence) or not evidence.property)
            if strong:
                level = Confidence.HIGH if health or local.categories else Confidence.MEDIUM
            elif not health:
                continue
            else:
                level = Confidence.HIGH if local.categories else Confidence.MEDIUM
            findings.append(_finding(segment, category, start, end, level, mask_tail(text[start:end])))
        return findings

    # --- analysis ------------------------------------------------------------------------------
    def _collect(
        self, text: str, folded: str | None = None, prose: Prose | None = None
    ) -> tuple[Evidence, list[tuple[str, bool, int, int]]]:
        """`folded` and `prose` of `text` are made here when not given and not remembered."""
        # The engine asks `needs_nlp` and then `detect` about the same text, and templated mail
        # repeats segments from message to message: results (a pure function of `text`) are
        # remembered by a 128-bit digest of the text, never the text itself -- a result holds
        # offsets and lexicon categories only, so no message content stays in worker memory.
        key = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        cached = self._memo.get(key)
        if cached is not None:
            return cached
        folded = fold(text) if folded is None else folded
        prose = Prose(text) if prose is None else prose
        terms = list(self._lexicon.terms(folded, prose))
        ids = [i for i in id_hits(folded, terms) if prose(i[2], i[3])]
        result = collect(text, folded, prose, terms, ids), ids
        if len(self._memo) >= _MEMO_SIZE:
            self._memo.pop(next(iter(self._memo)))
        self._memo[key] = result
        return result

    def _people(self, doc: Doc, evidence: Evidence) -> list[Anchor]:
        """NER persons near affirmed evidence, not shouted headings and not clinical terms themselves."""
        affirmed = [h.start for h in evidence.hits if h.weight >= 1.0]
        out: list[Anchor] = []
        for ent in doc.ents:
            if ent.label_ not in ("PERSON", "PER"):
                continue
            name = ent.text.strip()
            if len(name) < 2 or not name[0].isupper() or name.isupper():
                continue
            if " ".join(fold(name).split()) in self._lexicon:
                continue
            if any(abs(start - ent.start_char) <= _PERSON_REACH for start in affirmed):
                out.append(Anchor(CONTEXTUAL, ent.start_char, ner=True))
        return out

    def _icd_findings(self, segment: Segment, reading: _Reading, evidence: Evidence) -> Iterator[Finding]:
        seen: set[str] = set()
        for m in ICD.finditer(segment.text):
            code, dotted = m.group(0), m.group("sub") is not None
            if code in seen or not any(lo <= m.group("cat") <= hi for lo, hi in self._icd_ranges):
                continue
            if not reading.prose(m.start(), m.end()):
                continue
            local = evidence.near(m.start(), m.end())
            clinical = len(local.categories)
            folded = reading.folded
            lo, hi = CONTEXT_WINDOW.bounds(len(folded), m.start(), m.end())
            window = folded[lo : m.start()] + " " + folded[m.end() : hi]
            keyword = ICD_CONTEXT.search(window) is not None
            if keyword and local.anchor and clinical:
                level = Confidence.HIGH
            elif (keyword and (local.anchor or clinical)) or (dotted and local.anchor and clinical):
                level = Confidence.MEDIUM
            elif keyword or (dotted and clinical >= 2):
                level = Confidence.LOW
            else:
                continue
            if evidence.marketing and local.anchor < IDENTIFYING:
                continue  # a coding course or a billing job ad quoting example codes
            seen.add(code)
            # even the chapter letter is health data (F = mental disorders): mask it all
            masked = "***" + (".*" if dotted else "")
            yield _finding(segment, "ICD10_CODE", m.start(), m.end(), level, masked)


_TELLING = frozenset({"procedure", "diagnosis"})


def _grade(local: Local, marketing: int) -> Confidence | None:
    """The confidence of a record resting on one stretch of text, or None when it is no record."""
    categories = local.categories
    # One kind of evidence is enough only when it is rich (a procedure note naming the catheter,
    # the brachytherapy and the treatment plan) and someone is anchored.
    single = len(categories) == 1 and local.anchor and not marketing and local.distinct_terms >= 3
    # Mail about the recipient's own care ("Hi Jane, your refill of metformin 500 mg is ready",
    # "Bonjour Marie, votre séance de dialyse..."): a named recipient, a second-person care
    # phrase, and two terms of one kind or one treatment or diagnosis (dialysis tells
    # the illness).
    single = single or (
        len(categories) == 1
        and local.anchor >= NAMED
        and local.care
        and (local.distinct_terms >= 2 or categories[0] in _TELLING or local.measured)
    )
    if len(categories) < 2 and not single:
        return None
    if local.ner_only and not local.ner_could_anchor:
        return None
    total = local.total
    if local.anchor == 0:
        if len(categories) < 3 or total < 5 or marketing:
            return None
        level = Confidence.LOW
    elif (local.anchor >= NAMED and total >= 4) or (len(categories) >= 3 and total >= 6):
        level = Confidence.HIGH
    else:
        level = Confidence.MEDIUM
    if marketing and local.anchor < IDENTIFYING:
        return None  # a newsletter or an ad talking to "the patient" in general
    if marketing >= 3:
        return None  # a health newsletter quoting a named case is still a newsletter
    return level


def _record(segment: Segment, evidence: Evidence) -> Finding | None:
    """The strongest record among the segment's stretches, located at its densest evidence."""
    best: tuple[Confidence, float, Local] | None = None
    for local in evidence.windows():
        level = _grade(local, evidence.marketing)
        if level is not None and (best is None or (level, local.total) > best[:2]):
            best = (level, local.total, local)
    if best is None:
        return None
    level, total, local = best
    start, end = _densest_span([h for h in local.evidence if h.weight >= 1.0])
    masked = f"[clinical note: {', '.join(local.categories)}]"
    return _finding(segment, "MEDICAL_RECORD", start, end, level, masked, total)


def _mbi_findings(segment: Segment, reading: _Reading, evidence: Evidence) -> Iterator[Finding]:
    for m in MBI.finditer(segment.text):
        if m.group(2) != m.group(4):  # printed either 1EG4-TE5-MK73 or 1EG4TE5MK73
            continue
        if not reading.prose(m.start(), m.end()):
            continue
        local = evidence.near(m.start(), m.end())
        folded = reading.folded
        if MBI_CONTEXT.search(folded[CONTEXT_WINDOW.bounds(len(folded), m.start(), m.end())[0] : m.start()]):
            level = Confidence.HIGH
        elif local.health or local.anchor:
            level = Confidence.MEDIUM
        else:
            level = Confidence.LOW
        yield _finding(segment, "US_MEDICARE_MBI", m.start(), m.end(), level, mask_tail(m.group(0)))


def _finding(
    segment: Segment, category: str, start: int, end: int, level: Confidence, masked: str, total: float = 0.0
) -> Finding:
    # the one ladder (scoring.score): more evidence moves the score up inside its band
    return Finding(
        category, Group.MEDICAL, segment.location, start, end, score(level, total / 200), level, masked
    )


def _densest_span(hits: list[Hit]) -> tuple[int, int]:
    """Start and end of the stretch (≤ _SPAN_WINDOW chars) holding the most distinct evidence kinds."""
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
