"""Attachments: the text inside PDF, Office documents, spreadsheets and archives, and where it is.

Pure and synchronous, like the rest of `scanner.extract`, and run in the worker processes.
`read_attachment` is called by the MIME reader with a part's decoded bytes; it decides the
format from the bytes (`sniff`: magic numbers, then a ZIP's members or an OLE2 directory), never
from the declared type or the file name alone, and returns

* `segments`: text with locations a customer can follow to the place (``attachment[3:a.pdf]/page[2]``,
  ``attachment[2:export.zip]/payroll.csv``, ``attachment[4:pay.xlsx]/sheet[Juin]!C12``);
* `unscanned`: an `Unscanned` finding for each thing that was not read — a bound reached
  (`AttachmentLimits`), a password, a damaged or unsupported file, an image — so the policy
  decides; nothing unread is ever silently a pass;
* `messages`: mail found inside (a ``.eml`` in an archive, or sent as application/octet-stream),
  handed back to the MIME reader, which reads it like a message/rfc822 part.

It never raises: a reader that fails turns into `Unscanned.CORRUPT` at the file it was reading.
Member and sheet names reach a location only through the caller's `label` function, the one
`scanner.extract` uses for attachment file names.
"""

from __future__ import annotations

import functools
import importlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from scanner.extract.attachments.sniff import Format, sniff
from scanner.extract.attachments.walk import AttachmentLimits, Stop, Walk
from scanner.extract.html import html_to_text
from scanner.extract.mime import decode_text
from scanner.model import Finding, Segment, Unscanned

__all__ = ["AttachmentLimits", "AttachmentText", "Format", "read_attachment", "sniff"]

Reader = Callable[[bytes, str, Walk, int, Callable[[bytes, str, Walk, int, str], None]], None]
# format → "module:function", imported on first use: PDFium, xlrd and defusedxml load only in a
# process that meets such a file (a worker's start-up, and the proxy's, stay as fast as before)
_READERS: Mapping[Format, str] = {
    Format.PDF: "pdf:read_pdf",
    Format.DOCX: "ooxml:read_docx",
    Format.XLSX: "ooxml:read_xlsx",
    Format.PPTX: "ooxml:read_pptx",
    Format.ODT: "odf:read_odt",
    Format.ODS: "odf:read_ods",
    Format.ODP: "odf:read_odp",
    Format.OLE: "legacy:read_ole",
    Format.RTF: "rtf:read_rtf",
    Format.ZIP: "archive:read_zip",
    Format.GZIP: "archive:read_gzip",
    Format.TAR: "archive:read_tar",
}
# containers of other files: their depth is bounded by `AttachmentLimits.max_depth`
_CONTAINERS = frozenset({Format.ZIP, Format.GZIP, Format.TAR})
_SNIFF_BYTES = 8192
_HTML_SUFFIXES = (".htm", ".html", ".xhtml")


@dataclass(frozen=True, slots=True)
class AttachmentText:
    """What one attachment holds (see the module doc)."""

    segments: tuple[Segment, ...]
    unscanned: tuple[Finding, ...]
    messages: tuple[tuple[str, bytes], ...] = ()


def read_attachment(
    data: bytes,
    where: str,
    *,
    declared: str = "",
    name: str | None = None,
    limits: AttachmentLimits = AttachmentLimits(),  # noqa: B008 - frozen, shared safely
    label: Callable[[str], str] = str,
) -> AttachmentText | None:
    """The text of an attachment whose bytes are a format we know; None for anything else
    (plain text, unknown binary), which the MIME reader handles as before. Never raises."""
    fmt = sniff(data, declared, name)
    if fmt is None:
        return None
    walk = Walk(limits, label, time.monotonic())
    read_file(data, where, walk, 0, name or "", fmt)
    return AttachmentText(tuple(walk.segments), tuple(walk.unscanned.values()), tuple(walk.messages))


def read_file(data: bytes, where: str, walk: Walk, depth: int, name: str, fmt: Format | None = None) -> None:
    """Read one file of the tree (the attachment, or anything inside it) into `walk`."""
    if walk.stopped:
        return
    limits = walk.limits
    try:
        if len(data) > limits.max_bytes:
            raise Stop(Unscanned.SIZE_LIMIT, f"not read: over {limits.max_bytes} bytes")
        fmt = fmt or sniff(data, "", name)
        if fmt is None:
            if depth:
                _read_plain(data, where, walk, name)
        elif fmt is Format.IMAGE:
            walk.unread(Unscanned.IMAGE, where, "image: not read (no OCR)")
        elif fmt is Format.MESSAGE:
            walk.messages.append((where, data))
        elif fmt is Format.OTHER_ARCHIVE:
            raise Stop(Unscanned.UNSUPPORTED, "not read: archive format not supported (7z, rar, bz2, xz...)")
        elif fmt in _CONTAINERS and depth >= limits.max_depth:
            raise Stop(Unscanned.NESTING_LIMIT, f"not read: archives nested deeper than {limits.max_depth}")
        else:
            _reader(fmt)(data, where, walk, depth, read_file)
    except Stop as stop:
        if not (stop.whole and walk.stopped):
            walk.unread(stop.kind, where, stop.why)
        walk.stopped = walk.stopped or stop.whole
    except (RecursionError, MemoryError):
        walk.unread(Unscanned.CORRUPT, where, "not read: file too complex to parse")
    except Exception:  # a library's error on a damaged file: never a crash, never a pass
        walk.unread(Unscanned.CORRUPT, where, "not read: damaged or unreadable file")


@functools.cache
def _reader(fmt: Format) -> Reader:
    module, _, name = _READERS[fmt].partition(":")
    reader: Reader = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    return reader


def _read_plain(data: bytes, where: str, walk: Walk, name: str) -> None:
    """A file inside an archive that is no format of ours: read as text when it is text."""
    if not _looks_like_text(data):
        return
    text = decode_text(data, None)
    if name.lower().endswith(_HTML_SUFFIXES):
        text = html_to_text(text).text
    walk.text(where, text)


def _looks_like_text(data: bytes) -> bool:
    sample = data[:_SNIFF_BYTES]
    if sample.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")):
        return True
    return (
        bool(sample)
        and not any(b < 9 or (13 < b < 32 and b != 27) for b in sample[:512])
        and b"\x00" not in sample
    )
