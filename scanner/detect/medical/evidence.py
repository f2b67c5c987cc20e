"""What the medical detector weighs, and where in the segment it lies. Pure, no I/O after load.

`Lexicon` holds the word lists of ``models/medical`` in one Aho-Corasick automaton. `collect`
turns one segment into `Evidence`: clinical hits (diagnosis, medication, procedure, lab, vital
signs, anatomy) with their weight (1.0 affirmed, 0.3 under a negation or a hypothetical cue),
person anchors with their strength, note-layout headings, health cues and marketing cues, every
one with its offsets. `Evidence.around(lo, hi)` is the `Local` view of one stretch of text.

Why stretches: a record is a few clinical facts *about one person*, written together. Long
segments (a newsletter, a digest, the bytes of an attachment read as text) mention a drug in one
paragraph, a lab test five screens further and a "Mr. Smith" elsewhere; counted over the whole
segment they look like a note. So what counts for one record must fit in `WINDOW` characters.
Every match must also read as text (`Prose`): binary noise is full of "qd" and "a1c".
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import ahocorasick

from scanner.detect.medical.patterns import (
    AGE_EN,
    AGE_FR_SCAN,
    BIRTH_CUES,
    CPT,
    DATE_NEAR,
    DOSE,
    FREQUENCY,
    ID_TAIL,
    LABELLED_NAME_SCAN,
    NOT_A_NAME,
    RECIPIENT,
    TITLE_NAME,
    VITALS_SCAN,
    Prose,
    is_heading,
    suffix_matches,
)
from scanner.detect.normalize import fold

EVIDENCE_KINDS = ("diagnosis", "medication", "procedure", "lab", "vitals", "anatomy")
CUE_KINDS = (
    "section",
    "layout",
    "anchor",
    "negation",
    "hypothetical",
    "marketing",
    "health",
    "care",
    "education",
    "veterinary",
    "property",
)
# Everything one record rests on (its evidence kinds and its anchor) lies within this many
# characters: about 20 lines of a note, so a header ("Patient: ... DOB: ...") reaches the
# history and the first findings below it, but not a paragraph a few screens away. The 66
# corpus notes (up to 16 kB) all hold a qualifying stretch of 1,000 characters; 1,500 leaves
# room for a long header or a signature block between the name and the first clinical line.
WINDOW = 1_500
_SENTENCE_END = frozenset(".!?;:\n")
_NEGATION_WINDOW = 50
_HYPOTHETICAL_WINDOW = 80
# Anchor strengths: 1 = points at a person in context ("the patient", a note layout, a NER
# PERSON, "Dr X"), 2 = names one (Mr/Mme + a name: newsletters quote people too), 3 = identifies
# one (a date of birth, an age and sex, "Patient: Jane Roe", a record or member number).
CONTEXTUAL, NAMED, IDENTIFYING = 1, 2, 3
_SPECIFIC = frozenset({"medication", "procedure", "lab", "vitals"})

_T = TypeVar("_T")
Term = tuple[str, int, int]  # (kind, start, end) of a lexicon match in the folded text
IdHit = tuple[str, bool, int, int]  # (category, strong keyword?, start, end) of an identifier


@dataclass(frozen=True, slots=True)
class Hit:
    kind: str
    start: int
    end: int
    term: str
    weight: float = 1.0
    measured: bool = False  # a number follows within a few words (a result, not a topic)


@dataclass(frozen=True, slots=True)
class Anchor:
    strength: int
    start: int
    ner: bool = False  # a spaCy PERSON/PER, not a cheap cue


@dataclass(frozen=True, slots=True)
class Local:
    """The evidence of one stretch of text, as the record and ID rules read it."""

    evidence: tuple[Hit, ...]
    anchor: int  # 0 = none, else CONTEXTUAL / NAMED / IDENTIFYING
    health: bool
    ner_only: bool = False  # the only anchor is a spaCy PERSON/PER
    care: bool = False  # a second-person care phrase ("your refill", "vos résultats") lies here

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

    @property
    def measured(self) -> bool:
        """A lab or vital sign with its value ("PSA came back at 6.8", "TSH 4.2"): a result."""
        return any(h.kind in ("lab", "vitals") and h.measured for h in self.evidence if h.weight >= 1.0)

    @property
    def ner_could_anchor(self) -> bool:
        """Evidence rich enough for a NER person to anchor it.

        NER finds people in every news story; it anchors only text naming a drug, an act, a lab
        or a vital sign beside other clinical facts, not "cancer" next to "respiratory".
        """
        return (
            len(self.categories) >= 2 and bool(set(self.categories) & _SPECIFIC) and self.distinct_terms >= 3
        )


@dataclass(frozen=True, slots=True)
class Evidence:
    """Everything found in one segment, each tuple sorted by start offset."""

    hits: tuple[Hit, ...]
    anchors: tuple[Anchor, ...]
    sections: tuple[tuple[int, str], ...]  # (start, folded heading)
    health: tuple[int, ...]  # starts of health cues
    marketing: int  # distinct advertising / newsletter / teaching / veterinary cues in the segment
    care: tuple[int, ...] = ()  # starts of second-person care phrases
    property: bool = False  # car/home insurance words: "Mutuelle" in an insurer's name is no health cue
    # start offsets of `hits` and `anchors`, for bisection
    hit_starts: tuple[int, ...] = field(init=False)
    anchor_starts: tuple[int, ...] = field(init=False)
    section_starts: tuple[int, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "hit_starts", tuple(h.start for h in self.hits))
        object.__setattr__(self, "anchor_starts", tuple(a.start for a in self.anchors))
        object.__setattr__(self, "section_starts", tuple(s for s, _ in self.sections))

    def with_anchors(self, extra: list[Anchor]) -> Evidence:
        anchors = tuple(sorted((*self.anchors, *extra), key=lambda a: a.start))
        return Evidence(
            self.hits, anchors, self.sections, self.health, self.marketing, self.care, self.property
        )

    def around(self, lo: int, hi: int) -> Local:
        """What lies in ``[lo, hi)`` (by start offset)."""
        hits = _slice(self.hits, self.hit_starts, lo, hi)
        anchors = _slice(self.anchors, self.anchor_starts, lo, hi)
        headings = {name for _, name in _slice(self.sections, self.section_starts, lo, hi)}
        cheap = max((a.strength for a in anchors if not a.ner), default=0)
        if len(headings) >= 3:
            cheap = max(cheap, CONTEXTUAL)
        ner_only = cheap == 0 and any(a.ner for a in anchors)
        health = bool(hits) or bool(_slice(self.health, self.health, lo, hi))
        care = bool(_slice(self.care, self.care, lo, hi))
        return Local(hits, CONTEXTUAL if ner_only else cheap, health, ner_only, care)

    def windows(self) -> Iterator[Local]:
        """Every stretch of `WINDOW` characters that starts at a hit, an anchor or a heading.

        Any set of items spanning at most `WINDOW` characters lies in the one starting at its
        first item, so no grouping is missed. A stretch that takes in no item beyond the
        previous one's holds a subset of it and cannot grade higher: it is skipped, so a
        segment shorter than `WINDOW` is read once.
        """
        starts = sorted({*self.hit_starts, *self.anchor_starts, *self.section_starts, *self.care})
        last_end = -1
        for start in starts:
            end = bisect.bisect_left(starts, start + WINDOW)
            if end > last_end:
                last_end = end
                yield self.around(start, start + WINDOW)

    def near(self, start: int, end: int) -> Local:
        """What lies within `WINDOW` characters of ``[start, end)``."""
        return self.around(max(0, start - WINDOW), end + WINDOW)


def _slice(items: tuple[_T, ...], starts: tuple[int, ...], lo: int, hi: int) -> tuple[_T, ...]:
    return items[bisect.bisect_left(starts, lo) : bisect.bisect_left(starts, hi)]


def _read_terms(path: Path) -> Iterator[str]:
    for line in path.read_text(encoding="utf-8").splitlines():
        term = line.split("#", 1)[0].strip() if not line.lstrip().startswith("#") else ""
        if term:
            yield " ".join(fold(term).split())


class Lexicon:
    """The medical word lists as one automaton: whole words, case- and accent-insensitive."""

    def __init__(self, base: Path) -> None:
        kinds: dict[str, set[str]] = {}
        for path in sorted(base.glob("*_*.txt")):
            kind = path.stem.rsplit("_", 1)[0]
            if kind not in EVIDENCE_KINDS and kind not in CUE_KINDS:
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

    def __contains__(self, folded: str) -> bool:
        return bool(self._automaton.exists(folded))

    def terms(self, folded: str, prose: Prose) -> Iterator[Term]:
        """(kind, start, end) of every whole-word match in prose; evidence terms may take a plural."""
        n = len(folded)
        for last, (length, kinds) in self._automaton.iter(folded):
            start, end = last - length + 1, last + 1
            if start > 0 and folded[start].isalnum() and folded[start - 1].isalnum():
                continue
            if end < n and folded[end - 1].isalnum() and folded[end].isalnum():
                suffix = next((s for s in ("es", "s", "x") if folded.startswith(s, end)), None)
                tail = end + len(suffix) if suffix else end
                if suffix is None or (tail < n and folded[tail].isalnum()):
                    continue
                kinds = tuple(k for k in kinds if k in EVIDENCE_KINDS)
                end = tail
            if kinds and prose(start, end):
                for kind in kinds:
                    yield kind, start, end


def id_hits(folded: str, terms: list[Term]) -> list[IdHit]:
    """(category, strong keyword?, start, end) of IDs right behind a claim/member/record keyword."""
    out: dict[tuple[int, int], IdHit] = {}
    for kind, _start, end in terms:
        if not kind.startswith("id:"):
            continue
        _, category, strength = kind.split(":")
        m = ID_TAIL.match(folded, end)
        if m is None or sum(c.isdigit() for c in m.group("id")) < 4:
            continue
        key = (m.start("id"), m.end("id"))
        strong = strength == "strong"
        if key not in out or (strong and not out[key][1]):
            out[key] = (category, strong, *key)
    return sorted(out.values(), key=lambda t: t[2])


def collect(text: str, folded: str, prose: Prose, terms: list[Term], ids: list[IdHit]) -> Evidence:
    """Clinical hits, anchors and cues of one segment (lexicon `terms` already in prose)."""
    raw: list[Hit] = []
    cues: dict[str, list[tuple[int, int]]] = {k: [] for k in CUE_KINDS}
    sections: list[tuple[int, str]] = []
    for kind, start, end in terms:
        if kind in EVIDENCE_KINDS:
            raw.append(Hit(kind, start, end, folded[start:end]))
        elif kind in ("section", "layout"):
            if is_heading(text, folded, start, end):
                sections.append((start, folded[start:end]))
                if kind == "layout":  # a report heading no other mail uses
                    cues["anchor"].append((start, end))
        elif kind in cues:
            cues[kind].append((start, end))
    for pattern, kind in ((DOSE, "medication"), (VITALS_SCAN, "vitals"), (CPT, "procedure")):
        raw.extend(Hit(kind, m.start(), m.end(), m.group(0)) for m in pattern.finditer(folded))
    raw.extend(
        Hit("medication", m.start("freq"), m.end(), m.group("freq")) for m in FREQUENCY.finditer(folded)
    )
    for m in suffix_matches(folded):
        raw.append(Hit("procedure" if m.group("procedure") else "diagnosis", m.start(), m.end(), m.group(0)))
    raw = [h for h in _longest_first(raw) if prose(h.start, h.end)]
    cues["care"] += _possessed(folded, raw)
    cue_ends = {kind: sorted(end for _, end in spans) for kind, spans in cues.items()}
    hits = tuple(
        Hit(h.kind, h.start, h.end, h.term, _weight(folded, h, cue_ends), bool(_VALUE.match(folded, h.end)))
        for h in raw
    )

    anchors = [Anchor(CONTEXTUAL, start) for start, _ in cues["anchor"]]
    for start, end in cues["anchor"]:
        if folded[start:end] in BIRTH_CUES and DATE_NEAR.match(folded, end):
            anchors.append(Anchor(IDENTIFYING, start))
    found = [(IDENTIFYING, m.start(), m.end()) for m in LABELLED_NAME_SCAN.finditer(text)]
    found += [
        (CONTEXTUAL if m.group("doctor") else NAMED, m.start(), m.end()) for m in TITLE_NAME.finditer(text)
    ]
    # a teaching case's "67-year-old woman" is nobody: with teaching cues an age only points
    age = CONTEXTUAL if cues["education"] else IDENTIFYING
    found += [(age, m.start(), m.end()) for p in (AGE_EN, AGE_FR_SCAN) for m in p.finditer(folded)]
    if cues["care"]:
        found += [(NAMED, m.start(), m.end()) for m in _recipients(text)]
    anchors += [Anchor(strength, start) for strength, start, end in found if prose(start, end)]
    anchors += [Anchor(IDENTIFYING, start) for _, _, start, _ in ids]
    marketing = len({folded[s:e] for kind in _AGAINST for s, e in cues[kind]})
    return Evidence(
        hits,
        tuple(sorted(anchors, key=lambda a: a.start)),
        tuple(sorted(sections)),
        tuple(sorted(s for s, _ in cues["health"])),
        marketing,
        tuple(sorted(s for s, _ in cues["care"])),
        bool(cues["property"]),
    )


# "your"/"votre" a few words before a clinical term ("your colonoscopy prep", "votre bilan
# sanguin", "your blood pressure readings"): mail about the reader's own care
_POSSESSIVE = re.compile(r"(?<!\w)(?:your|votre|vos|ton|ta|tes)\s+(?:[\w'’-]+\s+){0,3}?$")
_POSSESSIVE_REACH = 40
# a value right after a lab or vital term: "TSH 4.2", "PSA came back at 6.8", "ferritine basse a 8"
_VALUE = re.compile(r"[^\n\d.;]{0,20}?\d")


def _possessed(folded: str, hits: list[Hit]) -> list[tuple[int, int]]:
    """Care cues: a second-person possessive governing an evidence term in the same clause."""
    out = []
    for hit in hits:
        m = _POSSESSIVE.search(folded, max(0, hit.start - _POSSESSIVE_REACH), hit.start)
        if m is not None:
            out.append((m.start(), m.end()))
    return out


# cues that a segment is no one's record: an advert or newsletter, a teaching case, a pet
_AGAINST = ("marketing", "education", "veterinary")


def _recipients(text: str) -> Iterator[re.Match[str]]:
    """Greetings that name the recipient ("Hi Jane,"), not "Hi team,"."""
    for m in RECIPIENT.finditer(text):
        name = m.group("name") or m.group("name2") or m.group("name3") or ""
        if name.split()[0].lower() not in NOT_A_NAME:
            yield m


def _weight(folded: str, hit: Hit, cue_ends: dict[str, list[int]]) -> float:
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


def _longest_first(hits: list[Hit]) -> list[Hit]:
    """Drop hits nested inside a longer hit ("diabetes" inside "type 2 diabetes"), in text order."""
    kept: list[Hit] = []
    for h in sorted(hits, key=lambda h: (h.start, -(h.end - h.start))):
        if kept and h.start >= kept[-1].start and h.end <= kept[-1].end:
            continue
        kept.append(h)
    return kept
