"""Attachments: reading speed per format, the candidate PDF libraries side by side, worker memory,
and recall on a generated attachment set — all in one run.

    python -m benchmarks.attachments [--pdf-dir DIR ...] [--seconds 1.5] [--per-category 5]

1. **Per format**: realistic generated files (a 12-page statement PDF, a 2,000-row payroll XLSX,
   a long DOCX with a table...) read by `scanner.extract.attachments.read_attachment`, repeated
   for `--seconds`: MB/s of attachment bytes and attachments/s.
2. **PDF libraries**: PDFium (pypdfium2, what we use: text layer, annotations, form fields) and
   pypdf (the same three) on the same PDFs — the generated ones, where each written line is
   known (fidelity = share of lines found whole), and real-world PDFs from `--pdf-dir` (default:
   every PDF under /usr/share/doc), where we report speed, failures and how far the two agree
   (Jaccard of their word sets).
3. **Memory**: this process's RSS after importing the readers and at its peak (it reads like a
   worker does); compare with a detection worker's 204 MiB.
4. **Recall**: values (SSN, NIR, card, IBAN from Faker, checksum-valid) inside every format
   and inside CSV/TXT/JSON/HTML attachments, mailed as application/octet-stream, extracted and
   detected by the real engine; found = a medium/high finding of that category at a location
   inside the attachment.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import re
import resource
import statistics
import sys
import time
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psutil
from faker import Faker

from scanner.extract import extract
from scanner.extract.attachments import read_attachment
from tests.extract.attachments import samples as s

MiB = 1024 * 1024


def _faker(locale: str, seed: int) -> Faker:
    fk = Faker(locale)
    fk.seed_instance(seed)
    return fk


def workload() -> dict[str, bytes]:
    """One realistic file per format (sizes printed with the results)."""
    fk = Faker("fr_FR")
    fk.seed_instance(7)
    para = [fk.sentence(nb_words=14) for _ in range(600)]
    rows: list[list[object]] = [["Nom", "Prénom", "NIR", "IBAN", "Salaire", "Service"]]
    rows += [
        [fk.last_name(), fk.first_name(), fk.ssn(), fk.iban(), fk.random_int(1500, 6000), fk.job()]
        for _ in range(2000)
    ]
    csv = "\n".join(";".join(map(str, r)) for r in rows).encode()
    return {
        "pdf (12 pages)": s.pdf_reportlab([para[i * 45 : (i + 1) * 45] for i in range(12)]),
        "docx": s.docx(para[:300], header="Société Exemple", table=[[str(c) for c in r] for r in rows[:100]]),
        "xlsx (2,000 rows)": s.xlsx({"Juin": rows}),
        "pptx (20 slides)": s.pptx([(" ".join(para[i * 5 : i * 5 + 5]), para[i]) for i in range(20)]),
        "odt": s.odt(para[:300]),
        "ods (2,000 rows)": s.ods({"Juin": [[str(c) for c in r] for r in rows]}),
        "xls (2,000 rows)": s.xls({"Juin": rows}),
        "rtf": s.rtf(para[:300]),
        "zip (10 CSV)": s.zip_of({f"export/{i}.csv": csv for i in range(10)}),
        "tar.gz (10 CSV)": s.gz(s.tar_of({f"{i}.csv": csv for i in range(10)}), "export.tar"),
    }


def statement_mail(seed: int, size: int = 100_000) -> bytes:
    """A clean message (CRLF) with a ~`size`-byte PDF: 3 pages of text and a picture (a logo or a
    scanned letterhead: incompressible bytes), the shape of a real statement."""

    from PIL import Image
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    fk = _faker("fr_FR", seed)
    rng = random.Random(seed)
    side = int((max(size - 30_000, 1_000) / 3) ** 0.5)
    picture = io.BytesIO()
    Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3)).save(picture, "PNG")
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    for page in range(3):
        if page == 0:
            c.drawImage(ImageReader(io.BytesIO(picture.getvalue())), 60, 700, 120, 120)
        y = 680
        for _ in range(35):
            c.drawString(60, y, fk.sentence(nb_words=11))
            y -= 18
        c.showPage()
    c.save()
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "billing@example.com", "client@example.org", "Votre relevé"
    msg.set_content("Bonjour,\n\nVotre relevé du mois est joint à ce message.\n")
    msg.add_attachment(buf.getvalue(), maintype="application", subtype="pdf", filename="releve.pdf")
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))


def rate(fn: Callable[[bytes], object], data: bytes, seconds: float) -> tuple[float, float]:
    """(MB/s, files/s) over repeated reads for about `seconds`."""
    n, start = 0, time.perf_counter()
    while True:
        fn(data)
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return n * len(data) / elapsed / 1e6, n / elapsed


def pypdf_text(data: bytes) -> str:
    """pypdf doing what our PDFium reader does: text layer, annotation /Contents, form values."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        reader.decrypt("")
    out: list[str] = []
    for page in reader.pages:
        out.append(page.extract_text() or "")
        for annot in page.get("/Annots") or []:
            obj = annot.get_object()
            if obj.get("/Contents"):
                out.append(str(obj["/Contents"]))
    for name, field in (reader.get_fields() or {}).items():
        if field.get("/V"):
            out.append(f"{name}: {field['/V']}")
    return "\n".join(out)


def pdfium_text(data: bytes) -> str:
    got = read_attachment(data, "a")
    if got is None or (not got.segments and got.unscanned):
        raise ValueError("not read")
    return "\n".join(seg.text for seg in got.segments)


PDF_LIBS: dict[str, Callable[[bytes], str]] = {"pypdfium2 (PDFium)": pdfium_text, "pypdf": pypdf_text}
_WS = re.compile(r"\s+")


def _norm(text: str) -> str:
    return _WS.sub(" ", text).strip()


def generated_pdfs() -> list[tuple[bytes, list[str]]]:
    """PDFs whose every line is known: reportlab (compressed or not, 3 fonts), fpdf2, forms, notes."""
    out: list[tuple[bytes, list[str]]] = []
    for seed in range(12):
        fk = _faker(("fr_FR", "en_US")[seed % 2], seed)
        lines = [fk.sentence(nb_words=10) for _ in range(30)]
        pages = [lines[:15], lines[15:]]
        value = fk.iban()
        kind = seed % 4
        if kind == 0:
            out.append((s.pdf_reportlab(pages), lines))
        elif kind == 1:
            out.append((s.pdf_reportlab(pages, compress=False), lines))
        elif kind == 2:
            latin = [ln.encode("latin-1", "replace").decode("latin-1") for ln in lines]
            out.append((s.pdf_fpdf([latin[:15], latin[15:]]), latin))
        else:
            pdf = s.pdf_reportlab(pages, fields={"iban": value}, annotation=f"Note {value}")
            out.append((pdf, [*lines, value]))
    return out


def compare_pdf_libs(pdf_dirs: list[Path], seconds: float) -> None:
    print("\n## PDF libraries, same files, same run\n")
    generated = generated_pdfs()
    real = sorted(
        {p for d in pdf_dirs for p in d.rglob("*.pdf") if p.is_file() and p.stat().st_size < 20 * MiB}
    )
    real_data = [p.read_bytes() for p in real]
    print(
        f"generated: {len(generated)} PDFs ({sum(len(d) for d, _ in generated) / 1e3:.0f} kB); "
        f"real-world: {len(real)} PDFs ({sum(map(len, real_data)) / 1e6:.1f} MB) from {', '.join(map(str, pdf_dirs))}"
    )
    print(
        "\n| library | generated: lines found whole | generated MB/s | real-world MB/s | real-world pages/s | failures |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    words: dict[str, list[set[str]]] = {}
    pages = _page_counts(real_data)
    for name, fn in PDF_LIBS.items():
        found = total = 0
        for data, lines in generated:
            text = _norm(fn(data))
            total += len(lines)
            found += sum(_norm(line) in text for line in lines)
        gen_mb = sum(len(d) for d, _ in generated)
        start = time.perf_counter()
        rounds = 0
        while time.perf_counter() - start < seconds:
            for data, _ in generated:
                fn(data)
            rounds += 1
        gen_rate = rounds * gen_mb / (time.perf_counter() - start) / 1e6
        failures, words[name] = 0, []
        start = time.perf_counter()
        for data in real_data:
            try:
                words[name].append(set(_norm(fn(data)).split()))
            except Exception:
                failures += 1
                words[name].append(set())
        elapsed = time.perf_counter() - start
        real_rate = sum(map(len, real_data)) / elapsed / 1e6 if real_data else 0.0
        print(
            f"| {name} | {found}/{total} ({found / total:.1%}) | {gen_rate:.2f} | {real_rate:.2f} | "
            f"{sum(pages) / elapsed if real_data else 0:.0f} | {failures}/{len(real_data)} |"
        )
    if real_data:
        a, b = words.values()
        agree = [len(x & y) / len(x | y) for x, y in zip(a, b, strict=True) if x | y]
        print(
            f"\nreal-world word-set agreement (Jaccard) between the two, median over files: "
            f"{statistics.median(agree):.3f} (min {min(agree):.3f}); words found by only one: "
            f"PDFium {sum(len(x - y) for x, y in zip(a, b, strict=True))}, pypdf {sum(len(y - x) for x, y in zip(a, b, strict=True))}"
        )


def _page_counts(blobs: list[bytes]) -> list[int]:
    import pypdfium2 as pdfium

    out = []
    for data in blobs:
        try:
            pdf = pdfium.PdfDocument(data)
            out.append(len(pdf))
            pdf.close()
        except Exception:
            out.append(0)
    return out


def compare_office_libs(files: dict[str, bytes], seconds: float) -> None:
    """Our streamed defusedxml readers against the object-model libraries, on the same files."""

    def openpyxl_cells(data: bytes) -> int:
        import openpyxl

        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        n = sum(
            1
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
            for v in row
            if v is not None
        )
        book.close()
        return n

    def python_docx_text(data: bytes) -> int:
        import docx

        doc = docx.Document(io.BytesIO(data))
        text = [p.text for p in doc.paragraphs] + [
            c.text for t in doc.tables for r in t.rows for c in r.cells
        ]
        return sum(map(len, text))

    print("\n## Office readers, same files, same run (attachments/s)\n")
    print("| file | ours (defusedxml, streamed) | object-model library |\n|---|---:|---:|")
    for name, other, fn in (
        ("xlsx (2,000 rows)", "openpyxl read-only", openpyxl_cells),
        ("docx", "python-docx (body + tables only)", python_docx_text),
    ):
        ours = rate(lambda d: read_attachment(d, "a"), files[name], seconds)[1]
        theirs = rate(fn, files[name], seconds)[1]
        print(f"| {name} | {ours:.1f} | {theirs:.1f} ({other}) |")


def _mail(data: bytes, filename: str) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "rh@example.com", "a@example.org", "Documents"
    msg.set_content("Veuillez trouver ci-joint le document demandé.")
    msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=filename)
    return msg.as_bytes()


TEXT_CARRIERS: dict[str, Callable[[str, str], bytes]] = {
    "csv": lambda v, lab: f"nom;{lab}\nDupont;{v}\n".encode(),
    "txt": lambda v, lab: "\n".join(s.lines(v, lab)).encode(),
    "json": lambda v, lab: json.dumps({"nom": "Dupont", lab: v}, ensure_ascii=False).encode(),
    "html": lambda v, lab: f"<html><body><p>{lab}</p><td>{v}</td></body></html>".encode(),
}


def recall(per_category: int) -> None:
    from scanner.detect import build_engine

    engine = build_engine()
    en, fr = _faker("en_US", 11), _faker("fr_FR", 11)
    values: dict[str, list[str]] = {
        "US_SSN": [en.ssn() for _ in range(per_category)],
        "FR_NIR": [fr.ssn() for _ in range(per_category)],
        "PAYMENT_CARD": [
            en.credit_card_number(("visa16", "mastercard", "amex")[i % 3]) for i in range(per_category)
        ],
        "IBAN": [fr.iban() for _ in range(per_category)],
    }
    carriers = {**s.CARRIERS, **TEXT_CARRIERS}
    print(f"\n## Recall on generated attachments ({per_category} values per category and format)\n")
    print("| format | found | recall |\n|---|---:|---:|")
    hits = tries = 0
    for fmt, make in carriers.items():
        ok = n = 0
        for category, vals in values.items():
            for v in vals:
                ex = extract(_mail(make(v, s.LABELS[category]), f"file.{fmt.split('-')[0]}"))
                found = engine.detect(list(ex.segments))
                ok += any(
                    f.category == category and f.confidence >= 2 and f.location.startswith("attachment[2:")
                    for f in found
                )
                n += 1
        hits, tries = hits + ok, tries + n
        print(f"| {fmt} | {ok}/{n} | {ok / n:.3f} |")
    print(f"| **all** | {hits}/{tries} | **{hits / tries:.3f}** |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pdf-dir", type=Path, action="append", help="folder of real-world PDFs (repeatable)")
    ap.add_argument("--seconds", type=float, default=1.5, help="time per format and library")
    ap.add_argument("--per-category", type=int, default=5)
    ap.add_argument("--no-recall", action="store_true")
    args = ap.parse_args()
    proc = psutil.Process()
    rss_imports = proc.memory_info().rss
    print("## Per format (read_attachment: sniff + extract, one process)\n")
    print("| format | size | MB/s | attachments/s | segments |\n|---|---:|---:|---:|---:|")
    files = workload()
    for name, data in files.items():
        mbps, per_s = rate(lambda d: read_attachment(d, "a"), data, args.seconds)
        got = read_attachment(data, "a")
        assert got is not None and not got.unscanned, (name, got.unscanned if got else None)
        print(f"| {name} | {len(data) / 1e3:.0f} kB | {mbps:.2f} | {per_s:.1f} | {len(got.segments)} |")
    rss_formats = proc.memory_info().rss
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(
        f"\nRSS of this process (it reads as a worker does): {rss_imports / MiB:.0f} MiB after importing the "
        f"readers, {rss_formats / MiB:.0f} MiB after the formats above, peak {peak / MiB:.0f} MiB"
    )
    compare_office_libs(files, args.seconds)
    compare_pdf_libs(args.pdf_dir or [Path("/usr/share/doc")], args.seconds)
    if not args.no_recall:
        recall(args.per_category)


if __name__ == "__main__":
    main()
