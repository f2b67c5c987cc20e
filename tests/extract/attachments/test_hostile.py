"""Hostile and malformed attachments: each ends as an unscanned finding, within the bounds, never
a crash and never a pass. Costs are asserted through the bounds the walk counts, not the clock."""

from __future__ import annotations

import io
import random
import struct
import time
import zipfile
import zlib

import pytest

from scanner.extract.attachments import AttachmentLimits, read_attachment
from scanner.extract.attachments import read_file as walk_file
from scanner.extract.attachments.walk import Walk
from scanner.model import Action, Unscanned
from scanner.policy import Policy
from tests.extract.attachments import samples as s

DEFAULT = AttachmentLimits()


def kinds(data: bytes, limits: AttachmentLimits = DEFAULT) -> set[tuple[Unscanned, str]]:
    got = read_attachment(data, "a", limits=limits)
    assert got is not None
    out = set()
    for f in got.unscanned:
        kind = Unscanned.of(f)
        assert kind is not None
        out.add((kind, f.location))
    return out


def walked(data: bytes, limits: AttachmentLimits) -> Walk:
    walk = Walk(limits, str, time.monotonic())
    walk_file(data, "a", walk, 0, "")
    return walk


def zipcrypto(name: str, plain: bytes, password: bytes) -> bytes:
    """A ZIP member encrypted the traditional PKWARE way (APPNOTE 6.1), as `zip -P` writes it."""
    keys = [0x12345678, 0x23456789, 0x34567890]

    def crc(c: int, b: int) -> int:
        return zlib.crc32(bytes([b]), c ^ 0xFFFFFFFF) ^ 0xFFFFFFFF

    def update(b: int) -> None:
        keys[0] = crc(keys[0], b)
        keys[1] = ((keys[1] + (keys[0] & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
        keys[2] = crc(keys[2], keys[1] >> 24)

    for b in password:
        update(b)
    check = zlib.crc32(plain)
    out = bytearray()
    for b in bytes(11) + bytes([check >> 24]) + plain:
        k = keys[2] | 2
        out.append(b ^ (((k * (k ^ 1)) >> 8) & 0xFF))
        update(b)
    nm = name.encode()
    local = struct.pack(
        "<4sHHHHHIIIHH", b"PK\x03\x04", 20, 1, 0, 0, 0, check, len(out), len(plain), len(nm), 0
    )
    central = struct.pack(
        "<4sHHHHHHIIIHHHHHII",
        b"PK\x01\x02",
        20,
        20,
        1,
        0,
        0,
        0,
        check,
        len(out),
        len(plain),
        len(nm),
        0,
        0,
        0,
        0,
        0,
        0,
    )
    body = local + nm + bytes(out)
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 1, 1, len(central) + len(nm), len(body), 0)
    return body + central + nm + end


def test_encrypted_zip_member() -> None:
    data = zipcrypto("payroll.csv", s.csv(s.SSN), b"secret")
    with zipfile.ZipFile(
        io.BytesIO(data)
    ) as zf:  # a real encrypted archive: the stdlib reads it with the password
        assert zf.read("payroll.csv", pwd=b"secret") == s.csv(s.SSN)
    assert (Unscanned.ENCRYPTED, "a/payroll.csv") in kinds(data)


def test_encrypted_pdf() -> None:
    assert kinds(s.pdf_reportlab([s.lines(s.SSN)], password="x")) == {(Unscanned.ENCRYPTED, "a")}


def test_encrypted_office_document() -> None:
    """An OOXML file saved with a password is an OLE2 file holding an EncryptedPackage stream."""
    ole = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500) + "EncryptedPackage".encode("utf-16-le") + bytes(500)
    )
    assert kinds(ole) == {(Unscanned.ENCRYPTED, "a")}


def test_truncated_pdf() -> None:
    data = s.pdf_reportlab([s.lines(s.SSN)] * 3)
    for cut in (len(data) // 3, len(data) // 2, len(data) - 40):
        found = kinds(data[:cut])
        assert found and all(kind is Unscanned.CORRUPT for kind, _ in found), found


RECURSIVE_PDF = b"""%PDF-1.4
1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj
2 0 obj << /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >> endobj
3 0 obj << /Type /Page /Parent 2 0 R /Contents 4 0 R /Resources << /XObject << /X 5 0 R >> >> >> endobj
4 0 obj << /Length 5 >> stream
/X Do
endstream endobj
5 0 obj << /Type /XObject /Subtype /Form /BBox [0 0 1 1] /Resources << /XObject << /X 5 0 R >> >> /Length 5 >> stream
/X Do
endstream endobj
trailer << /Root 1 0 R /Size 6 >>
%%EOF
"""


def test_pdf_with_a_recursive_object_graph() -> None:
    assert kinds(RECURSIVE_PDF) == {(Unscanned.CORRUPT, "a")}


def test_zip_bomb_stops_at_the_ratio() -> None:
    bomb = s.zip_of({"zeros.csv": bytes(20 * 1024 * 1024)})
    assert len(bomb) < 100_000
    walk = walked(bomb, AttachmentLimits())
    assert (Unscanned.SIZE_LIMIT.category, "a/zeros.csv") in {
        (f.category, f.location) for f in walk.unscanned.values()
    }
    # stopped once past 200 x its compressed size (one read chunk more at most), not after 20 MiB
    with zipfile.ZipFile(io.BytesIO(bomb)) as zf:
        compressed = zf.getinfo("zeros.csv").compress_size
    assert walk.total_bytes <= compressed * 200 + 256 * 1024 < 20 * 1024 * 1024


def test_nested_bomb_like_42_zip_stops_at_depth_and_total() -> None:
    layer = s.zip_of({"0.bin": bytes(900_000)})
    for level in range(6):
        layer = s.zip_of({f"{level}-{i}.zip": layer for i in range(8)})
    limits = AttachmentLimits(max_total_bytes=20 * 1024 * 1024, max_members=10_000)
    walk = walked(layer, limits)
    found = {Unscanned.of(f) for f in walk.unscanned.values()}
    assert found & {Unscanned.NESTING_LIMIT, Unscanned.SIZE_LIMIT}
    assert walk.total_bytes <= limits.max_total_bytes + 256 * 1024 + 1_000_000


def test_billion_laughs_docx_is_refused_without_expanding() -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(
            f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
            for i in range(1, 10)
        )
        + b']><w:document xmlns:w="w"><w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>'
    )
    good = s.docx(["x"])
    with zipfile.ZipFile(io.BytesIO(good)) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    members["word/document.xml"] = laughs
    walk = walked(s.zip_of(members), AttachmentLimits())
    assert {(Unscanned.of(f), f.location) for f in walk.unscanned.values()} == {(Unscanned.CORRUPT, "a")}
    assert sum(len(seg.text) for seg in walk.segments) < 1000  # nothing was expanded


def test_external_entity_is_refused() -> None:
    xxe = b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>'
    members = {"[Content_Types].xml": b"<Types/>", "word/document.xml": xxe}
    assert kinds(s.zip_of(members)) == {(Unscanned.CORRUPT, "a")}


def test_path_traversal_names_are_reported_and_their_content_still_read() -> None:
    data = s.zip_of({"../../etc/cron.d/x.csv": s.csv(s.SSN), "/abs.txt": b"hi"})
    got = read_attachment(data, "a")
    assert got is not None
    assert {(Unscanned.of(f), f.location) for f in got.unscanned} == {(Unscanned.CORRUPT, "a")}
    assert any(s.SSN in seg.text for seg in got.segments)


@pytest.mark.parametrize(
    ("data", "limits", "expected"),
    [
        (s.pdf_reportlab([["p"]] * 5), AttachmentLimits(max_pages=3), (Unscanned.PART_LIMIT, "a/page[4]")),
        (s.zip_of({f"{i}.txt": b"x" for i in range(20)}), AttachmentLimits(max_members=5), (Unscanned.PART_LIMIT, "a")),
        (s.xlsx({"S": [[str(i)] for i in range(50)]}), AttachmentLimits(max_rows=10), (Unscanned.PART_LIMIT, "a")),
        (s.zip_of({"b.zip": s.zip_of({"c.zip": s.zip_of({"d.csv": b"x"})})}), AttachmentLimits(max_depth=2),
         (Unscanned.NESTING_LIMIT, "a/b.zip/c.zip")),
        (s.CARRIERS["pdf"](s.SSN, "SSN"), AttachmentLimits(max_bytes=100), (Unscanned.SIZE_LIMIT, "a")),
        (s.zip_of({"a.csv": s.csv(s.SSN) * 200}), AttachmentLimits(max_total_bytes=1000), (Unscanned.SIZE_LIMIT, "a")),
        (s.CARRIERS["docx"](s.SSN, "SSN"), AttachmentLimits(timeout=-1), (Unscanned.BUDGET, "a")),
    ],
    ids=["pages", "members", "rows", "depth", "bytes", "total-bytes", "time"],
)  # fmt: skip
def test_each_bound_is_an_unscanned_finding(
    data: bytes, limits: AttachmentLimits, expected: tuple[Unscanned, str]
) -> None:
    assert expected in kinds(data, limits)


def test_images_and_image_only_pdfs_are_listed() -> None:
    assert kinds(s.png()) == {(Unscanned.IMAGE, "a")}
    assert kinds(s.pdf_image_only()) == {(Unscanned.IMAGE, "a/page[1]")}
    # ... and the default policy lets images pass while everything else unread is held
    policy = Policy.default()
    got = read_attachment(s.pdf_image_only(), "a")
    assert got is not None and {policy.action_for(f) for f in got.unscanned} == {Action.PASS}
    got = read_attachment(s.pdf_reportlab([["x"]], password="x"), "a")
    assert got is not None and {policy.action_for(f) for f in got.unscanned} == {Action.HOLD}


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"7z\xbc\xaf\x27\x1c" + bytes(100), Unscanned.UNSUPPORTED),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100) + "WordDocument".encode("utf-16-le"),
            Unscanned.UNSUPPORTED,
        ),
        (b"PK\x03\x04" + bytes(100), Unscanned.CORRUPT),
        (s.zip_of({"[Content_Types].xml": b"<Types/>", "xl/workbook.bin": bytes(50)}), Unscanned.UNSUPPORTED),
        (b"\x1f\x8b\x08\x00" + bytes(30), Unscanned.CORRUPT),
    ],
    ids=["7z", "legacy-doc", "broken-zip", "xlsb", "broken-gzip"],
)
def test_containers_we_cannot_open(data: bytes, kind: Unscanned) -> None:
    assert {k for k, _ in kinds(data)} == {kind}


@pytest.mark.parametrize("carrier", sorted(s.CARRIERS))
def test_damaged_files_never_raise(carrier: str) -> None:
    """Random byte damage in every format: text or an unscanned finding, never an exception."""
    good = s.CARRIERS[carrier](s.SSN, "SSN")
    rng = random.Random(carrier)
    for _ in range(15):
        bad = bytearray(good)
        for _ in range(rng.randint(1, 20)):
            bad[rng.randrange(8, len(bad))] = rng.randrange(256)
        got = read_attachment(bytes(bad), "a", limits=AttachmentLimits(timeout=5))
        assert got is None or got.segments or got.unscanned
