"""Fail closed and scan everything a recipient receives: limits become unscanned findings;
headers, file names, the envelope, preamble/epilogue, encoded forwards, uuencode are read."""

from __future__ import annotations

import base64
import quopri

from scanner.extract import extract
from scanner.extract.headers import first_header, masked_name
from scanner.model import Envelope, Group, SegmentKind, Unscanned


def _texts(data: bytes, envelope: Envelope | None = None) -> dict[str, str]:
    return {s.location: s.text for s in extract(data, envelope=envelope).segments}


def test_limits_are_unscanned_findings_with_our_words_only() -> None:
    body = b"SSN 536-22-8843 " * 200
    ex = extract(b"Subject: x\r\n\r\n" + body, max_text_bytes=100)
    assert ex.truncated
    (f,) = ex.unscanned
    assert (f.group, Unscanned.of(f), f.location) == (Group.UNSCANNED, Unscanned.TEXT_LIMIT, "body[1]")
    assert f.masked == "not read: over 100 bytes of decoded text"
    nested = b"Content-Type: message/rfc822\r\n\r\n" * 5 + b"\r\nhidden\r\n"
    assert [Unscanned.of(f) for f in extract(nested, max_depth=2).unscanned] == [Unscanned.NESTING_LIMIT]


def test_header_values_are_decoded_and_located_by_name() -> None:
    raw = (
        b'From: "Jane 536-22-8843" <a@example.com>\r\nX-Note: =?utf-8?Q?card_4111=201111?=\r\n'
        b"Comments: no digits here\r\nSubject: s\r\n\r\nbody"
    )
    texts = _texts(raw)
    assert texts["header:From"] == '"Jane 536-22-8843" <a@example.com>'
    assert texts["header:X-Note"] == "card 4111 1111"
    assert "header:Comments" not in texts  # nothing an identifier could hide in: not a segment
    assert "header:Subject" not in texts  # the subject is its own segment


def test_part_headers_and_rfc2231_parameters() -> None:
    raw = (
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        b"Content-Type: text/plain; x-a*0*=utf-8''card%204111; x-a*1*=%201111\r\n"
        b"Content-Description: ref 536-22-8843\r\n\r\nsee\r\n--b--\r\n"
    )
    texts = _texts(raw)
    assert texts["body[1]/header:Content-Type"] == "x-a=card 4111 1111"
    assert texts["body[1]/header:Content-Description"] == "ref 536-22-8843"


def test_file_names_are_scanned_and_only_masked_in_locations() -> None:
    raw = (
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        b'Content-Type: text/plain; name="SSN 536-22-8843 Jane Roe.txt"\r\n'
        b"Content-Disposition: attachment\r\n\r\nnotes\r\n--b--\r\n"
    )
    ex = extract(raw)
    assert [(s.location, s.text) for s in ex.segments] == [
        ("attachment[1:SSN ***-**-**** Jane Roe.txt]/name", "SSN 536-22-8843 Jane Roe.txt"),
        ("attachment[1:SSN ***-**-**** Jane Roe.txt]", "notes"),
    ]
    assert masked_name("invoice-２０２４.pdf") == "invoice-****.pdf"  # any script's digits


def test_envelope_preamble_epilogue() -> None:
    raw = b'Content-Type: multipart/mixed; boundary="b"\r\n\r\npre 4111\r\n--b\r\n\r\nx\r\n--b--\r\npost 536\r\n'
    env = Envelope("4111111111111111@example.com", ("a@example.org", "ssn-536-22-8843@example.org"))
    texts = _texts(raw, env)
    assert texts["envelope:mail-from"] == "4111111111111111 example.com"
    assert texts["envelope:rcpt[2]"] == "ssn 536-22-8843 example.org"
    assert "envelope:rcpt[1]" not in texts
    assert texts["preamble"] == "pre 4111"
    assert texts["epilogue"].strip() == "post 536"


def test_encoded_forwarded_messages_and_uuencode() -> None:
    inner = b"Subject: fwd\r\n\r\nSSN 536-22-8843\r\n"
    for cte, encoded in (
        ("base64", base64.encodebytes(inner)),
        ("quoted-printable", quopri.encodestring(inner)),
    ):
        raw = (
            b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: message/rfc822\r\n'
            + f"Content-Transfer-Encoding: {cte}\r\n\r\n".encode()
            + encoded
            + b"\r\n--b--\r\n"
        )
        texts = _texts(raw)
        assert texts["body[1]/subject"] == "fwd", cte
        assert texts["body[1]/body[1]"].strip() == "SSN 536-22-8843", cte
    uu = "begin 644 a.txt\n" + "/4U-.(#4S-BTR,BTX.#0S\n" + "`\nend\n"
    texts = _texts(f"Subject: s\r\n\r\nsee\r\n{uu}".encode())
    assert texts["body[1]/uuencode[1]"] == "SSN 536-22-8843"


def test_markup_and_kinds() -> None:
    ex = extract(b"Content-Type: text/html\r\n\r\n<p title='SSN 536-22-8843'>hi</p>")
    kinds = {s.location: s.kind for s in ex.segments}
    assert kinds == {"body[1]": SegmentKind.HTML, "body[1]/markup": SegmentKind.MARKUP}


def test_first_header_is_one_search() -> None:
    data = b"From: a\r\nX-Tenant-ID:  acme\r\n  corp\r\n\r\nX-Tenant-ID: body"
    assert first_header(data, "x-tenant-id") == "acme corp"
    assert first_header(b"From: a\r\n\r\nX-Tenant-ID: body", "X-Tenant-ID") is None


def test_large_single_part_bodies_read_as_the_parser_reads_them(monkeypatch: object) -> None:
    import scanner.extract.parsing as extract_module

    body = (
        b"".join(b"line %d SSN 536-22-%04d\r\n" % (i, i % 10_000) for i in range(60_000)) + b"last\n\nno crlf"
    )
    raw = b"Subject: big\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body
    assert len(raw) > extract_module._SINGLE_PART_BYTES
    fast = extract(raw)
    setattr(extract_module, "_SINGLE_PART_BYTES", 1 << 40)  # noqa: B010 - the plain parse
    try:
        plain = extract(raw)
    finally:
        setattr(extract_module, "_SINGLE_PART_BYTES", 1 << 20)  # noqa: B010
    assert fast == plain


def test_runs_of_blank_lines_cost_nothing_and_hide_nothing() -> None:
    raw = b"Subject: x\r\n\r\n" + b"\r\n" * 200_000 + b"SSN 536-22-8843\r\n"
    ex = extract(raw)
    assert [s.text for s in ex.segments] == ["x", "SSN 536-22-8843\n"]
