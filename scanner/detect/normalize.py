"""Evasion-resistant text normalisation with an offset map back to the original. Pure, no I/O.

Senders (or their tools) hide numbers from naive scanners with fullwidth or other Unicode
digits (``４１１１``), zero-width characters between digits, NBSP or thin spaces as group
separators and typographic dashes. Detection runs over the normalised text; every finding is
mapped back to the original characters through `Normalized.to_original`, so reports point
at what the customer actually wrote.

Every mapping is one character to one character, except the invisible characters, which are
dropped. That keeps the offset map a plain list (one original index per normalised index).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Characters that render as nothing: zero-width space/non-joiner/joiner, word joiner,
# BOM / zero-width no-break space, soft hyphen, Mongolian vowel separator, invisible math
# operators, bidi marks/embeddings/isolates, and C0/C1 control characters other than the
# whitespace ones (a mail client shows "1\x012\x013" as "123", so must we).
_INVISIBLE = frozenset(
    "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\u2061\u2062\u2063\u2064"
    "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    + "".join(chr(c) for c in [*range(0x00, 0x09), *range(0x0E, 0x20), *range(0x7F, 0xA0)])
)
_ASCII_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f]")

_DASHES = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d")


class _Table(dict[int, int]):
    """A lazily filled `str.translate` table: every code point is classified once, on first sight.

    Building the whole table up front would walk 1.1 million code points at import time.
    """

    def __missing__(self, cp: int) -> int:
        ch = chr(cp)
        out = cp
        if ch in _DASHES:
            out = ord("-")
        elif 0xFF01 <= cp <= 0xFF5E:
            # fullwidth ASCII block (letters, punctuation): same glyph, shifted code point
            out = cp - 0xFEE0
        else:
            cat = unicodedata.category(ch)
            if cat == "Nd":
                out = ord("0") + unicodedata.digit(ch)
            elif cat == "Zs" or ch in "\u2028\u2029":
                out = ord(" ")
        self[cp] = out
        return out


_TABLE = _Table()


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


def normalize(text: str) -> Normalized:
    """Fold Unicode digits, spaces and dashes to ASCII and drop invisible characters.

    ASCII text (most mail) is returned as is, with no offset map.
    """
    if text.isascii():
        if _ASCII_CONTROL.search(text) is None:
            return Normalized(text, None, len(text))
        folded = text
    else:
        folded = text.translate(_TABLE)
    if not any(ch in _INVISIBLE for ch in folded):
        return Normalized(folded, None, len(text))
    kept: list[str] = []
    offsets: list[int] = []
    for i, ch in enumerate(folded):
        if ch not in _INVISIBLE:
            kept.append(ch)
            offsets.append(i)
    return Normalized("".join(kept), tuple(offsets), len(text))
