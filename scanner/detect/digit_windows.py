"""Where an identifier pattern can match: near digits. Pure, no I/O.

Python's `re` cannot skip ahead in patterns that start with a lookbehind (all of ours do), so
a plain `finditer` tries every position of the text: ~25 ms per MB per pattern. Every
identifier has a digit near its start, though, so a pattern only needs to be tried at the few
positions just before or on a digit. `WindowedPattern` finds those positions once per segment
(one C-level `finditer` over the digit runs) and runs the pattern only there, with
`search(text, pos, endpos)`. Windows are kept per segment, and per need (lead, digits, run)
the windows that meet it, so a pattern's loop only visits windows it can match in.

Why the findings are exactly those of `pattern.finditer(text)` (the engine's equivalence test
checks it over the corpus and random text too):

* `Bound.of` reads the parsed pattern and proves four numbers, or gives up (returns None,
  the engine then scans the whole text): `lead`, such that every match has a digit (a
  character `\\d` matches) at most `lead` characters after its start p; `reach`, such that
  trying the pattern at p reads no character at or after p + reach (lookaheads included); and
  `digits`, how many digits every match has at least in [p, p + reach). Anything it cannot
  bound (unbounded repeats, anchors, back-references, a possible empty match) makes it give
  up. It also proves `run`, how many consecutive digits every match consumes at least (0 when
  it cannot say). A larger `lead` or `reach` stays true, so windows are found once per segment
  for all patterns with the largest lead (the `spread`) and the largest reach (the `horizon`).
* So a match can only start in [d - lead, d] for a digit d. Digit runs closer than the spread
  merge into one window [a, b) = [first digit - lead, end of last run), `lead` the pattern's
  own: the digit a match has within its lead is in the window's runs (the runs of other
  windows are more than the spread away), so positions outside every window cannot start a
  match. A window with fewer than `digits` digits in [a, b - 1 + reach) cannot start one
  either (the count is taken to the `horizon`: more digits, still a sound test), nor one whose
  longest run of consecutive digits there is shorter than the `run` every match consumes (a
  run inside a match is part of a run of the text, in this window's cluster of runs or in one
  starting before b - 1 + horizon; the cluster before ends more than the spread before the
  first digit, so before a). A short text (or one with dense windows) is scanned whole, and
  only if it (one of its windows) passes the same tests.
* Inside a window [a, b) the pattern is tried with `endpos = b + reach`: every attempt at
  q < b reads before q + reach, so it sees exactly the text a whole-text scan sees. `re`
  lookbehinds see the characters before `pos` (the string is not cut there). Matches starting
  at or after b are dropped; they are found, if real, from their own window.
* A whole-text `finditer` resumes after each match's end, so a window starts no earlier than
  the end of the previous match, as `finditer` would; within a window the next `search`
  starts at the previous match's end too (no match is empty, so `finditer` does the same).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from re import _constants as c  # type: ignore[attr-defined]
from re import _parser  # type: ignore[attr-defined]
from typing import Any

# more windows than one per this many characters: one whole-text scan is cheaper than many
# short ones (each `finditer` call costs about as much as scanning ~40 characters)
_DENSE = 40

# shorter texts are scanned whole (if they have the digits): finding windows would cost more
# (measured on the proxy benchmark's segments: 200 cost 12% more than 50, 20 to 100 the same)
_SHORT = 50

_DIGIT_CHARS = range(ord("0"), ord("9") + 1)


class _Unbounded(Exception):
    """The pattern has a construct the bounds below do not cover."""


def _width(items: Any) -> int:
    """Most characters the sequence `items` can consume."""
    total = 0
    for op, av in items:
        if op in (c.LITERAL, c.NOT_LITERAL, c.IN, c.ANY):
            total += 1
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            if av[1] is c.MAXREPEAT:
                raise _Unbounded
            total += av[1] * _width(av[2])
        elif op is c.SUBPATTERN:
            total += _width(av[3])
        elif op is c.ATOMIC_GROUP:
            total += _width(av)
        elif op is c.BRANCH:
            total += max(_width(b) for b in av[1])
        elif op in (c.ASSERT, c.ASSERT_NOT):
            pass  # consumes nothing
        else:
            raise _Unbounded
    return total


def _reach(items: Any) -> int:
    """Past how many characters from the start trying `items` can read (lookaheads included)."""
    offset = furthest = 0
    for op, av in items:
        if op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            inner = _width(av[2])
            here = max(0, av[1] - 1) * inner + _reach(av[2])
        elif op is c.SUBPATTERN:
            here = _reach(av[3])
        elif op is c.ATOMIC_GROUP:
            here = _reach(av)
        elif op is c.BRANCH:
            here = max(_reach(b) for b in av[1])
        elif op in (c.ASSERT, c.ASSERT_NOT):
            # a lookbehind only reads before the current position
            here = _reach(av[1]) if av[0] == 1 else 0
        else:
            here = _width([(op, av)])
        furthest = max(furthest, offset + here)
        offset += _width([(op, av)])
    return furthest


def _is_digit(op: Any, av: Any) -> bool:
    """Whether the item consumes one character and it is always a digit."""
    if op is c.LITERAL:
        return av in _DIGIT_CHARS
    if op is not c.IN:
        return False
    for kind, value in av:
        if kind is c.CATEGORY and value is c.CATEGORY_DIGIT:
            continue
        if kind is c.LITERAL and value in _DIGIT_CHARS:
            continue
        if kind is c.RANGE and value[0] in _DIGIT_CHARS and value[1] in _DIGIT_CHARS:
            continue
        return False  # a letter, a NEGATE, anything else
    return True


def _lead(items: Any) -> int | None:
    """A bound on where the first certain digit of a match of `items` is, or None if none is."""
    offset = 0
    for op, av in items:
        found: int | None = None
        if _is_digit(op, av):
            found = 0
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT) and av[0] >= 1:
            found = _lead(av[2])
        elif op is c.SUBPATTERN:
            found = _lead(av[3])
        elif op is c.ATOMIC_GROUP:
            found = _lead(av)
        elif op is c.BRANCH:
            leads = [_lead(b) for b in av[1]]
            found = None if None in leads else max(x for x in leads if x is not None)
        elif op is c.ASSERT and av[0] == 1:
            # a lookahead that holds promises its digit too (inside the match or not)
            found = _lead(av[1])
        if found is not None:
            return offset + found
        offset += _width([(op, av)])
    return None


def _digits(items: Any) -> int:
    """How many digits every match of `items` has at least, counting its lookaheads' too.

    The digits a lookahead promises may be the same as those consumed, so the sequence gets the
    larger of the two counts, not their sum.
    """
    consumed = ahead = 0
    for op, av in items:
        if _is_digit(op, av):
            consumed += 1
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            consumed += av[0] * _digits(av[2])
        elif op is c.SUBPATTERN:
            consumed += _digits(av[3])
        elif op is c.ATOMIC_GROUP:
            consumed += _digits(av)
        elif op is c.BRANCH:
            consumed += min(_digits(b) for b in av[1])
        elif op is c.ASSERT and av[0] == 1:
            ahead = max(ahead, _digits(av[1]))
    return max(consumed, ahead)


_REPEATS = (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT)


def _run(items: Any) -> int:
    """How many consecutive digits every match of `items` consumes at least, in one stretch.

    Digits, and repeats of a digit, extend the stretch (whatever a repeat takes is all digits);
    lookarounds consume nothing and leave it alone; anything else may consume a non-digit, so
    it ends the stretch (what it guarantees inside itself still counts on its own).
    """
    best = current = 0
    for op, av in items:
        if _is_digit(op, av):
            current += 1
        elif op in _REPEATS and len(av[2]) == 1 and _is_digit(*av[2][0]):
            current += av[0]
        elif op not in (c.ASSERT, c.ASSERT_NOT):
            inner = 0
            if op in _REPEATS and av[0] >= 1:
                inner = _run(av[2])
            elif op is c.SUBPATTERN:
                inner = _run(av[3])
            elif op is c.ATOMIC_GROUP:
                inner = _run(av)
            elif op is c.BRANCH:
                inner = min(_run(b) for b in av[1])
            best = max(best, current, inner)
            current = 0
    return max(best, current)


@dataclass(frozen=True, slots=True)
class Bound:
    """What every match promises, from its start p: a digit in [p, p + `lead`], at least
    `digits` digits in [p, p + `reach`), `run` of them consecutive, and trying it at p reads
    nothing at or after p + `reach`."""

    lead: int
    reach: int
    digits: int
    run: int

    @classmethod
    def of(cls, pattern: Any) -> Bound | None:
        """The bounds of a compiled `re` pattern, or None when they cannot be proved."""
        if not isinstance(pattern, re.Pattern) or not isinstance(pattern.pattern, str):
            return None  # e.g. a `regex` module pattern: other engine, other pos/endpos rules
        try:
            parsed = _parser.parse(pattern.pattern, pattern.flags)
            lead = _lead(parsed.data)
            reach = _reach(parsed.data)
            if parsed.getwidth()[0] == 0:
                return None  # an empty match moves finditer on differently
        except (_Unbounded, re.error):
            return None
        return None if lead is None else cls(lead, reach, _digits(parsed.data), _run(parsed.data))


def shared_bounds(patterns: Sequence[Any]) -> tuple[list[Bound | None], int, int]:
    """`Bound.of` each pattern, the largest lead (the spread) and the largest reach (the
    horizon): one window scan per segment then serves every pattern."""
    bounds = [Bound.of(p) for p in patterns]
    spread = max((b.lead for b in bounds if b is not None), default=0)
    horizon = max((b.reach for b in bounds if b is not None), default=1)
    return bounds, spread, horizon


# the first digit and the end b of a window; the digits from the first to b - 1 + horizon, and
# their longest run
DigitWindow = tuple[int, int, int, int]
_WINDOW_FINDERS: dict[int, re.Pattern[str]] = {}
_DIGIT_RUN = re.compile(r"\d+")


def windows(text: str, lead: int, horizon: int) -> list[DigitWindow]:
    """The windows of patterns with at most this `lead`: their digit runs, how many digits
    (`\\d`) there are up to `horizon` characters past the last possible start, and the longest
    run of consecutive digits among them."""
    finder = _WINDOW_FINDERS.get(lead)
    if finder is None:
        # digit runs separated by at most `lead` non-digits share a window (`\d\d*`, not `\d+`:
        # a pattern that starts with a class lets `re` skip to the next digit in one C loop)
        finder = re.compile(rf"\d\d*(?:\D{{1,{lead}}}\d+)*" if lead else r"\d\d*")
        _WINDOW_FINDERS[lead] = finder
    clusters: list[tuple[int, int, int, int]] = []  # (start, end, digits, longest run)
    for m in finder.finditer(text):
        group = m.group()
        if group.isdecimal():
            clusters.append((m.start(), m.end(), len(group), len(group)))
        else:
            lengths = list(map(len, _DIGIT_RUN.findall(group)))
            clusters.append((m.start(), m.end(), sum(lengths), max(lengths)))
    out: list[DigitWindow] = []
    # the clusters from this one to clusters[ahead] start before the horizon: `total` digits
    ahead = total = 0
    for i, (first, end, digits, _) in enumerate(clusters):
        while ahead < len(clusters) and clusters[ahead][0] < end - 1 + horizon:
            total += clusters[ahead][2]
            ahead += 1
        longest = clusters[i][3] if ahead == i + 1 else max(r[3] for r in clusters[i:ahead])
        out.append((first, end, total, longest))
        total -= digits
    return out


class SegmentWindows:
    """One segment's windows for one (lead, horizon), and, per digit count and run, the windows
    that have them: each pattern then loops only over the windows it can match in.

    A short text, or one whose windows are dense, is scanned whole (`whole`), but only by the
    patterns it has the digits for: a short text is then one window, the whole of it.
    """

    __slots__ = ("_all", "_by_need", "whole")

    def __init__(self, text: str, lead: int, horizon: int) -> None:
        self._by_need: dict[tuple[int, int, int], list[tuple[int, int]]] = {}
        if len(text) < _SHORT:  # finding windows would cost more than it saves
            lengths = [len(r) for r in _DIGIT_RUN.findall(text)]
            self._all = [(0, len(text), sum(lengths), max(lengths, default=0))]
            self.whole = True
        else:
            self._all = windows(text, lead, horizon)
            self.whole = len(self._all) * _DENSE > len(text)  # then one whole-text scan is cheaper

    def having(self, need: tuple[int, int, int]) -> list[tuple[int, int]]:
        """The windows [a, b) of a pattern that needs (`lead`, `digits`, `run`): at least
        `digits` digits up to the horizon, `run` of them in a row; a is `lead` before the first."""
        spans = self._by_need.get(need)
        if spans is None:
            lead, digits, run = need
            spans = [
                (first - lead if first > lead else 0, b)
                for first, b, n, r in self._all
                if n >= digits and r >= run
            ]
            self._by_need[need] = spans
        return spans


# a segment's windows by (lead, horizon): one dict per segment, dropped with it
WindowCache = dict[tuple[int, int], SegmentWindows]


class WindowedPattern:
    """A pattern's matches without trying the text no match can start in; the same matches as
    `pattern.finditer`."""

    __slots__ = ("_key", "_need", "bound", "pattern")

    def __init__(
        self, pattern: re.Pattern[str], bound: Bound | None, horizon: int, spread: int | None = None
    ) -> None:
        """`horizon` at least `bound.reach` and `spread` at least `bound.lead` (its default): the
        windows are those of every pattern sharing them."""
        self.pattern = pattern
        self.bound = bound
        self._key = (bound.lead if spread is None else spread, horizon) if bound is not None else (0, 0)
        self._need = (bound.lead, bound.digits, bound.run) if bound is not None else (0, 0, 0)

    def matches(self, text: str, cache: WindowCache) -> list[re.Match[str]]:
        """`pattern.finditer(text)`'s matches, in text order, as a list (no generator to resume
        per match); `cache` holds this segment's windows (one dict per segment)."""
        bound = self.bound
        if bound is None:
            return list(self.pattern.finditer(text))
        found = cache.get(self._key)
        if found is None:
            found = cache[self._key] = SegmentWindows(text, *self._key)
        spans = found.having(self._need)
        if not spans:
            return []  # every match starts in a window that has what it needs: none does
        if found.whole:
            return list(self.pattern.finditer(text))
        return self._near_digits(text, spans, bound.reach)

    def _near_digits(self, text: str, spans: list[tuple[int, int]], reach: int) -> list[re.Match[str]]:
        # `search` from the end of the previous match is what `finditer` does (no match is
        # empty); `endpos` past the end of the text reads as the end
        search = self.pattern.search
        found: list[re.Match[str]] = []
        resume = 0
        for a, b in spans:
            if a < resume:
                if resume >= b:
                    continue
                a = resume
            end = b + reach
            while (match := search(text, a, end)) is not None and match.start() < b:
                a = resume = match.end()
                found.append(match)
        return found
