"""What a file is, from its bytes: the declared type and the file name are the sender's to choose.

Magic numbers first (PDF, ZIP, OLE2 compound file, RTF, gzip, tar, images); a ZIP is then told
apart by its members (OOXML by its main part, ODF by its ``mimetype`` member), an OLE2 file by
its directory (legacy Excel, an encrypted OOXML package, anything else). Mail (``.eml``) has no
magic number: it is recognised by a header block, the name or the declared type.
"""

from __future__ import annotations

import enum
import io
import re
import zipfile


class Format(enum.StrEnum):
    PDF = "pdf"
    DOCX = "docx"
    XLSX = "xlsx"
    PPTX = "pptx"
    ODT = "odt"
    ODS = "ods"
    ODP = "odp"
    ZIP = "zip"
    OLE = "ole"  # OLE2 compound file: XLS, an encrypted OOXML, a legacy .doc/.ppt...
    RTF = "rtf"
    GZIP = "gzip"
    TAR = "tar"
    MESSAGE = "message"
    IMAGE = "image"
    OTHER_ARCHIVE = "other_archive"  # 7z, rar, bzip2, xz, zstd: containers we do not open


_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_IMAGE_MAGIC = (
    b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*", b"BM",
    b"\x00\x00\x01\x00",
)  # fmt: skip
_OTHER_ARCHIVE_MAGIC = (b"7z\xbc\xaf\x27\x1c", b"Rar!\x1a\x07", b"BZh", b"\xfd7zXZ\x00", b"\x28\xb5\x2f\xfd")
_ODF_TYPES = {
    b"application/vnd.oasis.opendocument.text": Format.ODT,
    b"application/vnd.oasis.opendocument.text-template": Format.ODT,
    b"application/vnd.oasis.opendocument.spreadsheet": Format.ODS,
    b"application/vnd.oasis.opendocument.spreadsheet-template": Format.ODS,
    b"application/vnd.oasis.opendocument.presentation": Format.ODP,
}
_OOXML_MAIN = (
    ("word/document.xml", Format.DOCX),
    ("xl/workbook.xml", Format.XLSX),
    ("ppt/presentation.xml", Format.PPTX),
)
# RFC 5322 header fields that open a stored message (the first line of a .eml file)
_MAIL_HEAD = re.compile(
    rb"(?:From [^\r\n]*\r?\n)?(?:(?:Return-Path|Received|From|To|Date|Subject|Message-ID|MIME-Version|"
    rb"Delivered-To|X-[\w-]+|Reply-To|Sender|DKIM-Signature|Content-Type):[ \t][^\r\n]*\r?\n)",
    re.IGNORECASE,
)
_MAIL_TYPES = frozenset({"message/rfc822", "message/global"})


def sniff(data: bytes, declared: str = "", name: str | None = None) -> Format | None:
    """The format of `data`, or None for anything that is not a container we know (plain text,
    unknown binary). `declared` and `name` only decide for mail, which has no magic number."""
    head = data[:1024]
    if b"%PDF-" in head:  # readers accept junk before the header (ISO 32000-1 §7.5.2 in practice)
        return Format.PDF
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_kind(data)
    if data.startswith(_OLE_MAGIC):
        return Format.OLE
    if data.startswith(b"{\\rtf"):
        return Format.RTF
    if data.startswith(b"\x1f\x8b"):
        return Format.GZIP
    if data[257:262] == b"ustar":  # POSIX/GNU tar (POSIX.1-1988 header magic at offset 257)
        return Format.TAR
    if data.startswith(_IMAGE_MAGIC) or (data.startswith(b"RIFF") and data[8:12] == b"WEBP"):
        return Format.IMAGE
    if data.startswith(_OTHER_ARCHIVE_MAGIC):
        return Format.OTHER_ARCHIVE
    if _looks_like_mail(data, declared, name):
        return Format.MESSAGE
    return None


def _zip_kind(data: bytes) -> Format:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
            if "mimetype" in names:
                info = zf.getinfo("mimetype")
                if info.file_size <= 200 and not info.flag_bits & 1:
                    kind = _ODF_TYPES.get(zf.read(info).strip())
                    if kind is not None:
                        return kind
            if "[Content_Types].xml" in names:
                for main, kind in _OOXML_MAIN:
                    if main in names:
                        return kind
    except Exception:  # a broken zip: the ZIP reader reports it
        return Format.ZIP
    return Format.ZIP


def _looks_like_mail(data: bytes, declared: str, name: str | None) -> bool:
    head = data[:4096]
    if not head or b"\x00" in head:
        return False
    if declared in _MAIL_TYPES or (name or "").lower().endswith(".eml"):
        return b":" in head.split(b"\n", 1)[0]
    # two header fields in a row at the very start, one of them a From/Date/Subject/Received
    first = _MAIL_HEAD.match(head)
    return first is not None and _MAIL_HEAD.match(head, first.end()) is not None
