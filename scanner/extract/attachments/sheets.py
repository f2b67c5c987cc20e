"""Spreadsheet rows as text: one segment per row, cells joined by tabs, so a row reads like a
line of a CSV (a name, then the value, with the words around it) while the location still points
at the cell: ``<where>/sheet[Juin]!C12`` when the row has one filled cell, else the row's range
``<where>/sheet[Juin]!A12:F12``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from scanner.extract.attachments.walk import Walk

_REF = re.compile(r"([A-Za-z]{1,3})([0-9]{1,7})")


def column_name(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA (the spreadsheet column letters)."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def parse_ref(ref: str) -> tuple[int, int] | None:
    """``C12`` → (column 2, row 12); None for anything else."""
    m = _REF.fullmatch(ref)
    if m is None:
        return None
    col = 0
    for ch in m.group(1).upper():
        col = col * 26 + ord(ch) - 64
    return col - 1, int(m.group(2))


def add_row(walk: Walk, sheet_at: str, row: int, cells: Iterable[tuple[int, str]]) -> None:
    """Record one row: `cells` are (column index, displayed text), in column order."""
    filled = [(col, text.strip()) for col, text in cells if text and text.strip()]
    if not filled:
        return
    walk.row()
    first, last = filled[0][0], filled[-1][0]
    where = f"{sheet_at}!{column_name(first)}{row}"
    if len(filled) > 1:
        where += f":{column_name(last)}{row}"
    walk.text(where, "\t".join(text for _, text in filled))


def number_text(value: float) -> str:
    """A numeric cell as a person sees it: ``185057800608436`` rather than ``1.85057800608436e+14``."""
    if math.isfinite(value) and abs(value) < 1e21 and value == int(value):
        return str(int(value))
    return repr(value)
