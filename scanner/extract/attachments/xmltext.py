"""XML of office documents, read with defusedxml and turned into text a person would read.

Every XML part goes through `blocks`: expat via defusedxml with DTDs forbidden, so entity
expansion (billion laughs) and external entities cannot happen at all — no office format needs
a DTD, and a part that carries one is refused as `Unscanned.CORRUPT`. Parts are streamed
(`iterparse`) and each block (paragraph, table, row...) is cleared once read, so memory follows
the largest block, not the part.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Mapping
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from scanner.extract.attachments.walk import Stop
from scanner.model import Unscanned


def local(tag: str) -> str:
    """``{namespace}name`` → ``name``."""
    return tag.rpartition("}")[2]


def blocks(data: bytes, is_block: Callable[[Element, int], bool]) -> Iterator[Element]:
    """Each complete element for which ``is_block(element, depth)`` holds (root depth 0).

    The caller reads it before the next one is parsed; it is cleared after.
    """
    for event, elem, depth in events(data):
        if event == "end" and is_block(elem, depth):
            yield elem
            elem.clear()


def events(data: bytes) -> Iterator[tuple[str, Element, int]]:
    """``("start" | "end", element, depth)`` for every element; at "start" only the attributes are read."""
    depth = -1
    try:
        for event, elem in iterparse(io.BytesIO(data), events=("start", "end"), forbid_dtd=True):
            if event == "start":
                depth += 1
                yield event, elem, depth
            else:
                yield event, elem, depth
                depth -= 1
    except DefusedXmlException:
        raise Stop(Unscanned.CORRUPT, "not read: XML with a DTD or entity declarations (refused)") from None
    except ParseError:
        raise Stop(Unscanned.CORRUPT, "not read: malformed XML") from None


def render(root: Element, after: Mapping[str, str], inline: Mapping[str, Callable[[Element], str]]) -> str:
    """The text of `root`'s subtree in document order. ``after[name]`` is written after an element
    of that local name (``"\\n"`` after a paragraph, ``"\\t"`` after a table cell); ``inline[name]``
    stands for an element with no text of its own (a tab, a repeated space, a line break).
    Iterative: a deeply nested hostile part cannot exhaust the Python stack."""
    out: list[str] = []
    stack: list[tuple[Element, bool]] = [(root, False)]
    while stack:
        elem, done = stack.pop()
        name = local(elem.tag)
        if done:
            out.append(after.get(name, ""))
            if elem is not root and elem.tail:
                out.append(elem.tail)
            continue
        make = inline.get(name)
        if make is not None:
            out.append(make(elem))
        if elem.text:
            out.append(elem.text)
        stack.append((elem, True))
        stack.extend((child, False) for child in reversed(elem))
    return "".join(out)
