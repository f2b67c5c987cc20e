"""Values inside every format we read are found, by the real engine, at a location a customer can follow."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from scanner.detect import DetectionEngine, build_engine
from scanner.extract import extract
from scanner.extract.attachments import Format, read_attachment, sniff
from scanner.model import Extraction, Finding
from tests.extract.attachments import samples as s


@pytest.fixture(scope="module")
def engine() -> DetectionEngine:
    return build_engine(nlp=False)


def mail(data: bytes, filename: str | None, ctype: str = "application/octet-stream") -> bytes:
    msg = EmailMessage()
    msg["From"] = "rh@example.com"
    msg["To"] = "a@example.org"
    msg["Subject"] = "Documents"
    msg.set_content("Veuillez trouver ci-joint le document.")
    maintype, subtype = ctype.split("/")
    msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


def findings(engine: DetectionEngine, ex: Extraction) -> list[Finding]:
    return [f for f in engine.detect(list(ex.segments)) if f.confidence >= 2]


# (carrier, file name, where the value is expected under attachment[2:<name>])
CASES = [
    ("pdf", "statement.pdf", "/page[1]"),
    ("pdf-uncompressed", "statement.pdf", "/page[1]"),
    ("pdf-fpdf2", "statement.pdf", "/page[1]"),
    ("pdf-form", "claim.pdf", "/page[1]/annotations"),
    ("docx", "lettre.docx", "/body"),
    ("docx-table", "lettre.docx", "/body"),
    ("xlsx", "pay.xlsx", "/sheet[Juin]!A2:B2"),
    ("pptx", "point.pptx", "/slide[1]"),
    ("odt", "lettre.odt", "/body"),
    ("ods", "pay.ods", "/sheet[Juin]!A2:B2"),
    ("xls", "pay.xls", "/sheet[Juin]!A2:B2"),
    ("rtf", "lettre.rtf", "/body"),
    ("zip-csv", "export.zip", "/export/payroll.csv"),
    ("zip-nested", "export.zip", "/inner.zip/payroll.csv"),
    ("tar.gz", "export.tar.gz", "/export.tar/payroll.csv"),
    ("zip-docx", "courrier.zip", "/lettre.docx/body"),
]


@pytest.mark.parametrize(("carrier", "filename", "suffix"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("category", sorted(s.VALUES))
def test_value_found_at_its_location(
    engine: DetectionEngine, carrier: str, filename: str, suffix: str, category: str
) -> None:
    data = s.CARRIERS[carrier](s.VALUES[category], s.LABELS[category])
    ex = extract(mail(data, filename))
    assert ex.unscanned == ()
    found = {(f.category, f.location) for f in findings(engine, ex)}
    assert (category, f"attachment[2:{filename}]{suffix}") in found, found


def test_format_is_read_from_the_bytes_not_the_name_or_type(engine: DetectionEngine) -> None:
    """A PDF named .txt and declared image/png is still read as a PDF."""
    data = s.CARRIERS["pdf"](s.SSN, "SSN")
    ex = extract(mail(data, "notes.txt", "image/png"))
    assert ("US_SSN", "attachment[2:notes.txt]/page[1]") in {
        (f.category, f.location) for f in findings(engine, ex)
    }
    # and without any file name (an inline part)
    ex = extract(mail(data, None))
    assert any(f.category == "US_SSN" and f.location.endswith("/page[1]") for f in findings(engine, ex))


@pytest.mark.parametrize(
    ("carrier", "fmt"),
    [("pdf", Format.PDF), ("docx", Format.DOCX), ("xlsx", Format.XLSX), ("pptx", Format.PPTX), ("odt", Format.ODT),
     ("ods", Format.ODS), ("xls", Format.OLE), ("rtf", Format.RTF), ("zip-csv", Format.ZIP), ("tar.gz", Format.GZIP)],
)  # fmt: skip
def test_sniff(carrier: str, fmt: Format) -> None:
    assert sniff(s.CARRIERS[carrier](s.SSN, "SSN"), "application/octet-stream", "x.bin") is fmt


def test_docx_headers_footers_comments_are_read() -> None:
    data = s.docx(["Corps"], header=f"SSN {s.SSN}", footer=f"IBAN {s.IBAN}", comment=f"carte {s.CARD}")
    got = read_attachment(data, "a")
    assert got is not None
    texts = {seg.location: seg.text for seg in got.segments}
    assert s.SSN in texts["a/header[1]"] and s.IBAN in texts["a/footer[1]"] and s.CARD in texts["a/comments"]


def test_pdf_pages_annotations_and_every_sheet() -> None:
    pdf = s.pdf_reportlab([["page une"], ["page deux", f"SSN {s.SSN}"]], annotation=f"IBAN {s.IBAN}")
    got = read_attachment(pdf, "a")
    assert got is not None
    texts = {seg.location: seg.text for seg in got.segments}
    assert s.SSN in texts["a/page[2]"] and s.IBAN in texts["a/page[1]/annotations"]
    book = s.xlsx({"Mai": [["x"]], "Juin": [["Nom", "NIR"], ["Dupont", s.NIR]]})
    got = read_attachment(book, "b")
    assert got is not None
    assert [seg.location for seg in got.segments] == [
        "b/sheet[Mai]!A1",
        "b/sheet[Juin]!A1:B1",
        "b/sheet[Juin]!A2:B2",
    ]


def test_xlsx_inline_strings_and_large_numbers() -> None:
    """Cells written as inline strings, and a NIR typed as a number, read as a person sees them."""
    import io

    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "Feuil1"
    book.active["C12"] = 185057800608491  # a number cell: <v>185057800608491</v>
    buf = io.BytesIO()
    book.save(buf)
    got = read_attachment(buf.getvalue(), "a")
    assert got is not None and [(g.location, g.text) for g in got.segments] == [
        ("a/sheet[Feuil1]!C12", "185057800608491")
    ]
    inline = s.zip_of(
        {
            "[Content_Types].xml": b"<Types/>",
            "xl/workbook.xml": b'<workbook xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            b'<sheets><sheet name="S" r:id="rId1"/></sheets></workbook>',
            "xl/_rels/workbook.xml.rels": b'<Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/></Relationships>',
            "xl/worksheets/sheet1.xml": b'<worksheet><sheetData><row r="3"><c r="B3" t="inlineStr"><is><t>'
            + s.SSN.encode()
            + b"</t></is></c></row></sheetData></worksheet>",
        }
    )
    got = read_attachment(inline, "b")
    assert got is not None and [(g.location, g.text) for g in got.segments] == [("b/sheet[S]!B3", s.SSN)]


def test_pptx_notes_are_read() -> None:
    got = read_attachment(s.pptx([("Ordre du jour", f"SSN {s.SSN}")]), "a")
    assert got is not None
    assert s.SSN in {seg.location: seg.text for seg in got.segments}["a/slide[1]/notes"]


def test_rtf_skips_what_a_reader_does_not_show() -> None:
    got = read_attachment(s.rtf(["Numéro", f"SSN {s.SSN}"]), "a")
    assert got is not None
    text = got.segments[0].text
    assert "Numéro" in text and s.SSN in text
    assert "999-99-9999" not in text and "Arial" not in text  # \info and \fonttbl are not text


def test_eml_sent_as_octet_stream_is_read_as_mail(engine: DetectionEngine) -> None:
    ex = extract(mail(s.eml(s.NIR), "dossier.eml"))
    assert ("FR_NIR", "attachment[2:dossier.eml]/body[1]") in {
        (f.category, f.location) for f in findings(engine, ex)
    }
    ex = extract(mail(s.zip_of({"fwd/dossier.eml": s.eml(s.NIR)}), "mails.zip"))
    assert ("FR_NIR", "attachment[2:mails.zip]/fwd/dossier.eml/body[1]") in {
        (f.category, f.location) for f in findings(engine, ex)
    }


def test_member_names_take_the_callers_label_and_are_scanned_as_text() -> None:
    data = s.zip_of({"a[1].csv": s.csv("x"), f"SSN {s.SSN}.txt": b"hello"})
    got = read_attachment(
        data, "z", label=lambda n: n.replace("[", "(").replace("]", ")").replace(s.SSN, "***")
    )
    assert got is not None
    locations = [seg.location for seg in got.segments]
    assert "z/a(1).csv" in locations and "z/SSN ***.txt" in locations
    names = {seg.location: seg.text for seg in got.segments}["z/names"]
    assert s.SSN in names  # the name itself is text a detector sees


def test_plain_text_and_unknown_binary_are_left_to_the_mime_reader() -> None:
    assert read_attachment(b"nom;numero\nDupont;1\n", "a") is None
    assert read_attachment(bytes(range(256)) * 4, "a") is None
