"""Real files of every format we read, generated with the libraries people make them with
(reportlab, fpdf2, python-docx, openpyxl, python-pptx, odfpy, xlwt, zipfile, tarfile, gzip),
each carrying known values at a known place. Used by the tests and `benchmarks/attachments.py`.
"""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile
from collections.abc import Callable

SSN = "536-22-8843"
IBAN = "FR14 2004 1010 0505 0001 3M02 606"
CARD = "4970 1012 3456 7893"
NIR = "1 85 05 78 006 084 91"
VALUES = {"US_SSN": SSN, "IBAN": IBAN, "PAYMENT_CARD": CARD, "FR_NIR": NIR}


def lines(value: str, label: str = "Reference") -> list[str]:
    """A few lines of an ordinary document around one value."""
    return [
        "Bulletin de paie - Juin 2026",
        "Société Exemple SARL, 12 rue des Lilas, 75011 Paris",
        f"{label}: {value}",
        "Merci de conserver ce document sans limitation de durée.",
    ]


def pdf_reportlab(
    pages: list[list[str]],
    *,
    compress: bool = True,
    fields: dict[str, str] | None = None,
    annotation: str | None = None,
    password: str | None = None,
) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.pdfencrypt import StandardEncryption
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    enc = StandardEncryption(password, canPrint=1) if password else None
    c = canvas.Canvas(buf, pagesize=A4, pageCompression=1 if compress else 0, encrypt=enc)
    for n, page in enumerate(pages):
        y = 800
        for i, line in enumerate(page):
            c.setFont(("Helvetica", "Times-Roman", "Courier")[i % 3], 11)
            c.drawString(60, y, line)
            y -= 18
        if n == 0 and fields:
            for k, (name, value) in enumerate(fields.items()):
                c.acroForm.textfield(name=name, value=value, x=60, y=500 - 40 * k, width=300, height=20)
        if n == 0 and annotation:
            c.textAnnotation(annotation, Rect=(400, 700, 450, 750))
        c.showPage()
    c.save()
    return buf.getvalue()


def pdf_fpdf(pages: list[list[str]]) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    for page in pages:
        pdf.add_page()
        pdf.set_font("helvetica", size=11)
        for line in page:
            pdf.cell(0, 8, line.encode("latin-1", "replace").decode("latin-1"), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def pdf_image_only() -> bytes:
    """A scanned page: one picture, no text layer."""
    from PIL import Image
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    img = io.BytesIO()
    Image.new("RGB", (200, 100), (255, 255, 255)).save(img, "PNG")
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.drawImage(ImageReader(io.BytesIO(img.getvalue())), 50, 600, 200, 100)
    c.showPage()
    c.save()
    return buf.getvalue()


def png() -> bytes:
    from PIL import Image

    img = io.BytesIO()
    Image.new("RGB", (20, 10), (0, 0, 0)).save(img, "PNG")
    return img.getvalue()


def docx(
    body: list[str],
    *,
    header: str = "",
    footer: str = "",
    table: list[list[str]] | None = None,
    comment: str = "",
) -> bytes:
    import docx as python_docx

    doc = python_docx.Document()
    for line in body:
        para = doc.add_paragraph(line)
    if comment:
        doc.add_comment(para.runs, text=comment, author="RH")
    if table:
        t = doc.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                t.cell(r, c).text = value
    section = doc.sections[0]
    if header:
        section.header.paragraphs[0].text = header
    if footer:
        section.footer.paragraphs[0].text = footer
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def xlsx(sheets: dict[str, list[list[object]]]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def pptx(slides: list[tuple[str, str]]) -> bytes:
    """(slide text, notes text) per slide."""
    from pptx import Presentation
    from pptx.util import Inches

    prs = Presentation()
    for text, notes in slides:
        slide = prs.slides.add_slide(prs.slide_layouts[5])
        slide.shapes.title.text = "Point RH"
        box = slide.shapes.add_textbox(Inches(1), Inches(2), Inches(6), Inches(2))
        box.text_frame.text = text
        if notes:
            slide.notes_slide.notes_text_frame.text = notes
    buf = io.BytesIO()
    prs.save(buf)
    return buf.getvalue()


def odt(body: list[str]) -> bytes:
    from odf.opendocument import OpenDocumentText
    from odf.text import P

    doc = OpenDocumentText()
    for line in body:
        doc.text.addElement(P(text=line))
    buf = io.BytesIO()
    doc.write(buf)
    return buf.getvalue()


def ods(sheets: dict[str, list[list[str]]]) -> bytes:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    for name, rows in sheets.items():
        table = Table(name=name)
        for row in rows:
            tr = TableRow()
            for value in row:
                cell = TableCell(valuetype="string")
                cell.addElement(P(text=value))
                tr.addElement(cell)
            table.addElement(tr)
        doc.spreadsheet.addElement(table)
    buf = io.BytesIO()
    doc.write(buf)
    return buf.getvalue()


def xls(sheets: dict[str, list[list[object]]]) -> bytes:
    import xlwt

    book = xlwt.Workbook()
    for name, rows in sheets.items():
        sheet = book.add_sheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                sheet.write(r, c, value)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def rtf(body: list[str]) -> bytes:
    def esc(line: str) -> str:
        return "".join(ch if ord(ch) < 128 else f"\\u{ord(ch)}?" for ch in line)

    text = "\\par\n".join(esc(line) for line in body)
    return (
        "{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0 Arial;}}{\\colortbl;\\red0\\green0\\blue0;}"
        "{\\info{\\author RH 999-99-9999}}\\f0\\fs22 " + text + "\\par}"
    ).encode("ascii")


def zip_of(members: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def tar_of(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def gz(data: bytes, name: str = "") -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(filename=name, mode="wb", fileobj=buf, mtime=0) as f:
        f.write(data)
    return buf.getvalue()


def csv(value: str) -> bytes:
    return f"nom;prenom;numero\nDupont;Jean;{value}\n".encode()


def eml(value: str) -> bytes:
    return (
        f"From: rh@example.com\r\nTo: a@example.org\r\nSubject: dossier\r\n\r\n"
        f"Numéro de sécurité sociale : {value}\r\n"
    ).encode()


# format name → how to carry one value in it (the recall set of benchmarks/attachments.py)
CARRIERS: dict[str, Callable[[str, str], bytes]] = {
    "pdf": lambda v, lab: pdf_reportlab([lines(v, lab)]),
    "pdf-uncompressed": lambda v, lab: pdf_reportlab([lines(v, lab)], compress=False),
    "pdf-fpdf2": lambda v, lab: pdf_fpdf([lines(v, lab)]),
    "pdf-form": lambda v, lab: pdf_reportlab([lines("voir formulaire", "Objet")], fields={lab: v}),
    "docx": lambda v, lab: docx(lines(v, lab)),
    "docx-table": lambda v, lab: docx(["Tableau"], table=[["Nom", lab], ["Dupont", v]]),
    "xlsx": lambda v, lab: xlsx({"Juin": [["Nom", lab], ["Dupont", v]]}),
    "pptx": lambda v, lab: pptx([(f"{lab}: {v}", "")]),
    "odt": lambda v, lab: odt(lines(v, lab)),
    "ods": lambda v, lab: ods({"Juin": [["Nom", lab], ["Dupont", v]]}),
    "xls": lambda v, lab: xls({"Juin": [["Nom", lab], ["Dupont", v]]}),
    "rtf": lambda v, lab: rtf(lines(v, lab)),
    "zip-csv": lambda v, lab: zip_of({"export/payroll.csv": csv(v)}),
    "zip-nested": lambda v, lab: zip_of({"inner.zip": zip_of({"payroll.csv": csv(v)})}),
    "tar.gz": lambda v, lab: gz(tar_of({"payroll.csv": csv(v)}), "export.tar"),
    "zip-docx": lambda v, lab: zip_of({"lettre.docx": docx(lines(v, lab))}),
}
LABELS = {
    "US_SSN": "SSN",
    "IBAN": "IBAN",
    "PAYMENT_CARD": "Carte bancaire",
    "FR_NIR": "Numéro de sécurité sociale",
}
