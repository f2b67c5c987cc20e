"""Context keywords: whole-word matches in a character window on both sides. Pure, no I/O
once loaded.

Presidio scores context by substring match over the five tokens *before* a match, so "CARDIFF"
counts as "card" and "card number: 4111…" written after the fact does not count at all. Here a
keyword must be a whole word (or phrase) and may sit on either side of the candidate, within
`Window.before` / `Window.after` characters. Windows are widened to word boundaries so a word cut
in half by the window edge is never read as a shorter keyword.

Keyword lists live in ``models/context/<name>.<lang>.txt``, one keyword or phrase a line (a line
starting with ``# `` is a comment), with or without accents (accents are optional when matching:
``numero`` matches ``numéro``).
English and French lists are both always consulted: mail mixes languages freely.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from scanner.detect.alternation import factor
from scanner.detect.normalize import fold

# accent-insensitive letters: a keyword written with or without accents matches both forms
_FOLD = {
    "a": "[aàâäá]",
    "c": "[cç]",
    "e": "[eéèêë]",
    "i": "[iîïí]",
    "o": "[oôöó]",
    "u": "[uùûüú]",
}
LANGUAGES = ("en", "fr")


@dataclass(frozen=True, slots=True)
class Window:
    """How many characters before and after a candidate are read for context."""

    before: int = 60
    after: int = 30

    def bounds(self, length: int, start: int, end: int) -> tuple[int, int]:
        """Where the window around [start, end) begins and ends in a text of `length`."""
        return max(0, start - self.before), min(length, end + self.after)


# the context window recognizers and the medical detector read around a candidate
CONTEXT_WINDOW = Window()


def keyword_atoms(keyword: str) -> list[str]:
    """The regex of one keyword, as a list of atoms (see `alternation.factor`)."""
    out: list[str] = []
    for ch in fold(keyword):
        if ch == " ":
            out.append(r"[\s\-]+")
        elif ch in "'’":
            out.append(r"['’]?\s?")
        elif ch == "-":
            out.append(r"[\s\-]?")
        elif ch == ".":
            out.append(r"\.?")
        elif ch == "°":
            out.append(r"[°ºo]")
        elif ch in _FOLD:
            out.append(_FOLD[ch])
        else:
            out.append(re.escape(ch))
    return out


class KeywordMatcher:
    """One compiled alternation of whole-word keywords."""

    __slots__ = ("_regex",)

    def __init__(self, keywords: Iterable[str]) -> None:
        # longest first so "credit card number" wins over "card" (one span per hit)
        words = sorted({k.strip() for k in keywords if k.strip()}, key=len, reverse=True)
        if not words:
            self._regex: re.Pattern[str] | None = None
            return
        # the alternation in that order, factored into a prefix trie: same matches, fewer tests
        body = factor([keyword_atoms(w) for w in words], re.IGNORECASE)
        self._regex = re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)

    def find(self, text: str, start: int, end: int, window: Window) -> list[tuple[int, int]]:
        """Keyword spans in the window around text[start:end] (the candidate itself excluded)."""
        if self._regex is None:
            return []
        lo, hi = window.bounds(len(text), start, end)
        while lo > 0 and text[lo - 1].isalnum():
            lo -= 1
        while hi < len(text) and text[hi].isalnum():
            hi += 1
        # re's lookbehind sees characters before `pos`, so boundaries at the window edge hold
        spans = [m.span() for m in self._regex.finditer(text, lo, start)]
        spans.extend(m.span() for m in self._regex.finditer(text, end, hi))
        return spans

    def search(self, text: str) -> bool:
        return self._regex is not None and self._regex.search(text) is not None


@dataclass(frozen=True, slots=True)
class ContextLexicon:
    """Every keyword list found under ``models/context``, by name, both languages merged."""

    lists: dict[str, tuple[str, ...]]

    @classmethod
    def load(cls, directory: Path) -> ContextLexicon:
        lists: dict[str, list[str]] = {}
        for path in sorted(directory.glob("*.txt")):
            name, _, lang = path.stem.rpartition(".")
            if lang not in LANGUAGES:
                name = path.stem
            words = lists.setdefault(name, [])
            for line in path.read_text(encoding="utf-8").splitlines():
                # whole-line comments only: "#" is part of keywords such as "acct #"
                line = line.strip()
                if line and not line.startswith("# "):
                    words.append(line)
        return cls({k: tuple(v) for k, v in lists.items()})

    def words(self, names: Sequence[str]) -> list[str]:
        out: list[str] = []
        for name in names:
            if name not in self.lists:
                raise KeyError(f"no context list named {name!r} in models/context")
            out.extend(self.lists[name])
        return out

    def matcher(self, names: Sequence[str]) -> KeywordMatcher:
        return KeywordMatcher(self.words(names))
