"""Masked forms of identifiers: only the tail (and a non-identifying head) survives. Pure.

A finding travels to logs, SMTP replies and the review console; its `masked` form must never let
anyone rebuild the value. Letters and digits become ``*``, separators stay (so the shape is
recognisable), and at most the last `keep_tail` characters are shown.
"""

from __future__ import annotations


def mask(value: str, *, keep_tail: int = 4, keep_head: int = 0) -> str:
    """``123-45-6789`` -> ``***-**-6789``; separators kept, at most `keep_tail` alnum shown at the end.

    Short values keep less, so the visible tail is never more than half of the value.
    """
    alnum = sum(ch.isalnum() for ch in value)
    tail = min(keep_tail, alnum // 2)
    head = min(keep_head, max(0, alnum - tail) // 3)
    out: list[str] = []
    seen = 0
    for ch in value:
        if ch.isalnum():
            visible = seen < head or seen >= alnum - tail
            out.append(ch if visible else "*")
            seen += 1
        elif ch.isspace():
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)
