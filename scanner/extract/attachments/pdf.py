"""PDF: the text layer of each page, form field values, annotation texts and embedded files.

PDFium (through pypdfium2) was chosen over pypdf by measurement (`benchmarks/attachments.py`,
README "Attachments"): same words found on our generated PDFs, many times faster on real ones,
and in C++ with PDFium's own guards against recursive object graphs, so a hostile document costs
us a parse error instead of a Python ``RecursionError`` deep in a pure-Python parser.

Locations: ``<where>/page[2]`` (text layer), ``<where>/page[2]/annotations`` (comments, notes,
link texts; form field values carry their field name: ``name: value``), ``<where>/<embedded
file name>`` for files attached inside the PDF, read like archive members.
A page with no text but images is an image-only page (a scan): listed as `Unscanned.IMAGE`.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from scanner.extract.attachments.walk import Stop, Walk
from scanner.model import Unscanned

# the reader of the files embedded in a PDF: `scanner.extract.attachments.read_file`
ReadFile = Callable[[bytes, str, Walk, int, str], None]


def read_pdf(data: bytes, where: str, walk: Walk, depth: int, read_file: ReadFile) -> None:
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == pdfium_c.FPDF_ERR_PASSWORD:
            raise Stop(Unscanned.ENCRYPTED, "not read: password-protected PDF") from None
        raise Stop(Unscanned.CORRUPT, "not read: PDF could not be opened") from None
    try:
        if b"%%EOF" not in data[-4096:]:
            # PDFium rebuilds a cut file's cross-reference table and reads what is left: read
            # that, and say that the rest was not (ISO 32000-1 §7.5.5: a file ends with %%EOF)
            walk.unread(Unscanned.CORRUPT, where, "PDF truncated: read as far as it goes")
        _read_document(pdf, where, walk, depth, read_file)
    finally:
        pdf.close()


def _read_document(pdf: pdfium.PdfDocument, where: str, walk: Walk, depth: int, read_file: ReadFile) -> None:
    pdf.init_forms()
    form = pdf.formenv
    pages = len(pdf)
    if pages == 0:  # a page tree that leads nowhere (a loop, a dangling reference)
        raise Stop(Unscanned.CORRUPT, "not read: PDF without readable pages")
    limit = walk.limits.max_pages
    if pages > limit:
        walk.unread(Unscanned.PART_LIMIT, f"{where}/page[{limit + 1}]", f"not read: pages after {limit}")
    read_any = False
    for index in range(min(pages, limit)):
        walk.check_time()
        at = f"{where}/page[{index + 1}]"
        page = pdf.get_page(index)
        try:
            textpage = page.get_textpage()
            try:
                text = textpage.get_text_range()
            finally:
                textpage.close()
            walk.text(at, text)
            notes = _annotations(page, form)
            walk.text(f"{at}/annotations", "\n".join(notes))
            if text.strip() or notes:
                read_any = True
            elif _has(page, pdfium_c.FPDF_PAGEOBJ_IMAGE):
                walk.unread(Unscanned.IMAGE, at, "image-only page: not read (no OCR)")
                read_any = True
            elif _has(page, pdfium_c.FPDF_PAGEOBJ_TEXT):
                # glyphs drawn without a Unicode mapping (no /ToUnicode): shown, not readable
                walk.unread(Unscanned.UNDECODABLE, at, "text without a readable encoding")
                read_any = True
        finally:
            page.close()
    if not read_any:
        # not one page gave text or images: a damaged content stream reads as a blank page
        walk.unread(Unscanned.CORRUPT, where, "not read: no readable page content")
    for index in range(pdf.count_attachments()):
        attachment = pdf.get_attachment(index)
        name = walk.label(attachment.get_name() or f"embedded[{index + 1}]")
        walk.member()
        content = bytes(attachment.get_data())
        walk.inflated(len(content))
        read_file(content, f"{where}/{name}", walk, depth + 1, name)


def _annotations(page: pdfium.PdfPage, form: object) -> list[str]:
    """The text of every annotation of `page`: /Contents, and a form widget's ``name: value``."""
    out: list[str] = []
    for i in range(pdfium_c.FPDFPage_GetAnnotCount(page)):
        annot = pdfium_c.FPDFPage_GetAnnot(page, i)
        if not annot:
            continue
        try:
            contents = _string(pdfium_c.FPDFAnnot_GetStringValue, annot, b"Contents")
            if contents:
                out.append(contents)
            if form and pdfium_c.FPDFAnnot_GetSubtype(annot) == pdfium_c.FPDF_ANNOT_WIDGET:
                value = _string(pdfium_c.FPDFAnnot_GetFormFieldValue, form, annot)
                if value:
                    field = _string(pdfium_c.FPDFAnnot_GetFormFieldName, form, annot)
                    out.append(f"{field}: {value}" if field else value)
        finally:
            pdfium_c.FPDFPage_CloseAnnot(annot)
    return out


def _string(getter: Callable[..., int], *args: object) -> str:
    """A PDFium UTF-16LE string getter ``getter(*args, buffer, length)``, called twice: once for
    the length, once to fill."""
    size = getter(*args, None, 0)
    if size <= 2:
        return ""
    buf = ctypes.create_string_buffer(size)
    getter(*args, ctypes.cast(buf, ctypes.POINTER(ctypes.c_ushort)), size)
    return buf.raw[: size - 2].decode("utf-16-le", "replace").strip()


def _has(page: pdfium.PdfPage, kind: int) -> bool:
    for obj in page.get_objects(filter=(kind,), max_depth=3):
        del obj
        return True
    return False
