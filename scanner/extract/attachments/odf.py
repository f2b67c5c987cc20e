"""OpenDocument (ODF 1.2, OASIS): ODT text, ODS sheets, ODP slides, from ``content.xml`` (and
``styles.xml``, where page headers and footers live), parsed with defusedxml like OOXML.

Locations: ``<where>/body``, ``<where>/headers`` (ODT), ``<where>/sheet[Name]!B4`` (ODS, rows as in
`scanner.extract.attachments.sheets`), ``<where>/slide[n]`` (ODP). Annotations (comments) are
part of the text they annotate. Repeated rows and cells (``number-rows-repeated``, used for the
empty million rows of a sheet) advance the position without being materialised; repeated filled
rows count against `AttachmentLimits.max_rows` each.
"""

from __future__ import annotations

from collections.abc import Callable
from xml.etree.ElementTree import Element

from scanner.extract.attachments.archive import ReadFile, open_zip, zip_member
from scanner.extract.attachments.sheets import add_row
from scanner.extract.attachments.walk import Stop, Walk
from scanner.extract.attachments.xmltext import blocks, events, local, render
from scanner.model import Unscanned

_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_DRAW = "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
_AFTER = {"p": "\n", "h": "\n", "table-cell": "\t", "table-row": "\n", "line-break": "\n", "tab": "\t"}
_INLINE: dict[str, Callable[[Element], str]] = {
    "s": lambda e: " " * min(_int(e.get(f"{{{_TEXT}}}c"), 1), 100),
}


def _int(value: str | None, default: int) -> int:
    try:
        return max(0, int(value)) if value is not None else default
    except ValueError:
        return default


def _part(data: bytes, name: str, walk: Walk) -> bytes:
    with open_zip(data) as zf:
        infos = {i.filename: i for i in zf.infolist()}
        info = infos.get(name)
        if info is None:
            return b""
        if any(i.flag_bits & 0x1 for i in infos.values()) or (
            "META-INF/manifest.xml" in infos
            and _encrypted(zf.read(infos["META-INF/manifest.xml"])[: 1 << 20])
        ):
            raise Stop(Unscanned.ENCRYPTED, "not read: password-protected document")
        walk.member()
        return zip_member(zf, info, walk)


def _encrypted(manifest: bytes) -> bool:
    # ODF 1.2 Part 3 §4.8: encrypted entries carry <manifest:encryption-data>
    return b"encryption-data" in manifest


def read_odt(data: bytes, where: str, walk: Walk, depth: int, read_file: ReadFile) -> None:
    content = _part(data, "content.xml", walk)
    text = "".join(render(b, _AFTER, _INLINE) for b in blocks(content, _is_text_block))
    walk.text(f"{where}/body", text)
    styles = _part(data, "styles.xml", walk)
    if styles:
        walk.text(
            f"{where}/headers",
            "".join(
                render(b, _AFTER, _INLINE)
                for b in blocks(styles, lambda e, d: local(e.tag) in ("header", "footer"))
            ),
        )


def _is_text_block(elem: Element, depth: int) -> bool:
    # document-content > body > text > (p | h | list | table | section...)
    return depth == 3


def read_odp(data: bytes, where: str, walk: Walk, depth: int, read_file: ReadFile) -> None:
    content = _part(data, "content.xml", walk)
    for i, page in enumerate(blocks(content, lambda e, d: e.tag == f"{{{_DRAW}}}page"), 1):
        if i > walk.limits.max_pages:
            walk.unread(
                Unscanned.PART_LIMIT, f"{where}/slide[{i}]", f"not read: slides after {walk.limits.max_pages}"
            )
            break
        walk.check_time()
        walk.text(f"{where}/slide[{i}]", render(page, _AFTER, _INLINE))


def read_ods(data: bytes, where: str, walk: Walk, depth: int, read_file: ReadFile) -> None:
    content = _part(data, "content.xml", walk)
    sheet_at = where
    row_number = 1
    sheets = 0
    for event, elem, _ in events(content):
        if event == "start" and elem.tag == f"{{{_TABLE}}}table":
            sheets += 1
            if sheets > walk.limits.max_pages:
                walk.unread(Unscanned.PART_LIMIT, where, f"not read: sheets after {walk.limits.max_pages}")
                return
            sheet_at = f"{where}/sheet[{walk.label(elem.get(f'{{{_TABLE}}}name') or str(sheets))}]"
            row_number = 1
        elif event == "end" and elem.tag == f"{{{_TABLE}}}table-row":
            repeat = _int(elem.get(f"{{{_TABLE}}}number-rows-repeated"), 1)
            cells = _row_cells(elem)
            elem.clear()
            if not cells:
                row_number += repeat
                continue
            for _ in range(repeat):
                add_row(walk, sheet_at, row_number, cells)  # counts each against max_rows
                row_number += 1
            walk.check_time()


def _row_cells(row: Element) -> list[tuple[int, str]]:
    cells: list[tuple[int, str]] = []
    col = 0
    for cell in row:
        if local(cell.tag) not in ("table-cell", "covered-table-cell"):
            continue
        repeat = _int(cell.get(f"{{{_TABLE}}}number-columns-repeated"), 1)
        text = render(cell, _AFTER, _INLINE).strip()
        if not text:
            text = cell.get("{urn:oasis:names:tc:opendocument:xmlns:office:1.0}value") or ""
        if text:
            for i in range(min(repeat, 1024)):
                cells.append((col + i, text))
        col += repeat
    return cells
