"""The medical patterns written for speed find exactly what their plain forms find.

`scanner.detect.medical.patterns` consumes a pattern's first character before looking behind it
(so `re` can skip to candidates in C); the plain forms below, with the lookbehind first, are how
the patterns read. Both are run over every corpus segment, the generated medical set, the
examples of the medical tests and random text built from the patterns' own words.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator

import pytest

from scanner.detect.medical import patterns as fast
from scanner.detect.normalize import fold
from scanner.extract import extract
from tests.corpus import corpus_dir
from tests.generators.medical import medical_samples

PLAIN: dict[str, re.Pattern[str]] = {
    "DOSE": re.compile(
        r"(?<![\w.,])\d+(?:[.,]\d+)?\s?(?:mg|mcg|µg|μg|ug|ui|iu|meq|units?|unites?)"
        r"(?:/kg(?:/(?:day|j|jour|24 ?h))?)?(?![\w/])"
        r"|(?<![\w.,])\d+(?:[.,]\d+)?\s?(?:ml|g|gouttes?|drops?)\b(?=.{0,25}?(?:daily|twice|a day|per day"
        r"|par jour|fois par jour|/jour|/j\b|le matin|le soir|au coucher|at bedtime|every \d+ hours"
        r"|toutes les \d+ heures))"
        r"|(?<!\w)\d+\s?fois par jour(?!\w)"
    ),
    "VITALS": re.compile(
        r"(?<!\w)(?:bp|ta|blood pressure|tension(?: arterielle)?|pression arterielle)\s*(?:of|was|is|de|"
        r"est de|etait de|:|=)?\s*\d{2,3}\s?/\s?\d{2,3}(?!\d)|(?<![\w.])\d{2,3}\s?(?:bpm|battements par minute)"
        r"|(?<!\w)temp(?:erature)?(?: tympanique| corporelle| axillaire| rectale| buccale)?\s*(?:of|was|is|de|"
        r"est de|:|=|a)?\s*(?:3[4-9]|4[0-2])(?:[.,]\d)?\s*(?:°|degr|c\b)"
    ),
    "CPT": re.compile(
        r"(?<!\w)(?:cpt|hcpcs|procedure code|code acte|ccam)(?: code)?\s*[:#]?\s*\d{4}[0-9ft](?!\w)"
    ),
    "AGE_EN": re.compile(
        r"(?<!\w)\d{1,3}[- ](?:year|yr|month|week)s?[- ]old(?!\w)|(?<!\w)\d{1,3}\s?(?:yo|y/o|y\.o\.)(?!\w)"
    ),
    "AGE_FR": re.compile(
        r"(?<!\w)(?:homme|femme|garcon|fille|fillette|monsieur|madame|dame|enfant|nourrisson|bebe|patient|"
        r"patiente|adolescent|adolescente|nouveau-ne)(?:\s+[\w'-]+){0,3}?\s+(?:agee?\s+)?de\s+\d{1,3}\s+"
        r"(?:ans|mois|semaines)(?!\w)|(?<!\w)agee?\s+de\s+\d{1,3}\s+ans(?!\w)"
    ),
    "ICD": re.compile(r"(?<![\w.-])(?P<cat>[A-Z]\d[0-9AB])(?:\.(?P<sub>[0-9A-Z]{1,4}))?(?![\w-])"),
    "TITLE_NAME": re.compile(
        r"(?<![\w.])(?:(?P<doctor>Dr|Prof|Pr)|Mr|Mrs|Ms|Mx|Miss|Mme|Mlle|Madame|Monsieur|Mademoiselle|M(?=\.))"
        r"\.?\s+[A-Z][A-Za-zÀ-ÖØ-öø-ÿ'-]*"
    ),
    "LABELLED_NAME": re.compile(
        r"(?<!\w)(?i:patient(?:e)?|patient name|name|nom|nom du patient|nom de la patiente|member|insured|"
        r"subscriber|assurée?|bénéficiaire)\s*:\s*"
        r"[A-ZÀ-ÖØ-Þ][A-Za-zÀ-ÖØ-öø-ÿ'-]+"
    ),
    "MBI": re.compile(
        r"(?<![A-Za-z0-9-])([1-9][AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9]\d)(-?)([AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9]\d)"
        r"(-?)([AC-HJKMNP-RT-Y]{2}\d{2})(?![A-Za-z0-9-])"
    ),
}
FOLDED = {"DOSE", "VITALS", "CPT", "AGE_EN", "AGE_FR"}  # the others run over the original text

# words and separators the patterns care about, for random text that hits their corners
_PIECES = (
    "500", "5", "12", "1,5", "0.4", "120/80", "38,5", "37", "41", "99213", "A01", "E11.9", "Z99",
    "B20", "mg", "mcg", "g", "ml", "ui", "units", "/kg", "/day", "bpm", "°", "degres", "c", "yo",
    "y/o", "y.o.", "year", "months", "old", "ans", "mois", "de", "agee", "age", "homme", "fille",
    "fillette", "patiente", "nouveau-ne", "bp", "ta", "blood pressure", "tension arterielle",
    "pression", "temp", "temperature", "tympanique", "cpt", "ccam", "code acte", "hcpcs",
    "procedure code", "code", "daily", "twice", "par jour", "fois par jour", "le soir", "x", "ab",
    "-", ".", ",", ":", "=", "/", "#", "'", "é", " ", " ", " ", "  ", "\n", "_",
    "cpt 99213", "cpt code: 9921", "ccam #12345", "code acte 1234f", "hcpcs 1234t", "45 ans",
    "Dr", "Dr.", "Prof", "Pr", "Mr", "Mrs", "Ms", "Mx", "Miss", "Mme", "Mlle", "M.", "Madame",
    "Monsieur", "Mademoiselle", "Dupont", "Jane", "Patient", "PATIENT", "patient name", "Nom",
    "nom du patient", "Member", "insured", "Subscriber", "ſubscriber", "İnsured", "ınsured",
    "Assurée", "bénéficiaire", "Name", "appendectomy", "colonoscopies", "arthritis", "nostalgia",
    "neuralgie", "myopathy", "tracheostomie", "gastritis", "ſubscriber: Jane", "İnsured: Roe",
    "ınsured : Dupont", "Patient: Jane", "Dr. Jane", "M. Dupont", "Mrs Roe", "Prof Dupont",
    "1EG4-TE5-MK73", "1EG4TE5MK73", "1EG4-TE5MK73", "9AA9", "-1EG4", "x", "A", "0",
)  # fmt: skip


def _texts() -> list[str]:
    texts: list[str] = []
    corpus = corpus_dir()
    if (corpus / "labels.jsonl").is_file():
        for path in sorted(corpus.rglob("*.eml"))[:1500]:
            texts.extend(seg.text for seg in extract(path.read_bytes()).segments)
    for samples in medical_samples(seed=7, copies=3).values():
        texts.extend(s.text for s in samples)
    rnd = random.Random(5)
    for _ in range(3000):
        texts.append("".join(rnd.choice(_PIECES) for _ in range(rnd.randint(1, 14))))
    return texts


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return _texts()


def _spans(pattern: re.Pattern[str], text: str) -> list[tuple[int, int, dict[str, str | bool | None]]]:
    return _spans_of(pattern.finditer(text))


def _spans_of(matches: Iterator[re.Match[str]]) -> list[tuple[int, int, dict[str, str | bool | None]]]:
    out: list[tuple[int, int, dict[str, str | bool | None]]] = []
    for m in matches:
        groups: dict[str, str | bool | None] = dict(m.groupdict())
        if "doctor" in groups:  # TITLE_NAME: only whether the title was a doctor's counts
            groups["doctor"] = bool(groups["doctor"])
        if not groups:  # MBI: numbered groups only
            groups = {str(i): g for i, g in enumerate(m.groups(), 1)}
        out.append((m.start(), m.end(), groups))
    return out


@pytest.mark.parametrize("name", sorted(PLAIN))
def test_fast_pattern_matches_its_plain_form(name: str, texts: list[str]) -> None:
    fast_pattern: re.Pattern[str] = getattr(fast, name)
    plain = PLAIN[name]
    found = 0
    for text in texts:
        subject = fold(text) if name in FOLDED else text
        expected = _spans(plain, subject)
        assert _spans(fast_pattern, subject) == expected, (name, subject[:200])
        found += len(expected)
    assert found > 20, f"{name}: too few matches to compare ({found})"


def test_suffix_stems_skip_only_text_without_matches(texts: list[str]) -> None:
    found = 0
    for text in texts:
        folded = fold(text)
        expected = [m.span() for m in fast.SUFFIX.finditer(folded)]
        assert [m.span() for m in fast.suffix_matches(folded)] == expected, folded[:200]
        found += len(expected)
    assert found > 20


@pytest.mark.parametrize("name", ["VITALS", "AGE_FR", "LABELLED_NAME"])
def test_guarded_scan_skips_only_texts_without_matches(name: str, texts: list[str]) -> None:
    guarded: fast.Guarded = getattr(fast, name + "_SCAN")
    assert guarded.pattern is getattr(fast, name)
    skipped = 0
    for text in texts:
        subject = fold(text) if name in FOLDED else text
        expected = _spans(PLAIN[name], subject)
        assert _spans_of(guarded.finditer(subject)) == expected, (name, subject[:200])
        skipped += not expected
    assert skipped and skipped < len(texts)
