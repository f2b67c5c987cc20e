"""MIME extraction: every readable text with its location, defect notes, bounds, hostile input."""

from __future__ import annotations

import json
import random
from email.message import EmailMessage

import pytest

from scanner.extract import extract
from scanner.model import Extraction, SegmentKind
from tests.corpus import corpus_dir


def _texts(ex: Extraction) -> dict[str, str]:
    return {s.location: s.text for s in ex.segments}


def _names(ex: Extraction) -> set[str]:
    """Defect short names ("StartBoundaryNotFoundDefect at body[1]: ..." → the first word)."""
    return {d.split(" ", 1)[0] for d in ex.defects}


def _raw(headers: str, body: bytes) -> bytes:
    return headers.replace("\n", "\r\n").encode() + b"\r\n\r\n" + body


# --- subject --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "subject"),
    [
        (b"Subject: Hello", "Hello"),
        (b"Subject: =?iso-8859-1?Q?Num=E9ro?= fiscal", "Numéro fiscal"),
        (b"Subject: =?utf-8?B?TnVtw6lybyBkZSBzw6ljdXJpdMOpIHNvY2lhbGU=?=", "Numéro de sécurité sociale"),
        (b"Subject: =?utf-8?Q?Carte_4111?=\r\n =?utf-8?Q?1111?=", "Carte 41111111"),
        (b"Subject: =?utf-8?B?TnVtw6lybw", "Numéro"),  # unterminated encoded word
        (b"Subject: =?utf-8?B?TnVtw6lyb?=", "Numér"),  # bad base64 length
        (b"Subject: =?x-unknown?Q?Num=E9ro?=", "Numéro"),  # unknown charset
        (b"Subject: Num\xc3\xa9ro brut", "Numéro brut"),  # raw 8-bit utf-8 (RFC 6532)
        (b"Subject: Num\xe9ro brut", "Numéro brut"),  # raw 8-bit latin-1
        (b"Subject: a folded\r\n subject", "a folded subject"),
        (b"Subject: first\r\nSubject: second", "first\nsecond"),  # both are scanned
    ],
)
def test_subject(header: bytes, subject: str) -> None:
    ex = extract(header + b"\r\n\r\nbody\r\n")
    assert ex.segments[0].location == "subject"
    assert ex.segments[0].kind is SegmentKind.SUBJECT
    assert ex.segments[0].text == subject


def test_no_subject_no_subject_segment() -> None:
    assert [s.location for s in extract(b"From: a@b\r\n\r\nbody").segments] == ["body[1]"]


# --- one text part: transfer encodings and charsets ---------------------------------------------


@pytest.mark.parametrize(
    ("headers", "body", "text", "defects"),
    [
        ("Content-Type: text/plain; charset=utf-8", "Numéro 1".encode(), "Numéro 1", set()),
        (
            "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64",
            b"TnVtw6lybyAx",
            "Numéro 1",
            set(),
        ),
        (
            "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64",
            b"TnVtw6lybyAxMg\r\n",  # padding lost
            "Numéro 12",
            {"InvalidBase64PaddingDefect"},
        ),
        (
            "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: BASE64",
            b"TnVt!w6ly*byAx",
            "Numéro 1",
            {"InvalidBase64CharactersDefect"},
        ),
        (
            "Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable",
            b"Num=E9ro fiscal: 12=\r\n34 =3D ok",
            "Numéro fiscal: 1234 = ok",
            set(),
        ),
        (
            "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base-64",  # misspelt
            b"TnVtw6lybyAx",
            "Numéro 1",
            {"UnknownTransferEncoding"},
        ),
        ("Content-Type: text/plain; charset=utf8", "Numéro".encode(), "Numéro", set()),
        ("Content-Type: text/plain; charset=latin1", "Numéro".encode("latin-1"), "Numéro", set()),
        ("Content-Type: text/plain; charset=windows-1252", b"\x80 5", "€ 5", set()),
        ("Content-Type: text/plain; charset=x-mystery", "Numéro".encode(), "Numéro", {"UnknownCharset"}),
        (
            "Content-Type: text/plain; charset=unknown-8bit",
            "Numéro".encode("cp1252"),
            "Numéro",
            {"UnknownCharset"},
        ),
        ("Content-Type: text/plain; charset=utf-8", "Numéro".encode("cp1252"), "Numéro", {"CharsetFallback"}),
        ("Content-Type: text/plain", "Numéro".encode(), "Numéro", set()),  # no charset: guessed
        ("", "Numéro".encode("cp1252"), "Numéro", set()),  # no Content-Type at all
    ],
)
def test_single_part_decoding(headers: str, body: bytes, text: str, defects: set[str]) -> None:
    ex = extract(_raw("Subject: s\nMIME-Version: 1.0\n" + headers, body))
    assert _texts(ex)["body[1]"].strip() == text
    assert _names(ex) == defects
    assert ex.segments[1].kind is SegmentKind.TEXT


def test_format_flowed_is_unflowed() -> None:
    raw = _raw("Content-Type: text/plain; format=flowed; delsp=yes", b"Card 4111 1111 \r\n1111 1111 \r\n\r\n")
    assert _texts(extract(raw))["body[1]"] == "Card 4111 11111111 1111\n"


def test_nul_in_charset_parameter_is_survived() -> None:
    """get_payload() raises ValueError on this; the text must still come out."""
    raw = _raw('Content-Type: text/plain; charset="utf\x00-8"', "Numéro 4111".encode())
    ex = extract(raw)
    assert _texts(ex)["body[1]"] == "Numéro 4111"
    assert _names(ex) == {"UnknownCharset"}


def test_uuencoded_body() -> None:
    raw = _raw("Content-Transfer-Encoding: x-uuencode", b"begin 644 f.txt\n+2&5L;&\\@=V]R;&0`\n`\nend\n")
    assert _texts(extract(raw))["body[1]"] == "Hello world"


def test_html_body_is_visible_text() -> None:
    html = "<html><head><style>p{}</style></head><body><p>Carte 4111<span>1111</span>&#x31;111</p></body>"
    ex = extract(_raw("Content-Type: text/html; charset=utf-8", html.encode()))
    assert ex.segments[0].location == "body[1]"
    assert ex.segments[0].kind is SegmentKind.HTML
    assert ex.segments[0].text == "Carte 411111111111"


# --- structure and locations ---------------------------------------------------------------------


def _rich_message() -> bytes:
    inner = EmailMessage()
    inner["Subject"] = "Numéro transféré"
    inner.set_content("inner plain")
    inner.add_alternative("<p>inner <b>html</b></p>", subtype="html")

    msg = EmailMessage()
    msg["Subject"] = "outer"
    msg.set_content("plain body")
    msg.add_alternative("<p>html <i>body</i></p>", subtype="html")
    msg.add_attachment(b"name,iban\nA,FR76\n", maintype="text", subtype="csv", filename="data.csv")
    msg.add_attachment(b"\x89PNG\r\n\x1a\n\x00\x00\x00", maintype="image", subtype="png", filename="x.png")
    msg.add_attachment(b"relabelled text", maintype="application", subtype="octet-stream", filename="a.bin")
    msg.add_attachment(inner)
    msg.add_attachment(b"secret", maintype="text", subtype="plain", filename="Numéro fiscal.txt")
    return msg.as_bytes()


def test_locations_kinds_and_filenames() -> None:
    ex = extract(_rich_message())
    got = [
        (s.location, s.kind, s.filename, s.text.strip())
        for s in ex.segments
        if s.kind is not SegmentKind.HEADER
    ]
    names = [(s.location, s.text) for s in ex.segments if s.kind is SegmentKind.HEADER]
    assert names == [
        ("attachment[2:data.csv]/name", "data.csv"),
        ("attachment[3:x.png]/name", "x.png"),
        ("attachment[4:a.bin]/name", "a.bin"),
        ("attachment[6:Numéro fiscal.txt]/name", "Numéro fiscal.txt"),
    ]
    assert got == [
        ("subject", SegmentKind.SUBJECT, None, "outer"),
        ("body[1.1]", SegmentKind.TEXT, None, "plain body"),
        ("body[1.2]", SegmentKind.HTML, None, "html body"),
        ("attachment[2:data.csv]", SegmentKind.ATTACHMENT, "data.csv", "name,iban\nA,FR76"),
        ("attachment[3:x.png]", SegmentKind.ATTACHMENT, "x.png", ""),  # recorded, not read
        ("attachment[4:a.bin]", SegmentKind.ATTACHMENT, "a.bin", "relabelled text"),
        ("attachment[5]/subject", SegmentKind.SUBJECT, None, "Numéro transféré"),
        ("attachment[5]/body[1]", SegmentKind.TEXT, None, "inner plain"),
        ("attachment[5]/body[2]", SegmentKind.HTML, None, "inner html"),
        ("attachment[6:Numéro fiscal.txt]", SegmentKind.ATTACHMENT, "Numéro fiscal.txt", "secret"),
    ]
    assert ex.defects == ()
    assert not ex.truncated


def test_inline_message_rfc822_and_rfc2047_filename() -> None:
    raw = _raw(
        'Subject: fwd\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"',
        b"--b\r\nContent-Type: text/plain\r\n\r\nsee below\r\n"
        b"--b\r\nContent-Type: message/rfc822\r\n\r\n"
        b"Subject: =?utf-8?Q?Num=C3=A9ro?=\r\n\r\ninner body\r\n"
        b'--b\r\nContent-Type: text/plain; name="=?utf-8?B?UmliIMOpdMOpLnR4dA==?="\r\n\r\nrib\r\n'
        b"--b--\r\n",
    )
    texts = _texts(extract(raw))
    assert texts["body[2]/subject"] == "Numéro"
    assert texts["body[2]/body[1]"].strip() == "inner body"
    assert texts["attachment[3:Rib été.txt]"].strip() == "rib"


def test_binary_labelled_part_that_is_binary_is_recorded_only() -> None:
    raw = _raw(
        'Content-Type: multipart/mixed; boundary="b"',
        b"--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment;"
        b' filename="blob.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAwQFBgc=\r\n--b--\r\n',
    )
    assert [(s.location, s.text) for s in extract(raw).segments] == [
        ("attachment[1:blob.bin]/name", "blob.bin"),
        ("attachment[1:blob.bin]", ""),
    ]


def test_attachments_are_read_by_their_bytes() -> None:
    """PDF/DOCX/archives go to scanner.extract.attachments (tests in tests/extract/attachments);
    a damaged one is listed and becomes an unscanned finding, never a silent pass."""
    msg = EmailMessage()
    msg.set_content("see attached")
    msg.add_attachment(b"%PDF-1.7 ...", maintype="application", subtype="octet-stream", filename="r.bin")
    ex = extract(msg.as_bytes())
    assert _texts(ex)["attachment[2:r.bin]"] == ""
    assert [(f.category, f.location) for f in ex.unscanned] == [("UNSCANNED_CORRUPT", "attachment[2:r.bin]")]


def test_delivery_status_fields_are_text() -> None:
    raw = _raw(
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"',
        b"--b\r\n\r\nundeliverable\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.example\r\n\r\nFinal-Recipient: rfc822; a@example.org\r\n"
        b"Diagnostic-Code: smtp; 550 account 4111\r\n--b--\r\n",
    )
    text = _texts(extract(raw))["body[2]"]
    assert "Reporting-MTA: dns; mx.example" in text
    assert "Diagnostic-Code: smtp; 550 account 4111" in text


def test_html_too_deep_is_noted() -> None:
    ex = extract(_raw("Content-Type: text/html", b"<div>" * 2000 + b"4111<b>1111</b>"))
    assert "41111111" in ex.segments[0].text
    assert _names(ex) == {"HtmlFlattened"}


# --- malformed mail: everything recoverable, plus notes --------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected_text", "defect"),
    [
        (  # the declared boundary never appears
            _raw('Content-Type: multipart/mixed; boundary="nope"', b"--other\r\n\r\nthe text 4111\r\n"),
            "the text 4111",
            "StartBoundaryNotFoundDefect",
        ),
        (  # multipart without a boundary parameter
            _raw("Content-Type: multipart/mixed", b"the text 4111\r\n"),
            "the text 4111",
            "NoBoundaryInMultipartDefect",
        ),
        (  # closing boundary missing
            _raw('Content-Type: multipart/mixed; boundary="b"', b"--b\r\n\r\nthe text 4111\r\n"),
            "the text 4111",
            "CloseBoundaryNotFoundDefect",
        ),
        (  # header block never ends with an empty line
            b"Subject: s\r\nthe text 4111 is not a header\r\n",
            "the text 4111",
            "MissingHeaderBodySeparatorDefect",
        ),
    ],
)
def test_malformed_message_still_yields_text(raw: bytes, expected_text: str, defect: str) -> None:
    ex = extract(raw)
    assert any(expected_text in s.text for s in ex.segments)
    assert defect in _names(ex)


def _nested(levels: int) -> bytes:
    """`levels` nested multiparts, a text part at each level saying its depth."""
    out = b"Subject: deep\r\nMIME-Version: 1.0\r\n"
    for i in range(levels):
        out += b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
        out += b"Content-Type: text/plain\r\n\r\nlevel %d\r\n--b%d\r\n" % (i + 1, i)
    out += b"Content-Type: text/plain\r\n\r\nbottom\r\n"
    for i in reversed(range(levels)):
        out += b"--b%d--\r\n" % i
    return out


def test_nesting_bound() -> None:
    ex = extract(_nested(6), max_depth=3)
    texts = [s.text.strip() for s in ex.segments if s.kind is SegmentKind.TEXT]
    assert texts == ["level 1", "level 2", "level 3"]
    assert "NestingTooDeep at body[2.2.2]: nesting deeper than 3, rest not read" in ex.defects
    full = extract(_nested(6))
    assert [s.text.strip() for s in full.segments][-1] == "bottom"
    assert full.segments[-1].location == "body[2.2.2.2.2.2]"
    assert full.defects == ()


def test_nesting_bound_counts_embedded_messages() -> None:
    msg = EmailMessage()
    msg["Subject"] = "level 0"
    msg.set_content("text 0")
    for i in range(1, 5):
        outer = EmailMessage()
        outer["Subject"] = f"level {i}"
        outer.set_content(f"text {i}")
        outer.add_attachment(msg)
        msg = outer
    ex = extract(msg.as_bytes(), max_depth=4)
    subjects = [s.text for s in ex.segments if s.kind is SegmentKind.SUBJECT]
    # each forwarded level is two containers deep (its multipart/mixed and the message/rfc822)
    assert subjects == ["level 4", "level 3", "level 2"]
    bodies = [s.text.strip() for s in ex.segments if s.kind is SegmentKind.TEXT]
    assert bodies == ["text 4", "text 3"]
    assert ex.defects == (
        "NestingTooDeep at attachment[2]/attachment[2]/message: nesting deeper than 4, rest not read",
    )


def test_parser_recursion_limit_is_survived() -> None:
    ex = extract(_nested(3000))
    assert "ParserFailed at message: MIME parser failed (RecursionError), rest not read" in ex.defects
    assert [f.category for f in ex.unscanned] == ["UNSCANNED_UNDECODABLE"]
    assert ex.segments[0].text == "deep"
    assert "bottom" in ex.segments[1].text


def test_text_size_bound() -> None:
    raw = _raw(
        'Content-Type: multipart/mixed; boundary="b"',
        b"--b\r\n\r\n" + b"a" * 600 + b"\r\n--b\r\n\r\n" + b"b" * 600 + b"\r\n--b\r\n\r\nc\r\n--b--\r\n",
    )
    ex = extract(raw, max_text_bytes=1000)
    assert ex.truncated
    assert [s.location for s in ex.segments] == ["body[1]", "body[2]"]
    assert ex.segments[0].text == "a" * 600
    assert len(ex.segments[0].text) + len(ex.segments[1].text) == 1000
    assert ex.defects == ("TextTruncated at body[2]: over 1000 bytes of decoded text, rest not read",)
    assert not extract(raw).truncated


def test_size_bound_cuts_between_characters() -> None:
    ex = extract(_raw("Content-Type: text/plain; charset=utf-8", "é".encode() * 10), max_text_bytes=5)
    assert ex.segments[0].text == "éé"
    assert _names(ex) == {"TextTruncated"}


def test_part_count_bound() -> None:
    parts = b"".join(b"--b\r\n\r\n%d\r\n" % i for i in range(10_050))
    ex = extract(_raw('Content-Type: multipart/mixed; boundary="b"', parts + b"--b--\r\n"))
    assert len(ex.segments) == 10_000
    assert ex.defects == ("TooManyParts at body[10001]: more than 10000 MIME parts, rest not read",)


# --- never raises ----------------------------------------------------------------------------------


def test_garbage_bytes_never_raise() -> None:
    rng = random.Random(20261127)
    base = _rich_message()
    samples = [b"", b"\r\n", b"\x00" * 100, b":" * 1000, b"Subject: =?" * 500, b"--" * 5000]
    samples += [rng.randbytes(rng.randrange(1, 4000)) for _ in range(150)]
    for _ in range(150):  # real structure with random damage: the hard case for a parser
        data = bytearray(base)
        for _ in range(rng.randrange(1, 30)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        samples.append(bytes(data[: rng.randrange(len(data))]))
    for data in samples:
        ex = extract(data)
        assert isinstance(ex, Extraction)
        for segment in ex.segments:  # text every consumer can encode (JSON, logs, spaCy)
            segment.text.encode("utf-8")
            segment.location.encode("utf-8")


# --- the shared corpus ----------------------------------------------------------------------------


CORPUS = corpus_dir()
needs_corpus = pytest.mark.corpus


DKIM_KINDS = ("email", "nofws.expected", "relaxed.expected", "simple.expected")


@needs_corpus
def test_corpus_mime_cases_extract() -> None:
    files = sorted(p for p in (CORPUS / "mime").rglob("*") if p.is_file())
    assert len(files) >= 200
    empty = {p.name for p in files if not any(s.text.strip() for s in extract(p.read_bytes()).segments)}
    # every hard case gives text, except the fixtures that have none: empty DKIM inputs and
    # a headers-only message
    known_empty = {f"{kind}.{n:02d}" for kind in DKIM_KINDS for n in (1, 2, 3)} | {"msg_18.txt"}
    assert empty <= known_empty, empty - known_empty


@needs_corpus
def test_corpus_ham_sample_extracts() -> None:
    files = sorted((CORPUS / "ham").glob("*.eml"))[::10]
    assert files
    for path in files:
        ex = extract(path.read_bytes())
        assert any(s.text.strip() for s in ex.segments), path


@needs_corpus
def test_corpus_pii_bodies_decode() -> None:
    rows = [json.loads(line) for line in (CORPUS / "labels.jsonl").read_text().splitlines() if line]
    greeting = {"pii": "Hello,", "medical": "Bonjour,"}  # how the corpus wraps its samples
    files = [(CORPUS / r["file"], greeting[r["kind"]]) for r in rows if r["kind"] in greeting]
    assert len(files) > 100
    for path, hello in files:
        ex = extract(path.read_bytes())
        bodies = [s for s in ex.segments if s.location.startswith("body[")]
        assert bodies, path
        # base64 and 8bit, plain and HTML alternatives alike decode to the same opening
        assert all(s.text.startswith(hello) for s in bodies), path
        assert "\ufffd" not in "".join(s.text for s in bodies), path
        assert ex.defects == (), path


def test_text_part_with_control_bytes_is_read_and_noted() -> None:
    raw = b"Subject: x\r\nContent-Type: text/plain\r\n\r\nSSN 536\x01-22\x02-8843\r\n"
    result = extract(raw)
    body = next(s for s in result.segments if s.location == "body[1]")
    assert "536\x01-22\x02-8843" in body.text  # read, not skipped: detection drops the controls
    assert any(d.startswith("BinaryContent at body[1]") for d in result.defects)
