"""An alternation of many keyword regexes, factored into a prefix trie. Pure, no I/O.

`re` tries the alternatives of a group one by one at every position it reaches: with hundreds of
keywords, hundreds of first-character tests per word start. Factored on common leading atoms
(``c(?:a(?:rd…|rte…)|r(?:edit…))``), a failing position costs a couple of dozen tests.

Why `factor` matches exactly what ``(?:A1|A2|…|An)`` matches, with the same priority (the
first alternative, in order, that lets the rest of the pattern match wins; so the same spans):

* Only *single-character atoms* are factored out: a literal or a character class, without a
  quantifier. Such an atom matches one way or not at all, so ``x(?:y|z)`` explores exactly
  what ``xy|xz`` explores, in the same order, whatever follows the group.
* Consecutive alternatives with the same first atom share it: the order is unchanged.
* Alternatives are also gathered from further down the list, but only under a first atom that
  no other alternative's first atom can match a character of (under the flags given; an empty
  alternative or one starting with a quantified atom can match anything, so its level is left
  in order). Where such an atom matches, no other alternative at that level gets past its
  first atom, so moving them does not change which one wins.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

Atoms = Sequence[str]  # one alternative: regex atoms whose concatenation is the alternative


@cache
def _bmp() -> str:
    """Every code point of the Basic Multilingual Plane except surrogates, as one string."""
    return "".join(chr(cp) for cp in range(0x10000) if not 0xD800 <= cp <= 0xDFFF)


@cache
def matched_chars(atom: str, flags: int) -> frozenset[str]:
    """The characters a single-character atom matches. Case folding (the only way an atom
    reaches beyond what it lists) never maps a character outside the BMP to one inside it."""
    found = set(re.compile(atom, flags).findall(_bmp()))
    if any(ord(ch) > 0xFFFF for ch in atom):
        found.update(ch for ch in atom if ord(ch) > 0xFFFF)
    return frozenset(found)


def is_single(atom: str) -> bool:
    """Whether `atom` is one literal character or one character class, unquantified."""
    if len(atom) == 1:
        return atom not in "()[]{}|*+?.^$\\"
    if len(atom) == 2 and atom[0] == "\\":
        return not atom[1].isalnum()  # an escaped sign; \d, \b, \1... are not handled here
    return atom[0] == "[" and atom[-1] == "]" and "[" not in atom[1:-1] and "\\" not in atom[1:-1]


def factor(alternatives: Sequence[Atoms], flags: int = 0) -> str:
    """``(?:A1|…|An)`` as a prefix trie that matches the same (see module doc)."""
    if len(alternatives) == 1:
        return "(?:" + "".join(alternatives[0]) + ")"
    heads = [alt[0] if alt and is_single(alt[0]) else None for alt in alternatives]
    alone = _alone(heads, flags)
    parts: list[tuple[str | None, list[Atoms]]] = []
    gathered: dict[str, list[Atoms]] = {}
    last: tuple[str | None, list[Atoms]] | None = None  # the last part not under an atom alone
    for alt, head in zip(alternatives, heads, strict=True):
        if head is not None and head in alone:
            if head not in gathered:
                gathered[head] = []
                parts.append((head, gathered[head]))
            gathered[head].append(alt[1:])
        elif head is not None and last is not None and last[0] == head:
            last[1].append(alt[1:])  # only parts under atoms alone lie between: order kept
        else:
            last = (head, [alt[1:] if head is not None else alt])
            parts.append(last)
    return "(?:" + "|".join((head or "") + _tail(tails, flags) for head, tails in parts) + ")"


def _alone(heads: Sequence[str | None], flags: int) -> set[str]:
    """The first atoms no other alternative's first atom can match a character of."""
    if None in heads:
        return set()
    distinct = list(dict.fromkeys(h for h in heads if h is not None))
    chars = {h: matched_chars(h, flags) for h in distinct}
    return {h for h in distinct if all(chars[h].isdisjoint(chars[o]) for o in distinct if o != h)}


def _tail(tails: Sequence[Atoms], flags: int) -> str:
    if len(tails) == 1:
        return "".join(tails[0])  # atoms are whole items (no top-level "|"): no group needed
    return factor(tails, flags)
