"""Office Open XML (ECMA-376): DOCX, XLSX/XLSM, PPTX, read as the ZIP of XML parts they are.

Parsing the XML ourselves (defusedxml, streamed) instead of python-docx / openpyxl: those build
full object models (openpyxl ~50x slower on a large sheet, and neither reads comments, footnotes
or notes in one pass), and they parse with lxml, where the entity and size hardening is ours to
get right. Parts read:

* DOCX: ``/body`` (paragraphs, tables row by row: cells joined by tabs, text boxes, tracked
  deletions), ``/header[n]``, ``/footer[n]``, ``/footnotes``, ``/endnotes``, ``/comments``;
* XLSX/XLSM: every sheet named in the workbook, every cell's value (shared strings, inline
  strings, numbers, formula results) as rows (`scanner.extract.attachments.sheets`);
* PPTX: ``/slide[n]`` and ``/slide[n]/notes``, in presentation order;
* embedded files (``*/embeddings/*``: a spreadsheet pasted into a document...) as archive members.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from xml.etree.ElementTree import Element

from scanner.extract.attachments.archive import ReadFile, open_zip, zip_member
from scanner.extract.attachments.sheets import add_row, number_text, parse_ref
from scanner.extract.attachments.walk import Stop, Walk
from scanner.extract.attachments.xmltext import blocks, local, render
from scanner.model import Unscanned

_AFTER = {"p": "\n", "tc": "\t", "tr": "\n", "br": "\n", "cr": "\n", "tab": "\t"}
_NO_INLINE: dict[str, Callable[[Element], str]] = {}
_NUMBERED = re.compile(r"(\d+)\.xml$")
_R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


class _Package:
    """An OOXML package: its parts, read within the walk's bounds."""

    def __init__(self, zf: zipfile.ZipFile, walk: Walk) -> None:
        self.zf = zf
        self.walk = walk
        self.names = {info.filename: info for info in zf.infolist()}
        if any(info.flag_bits & 0x1 for info in self.names.values()):
            raise Stop(Unscanned.ENCRYPTED, "not read: password-protected document")

    def part(self, name: str) -> bytes | None:
        info = self.names.get(name)
        if info is None:
            return None
        self.walk.member()
        return zip_member(self.zf, info, self.walk)

    def numbered(self, pattern: str) -> list[str]:
        """Part names matching `pattern`, in the order of their number (header1, header2...)."""
        rx = re.compile(pattern)
        found = [n for n in self.names if rx.fullmatch(n)]
        return sorted(found, key=lambda n: int(m.group(1)) if (m := _NUMBERED.search(n)) else 0)

    def relations(self, part: str) -> dict[str, str]:
        """rId → the target part's name, from ``_rels/<part>.rels`` (ECMA-376 Part 2 §9.3)."""
        folder, _, leaf = part.rpartition("/")
        data = self.part(f"{folder}/_rels/{leaf}.rels")
        out: dict[str, str] = {}
        for rel in blocks(data or b"", lambda e, d: d == 1) if data else ():
            target = rel.get("Target", "")
            if rel.get("TargetMode") == "External":
                continue
            out[rel.get("Id", "")] = _resolve(folder, target)
        return out

    def embeddings(self, where: str, depth: int, read_file: ReadFile) -> None:
        for name in sorted(n for n in self.names if "/embeddings/" in n):
            data = self.part(name)
            if data:
                leaf = self.walk.label(name.rpartition("/")[2])
                read_file(data, f"{where}/embedded/{leaf}", self.walk, depth + 1, leaf)


def _resolve(folder: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    parts = folder.split("/") if folder else []
    for piece in target.split("/"):
        if piece == "..":
            if parts:
                parts.pop()
        elif piece and piece != ".":
            parts.append(piece)
    return "/".join(parts)


def _text(pkg: _Package, name: str, depth: int) -> str:
    data = pkg.part(name)
    if not data:
        return ""
    return "".join(render(b, _AFTER, _NO_INLINE) for b in blocks(data, lambda e, d: d == depth))


def read_docx(data: bytes, where: str, walk: Walk, depth: int, read_file: ReadFile) -> None:
    with open_zip(data) as zf:
        pkg = _Package(zf, walk)
        walk.text(f"{where}/body", _text(pkg, "word/document.xml", 2))  # document > body > block
        for kind in ("header", "footer"):
            for i, name in enumerate(pkg.numbered(rf"word/{kind}(\d+)\.xml"), 1):
                walk.text(f"{where}/{kind}[{i}]", _text(pkg, name, 1))
        for kind in ("footnotes", "endnotes", "comments"):
            walk.text(f"{where}/{kind}", _text(pkg, f"word/{kind}.xml", 1))
        pkg.embeddings(where, depth, read_file)


def read_pptx(data: bytes, where: str, walk: Walk, depth: int, read_file: ReadFile) -> None:
    with open_zip(data) as zf:
        pkg = _Package(zf, walk)
        rels = pkg.relations("ppt/presentation.xml")
        order = [rels.get(e.get(_R_ID, ""), "") for e in _all(pkg, "ppt/presentation.xml", "sldId")]
        slides = [s for s in order if s in pkg.names] or pkg.numbered(r"ppt/slides/slide(\d+)\.xml")
        _page_limit(walk, where, "slide", len(slides))
        for i, slide in enumerate(slides[: walk.limits.max_pages], 1):
            walk.check_time()
            walk.text(f"{where}/slide[{i}]", _text(pkg, slide, 0))
            notes = [t for t in pkg.relations(slide).values() if "/notesSlides/" in t]
            for note in notes[:1]:
                walk.text(f"{where}/slide[{i}]/notes", _text(pkg, note, 0))
        pkg.embeddings(where, depth, read_file)


def _all(pkg: _Package, part: str, name: str) -> list[Element]:
    data = pkg.part(part)
    if not data:
        return []
    return [_detach(e) for e in blocks(data, lambda e, d: local(e.tag) == name)]


def _detach(elem: Element) -> Element:
    """A copy of an element's attributes (the original is cleared once the caller resumes)."""
    copy = Element(elem.tag, dict(elem.attrib))
    copy.text = elem.text
    return copy


def _page_limit(walk: Walk, where: str, unit: str, count: int) -> None:
    if count > walk.limits.max_pages:
        walk.unread(
            Unscanned.PART_LIMIT,
            f"{where}/{unit}[{walk.limits.max_pages + 1}]",
            f"not read: {unit}s after {walk.limits.max_pages}",
        )


def read_xlsx(data: bytes, where: str, walk: Walk, depth: int, read_file: ReadFile) -> None:
    with open_zip(data) as zf:
        pkg = _Package(zf, walk)
        shared = _shared_strings(pkg)
        rels = pkg.relations("xl/workbook.xml")
        sheets = [
            (e.get("name") or "?", rels.get(e.get(_R_ID, ""), ""))
            for e in _all(pkg, "xl/workbook.xml", "sheet")
        ]
        _page_limit(walk, where, "sheet", len(sheets))
        for name, part in sheets[: walk.limits.max_pages]:
            walk.check_time()
            sheet_data = pkg.part(part)
            if sheet_data:
                _read_sheet(sheet_data, f"{where}/sheet[{walk.label(name)}]", shared, walk)
        pkg.embeddings(where, depth, read_file)


def _shared_strings(pkg: _Package) -> list[str]:
    data = pkg.part("xl/sharedStrings.xml")
    if not data:
        return []
    # <si> is one string: its runs (<r><t>) joined, phonetic guides (<rPh>) left out
    return [
        "".join(t.text or "" for t in si.iter() if local(t.tag) == "t" and not _in_phonetic(si, t))
        for si in blocks(data, lambda e, d: d == 1)
    ]


def _in_phonetic(si: Element, t: Element) -> bool:
    return any(local(child.tag) == "rPh" and t in child.iter() for child in si)


def _read_sheet(data: bytes, sheet_at: str, shared: list[str], walk: Walk) -> None:
    """Stream ``<row>`` elements (ECMA-376 Part 1 §18.3.1.73) into row segments."""
    next_row = 1
    for row in blocks(data, lambda e, d: local(e.tag) == "row"):
        number = int(row.get("r") or next_row)
        next_row = number + 1
        cells: list[tuple[int, str]] = []
        for position, cell in enumerate(c for c in row if local(c.tag) == "c"):
            ref = parse_ref(cell.get("r") or "")
            cells.append((ref[0] if ref else position, _cell_text(cell, shared)))
        add_row(walk, sheet_at, number, sorted(cells))
        walk.check_time()


def _cell_text(cell: Element, shared: list[str]) -> str:
    kind = cell.get("t") or "n"
    if kind == "inlineStr":
        return "".join(t.text or "" for t in cell.iter() if local(t.tag) == "t")
    value = next((v.text or "" for v in cell if local(v.tag) == "v"), "")
    if kind == "s":
        try:
            return shared[int(value)]
        except (ValueError, IndexError):
            return ""
    if kind == "n" and ("E" in value or "e" in value):
        try:
            return number_text(float(value))
        except (ValueError, OverflowError):
            return value
    return value
