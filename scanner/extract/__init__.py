"""MIME extraction: message bytes → every piece of text a recipient can read, and where it was.

Pure and synchronous: bytes in, an `Extraction` out, no I/O, no logging, and it never raises on
any input bytes — whatever is wrong with a message becomes a defect note and everything
recoverable is still returned.

Parsing is the stdlib's (``email.parser.BytesParser`` with ``policy=compat32``). compat32 was
chosen because it recovers the most from broken mail: it keeps header values as raw strings
(the structured header parsers of ``policy.default`` have raised on malformed headers in several
CPython releases) and records every MIME defect on the part where it was found. Subjects and
encoded-word file names are decoded by `mime_decode` instead.

Locations (`Segment.location`) follow IMAP part numbering (RFC 3501 §6.4.5), 1-based, over the
MIME tree:

* ``subject`` — the Subject header (all of them, one per line, if a message has several);
* ``body[1]`` — the body of a single-part message; in a multipart message the children are
  ``body[1]``, ``body[2]``..., and a multipart nested at 2 has ``body[2.1]``, ``body[2.2]``...;
* ``attachment[<path>:<filename>]`` — a part with a file name or ``Content-Disposition:
  attachment`` (``attachment[<path>]`` when it has no name); `Segment.filename` is set;
* an embedded message (``message/rfc822`` and other ``message/*``) at ``body[2]`` restarts the
  numbering under that prefix: ``body[2]/subject``, ``body[2]/body[1]``, ``body[2]/body[1.2]``.

Defect notes read ``<Name> at <location>`` with an optional ``: <detail>``, where Name is the
stdlib defect class (``StartBoundaryNotFoundDefect``, ``InvalidBase64PaddingDefect``...) or one
of ours (``UnknownCharset``, ``CharsetFallback``, ``NestingTooDeep``, ``TextTruncated``,
``HtmlFlattened``, ``ParserFailed``...). Notes never quote message content; the only sender-chosen
text they carry is a charset label or a file name (sanitised and shortened).

What is read:

* text/* parts (text/html through `html_text.html_to_text`, everything else as plain text),
  inline or attached; message/* parts are recursed into;
* other parts declared binary but obviously text (application/octet-stream, JSON, XML, CSV
  sent as ``application/vnd.ms-excel``, a ``.txt``/``.csv`` file name...) when their bytes
  look like text — relabelling a CSV must not be a way around the scanner;
* PDF, Office documents, spreadsheets, archives and images, recognised by their bytes, are read
  by `scanner.extract.attachments` (``attachment[3:a.pdf]/page[2]``...), what cannot be read
  becoming an `Unscanned` finding; other binary attachments are **recorded** as an
  ``attachment[...]`` segment with empty text so a report can name them.
"""

from __future__ import annotations

import binascii
import email.policy
import re
from email.message import Message
from email.parser import BytesParser

from scanner.extract.attachments import AttachmentLimits, read_attachment
from scanner.extract.headers import envelope_texts, header_texts, masked_name
from scanner.extract.html import html_to_text
from scanner.extract.mime import (
    b64decode_tolerant,
    decode_header_value,
    decode_text,
    raw_header,
    raw_payload,
    transfer_decode,
    unflow,
    unfold_8bit,
    uudecode_blocks,
)
from scanner.extract.parsing import fewer_blank_lines, parse
from scanner.extract.reader import Reader
from scanner.model import Envelope, Extraction, Segment, SegmentKind, Unscanned

__all__ = ["extract"]

_TEXTLIKE_TYPES = frozenset(
    {
        "application/octet-stream", "application/json", "application/xml", "application/csv",
        "application/x-csv", "application/vnd.ms-excel", "application/rtf", "application/x-rtf",
        "application/javascript", "application/x-yaml", "application/yaml", "application/ld+json",
        "application/x-sh", "application/sql", "application/x-sql", "application/mbox",
    }
)  # fmt: skip
_TEXTLIKE_SUFFIXES = (
    ".txt", ".csv", ".tsv", ".json", ".xml", ".htm", ".html", ".md", ".log", ".eml", ".yaml",
    ".yml", ".ini", ".cfg", ".sql", ".vcf", ".ics", ".rtf", ".tab", ".dat", ".text",
)  # fmt: skip
_SNIFF_BYTES = 8192
_BINARY_CONTROL = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f]")
_FILENAME_JUNK = re.compile(r"[\x00-\x1f\x7f]+")
# Parts read per message. The stdlib parser costs ~25 µs a part and our walk as much again: a
# few MB of "--b\r\n\r\nx" repeated must not keep a worker busy for seconds.
_MAX_PARTS = 10_000
_MAX_FILENAME = 200


def extract(
    data: bytes,
    *,
    max_depth: int = 10,
    max_text_bytes: int = 4 * 1024 * 1024,
    envelope: Envelope | None = None,
    attachments: AttachmentLimits = AttachmentLimits(),  # noqa: B008 - frozen, shared safely
) -> Extraction:
    """Every readable text of a message (see module doc), with defect notes; never raises.

    Pure and synchronous. `max_depth` bounds multipart/message nesting (parts below it are not
    read: a ``NestingTooDeep`` note and an unscanned finding say so); `max_text_bytes` bounds the
    total of transfer-decoded text read (beyond it ``truncated`` is set, with a ``TextTruncated``
    note and an unscanned finding). `envelope`, when given, is read first (its addresses).
    `attachments` bounds the reading of PDF, Office files and archives (`scanner.extract.attachments`).
    """
    reader = Reader(max(0, max_depth), max(0, max_text_bytes), attachments)
    if envelope is not None:
        for where, text in envelope_texts(envelope):
            reader.add_text(where, text, SegmentKind.HEADER)
    raw = fewer_blank_lines(bytes(data))
    try:
        msg = parse(raw)
    except Exception as exc:  # RecursionError on ~1000-deep multiparts, or a parser bug
        reader.unread(
            Unscanned.UNDECODABLE, "ParserFailed", "message", f"MIME parser failed ({type(exc).__name__})"
        )
        _read_unparsed(raw, reader)
        return reader.result()
    try:
        _read_message(msg, "", 0, reader)
    except Exception as exc:  # a bug of ours must not lose the segments already read
        reader.unread(
            Unscanned.UNDECODABLE, "ExtractionFailed", "message", f"extraction failed ({type(exc).__name__})"
        )
    return reader.result()


def _read_unparsed(raw: bytes, reader: Reader) -> None:
    """Last resort: the Subject from the header block, and the whole body read as one text."""
    sep = raw.find(b"\r\n\r\n")
    head, body = (raw[:sep], raw[sep + 4 :]) if sep >= 0 else (b"", raw)
    try:
        headers = BytesParser(policy=email.policy.compat32).parsebytes(head, headersonly=True)
        _read_subject(headers, "", reader)
    except Exception:  # pragma: no cover - the header parser is not recursive
        body = raw
    chunk = reader.take(body, "body[1]")
    if chunk is not None:
        text = decode_text(chunk, None, reader.noter("body[1]"), final=not reader.truncated)
        reader.segments.append(Segment("body[1]", text, SegmentKind.TEXT))


def _read_subject(msg: Message, prefix: str, reader: Reader) -> None:
    values = [str(v) for k, v in msg.raw_items() if k.lower() == "subject"]
    if values:
        text = "\n".join(decode_header_value(v) for v in values)
        reader.add_text(prefix + "subject", text, SegmentKind.SUBJECT)


def _read_headers(part: Message, where: str, reader: Reader, skip_params: bool = False) -> None:
    for field, text in header_texts(part, skip_params):
        reader.add_text(f"{where}{field}", text, SegmentKind.HEADER)


def _read_message(msg: Message, prefix: str, depth: int, reader: Reader) -> None:
    _read_subject(msg, prefix, reader)
    _read_headers(msg, prefix, reader)
    _note_defects(msg, prefix + "message", reader)
    if msg.get_content_maintype() == "multipart" and isinstance(raw_payload(msg), list):
        _read_children(msg, (), prefix + "message", prefix, depth, reader)
    else:
        _read_part(msg, (1,), prefix, depth, reader, root=True)


def _read_children(
    part: Message, path: tuple[int, ...], where: str, prefix: str, depth: int, reader: Reader
) -> None:
    if depth >= reader.max_depth:
        _too_deep(where, reader)
        return
    # RFC 2046 §5.1.1: a client may show the preamble and epilogue; senders can hide text there
    base = prefix if not path else f"{where}/"
    for name in ("preamble", "epilogue"):
        text = getattr(part, name, None)
        if isinstance(text, str) and text.strip():
            reader.add_text(
                f"{base}{name}", unfold_8bit(text) if not text.isascii() else text, SegmentKind.TEXT
            )
    payload = raw_payload(part)
    for i, child in enumerate(payload if isinstance(payload, list) else (), 1):
        if isinstance(child, Message):
            _read_part(child, (*path, i), prefix, depth + 1, reader)


def _too_deep(where: str, reader: Reader) -> None:
    reader.unread(Unscanned.NESTING_LIMIT, "NestingTooDeep", where, f"nesting deeper than {reader.max_depth}")


def _read_part(
    part: Message, path: tuple[int, ...], prefix: str, depth: int, reader: Reader, root: bool = False
) -> None:
    where = f"{prefix}body[{'.'.join(map(str, path))}]"
    reader.parts += 1
    if reader.parts > _MAX_PARTS:
        if reader.parts == _MAX_PARTS + 1:
            reader.unread(Unscanned.PART_LIMIT, "TooManyParts", where, f"more than {_MAX_PARTS} MIME parts")
        return
    try:
        filename = _filename(part)
        attached = filename is not None or part.get_content_disposition() == "attachment"
        if attached:
            # the name is sender text: scanned as its own segment, shown in locations masked
            dotted = ".".join(map(str, path))
            where = (
                f"{prefix}attachment[{dotted}:{masked_name(filename)}]"
                if filename
                else f"{prefix}attachment[{dotted}]"
            )
            if filename:
                reader.add_text(f"{where}/name", filename, SegmentKind.HEADER)
        if not root:
            _note_defects(part, where, reader)
            _read_headers(part, f"{where}/", reader)
        _read_content(part, path, where, attached, filename, prefix, depth, reader)
    except Exception as exc:  # one broken part must not lose the others
        reader.unread(
            Unscanned.UNDECODABLE, "PartFailed", where, f"the part could not be read ({type(exc).__name__})"
        )


def _read_content(
    part: Message,
    path: tuple[int, ...],
    where: str,
    attached: bool,
    filename: str | None,
    prefix: str,
    depth: int,
    reader: Reader,
) -> None:
    ctype = part.get_content_type()
    maintype = ctype.split("/")[0]  # what get_content_maintype() returns, without a second lookup
    kind = SegmentKind.ATTACHMENT if attached else SegmentKind.TEXT
    if isinstance(raw_payload(part), list):
        if maintype == "message":
            _read_embedded(part, where, depth, reader)
        else:  # multipart (or anything else the parser split into parts)
            _read_children(part, path, where, prefix, depth, reader)
    elif (attached or maintype not in ("text", "multipart", "message")) and _read_attachment(
        part, where, ctype, filename, depth, reader
    ):
        pass  # a PDF, Office document, archive, image or mail file, found by its bytes
    elif maintype in ("text", "multipart", "message"):
        # A multipart or message whose payload stayed a string: the parser found no structure
        # (missing boundary...), so its text is read as it stands rather than lost.
        data = transfer_decode(part, reader.noter(where))
        if attached and "/" not in (raw_header(part, "content-type") or "") and not _looks_like_text(data):
            # No valid Content-Type (compat32 then says text/plain): a binary file, not text.
            reader.segments.append(Segment(where, "", SegmentKind.ATTACHMENT, filename))
            return
        _read_text(part, data, where, ctype == "text/html", kind, filename, reader)
    elif _maybe_text(ctype, filename) and _looks_like_text(
        data := transfer_decode(part, reader.noter(where))
    ):
        html = filename is not None and filename.lower().endswith((".htm", ".html"))
        _read_text(part, data, where, html, kind, filename, reader)
    elif attached:
        reader.segments.append(Segment(where, "", SegmentKind.ATTACHMENT, filename))  # recorded, not read


def _read_attachment(
    part: Message, where: str, ctype: str, filename: str | None, depth: int, reader: Reader
) -> bool:
    """Read a part whose bytes are a format `scanner.extract.attachments` knows; False if not one."""
    data = transfer_decode(part, reader.noter(where))
    found = read_attachment(
        data, where, declared=ctype, name=filename, limits=reader.attachments, label=_member_name
    )
    if found is None:
        return False
    reader.segments.append(Segment(where, "", SegmentKind.ATTACHMENT, filename))  # listed, as any attachment
    for segment in found.segments:
        reader.add_text(segment.location, segment.text, SegmentKind.ATTACHMENT, filename)
    for finding in found.unscanned:
        reader.add_unscanned(finding)
    for at, message in found.messages:  # a .eml file: read like a message/rfc822 part
        if depth >= reader.max_depth:
            reader.unread(
                Unscanned.NESTING_LIMIT, "NestingTooDeep", at, f"nesting deeper than {reader.max_depth}"
            )
            continue
        _read_message(
            BytesParser(policy=email.policy.compat32).parsebytes(message), at + "/", depth + 1, reader
        )
    return True


def _read_embedded(part: Message, where: str, depth: int, reader: Reader) -> None:
    if depth >= reader.max_depth:
        _too_deep(where, reader)
        return
    stored = raw_payload(part)
    payload = [m for m in stored if isinstance(m, Message)] if isinstance(stored, list) else []
    cte = (raw_header(part, "content-transfer-encoding") or "").strip().lower()
    if payload and ("64" in cte or "quoted" in cte):
        # RFC 2046 §5.2.1 forbids it, clients decode it anyway: the parser read the still
        # encoded text as a message; decode the text it saw and parse that instead
        payload = [_reparse(payload[0], "64" in cte)]
    if part.get_content_type() == "message/delivery-status":
        # RFC 3464 §2: not a message but a list of header blocks (per message, per recipient).
        blocks = ("\n".join(f"{k}: {decode_header_value(str(v))}" for k, v in b.raw_items()) for b in payload)
        reader.add_text(where, "\n\n".join(blocks), SegmentKind.TEXT)
        return
    for embedded in payload:
        _read_message(embedded, where + "/", depth + 1, reader)


def _reparse(garbled: Message, base64: bool) -> Message:
    lines = [f"{k}: {v}" for k, v in garbled.raw_items()]
    body = raw_payload(garbled)
    text = "\n".join(lines) + ("\n" if lines else "") + (body if isinstance(body, str) else "")
    encoded = text.encode("utf-8", "surrogateescape")
    decoded = b64decode_tolerant(encoded) if base64 else binascii.a2b_qp(encoded)
    return BytesParser(policy=email.policy.compat32).parsebytes(decoded)


def _read_text(
    part: Message,
    data: bytes,
    where: str,
    html: bool,
    kind: SegmentKind,
    filename: str | None,
    reader: Reader,
) -> None:
    chunk = reader.take(data, where)
    if chunk is None:
        return
    if not _looks_like_text(chunk) and chunk:
        # Still read (hiding text among control bytes must not hide it from us), but say so.
        reader.note("BinaryContent", where, "control bytes in a text part")
    charset = part.get_content_charset()
    text = decode_text(chunk, charset, reader.noter(where), html=html, final=not reader.truncated)
    if html:
        rendered = html_to_text(text)
        if rendered.flattened:
            reader.note("HtmlFlattened", where, "too deep or too many tags for a tree, read as flat text")
        text = rendered.text
        kind = SegmentKind.HTML if kind is SegmentKind.TEXT else kind
        if rendered.markup:
            reader.add_text(f"{where}/markup", rendered.markup, SegmentKind.MARKUP)
    elif str(part.get_param("format") or "").lower() == "flowed":
        text = unflow(text, delsp=str(part.get_param("delsp") or "").lower() == "yes")
    reader.segments.append(Segment(where, text, kind, filename))
    if not html and "begin " in text:
        for i, block in enumerate(uudecode_blocks(text), 1):  # inline uuencode (pre-MIME clients)
            inner = f"{where}/uuencode[{i}]"
            if _looks_like_text(block):
                reader.add_text(inner, decode_text(block, None, reader.noter(inner)), SegmentKind.ATTACHMENT)


def _note_defects(part: Message, where: str, reader: Reader) -> None:
    for defect in part.defects:
        reader.note(type(defect).__name__, where)


def _filename(part: Message) -> str | None:
    """The part's file name (RFC 2231 via the stdlib, RFC 2047 as Outlook sends it), cleaned
    of control characters and brackets so the location stays one readable line."""
    name = part.get_filename()
    if name is None:
        return None
    if "\ufffd" in name:
        # A raw 8-bit name: compat32 hands its parameters over with the bytes replaced. Read
        # them again from the raw headers, decoded as utf-8 (else windows-1252) first.
        clean = Message()
        for header in ("content-type", "content-disposition"):
            value = raw_header(part, header)
            if value is not None:
                clean[header] = unfold_8bit(value)
        name = clean.get_filename() or name
    return _location_name(decode_header_value(str(name)))


def _member_name(name: str) -> str:
    """An archive member's or a sheet's name in a location: cleaned and masked like a file name."""
    return masked_name(_location_name(name))


def _location_name(name: str) -> str:
    """A sender-written name (file name, archive member, sheet) as it appears in a location:
    control characters and brackets out, so the location stays one readable line."""
    name = _FILENAME_JUNK.sub(" ", name).replace("[", "(").replace("]", ")").strip()
    return name[:_MAX_FILENAME]


def _maybe_text(ctype: str, filename: str | None) -> bool:
    if ctype in _TEXTLIKE_TYPES or ctype.endswith(("+json", "+xml")):
        return True
    return filename is not None and filename.lower().endswith(_TEXTLIKE_SUFFIXES)


def _looks_like_text(data: bytes) -> bool:
    """No binary control bytes in the first 8 KiB (a UTF-16 text has its BOM)."""
    sample = data[:_SNIFF_BYTES]
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    return bool(sample) and _BINARY_CONTROL.search(sample) is None
