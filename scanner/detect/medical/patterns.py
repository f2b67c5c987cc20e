"""Compiled patterns, ID validators and text tests of the medical detector. Pure, no I/O.

Everything here works on one of two strings of the same length: the segment text and its
`fold` (lowercased, accents stripped), so an offset found in one is an offset in the other.
Regexes over the folded text: doses, vital signs, procedure codes, clinical suffixes, ages.
Over the original text (capitals matter): title + name, labelled names, ICD-10 codes and US
Medicare Beneficiary Identifiers (CMS format: no S, L, O, I, B, Z).

`Prose` is the guard against binary noise: a match counts only inside something that reads
as text (see its docstring).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

# --- binary noise ----------------------------------------------------------------------------
# Bytes of an attachment or a WAV file decoded as text give a long segment where short words
# ("qd", "a1c", "0ug", "3ýO" folded to "3yo") appear among control characters and stray
# symbols: a quarter of random bytes read as Latin-1 are C0/C1 controls, a tenth Latin-1 signs.
# Mail text has few of either near a word. A control character or two is tolerated (a reader
# does not see them, and the engine's normaliser drops them from identifiers for the same
# reason: sprinkling a few must not hide a note); a dense run is noise.
_NOISE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f\ufffd\ue000-\uf8ff]")
# (° µ ² ³ ± § « » · are ordinary in notes and stay out of this set)
_ODD = re.compile(
    r"[\u00a1-\u00a7\u00a8-\u00aa\u00ac-\u00af\u00b4\u00b6\u00b8-\u00ba\u00bc-\u00bf\u00d7\u00f7]"
)
_EDGE_PUNCT = frozenset(
    ".,;:!?()[]{}<>\"'`/\\-_*#=+&%@|~$€£°µ²³±§«»·•\u2018\u2019\u201c\u201d\u2013\u2014\u2026\u00a0"
)
PROSE_RADIUS = 24  # characters each side that must read as text
_MAX_NOISE = 2  # control / replacement characters tolerated in that neighbourhood
_MAX_ODD = 1  # stray Latin-1 signs tolerated there


def _edge_ok(ch: str) -> bool:
    return ch.isalnum() or ch.isspace() or ch in _EDGE_PUNCT or _NOISE.match(ch) is not None


def _at_most(pattern: re.Pattern[str], text: str, limit: int) -> bool:
    return sum(1 for _ in itertools.islice(pattern.finditer(text), limit + 1)) <= limit


class Prose:
    """Tells whether a match in `text` sits in something that reads as text, not binary noise.

    Neither neighbour is a stray sign (a control character may touch a word: it is invisible),
    and the `PROSE_RADIUS` characters on each side hold at most `_MAX_NOISE` control characters
    and `_MAX_ODD` stray Latin-1 sign. For random bytes read as Latin-1 (a quarter controls,
    a tenth signs) that happens about 5 times in a million tries (binomial, 48 characters),
    and a record still needs two evidence kinds and an anchor in one stretch.
    Built once per segment: a segment with (nearly) no noise at all, i.e. nearly all mail, only
    needs the neighbour test.
    """

    __slots__ = ("_clean", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._clean = _at_most(_NOISE, text, _MAX_NOISE) and _at_most(_ODD, text, _MAX_ODD)

    def __call__(self, start: int, end: int) -> bool:
        text = self._text
        if start > 0 and not _edge_ok(text[start - 1]):
            return False
        if end < len(text) and not _edge_ok(text[end]):
            return False
        if self._clean:
            return True
        lo, hi = max(0, start - PROSE_RADIUS), min(len(text), end + PROSE_RADIUS)
        return len(_NOISE.findall(text, lo, hi)) <= _MAX_NOISE and len(_ODD.findall(text, lo, hi)) <= _MAX_ODD


def in_prose(text: str, start: int, end: int) -> bool:
    """Whether `text[start:end]` reads as text (see `Prose`)."""
    return Prose(text)(start, end)


class Guarded:
    """`pattern.finditer`, skipped when the text holds no cue: every match of the pattern holds
    one (a `cue` match or the `literal`), and looking for it is a scan `re` runs in C."""

    __slots__ = ("_cue", "_literal", "pattern")

    def __init__(self, pattern: re.Pattern[str], cue: re.Pattern[str], literal: str | None = None) -> None:
        self.pattern = pattern
        self._cue = cue
        self._literal = literal

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        if (self._literal is None or self._literal not in text) and self._cue.search(text) is None:
            return iter(())
        return self.pattern.finditer(text)


# --- patterns over folded text -------------------------------------------------------------
# Speed: `re` cannot skip ahead in a pattern that starts with a lookbehind ("(?<!\w)500 mg"), so
# it tries every position of every segment (~100 ns per character per pattern). The patterns
# below therefore consume their first character before looking behind it: "\d(?<!\w\d)" is
# "(?<!\w)\d", but it starts with a character set, so `re` jumps from candidate to candidate in
# C (5x faster on mail). Where alternatives start with different characters, each alternative
# checks its own first character with "(?<=x)". `tests/detect/test_pattern_rewrites.py` keeps
# the plain forms and checks that both find the same matches.
# A dose is a number and a unit ("500 mg", "1 g ... twice daily"); a bare unit never counts.
# Latin frequency abbreviations ("bid", "prn") are words too ("a bid"), so they count only a
# few characters after a number, as in "100 mg bid" or "2 puffs q4h prn".
DOSE = re.compile(
    r"\d(?:(?<![\w.,]\d)\d*(?:[.,]\d+)?\s?(?:mg|mcg|µg|μg|ug|ui|iu|meq|units?|unites?)"
    r"(?:/kg(?:/(?:day|j|jour|24 ?h))?)?(?![\w/])"
    r"|(?<![\w.,]\d)\d*(?:[.,]\d+)?\s?(?:ml|g|gouttes?|drops?)\b(?=.{0,25}?(?:daily|twice|a day|per day"
    r"|par jour|fois par jour|/jour|/j\b|le matin|le soir|au coucher|at bedtime|every \d+ hours"
    r"|toutes les \d+ heures))"
    r"|(?<!\w\d)\d*\s?fois par jour(?!\w))"
)
FREQUENCY = re.compile(
    r"\d[^\n\d]{0,20}?(?<!\w)(?P<freq>q\.?d|b\.?i\.?d|t\.?i\.?d|q\.?i\.?d|q\.?h\.?s|p\.?r\.?n|q\d+h)\.?(?!\w)"
)
_PRESSURE = r"\s*(?:of|was|is|de|est de|etait de|:|=)?\s*\d{2,3}\s?/\s?\d{2,3}(?!\d)"
VITALS = re.compile(
    r"[btp\d](?:(?<=b)(?<!\wb)(?:p|lood pressure)"
    + _PRESSURE
    + r"|(?<=t)(?<!\wt)(?:a|ension(?: arterielle)?)"
    + _PRESSURE
    + r"|(?<=p)(?<!\wp)ression arterielle"
    + _PRESSURE
    + r"|(?<=\d)(?<![\w.]\d)\d{1,2}\s?(?:bpm|battements par minute)"
    # a body temperature, not the weather: 34-42 degrees right after the word
    r"|(?<=t)(?<!\wt)emp(?:erature)?(?: tympanique| corporelle| axillaire| rectale| buccale)?\s*(?:of|was|"
    r"is|de|est de|:|=|a)?\s*(?:3[4-9]|4[0-2])(?:[.,]\d)?\s*(?:°|degr|c\b))"
)
# pressures hold "<digit>/" (spaces allowed), heart rates "<digit> bpm", temperatures "emp"
VITALS_SCAN = Guarded(VITALS, re.compile(r"\d\s?[/b]"), "emp")
CPT = re.compile(
    r"[chp](?:(?<=c)(?<!\wc)(?:pt|ode acte|cam)|(?<=h)(?<!\wh)cpcs|(?<=p)(?<!\wp)rocedure code)"
    r"(?: code)?\s*[:#]?\s*\d{4}[0-9ft](?!\w)"
)
SUFFIX = re.compile(
    r"(?<!\w)(?!nostalg)[a-z]{3,}(?:(?P<procedure>ectomy|ectomies|otomy|oscopy|ostomy|ectomie|otomie"
    r"|oscopie|ostomie)|(?P<diagnosis>itis|opathy|algia|opathie|algie))s?(?!\w)"
)
# Every SUFFIX match holds one of these stems. Words start on letters, so the trick above does
# not help SUFFIX; most mail has none of the stems, and looking for them is 3x cheaper.
_SUFFIX_STEMS = re.compile("ectom|otom|oscop|ostom|itis|opath|algi")


def suffix_matches(folded: str) -> Iterator[re.Match[str]]:
    """`SUFFIX.finditer(folded)`, skipped when no stem is there."""
    if _SUFFIX_STEMS.search(folded) is None:
        return iter(())
    return SUFFIX.finditer(folded)


AGE_EN = re.compile(
    r"\d(?<!\w\d)(?:\d{0,2}[- ](?:year|yr|month|week)s?[- ]old(?!\w)|\d{0,2}\s?(?:yo|y/o|y\.o\.)(?!\w))"
)
AGE_FR = re.compile(
    r"[hfgmdenbpa](?<!\w[hfgmdenbpa])(?:(?:(?<=h)omme|(?<=f)emme|(?<=g)arcon|(?<=f)ille|(?<=f)illette"
    r"|(?<=m)onsieur|(?<=m)adame|(?<=d)ame|(?<=e)nfant|(?<=n)ourrisson|(?<=b)ebe|(?<=p)atient|(?<=p)atiente"
    r"|(?<=a)dolescent|(?<=a)dolescente|(?<=n)ouveau-ne)(?:\s+[\w'-]+){0,3}?\s+(?:agee?\s+)?de\s+\d{1,3}\s+"
    r"(?:ans|mois|semaines)(?!\w)|(?<=a)gee?\s+de\s+\d{1,3}\s+ans(?!\w))"
)
# both forms end "de <age> ans|mois|semaines"
AGE_FR_SCAN = Guarded(AGE_FR, re.compile(r"\d\s+(?:ans|mois|semaines)"))
BIRTH_CUES = frozenset(
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
        "ne(e) le",
    )
)
DATE_NEAR = re.compile(r"[^\n]{0,25}?\d")
# Over the original text: a title then a capitalised word. "Dr X" anchors only contextually:
# it is usually the physician, not the patient.
TITLE_NAME = re.compile(
    r"[DPM](?<![\w.][DPM])(?:(?P<doctor>(?<=D)r|(?<=P)rof|(?<=P)r)|(?<=M)(?:r|rs|s|x|iss|me|lle|adame"
    r"|onsieur|ademoiselle|(?=\.)))"
    r"\.?\s+[A-Z][A-Za-zÀ-ÖØ-öø-ÿ'-]*"
)  # `doctor` holds the title's tail ("r" of "Dr"): only whether it matched counts
# "Patient: Jane Roe", "Nom : Dupont": a label, then a capitalised word
# (the first character's set holds what the labels' first letters match ignoring case: İ ı ſ too)
LABELLED_NAME = re.compile(
    r"[pnmisabPNMISABİıſ](?<!\w[pnmisabPNMISABİıſ])(?i:(?<=p)atient(?:e)?|(?<=p)atient name|(?<=n)ame"
    r"|(?<=n)om|(?<=n)om du patient|(?<=n)om de la patiente|(?<=m)ember|(?<=i)nsured|(?<=s)ubscriber"
    r"|(?<=a)ssurée?|(?<=b)énéficiaire)\s*:\s*"
    r"[A-ZÀ-ÖØ-Þ][A-Za-zÀ-ÖØ-öø-ÿ'-]+"
)
# a colon, then the capital the name starts with
LABELLED_NAME_SCAN = Guarded(LABELLED_NAME, re.compile(r":\s*[A-ZÀ-ÖØ-Þ]"))
# A greeting that names the recipient ("Hi Jane,", "Dear Mr. Roe,", "Bonjour Marie Dupont,"),
# "Reminder for Jane:", or a line opening "Jane, your ...": in mail about the recipient's own
# care (a `care` phrase in the segment) the recipient is the person the record is about.
_NAME = r"[A-ZÀ-Þ][a-zà-ÿ'’-]+(?:[ -][A-ZÀ-Þ][a-zà-ÿ'’-]+)?"
_TITLE = r"(?:(?:Mr|Mrs|Ms|Miss|Mx|M|Mme|Mlle|Madame|Monsieur|Mademoiselle)\.?\s+)"
RECIPIENT = re.compile(
    r"^[ \t]*(?:(?:(?:Hi|Hello|Hey|Dear|Good (?:morning|afternoon|evening)|Bonjour|Bonsoir|Cher|Chère|Salut)"
    rf"\s+{_TITLE}?(?P<name>{_NAME})\s*[,!:\n])|(?:Reminder|Rappel|Note)\s+(?:for|pour)\s+{_TITLE}?"
    rf"(?P<name2>{_NAME})\s*:|(?P<name3>{_NAME}),\s+(?:your|votre|vos|it's|c'est)\s)",
    re.MULTILINE,
)
# salutations that name nobody ("Hi Team,", "Bonjour à tous")
NOT_A_NAME = frozenset(
    ("team", "there", "all", "everyone", "everybody", "friends", "friend", "patients", "folks", "tous",
     "toutes", "chers", "customer", "client", "cliente", "member", "valued", "sir", "madam", "doctor")
)  # fmt: skip
ICD = re.compile(r"(?P<cat>[A-Z](?<![\w.-][A-Z])\d[0-9AB])(?:\.(?P<sub>[0-9A-Z]{1,4}))?(?![\w-])")
ICD_CONTEXT = re.compile(
    r"(?<!\w)(?:icd(?:-?10)?(?:-cm)?|cim(?:-?10)?|dx|diagnosis|diagnoses|diagnostic|diagnostique|"
    r"code diagnostique|code diagnostic)(?!\w)"
)
_MBI_LETTER = "AC-HJKMNP-RT-Y"  # CMS: no S, L, O, I, B, Z
# (first character consumed before the lookbehind, as above)
MBI = re.compile(
    rf"([1-9](?<![A-Za-z0-9-][1-9])[{_MBI_LETTER}][{_MBI_LETTER}0-9]\d)(-?)([{_MBI_LETTER}][{_MBI_LETTER}0-9]\d)"
    rf"(-?)([{_MBI_LETTER}]{{2}}\d{{2}})(?![A-Za-z0-9-])"
)
MBI_CONTEXT = re.compile(r"(?<!\w)(?:mbi|medicare|beneficiary)(?!\w)")
# what may sit between a keyword ("member ID", "n° adhérent") and the identifier itself
ID_TAIL = re.compile(
    r"(?:\s*(?:number|no|num(?:ber|ero)?|n°|nº|#|id))?\.?\s*[:#=-]?\s*(?:is\s+|est\s+)?"
    r"(?P<id>[a-z0-9][a-z0-9/-]{3,22}[a-z0-9])(?![\w-])"
)


def is_heading(text: str, folded: str, start: int, end: int) -> bool:
    """A section name followed by a colon, or written in capitals ("EXAMEN PHYSIQUE")."""
    rest = folded[end : end + 4].lstrip(" ")
    if rest.startswith(":"):
        return True
    word = text[start:end]
    return any(c.isalpha() for c in word) and word.isupper() and len(word) >= 3


def mask_tail(value: str) -> str:
    """``*******1234``: the last four characters (two for short values) of the compacted ID."""
    compact = re.sub(r"[^0-9A-Za-z]", "", value).upper()
    keep = 4 if len(compact) >= 8 else 2
    return "*" * (len(compact) - keep) + compact[-keep:]
