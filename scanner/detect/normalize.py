"""Text as a reader sees it, with an offset map back to the original. Pure, no I/O.

Senders (or their tools) hide numbers from naive scanners in ways a reader does not notice:

* other digits: fullwidth, Arabic-Indic, Devanagari (``Nd``), and the compatibility digits
  NFKC folds -- superscript ``⁵³⁶``, circled ``①``, dingbat ``❶``, mathematical ``𝟓`` --
  including those worth two digits (``⑩`` → ``10``);
* characters that render as nothing: every default-ignorable code point (zero-width
  characters, variation selectors U+FE00-FE0F and U+E0100-E01EF, tag characters U+E0000-E007F,
  bidi marks, soft hyphen...), C0/C1 controls, and combining marks on a digit (``5⃣``, keycaps);
* spacing a reader skips inside a number: a run of spaces, underscores or dots between digits
  (``4111  1111``, ``4111_1111``, ``4111..1111``), digits spaced out one by one
  (``5 3 6 - 2 2 - 8 8 4 3``, also one digit per table cell: six digits at least), and a
  number broken by a line wrap (``536-22-`` / ``8843``, at an HTML ``<br>``, across ``> ``
  quote prefixes: the break becomes its separator, or a space -- a group break, never a join
  of two numbers into one);
* typographic dashes and Unicode spaces (folded to ``-`` and a space).

Detection runs over the normalised text; every finding is mapped back to the original
characters through `Normalized.to_original`, so reports point at what the customer wrote.
Characters fold one to one, are dropped, or (two-digit compatibility characters only) become
two characters that map to the same original index: the offset map stays a plain list.

Hostile input: the folding table is filled lazily and **bounded** (`_TABLE_LIMIT` entries; a
text with more distinct code points is folded at the same result, only slower), and every
pass is a C-level `re` or `str.translate` scan whose patterns begin with a character class,
so `re` skips to candidates without trying every position.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Default_Ignorable_Code_Point (Unicode DerivedCoreProperties) and the other characters a mail
# client renders as nothing: bidi controls, C0/C1 controls other than the whitespace ones.
_IGNORABLE_RANGES = (
    (0x00, 0x08), (0x0E, 0x1F), (0x7F, 0x9F), (0xAD, 0xAD), (0x34F, 0x34F), (0x61C, 0x61C),
    (0x115F, 0x1160), (0x17B4, 0x17B5), (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E),
    (0x2060, 0x206F), (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF),
)  # fmt: skip
_INVISIBLE = frozenset(chr(c) for lo, hi in _IGNORABLE_RANGES for c in range(lo, hi + 1))


def _class(ranges: tuple[tuple[int, int], ...]) -> str:
    return "".join(f"{re.escape(chr(lo))}-{re.escape(chr(hi))}" for lo, hi in ranges)


def _marks() -> str:
    """Combining marks (Mn, Me) of the BMP and plane 1, as a character class body."""
    ranges: list[tuple[int, int]] = []
    for cp in range(0x300, 0x20000):
        if unicodedata.category(chr(cp)) in ("Mn", "Me"):
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1] = (ranges[-1][0], cp)
            else:
                ranges.append((cp, cp))
    return _class(tuple(ranges))


_IGNORABLE_CLASS = _class(_IGNORABLE_RANGES)
# dropped: ignorables anywhere; combining marks (and ignorables) right after a digit. Written
# `[0-9<ignorable>](?:(?<=[0-9])<marks>+|(?<=<ignorable>)<ignorable>*)`, the same matches as
# `[0-9]<marks>+|<ignorable>+`, so that it starts with one class `re` skips ahead to in C
_DROP = re.compile(
    f"[0-9{_IGNORABLE_CLASS}](?:(?<=[0-9])[{_IGNORABLE_CLASS}{_marks()}]+"
    f"|(?<=[{_IGNORABLE_CLASS}])[{_IGNORABLE_CLASS}]*)"
)
# what `_DROP` can find in ASCII text (no combining mark is ASCII): a much smaller class to scan
ASCII_DROP = re.compile(
    f"[{_class(tuple((lo, min(hi, 0x7F)) for lo, hi in _IGNORABLE_RANGES if lo <= 0x7F))}]"
)
_DASHES = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d")
# compatibility characters worth two digits (circled/parenthesised/full-stop 10-20, ⓫...)
_WIDE = {
    chr(cp): str(int(unicodedata.numeric(chr(cp))))
    for cp in range(0x2460, 0x3300)
    if unicodedata.category(chr(cp)) == "No" and 10 <= unicodedata.numeric(chr(cp), 0) <= 99
    and float(unicodedata.numeric(chr(cp))).is_integer()
}  # fmt: skip
_WIDE_RE = re.compile("[" + "".join(sorted(_WIDE)) + "]")
_TABLE_LIMIT = 1 << 16


class _Table(dict[int, int]):
    """A lazily filled, bounded `str.translate` table: one character in, one out.

    Building the whole table up front would walk 1.1 million code points at import time; an
    unbounded cache would let one crafted text grow a worker by hundreds of MB for good.
    """

    def __missing__(self, cp: int) -> int:
        out = _fold(cp)
        if len(self) < _TABLE_LIMIT:
            self[cp] = out
        return out


def _fold(cp: int) -> int:
    ch = chr(cp)
    if ch in _DASHES:
        return ord("-")
    if 0xFF01 <= cp <= 0xFF5E:  # fullwidth ASCII block: same glyph, shifted code point
        return cp - 0xFEE0
    cat = unicodedata.category(ch)
    if cat in ("Nd", "No"):
        digit = unicodedata.digit(ch, None)  # Nd digits, superscripts, circled, dingbats
        return ord("0") + digit if digit is not None else cp
    if cat == "Zs" or ch in "\u2028\u2029":
        return ord(" ")
    if 0x1D400 <= cp <= 0x1D7FF:  # mathematical alphanumerics: NFKC letters
        nfkc = unicodedata.normalize("NFKC", ch)
        return ord(nfkc) if len(nfkc) == 1 and nfkc.isascii() else cp
    return cp


_TABLE = _Table()

# Spacing inside a number. Each pattern begins with a digit class, so `re` jumps from digit to
# digit in C. `sep`: a run of spaces/underscores/dots, or one underscore, between digits.
# `wrap`: a line break (with an optional trailing separator and the next line's quote prefix)
# between digits. `spaced`: single digits one or two spaces apart, optional -/. groupings.
# `_JOIN`'s lookahead names every character either alternative can begin with: most digits are
# followed by none of them and fail that one test (its scan of the benchmark's text 4.4 -> 3.5 ms)
_JOIN = re.compile(
    r"[0-9](?=[ \t_.\n-])(?:(?P<sep>[ \t]{2,}|[ \t]*_[ _\t]*|\.{2,}|[ \t]+\.[ \t.]*)"
    r"|(?P<wrap>[-. \t]?[ \t]*\n(?:[ \t]*>)*[ \t]*))(?=[0-9])"
)
_SPACED = re.compile(r"[0-9](?:[ \t]{1,2}(?:[-./][ \t]{1,2})?[0-9](?![0-9])){5,}")
_SPACE_RUN = re.compile(r"[ \t]+")


@dataclass(frozen=True, slots=True)
class Normalized:
    """The normalised text and, unless it is the original itself, where each character came from."""

    text: str
    # offsets[i] is the index in the original text of normalised character i; None = identity
    offsets: tuple[int, ...] | None
    original_length: int

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map the half-open normalised span [start, end) to a span of the original text."""
        if self.offsets is None:
            return start, end
        if start >= len(self.offsets):
            return self.original_length, self.original_length
        o_start = self.offsets[start]
        o_end = self.offsets[end - 1] + 1 if end > start else o_start
        return o_start, o_end

    def original_index(self, index: int) -> int:
        if self.offsets is None:
            return index
        if index >= len(self.offsets):
            return self.original_length
        return self.offsets[index]


Edit = tuple[int, int, str]  # replace text[start:end] by the string (its characters map to start)


def _apply(text: str, edits: list[Edit]) -> tuple[str, list[int]]:
    """`text` with `edits` (sorted, disjoint) applied, and each new character's index in `text`."""
    pieces: list[str] = []
    offsets: list[int] = []
    pos = 0
    for start, end, new in edits:
        pieces.append(text[pos:start])
        offsets.extend(range(pos, start))
        pieces.append(new)
        offsets.extend([start] * len(new))
        pos = end
    pieces.append(text[pos:])
    offsets.extend(range(pos, len(text)))
    return "".join(pieces), offsets


def _unseen(text: str) -> list[Edit]:
    """Drop what renders as nothing; widen two-digit compatibility characters."""
    edits: list[Edit] = []
    for m in _DROP.finditer(text):
        edits.append((m.start() + (m.group()[0] in "0123456789"), m.end(), ""))
    if _WIDE_RE.search(text):
        edits.extend((m.start(), m.end(), _WIDE[m.group()]) for m in _WIDE_RE.finditer(text))
        edits.sort()
    return edits


def _joins(text: str) -> list[Edit]:
    """Spacing a reader skips inside a number (see module doc)."""
    edits: list[Edit] = []
    for m in _SPACED.finditer(text):
        if m.start() and text[m.start() - 1].isalnum():
            continue
        base = m.start()
        edits.extend((base + s.start(), base + s.end(), "") for s in _SPACE_RUN.finditer(m.group()))
    taken = [(s, e) for s, e, _ in edits]
    for m in _JOIN.finditer(text):
        start, end = m.start() + 1, m.end()
        if any(s < end and start < e for s, e in taken):
            continue
        if m.group("sep") is not None:
            edits.append((start, end, " "))
        else:  # a wrapped line: its separator, else a space (a group break, as a reader sees it)
            wrap = m.group("wrap")
            edits.append((start, end, wrap[0] if wrap[0] in "-." else " "))
    edits.sort()
    return edits


def normalize(text: str) -> Normalized:
    """Fold Unicode digits, spaces and dashes to ASCII, drop what renders as nothing and join
    the spacing a reader skips inside a number (see module doc).

    Text with nothing to change (most mail) is returned as is, with no offset map.
    """
    folded = text.translate(_TABLE) if not text.isascii() else text
    offsets: list[int] | None = None
    edits = _unseen(folded) if not folded.isascii() or ASCII_DROP.search(folded) else []
    if edits:
        folded, offsets = _apply(folded, edits)
    joins = _joins(folded)
    if joins:
        folded, moved = _apply(folded, joins)
        offsets = [offsets[i] for i in moved] if offsets is not None else moved
    return Normalized(folded, tuple(offsets) if offsets is not None else None, len(text))


# --- words: one fold for every keyword and lexicon match (context words, medical terms) ---------


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
        if len(self) < 1 << 16:  # bounded: a text of many distinct code points must not grow it for good
            self[cp] = ord(out)
        return ord(out)


_FOLD = _FoldTable()


def fold(text: str) -> str:
    """Case- and accent-folded copy of `text` with the same length (``Écho`` -> ``echo``)."""
    return text.translate(_FOLD)
